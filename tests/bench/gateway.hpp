// redis_ha_bench gateway: HTTP throughput and latency of examples/gateway
// (redis_ha_gateway) in Sentinel mode, driven by wrk.
//
// Starts a fresh topology (1 master + 2 replicas + 3 sentinels on 127.0.0.1)
// and the gateway (`--rate-limit-burst 0`: nothing is rate limited,
// `--log-level warn`), waits for GET /readyz = 200, then runs wrk over
// keep-alive connections. Every request is one Alertmanager webhook (payload
// version 4) with one alert whose alertname and pod are unique (run prefix,
// wrk thread id and a per-thread counter), so every request creates a new
// remediation record (Lua script: dedup miss, storm counter 1, XADD, HSET).
// A short warm-up run (same script, other prefix) comes first: connections,
// script cache, allocator.
//
// wrk's --latency distribution gives p50/p99; "Non-2xx or 3xx responses" the
// failures. XLEN remediation:requests before/after checks that the requests
// really created records. Optional: --pin-gateway / --pin-redis / --pin-wrk
// CPU (taskset), --perf FILE (perf record of the gateway during the measured
// run; see gateway_usage()).
//
// Hostile phase (unless --slowloris 0): 500 slowloris connections from another
// source address (127.0.0.2; one byte of an endless head per second each,
// reopened when the gateway closes them; see tests/gateway/hostile.hpp) are
// opened, and while they are, wrk runs again for the same duration and a
// kubelet-like prober sends GET /healthz to the probe listener
// (--probe-listen) every 100 ms on a new connection (1 s timeout).
// slowloris_rps_ratio = requests/s under attack / requests/s without;
// slowloris_probe_success_ratio = probes answered 200 / probes sent.
// Targets: 1.0 and >= 0.8. --rounds R interleaves R baseline and R hostile
// runs and takes medians (load from other processes drifts between runs).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gateway/hostile.hpp"
#include "support/free_port.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/topology.hpp"

#ifndef REDIS_HA_BENCH_GATEWAY
#define REDIS_HA_BENCH_GATEWAY ""  // no examples/gateway in this build: pass --gateway PATH
#endif

namespace bench {

/// Settings of `redis_ha_bench gateway`.
struct gateway_options {
  int seconds = 10;         ///< wrk -d (whole seconds)
  int warmup_seconds = 1;   ///< wrk run before the measurement (0: none)
  int connections = 32;     ///< wrk -c (keep-alive connections)
  int threads = 2;          ///< wrk -t
  int pin_gateway = -1;     ///< CPU for the gateway (taskset -c), -1: not pinned
  int pin_redis = -1;       ///< CPU for every redis-server and redis-sentinel, -1: not pinned
  int pin_wrk = -1;         ///< CPU for wrk, -1: not pinned
  std::string gateway_binary = REDIS_HA_BENCH_GATEWAY;
  std::string wrk = "wrk";
  std::string perf_output;              ///< when set: perf record of the gateway during the measured run
  std::string perf_callgraph = "dwarf"; ///< dwarf (no frame pointers needed), fp (-g) or none
  int perf_frequency = 499;             ///< perf record -F
  int slowloris = 500;                  ///< connections of the hostile phase, 0: no hostile phase
  int rounds = 1;                       ///< baseline + hostile runs, interleaved; the rps ratio uses medians
};

inline std::string gateway_usage() {
  return "usage: redis_ha_bench gateway [--seconds S] [--connections 32] [--threads 2] [--warmup S]\n"
         "                              [--pin-gateway CPU] [--pin-redis CPU] [--pin-wrk CPU]\n"
         "                              [--gateway PATH] [--wrk PATH]\n"
         "                              [--perf FILE [--perf-callgraph dwarf|fp|none] [--perf-freq HZ]]\n"
         "                              [--slowloris N] [--rounds R]\n"
         "  Starts a 1 master + 2 replicas + 3 sentinels topology and redis_ha_gateway (Sentinel mode, rate\n"
         "  limit off, log level warn), then drives POST /api/v1/signals/prometheus with wrk over keep-alive\n"
         "  connections for S seconds (default 10): one alert per request, every alert new (unique alertname\n"
         "  and pod), so each request creates a record. Needs wrk (Debian: apt-get install wrk). Prints a\n"
         "  table; the last line is a JSON object (gateway_rps, p50_ms, p99_ms, non_2xx, connections,\n"
         "  seconds, and for the hostile phase slowloris_rps, slowloris_p99_ms, slowloris_non_2xx,\n"
         "  slowloris_probe_success_ratio, slowloris_rps_ratio). Hostile phase: N (default 500, 0: none)\n"
         "  slowloris connections from 127.0.0.2 stay open while wrk runs again for S seconds and GET /healthz\n"
         "  probes the probe listener every 100 ms (targets: probe ratio 1.0, rps ratio >= 0.8).\n"
         "  --rounds R (default 1): R baseline and R hostile runs, interleaved; gateway_rps, slowloris_rps and the\n"
         "  rps ratio are medians (load from other processes drifts less between neighbouring runs); the probe\n"
         "  ratio counts every probe of every round; latencies are from the first round.\n"
         "  --perf FILE: perf record -e cpu-clock of the gateway during the measured run (inspect\n"
         "  with perf report -i FILE --no-children).\n";
}

namespace gw_detail {

inline bool executable_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  return false;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string tail(const std::string& s, std::size_t n = 4000) {
  return s.size() > n ? "..." + s.substr(s.size() - n) : s;
}

/// Status code of `GET <path>` on 127.0.0.1:port (Connection: close), 0 on any failure.
inline int http_get_status(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int status = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = fmt::format("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[256];
      const ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
      if (n > 12) {
        buf[n] = '\0';
        int code = 0;
        if (std::sscanf(buf, "HTTP/1.%*d %d", &code) == 1) status = code;
      }
    }
  }
  ::close(fd);
  return status;
}

/// Runs argv to completion (output appended to `log`); returns its exit code.
inline int run_to_end(const std::vector<std::string>& argv, const std::filesystem::path& log,
                      std::chrono::milliseconds timeout) {
  auto p = redis_ha::test::child_process::spawn(argv, {.output_path = log.string()});
  if (const auto code = p.wait_for(timeout)) return *code;
  p.kill();
  return -1;
}

/// "1.23ms" / "850.00us" / "1.02s" / "2.00m" -> milliseconds (NaN if unparsable).
inline double wrk_duration_ms(const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nan("");
  }
  const std::string unit = text.substr(used);
  if (unit == "us") return v / 1000.0;
  if (unit == "ms") return v;
  if (unit == "s") return v * 1000.0;
  if (unit == "m") return v * 60000.0;
  if (unit == "h") return v * 3600000.0;
  return std::nan("");
}

/// What `wrk --latency` printed.
struct wrk_result {
  bool parsed = false;  ///< Requests/sec and the latency distribution were found
  double rps = 0;
  double avg_ms = std::nan(""), max_ms = std::nan("");
  std::map<int, double> percentile_ms;  ///< 50, 75, 90, 99
  long long requests = 0;
  double duration_s = 0;
  long long non_2xx = 0;  ///< "Non-2xx or 3xx responses" (0 when wrk prints no such line)
  long long connect_errors = 0, read_errors = 0, write_errors = 0, timeouts = 0;
};

inline wrk_result parse_wrk(const std::string& out) {
  wrk_result r;
  bool rps = false, in_dist = false;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string first;
    words >> first;
    if (first == "Latency" && line.find("Distribution") != std::string::npos) {
      in_dist = true;
      continue;
    }
    if (in_dist && !first.empty() && first.back() == '%') {
      std::string value;
      words >> value;
      r.percentile_ms[std::atoi(first.c_str())] = wrk_duration_ms(value);
      continue;
    }
    in_dist = false;
    if (first == "Latency") {  // Thread Stats: Latency avg stdev max +/-
      std::string avg, stdev, max;
      words >> avg >> stdev >> max;
      r.avg_ms = wrk_duration_ms(avg);
      r.max_ms = wrk_duration_ms(max);
    } else if (first == "Requests/sec:") {
      words >> r.rps;
      rps = !words.fail();
    } else if (line.find(" requests in ") != std::string::npos) {
      r.requests = std::atoll(first.c_str());
      const auto in = line.find(" requests in ") + 13;
      r.duration_s = wrk_duration_ms(line.substr(in, line.find(',', in) - in)) / 1000.0;
    } else if (line.find("Non-2xx or 3xx responses:") != std::string::npos) {
      r.non_2xx = std::atoll(line.substr(line.find(':') + 1).c_str());
    } else if (first == "Socket" && line.find("errors:") != std::string::npos) {
      std::sscanf(line.c_str(), " Socket errors: connect %lld, read %lld, write %lld, timeout %lld", &r.connect_errors,
                  &r.read_errors, &r.write_errors, &r.timeouts);
    }
  }
  r.parsed = rps && r.percentile_ms.count(50) && r.percentile_ms.count(99);
  return r;
}

/// The wrk script: one POST per request, body = an Alertmanager v4 webhook with one alert
/// whose alertname and pod contain "<prefix>-t<thread>-<n>" (unique per request).
inline std::string wrk_script(const std::string& prefix) {
  // %s: 1 alertname (groupKey), 2 alertname (groupLabels), 3 alertname (labels), 4 pod
  const char* body =
      R"({"version":"4","groupKey":"{}:{alertname=\"%s\"}","truncatedAlerts":0,"status":"firing",)"
      R"("receiver":"remediation-gateway","groupLabels":{"alertname":"%s"},)"
      R"("commonLabels":{"namespace":"bench","severity":"warning","environment":"production"},)"
      R"("commonAnnotations":{"summary":"redis_ha_bench gateway load"},"externalURL":"http://alertmanager:9093",)"
      R"("alerts":[{"status":"firing","labels":{"alertname":"%s","namespace":"bench","pod":"%s",)"
      R"("container":"app","severity":"warning","environment":"production"},)"
      R"("annotations":{"summary":"redis_ha_bench gateway load","runbook_url":"https://runbooks.example/bench"},)"
      R"("startsAt":"2024-05-01T12:00:00.000Z","endsAt":"0001-01-01T00:00:00Z",)"
      R"("generatorURL":"http://prometheus:9090/graph?g0.expr=up","fingerprint":"0123456789abcdef"}]})";
  return fmt::format(R"lua(-- generated by redis_ha_bench gateway
local template = [==[{}]==]
local prefix = "{}"
local headers = {{["Content-Type"] = "application/json"}}
local next_tid = 0
local counter = 0
tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function request()
  counter = counter + 1
  local id = string.format("%s-t%d-%d", prefix, tid, counter)
  local alertname = "BenchAlert-" .. id
  local body = string.format(template, alertname, alertname, alertname, "pod-" .. id)
  return wrk.format("POST", nil, headers, body)
end
)lua",
                     body, prefix);
}

/// Runs wrk once; returns its output (stdout+stderr). Throws if wrk fails.
inline std::string run_wrk(const gateway_options& opt, const std::filesystem::path& dir, const std::string& prefix,
                           int seconds, std::uint16_t port) {
  const auto script = dir / (prefix + ".lua");
  {
    std::ofstream out(script);
    out << wrk_script(prefix);
    if (!out.flush()) throw std::runtime_error("cannot write " + script.string());
  }
  const auto log = dir / (prefix + ".out");
  std::vector<std::string> argv;
  if (opt.pin_wrk >= 0) argv = {"taskset", "-c", std::to_string(opt.pin_wrk)};
  argv.insert(argv.end(), {opt.wrk, "-t", std::to_string(opt.threads), "-c", std::to_string(opt.connections), "-d",
                           fmt::format("{}s", seconds), "--timeout", "10s", "--latency", "-s", script.string(),
                           fmt::format("http://127.0.0.1:{}/api/v1/signals/prometheus", port)});
  const int code = run_to_end(argv, log, std::chrono::seconds(seconds + 60));
  const std::string out = read_file(log);
  if (code != 0) throw std::runtime_error(fmt::format("wrk exited with code {}:\n{}", code, tail(out)));
  return out;
}

inline long long xlen(redis_ha::test::topology& topo) {
  return topo.master().command({"XLEN", "remediation:requests"}).integer;
}

inline std::string fmt_ms(double ms) { return std::isnan(ms) ? "?" : fmt::format("{:.3f}", ms); }

/// What the hostile phase measured.
struct hostile_result {
  wrk_result wrk;
  std::size_t probes = 0, probes_ok = 0;
  std::size_t loris_opened = 0, loris_closed = 0, loris_connect_errors = 0;
  double probe_ratio() const { return probes ? static_cast<double>(probes_ok) / static_cast<double>(probes) : 0.0; }
};

/// wrk again, with `opt.slowloris` slowloris connections open and a prober on the probe
/// listener. nullopt (after a message) when wrk's output cannot be read.
inline std::optional<hostile_result> run_hostile_phase(const gateway_options& opt, const std::filesystem::path& dir,
                                                       const std::string& prefix, std::uint16_t port,
                                                       std::uint16_t probe_port) {
  hostile_result h;
  gateway_hostile::slowloris loris(port, static_cast<std::size_t>(opt.slowloris), "127.0.0.2");
  std::this_thread::sleep_for(std::chrono::seconds(2));  // connected, heads under way
  std::atomic<bool> stop{false};
  std::thread prober([&] {
    while (!stop) {
      ++h.probes;
      if (http_get_status(probe_port, "/healthz") == 200) ++h.probes_ok;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const std::string out = run_wrk(opt, dir, prefix, opt.seconds, port);
  stop = true;
  prober.join();
  h.loris_opened = loris.opened();
  h.loris_closed = loris.closed_by_server();
  h.loris_connect_errors = loris.connect_errors();
  loris.stop();
  h.wrk = parse_wrk(out);
  if (!h.wrk.parsed) {
    fmt::print(stderr, "redis_ha_bench gateway: cannot parse wrk's output (hostile phase):\n{}\n", out);
    return std::nullopt;
  }
  return h;
}

}  // namespace gw_detail

/// `redis_ha_bench gateway`. Returns the process exit code.
inline int run_gateway_bench(const gateway_options& opt) {
  using namespace gw_detail;
  namespace test = redis_ha::test;
  if (!executable_in_path(opt.wrk)) {
    fmt::print(stderr,
               "redis_ha_bench gateway: '{}' not found. This benchmark drives the gateway with wrk: install it\n"
               "  (Debian/Ubuntu: apt-get install -y wrk) or pass --wrk PATH.\n",
               opt.wrk);
    return 1;
  }
  if (opt.gateway_binary.empty() || ::access(opt.gateway_binary.c_str(), X_OK) != 0) {
    fmt::print(stderr,
               "redis_ha_bench gateway: gateway binary '{}' not found; build redis_ha_gateway "
               "(-DREDIS_HA_BUILD_EXAMPLES=ON) or pass --gateway PATH\n",
               opt.gateway_binary);
    return 1;
  }
  if (!opt.perf_output.empty() && !executable_in_path("perf")) {
    fmt::print(stderr, "redis_ha_bench gateway: --perf needs perf (Debian: linux-perf)\n");
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);
  gateway_hostile::raise_fd_limit();  // the hostile phase holds ~500 sockets
  test::temp_dir dir("redis-ha-bench-gateway-");

  test::topology topo;
  if (opt.pin_redis >= 0) {
    std::vector<pid_t> pids;
    for (std::size_t i = 0; i < 3; ++i) pids.push_back(topo.data_node(i).pid());
    for (std::size_t i = 0; i < 3; ++i) pids.push_back(topo.sentinel(i).pid());
    for (const pid_t pid : pids)
      if (run_to_end({"taskset", "-a", "-cp", std::to_string(opt.pin_redis), std::to_string(pid)}, dir.path() / "taskset.log",
                     std::chrono::seconds(10)) != 0)
        fmt::print(stderr, "warning: cannot pin pid {} to CPU {}: {}\n", pid, opt.pin_redis,
                   tail(read_file(dir.path() / "taskset.log"), 300));
  }

  std::string sentinels;
  for (const auto p : topo.sentinel_ports()) sentinels += fmt::format("{}127.0.0.1:{}", sentinels.empty() ? "" : ",", p);
  const auto gateway_log = dir.path() / "gateway.log";
  test::child_process gateway;
  std::uint16_t port = 0, probe_port = 0;
  bool ready = false;
  for (int attempt = 0; attempt < 3 && !ready; ++attempt) {  // another process may take the free port first
    port = test::free_port();
    probe_port = test::free_port();
    std::vector<std::string> argv;
    if (opt.pin_gateway >= 0) argv = {"taskset", "-c", std::to_string(opt.pin_gateway)};
    argv.insert(argv.end(), {opt.gateway_binary, "--sentinels", sentinels, "--master-name", topo.master_name(),
                             "--listen", fmt::format("127.0.0.1:{}", port), "--probe-listen",
                             fmt::format("127.0.0.1:{}", probe_port), "--rate-limit-burst", "0", "--log-level", "warn"});
    gateway = test::child_process::spawn(argv, {.output_path = gateway_log.string()});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (gateway.running() && std::chrono::steady_clock::now() < deadline) {
      if (http_get_status(port, "/readyz") == 200) {
        ready = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!ready && gateway.running()) break;  // up but never ready: report
  }
  if (!ready) {
    fmt::print(stderr, "redis_ha_bench gateway: the gateway did not become ready (/readyz); log:\n{}\n",
               tail(read_file(gateway_log)));
    return 1;
  }

  const std::string run_id = fmt::format("{}-{}", ::getpid(),
                                         std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);
  if (opt.warmup_seconds > 0) {
    const auto w = parse_wrk(run_wrk(opt, dir.path(), "warmup-" + run_id, opt.warmup_seconds, port));
    if (w.non_2xx > 0)
      fmt::print(stderr, "warning: warm-up had {} non-2xx responses; gateway log:\n{}\n", w.non_2xx,
                 tail(read_file(gateway_log)));
  }

  const long long records_before = xlen(topo);
  test::child_process perf;
  if (!opt.perf_output.empty()) {
    std::vector<std::string> argv{"perf", "record", "-e", "cpu-clock", "-F", std::to_string(opt.perf_frequency)};
    if (opt.perf_callgraph == "dwarf") argv.insert(argv.end(), {"--call-graph", "dwarf,16384"});
    else if (opt.perf_callgraph == "fp") argv.push_back("-g");
    argv.insert(argv.end(), {"-p", std::to_string(gateway.pid()), "-o", opt.perf_output});
    perf = test::child_process::spawn(argv, {.output_path = (dir.path() / "perf.log").string()});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // attached before the load starts
  }
  const std::string out = run_wrk(opt, dir.path(), "run-" + run_id, opt.seconds, port);
  if (perf.pid() > 0) {
    perf.signal(SIGINT);
    if (!perf.wait_for(std::chrono::seconds(120))) perf.kill();
    fmt::print(stderr, "perf: {}\n", tail(read_file(dir.path() / "perf.log"), 600));
  }
  const long long records_after = xlen(topo);
  const wrk_result r = parse_wrk(out);
  if (!r.parsed) {
    fmt::print(stderr, "redis_ha_bench gateway: cannot parse wrk's output:\n{}\n", out);
    return 1;
  }

  // The hostile phase: the same load while a slowloris holds connections open.
  // With --rounds R > 1, more baseline + hostile pairs; rps figures become medians.
  std::optional<hostile_result> attack;
  std::vector<double> base_rps{r.rps}, attack_rps;
  std::size_t probes = 0, probes_ok = 0;
  for (int round = 1; opt.slowloris > 0 && round <= opt.rounds; ++round) {
    if (round > 1) {
      const auto b = parse_wrk(run_wrk(opt, dir.path(), fmt::format("run{}-{}", round, run_id), opt.seconds, port));
      if (!b.parsed) {
        fmt::print(stderr, "redis_ha_bench gateway: cannot parse wrk's output (round {})\n", round);
        return 1;
      }
      base_rps.push_back(b.rps);
    }
    auto a = run_hostile_phase(opt, dir.path(), fmt::format("attack{}-{}", round, run_id), port, probe_port);
    if (!a) return 1;
    attack_rps.push_back(a->wrk.rps);
    probes += a->probes;
    probes_ok += a->probes_ok;
    if (!attack) attack = std::move(a);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  const double rps = median(base_rps), rps_attack = median(attack_rps);
  const double probe_ratio = probes ? static_cast<double>(probes_ok) / static_cast<double>(probes) : 0.0;
  const bool gateway_alive = gateway.running();

  fmt::print("gateway: redis_ha_gateway (Sentinel mode) on 1 master + 2 replicas + 3 sentinels, 127.0.0.1\n");
  fmt::print("load:    wrk {} threads x {} keep-alive connections, {} s (after {} s warm-up), 1 new alert per request\n",
             opt.threads, opt.connections, opt.seconds, opt.warmup_seconds);
  fmt::print("pinning: gateway {}, redis {}, wrk {}\n", opt.pin_gateway >= 0 ? std::to_string(opt.pin_gateway) : "-",
             opt.pin_redis >= 0 ? std::to_string(opt.pin_redis) : "-",
             opt.pin_wrk >= 0 ? std::to_string(opt.pin_wrk) : "-");
  fmt::print("{:<28} {:>14}\n", "metric", "value");
  fmt::print("{:<28} {:>14.1f}\n", base_rps.size() > 1 ? "requests/s (median)" : "requests/s", rps);
  fmt::print("{:<28} {:>14}\n", "requests", r.requests);
  fmt::print("{:<28} {:>14}\n", "latency avg (ms)", fmt_ms(r.avg_ms));
  for (const auto& [pct, ms] : r.percentile_ms) fmt::print("{:<28} {:>14}\n", fmt::format("latency p{} (ms)", pct), fmt_ms(ms));
  fmt::print("{:<28} {:>14}\n", "latency max (ms)", fmt_ms(r.max_ms));
  fmt::print("{:<28} {:>14}\n", "non-2xx/3xx responses", r.non_2xx);
  fmt::print("{:<28} {:>14}\n", "socket errors c/r/w/t",
             fmt::format("{}/{}/{}/{}", r.connect_errors, r.read_errors, r.write_errors, r.timeouts));
  fmt::print("{:<28} {:>14}\n", "records created (XLEN)", records_after - records_before);
  if (records_after - records_before < r.requests - r.non_2xx)
    fmt::print("warning: fewer records than successful requests: some alerts were not new\n");
  if (attack) {
    const auto& a = *attack;
    fmt::print("hostile phase: {} slowloris connections from 127.0.0.2 (round 1: opened {}, closed by the gateway {}, "
               "{} connect errors) during the same wrk run; {} round(s)\n",
               opt.slowloris, a.loris_opened, a.loris_closed, a.loris_connect_errors, attack_rps.size());
    if (base_rps.size() > 1)
      fmt::print("{:<28} {:>14}\n", "requests/s per round", fmt::format("{}", fmt::join(base_rps, " ")));
    fmt::print("{:<28} {:>14.1f}\n", "requests/s under attack", rps_attack);
    if (attack_rps.size() > 1)
      fmt::print("{:<28} {:>14}\n", "  per round", fmt::format("{}", fmt::join(attack_rps, " ")));
    fmt::print("{:<28} {:>14}\n", "latency p99 (ms)", fmt_ms(a.wrk.percentile_ms.at(99)));
    fmt::print("{:<28} {:>14}\n", "non-2xx/3xx responses", a.wrk.non_2xx);
    fmt::print("{:<28} {:>14}\n", "probes ok / sent", fmt::format("{}/{}", probes_ok, probes));
    fmt::print("{:<28} {:>14.3f}   (target 1.0)\n", "probe success ratio", probe_ratio);
    fmt::print("{:<28} {:>14.3f}   (target >= 0.8)\n", "rps ratio", rps_attack / rps);
  }
  if (!gateway_alive) fmt::print("warning: the gateway exited during the run; log:\n{}\n", tail(read_file(gateway_log)));
  else if (r.non_2xx > 0) fmt::print("warning: {} non-2xx responses; gateway log:\n{}\n", r.non_2xx, tail(read_file(gateway_log)));
  std::string hostile_json;
  if (attack)
    hostile_json = fmt::format(
        ", \"slowloris\": {}, \"rounds\": {}, \"slowloris_rps\": {:.1f}, \"slowloris_p99_ms\": {:.3f}, "
        "\"slowloris_non_2xx\": {}, \"slowloris_probe_success_ratio\": {:.3f}, \"slowloris_rps_ratio\": {:.3f}",
        opt.slowloris, attack_rps.size(), rps_attack, attack->wrk.percentile_ms.at(99), attack->wrk.non_2xx, probe_ratio,
        rps_attack / rps);
  fmt::print("{{\"gateway_rps\": {:.1f}, \"p50_ms\": {:.3f}, \"p99_ms\": {:.3f}, \"non_2xx\": {}, \"connections\": {}, "
             "\"seconds\": {}{}}}\n",
             rps, r.percentile_ms.at(50), r.percentile_ms.at(99), r.non_2xx, opt.connections, opt.seconds, hostile_json);
  gateway.terminate(std::chrono::seconds(5));
  return gateway_alive ? 0 : 1;
}

/// Parses the `gateway` subcommand's options (as collected by redis_ha_bench's main) and runs it.
inline int gateway_command(const std::map<std::string, std::string>& args) {
  gateway_options opt;
  auto integer = [&](const char* key, int& field, int min) {
    if (!args.count(key)) return true;
    char* end = nullptr;
    const long v = std::strtol(args.at(key).c_str(), &end, 10);
    if (*end != '\0' || args.at(key).empty() || v < min || v > 1000000) return false;
    field = static_cast<int>(v);
    return true;
  };
  for (const auto& [key, value] : args) {
    static const char* known[] = {"seconds", "connections", "threads", "warmup", "pin-gateway", "pin-redis",
                                  "pin-wrk", "gateway", "wrk", "perf", "perf-callgraph", "perf-freq", "slowloris", "rounds"};
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) {
      fmt::print(stderr, "redis_ha_bench gateway: unknown option --{}\n{}", key, gateway_usage());
      return 2;
    }
  }
  const bool valid = integer("seconds", opt.seconds, 1) && integer("connections", opt.connections, 1) &&
                     integer("threads", opt.threads, 1) && integer("warmup", opt.warmup_seconds, 0) &&
                     integer("pin-gateway", opt.pin_gateway, 0) && integer("pin-redis", opt.pin_redis, 0) &&
                     integer("pin-wrk", opt.pin_wrk, 0) && integer("perf-freq", opt.perf_frequency, 1) &&
                     integer("slowloris", opt.slowloris, 0) && integer("rounds", opt.rounds, 1);
  if (args.count("gateway")) opt.gateway_binary = args.at("gateway");
  if (args.count("wrk")) opt.wrk = args.at("wrk");
  if (args.count("perf")) opt.perf_output = args.at("perf");
  if (args.count("perf-callgraph")) opt.perf_callgraph = args.at("perf-callgraph");
  if (!valid || opt.threads > opt.connections ||
      (opt.perf_callgraph != "dwarf" && opt.perf_callgraph != "fp" && opt.perf_callgraph != "none")) {
    fmt::print(stderr, "{}", gateway_usage());
    return 2;
  }
  return run_gateway_bench(opt);
}

}  // namespace bench
