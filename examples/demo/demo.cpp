// redis_ha_demo: the README's main command. Starts a local Sentinel
// topology (1 master, 2 replicas, 3 sentinels, all on 127.0.0.1), starts the
// example gateway on it, sends a realistic stream of Alertmanager webhooks
// (new alerts, duplicates, a storm), SIGKILLs the master in the middle, and
// prints what the senders saw. Everything started is stopped on exit,
// also on Ctrl-C.
#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <fmt/format.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/free_port.hpp"
#include "support/process.hpp"
#include "support/sync_client.hpp"
#include "support/topology.hpp"

#ifndef REDIS_HA_GATEWAY_PATH
#error "REDIS_HA_GATEWAY_PATH must name the redis_ha_gateway binary"
#endif

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

std::atomic<bool> interrupted{false};
const clock_type::time_point t0 = clock_type::now();

double since_start() { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

template <class... Args>
void say(fmt::format_string<Args...> f, Args&&... args) {
  fmt::print("[{:5.1f}s] {}\n", since_start(), fmt::format(f, std::forward<Args>(args)...));
  std::fflush(stdout);
}

// A keep-alive HTTP/1.1 client, blocking, enough for the demo.
class http_client {
 public:
  explicit http_client(std::uint16_t port) : port_(port) {}

  struct response {
    int status = 0;
    std::string body;
  };

  // One request; reconnects once if the server closed the kept-alive connection.
  response send(const std::string& method, const std::string& path, const std::string& body = {}) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (!socket_.is_open()) {
          asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port_);
          socket_.connect(ep);
        }
        std::string req = fmt::format(
            "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
            method, path, body.size(), body);
        asio::write(socket_, asio::buffer(req));
        asio::read_until(socket_, buf_, "\r\n\r\n");
        std::string head(asio::buffers_begin(buf_.data()), asio::buffers_end(buf_.data()));
        const auto end = head.find("\r\n\r\n") + 4;
        head.resize(end);
        buf_.consume(end);
        response r;
        r.status = std::stoi(head.substr(9, 3));
        std::size_t length = 0;
        for (const char* name : {"Content-Length: ", "content-length: "})
          if (auto p = head.find(name); p != std::string::npos) length = std::stoul(head.substr(p + 16));
        if (buf_.size() < length) asio::read(socket_, buf_, asio::transfer_exactly(length - buf_.size()));
        r.body.assign(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + static_cast<long>(length));
        buf_.consume(length);
        if (head.find("Connection: close") != std::string::npos) close();
        return r;
      } catch (const std::exception&) {
        close();
        if (attempt == 1) return {};
      }
    }
    return {};
  }

  void close() {
    std::error_code ignored;
    socket_.close(ignored);
    buf_.consume(buf_.size());
  }

 private:
  std::uint16_t port_;
  asio::io_context ioc_;
  asio::ip::tcp::socket socket_{ioc_};
  asio::streambuf buf_;
};

// Alertmanager webhook (version 4) with one alert.
std::string webhook(const std::string& alertname, const std::string& ns, const std::string& pod,
                    const std::string& severity, const std::string& env) {
  return fmt::format(
      R"({{"version":"4","status":"firing","receiver":"redis-ha-demo","groupKey":"{{}}:{{alertname=\"{0}\"}}",)"
      R"("commonLabels":{{"environment":"{4}"}},"commonAnnotations":{{}},"externalURL":"http://alertmanager:9093",)"
      R"("alerts":[{{"status":"firing","labels":{{"alertname":"{0}","namespace":"{1}","pod":"{2}","severity":"{3}"}},)"
      R"("annotations":{{"summary":"{0} on {2}"}},"startsAt":"2026-11-26T10:00:00Z","endsAt":"0001-01-01T00:00:00Z",)"
      R"("generatorURL":"http://prometheus:9090/graph","fingerprint":"{2}"}}]}})",
      alertname, ns, pod, severity, env);
}

// The stream of webhooks: new alerts, re-sent duplicates and one storm.
std::vector<std::string> make_stream() {
  std::vector<std::string> out;
  const char* alerts[] = {"HighMemoryUsage", "PodCrashLooping", "HighLatency",    "DiskPressure",
                          "CertificateExpiring", "HighErrorRate", "QueueBacklog", "ReplicationLag"};
  const char* namespaces[] = {"payments", "checkout", "search", "catalog", "auth", "shipping"};
  const char* severities[] = {"critical", "warning", "info"};
  const char* envs[] = {"production", "staging", "development"};
  std::mt19937 rng(42);
  for (int i = 0; i < 240; ++i) {
    if (i >= 100 && i < 125) {  // a storm: one alert name, many pods of one namespace
      out.push_back(webhook("NodeNotReady", "batch", fmt::format("worker-{}", i - 100), "critical", "production"));
      continue;
    }
    if (i % 4 == 3 && !out.empty()) {  // Alertmanager re-sends: duplicates
      out.push_back(out[rng() % out.size()]);
      continue;
    }
    out.push_back(webhook(alerts[rng() % 8], namespaces[rng() % 6], fmt::format("pod-{}", rng() % 400),
                          severities[rng() % 3], envs[rng() % 3]));
  }
  return out;
}

// A value of a Prometheus metric line that starts with `prefix`, summed.
double metric(const std::string& text, const std::string& prefix) {
  double sum = 0;
  std::size_t pos = 0;
  while ((pos = text.find("\n" + prefix, pos)) != std::string::npos) {
    auto eol = text.find('\n', pos + 1);
    auto line = text.substr(pos + 1, eol - pos - 1);
    sum += std::stod(line.substr(line.rfind(' ') + 1));
    pos = eol;
  }
  return sum;
}

std::string metric_label(const std::string& text, const std::string& name, const std::string& label) {
  auto pos = text.find("\n" + name + "{" + label + "=\"");
  if (pos == std::string::npos) return "?";
  pos += name.size() + label.size() + 4;
  return text.substr(pos, text.find('"', pos) - pos);
}

const char* const usage_text =
    "usage: redis_ha_demo [--help]\n"
    "  Starts a local Sentinel topology on 127.0.0.1 (1 master, 2 replicas, 3 sentinels: /usr/bin/redis-server\n"
    "  and /usr/bin/redis-sentinel), starts redis_ha_gateway on it, sends 240 Alertmanager webhooks\n"
    "  (new alerts, duplicates, a storm) from 4 keep-alive connections, SIGKILLs the master halfway through,\n"
    "  and prints what the senders saw. Takes ~12 s. Everything started is stopped on exit, also on Ctrl-C.\n"
    "  Gateway log: /tmp/redis_ha_demo_gateway.log. Exit status: 0 when every webhook got a 2xx answer.\n";

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      fmt::print("{}", usage_text);
      return 0;
    }
    fmt::print(stderr, "redis_ha_demo: unknown argument '{}'\n{}", arg, usage_text);
    return 2;
  }
  std::signal(SIGINT, [](int) { interrupted = true; });
  std::signal(SIGTERM, [](int) { interrupted = true; });
  try {
    say("starting a local Sentinel topology on 127.0.0.1: 1 master, 2 replicas, 3 sentinels");
    redis_ha::test::topology topo;
    const auto master_port = topo.master().port();
    std::string sentinels;
    for (auto p : topo.sentinel_ports()) sentinels += fmt::format("{}127.0.0.1:{}", sentinels.empty() ? "" : ",", p);
    say("  master 127.0.0.1:{}, sentinels {}", master_port, sentinels);

    const auto gw_port = redis_ha::test::free_port();
    say("starting redis_ha_gateway on 127.0.0.1:{} (Sentinel mode, master name '{}')", gw_port, topo.master_name());
    redis_ha::test::spawn_options spawn;
    spawn.output_path = "/tmp/redis_ha_demo_gateway.log";
    auto gateway = redis_ha::test::child_process::spawn(
        {REDIS_HA_GATEWAY_PATH, "--sentinels", sentinels, "--master-name", topo.master_name(), "--listen",
         fmt::format("127.0.0.1:{}", gw_port), "--rate-limit-burst", "0", "--log-level", "warn"},
        spawn);
    http_client probe(gw_port);
    for (int i = 0; i < 200 && probe.send("GET", "/readyz").status != 200; ++i) std::this_thread::sleep_for(25ms);
    if (probe.send("GET", "/readyz").status != 200) throw std::runtime_error("the gateway did not become ready");
    say("  gateway ready (log: {})", spawn.output_path);

    const auto stream = make_stream();
    say("sending {} Alertmanager webhooks from 4 keep-alive connections (new alerts, duplicates, a storm);",
        stream.size());
    say("  the master is SIGKILLed halfway through");
    std::mutex mutex;
    std::map<int, int> by_status;
    std::map<std::string, int> by_result;
    std::atomic<std::size_t> next{0}, done{0};
    std::optional<double> killed_at, first_after_kill;
    double slowest = 0;
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t)
      senders.emplace_back([&] {
        http_client c(gw_port);
        for (std::size_t i; !interrupted && (i = next++) < stream.size();) {
          const auto start = clock_type::now();
          auto r = c.send("POST", "/api/v1/signals/prometheus", stream[i]);
          const double took = std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
          std::lock_guard lock(mutex);
          ++by_status[r.status];
          slowest = std::max(slowest, took);
          for (const char* what : {"created", "duplicate", "isStorm\":true"})
            if (r.body.find(what) != std::string::npos) ++by_result[what];
          if (killed_at && !first_after_kill && r.status / 100 == 2 && since_start() > *killed_at)
            first_after_kill = since_start();
          ++done;
          std::this_thread::sleep_for(40ms);  // ~100 webhooks/s overall
        }
      });
    while (done < stream.size() / 2 && !interrupted) std::this_thread::sleep_for(10ms);
    if (!interrupted) {
      const auto killed = topo.kill_master();
      {
        std::lock_guard lock(mutex);
        killed_at = since_start();
      }
      say("SIGKILL master 127.0.0.1:{} after {} webhooks; Sentinel needs ~1 s to notice (down-after 1000 ms)",
          killed, done.load());
      const auto new_master = topo.wait_for_master_change(killed);
      say("Sentinel promoted 127.0.0.1:{}", new_master);
    }
    for (auto& s : senders) s.join();
    if (interrupted) throw std::runtime_error("interrupted");

    const auto metrics = probe.send("GET", "/metrics").body;
    const auto records = redis_ha::test::command(topo.master().port(), {"XLEN", "remediation:requests"}).integer;
    fmt::print("\nSummary\n-------\n");
    std::string codes;
    for (auto& [code, n] : by_status) codes += fmt::format("{}{}: {}", codes.empty() ? "" : ", ", code, n);
    fmt::print("  responses by status     {}\n", codes);
    fmt::print("  remediation records     {} (stream remediation:requests on the new master)\n", records);
    fmt::print("  duplicates / storm      {} deduplicated, {} aggregated into storms\n", by_result["duplicate"],
               by_result["isStorm\":true"]);
    fmt::print("  failover (gateway view) {} master change(s); current master {}\n",
               metric(metrics, "gateway_failovers_total"),
               metric_label(metrics, "gateway_redis_master_info", "address"));
    if (killed_at && first_after_kill)
      fmt::print("  writes resumed          {:.2f} s after the kill; slowest webhook {:.0f} ms (it waited, it did not fail)\n",
                 *first_after_kill - *killed_at, slowest);
    const int unavailable = by_status.count(503) ? by_status[503] : 0;
    const int other_errors = [&] {
      int n = 0;
      for (auto& [code, k] : by_status)
        if (code / 100 != 2) n += k;
      return n;
    }();
    fmt::print("  503 returned            {}\n", unavailable ? fmt::format("yes, {} times", unavailable) : "no");
    fmt::print("  other errors            {}\n\n", other_errors - unavailable);
    gateway.terminate(2s);
    say("stopped the gateway and the topology");
    return other_errors == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    // Destructors have stopped the gateway and every Redis process by now.
    if (interrupted)
      fmt::print(stderr, "interrupted: stopped the gateway and the topology\n");
    else
      fmt::print(stderr, "demo failed: {}\n", e.what());
    return interrupted ? 130 : 1;
  }
}
