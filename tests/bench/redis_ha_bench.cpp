// redis_ha_bench: benchmark programs that print a table and, as the last
// line, one JSON object. Not a test: nothing here asserts on speed.
//
//   redis_ha_bench throughput --port P [--seconds S] [--rounds R] [--pin CPU]
//   redis_ha_bench failover [--runs N] [--mode kill|graceful|durable_kill|durable_graceful|direct_kill|direct_graceful|direct_durable_graceful|replica_read|both|direct|all]
//                           [--observe-ms MS] [--verbose 1] [--no-throughput] [--server redis|valkey]
//                           [--throughput-seconds S] [--throughput-rounds R]
//   redis_ha_bench outage [--seconds S]
//   redis_ha_bench gateway [--seconds S] [--connections 32] [--threads 2] [--slowloris 500] (see gateway.hpp)
//   redis_ha_bench hostile [--seconds S] [--only ATTACK] (see hostile.hpp)
//   redis_ha_bench cluster [--seconds S] [--runs N] [--ioredis SCRIPT] (see cluster.hpp)
//
// For comparable figures on a small machine pin both processes, e.g.
//   taskset -c 0 redis-server --port 6390 --save '' &
//   redis_ha_bench throughput --port 6390 --pin 1
#include "cluster.hpp"
#include "failover.hpp"
#include "support/server_kind.hpp"
#include "gateway.hpp"
#include "outage.hpp"
#include "hostile.hpp"
#include "throughput.hpp"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) fmt::print(stderr, "warning: cannot pin to CPU {}\n", cpu);
}

int usage() {
  fmt::print(stderr,
             "usage: redis_ha_bench cluster [--seconds S] [--runs N] [--ioredis tests/bench/ioredis_cluster.js]\n"
             "  Starts a 3-master + 3-replica cluster: SET throughput (50 awaited requesters, and 50 x 16-SET\n"
             "  requests) through cluster_client beside one node; then N SIGKILLs and N CLUSTER FAILOVERs of one\n"
             "  master under a writer per shard. --ioredis runs that Node.js script against the same cluster.\n"
             "usage: redis_ha_bench throughput --port P [--seconds S] [--rounds R] [--pin CPU] [--only CASE]\n"
             "  Runs SET (16-byte value) on one connection against 127.0.0.1:P and prints a table;\n"
             "  the last line is a JSON object of median ops/s.\n"
             "usage: redis_ha_bench failover [--runs N] [--mode kill|graceful|durable_kill|durable_graceful|direct_kill|direct_graceful|direct_durable_graceful|replica_read|both|direct|all]\n"
             "                               [--observe-ms MS] [--verbose 1] [--no-throughput] [--server redis|valkey]\n"
             "                               [--throughput-seconds S] [--throughput-rounds R]\n"
             "  Per run (N per mode, default 5), starts a fresh 1 master + 2 replicas + 3 sentinels topology on\n"
             "  127.0.0.1, writes through redis_ha::client every 5 ms, SIGKILLs the master (kill) or sends\n"
             "  SENTINEL FAILOVER (graceful) and prints a table; the last line is a JSON object of medians.\n"
             "  durable_*: the same with min_replicas_acked = 1 (WAIT 1 100 after every SET). direct_*: the writer in\n"
             "  direct mode behind a round-robin proxy over the 3 nodes. replica_read: graceful plus a reader with\n"
             "  read_from::replica (longest gap between reads). both = kill +\n"
             "  graceful; direct = the three direct modes; all (default) = every mode. Unless --no-throughput, first measures one awaited SET\n"
             "  at a time through redis_ha::client on a fresh topology with min_replicas_acked 0 and 1\n"
             "  (seq_ops_s, durable_seq_ops_s; default 3 rounds of 2 s). --verbose 1 prints each run's timeline\n"
             "  (sentinel and client events, INFO replication of every data node every ~5 ms, lost writes).\n"
             "  --server valkey runs everything against valkey-server / valkey-sentinel (the same JSON fields,\n"
             "  each prefixed valkey_); redis (default) against redis-server / redis-sentinel.\n");
  fmt::print(stderr,
             "usage: redis_ha_bench outage [--seconds S]\n"
             "  Master down, no failover possible: counts resolutions and connects at 0, 20 and 200 requests/s\n"
             "  (S seconds each, default 10), then the reconnects one COMMAND DOCS causes in direct mode.\n");
  fmt::print(stderr, "{}", bench::gateway_usage());
  fmt::print(stderr,
             "usage: redis_ha_bench hostile [--seconds S] [--only ATTACK]\n"
             "  Fake servers on 127.0.0.1 answer GET with hostile bytes (array_headers, long_line_40mb, huge_bulk,\n"
             "  bulk_above_limit, bulk_at_limit), each bounded by S seconds (default 30); prints peak RSS growth,\n"
             "  time and error per attack; the last line is a JSON object.\n");
  return 2;
}

int throughput(const std::map<std::string, std::string>& args) {
  bench::throughput_options opt;
  if (!args.count("port")) return usage();
  opt.port = static_cast<std::uint16_t>(std::stoi(args.at("port")));
  if (args.count("seconds")) opt.seconds = std::stod(args.at("seconds"));
  if (args.count("rounds")) opt.rounds = std::stoi(args.at("rounds"));
  if (args.count("pin")) pin_to(std::stoi(args.at("pin")));

  struct bench_case {
    std::string key, what;
    std::function<double()> run;
    std::vector<double> samples;
  };
  std::vector<bench_case> cases = {
      {"hiredis_seq_ops_s", "hiredis, one SET at a time", [&] { return bench::run_hiredis(opt, 1); }, {}},
      {"seq_ops_s", "redis_ha, one SET at a time", [&] { return bench::run_redis_ha(opt, 1, 1); }, {}},
      {"hiredis_pipe100_ops_s", "hiredis, 100 SETs appended, 100 replies read",
       [&] { return bench::run_hiredis(opt, 100); }, {}},
      {"pipe100_ops_s", "redis_ha, requests of 100 SETs", [&] { return bench::run_redis_ha(opt, 1, 100); }, {}},
      {"conc50_ops_s", "redis_ha, 50 concurrent requesters (auto-pipelining)",
       [&] { return bench::run_redis_ha(opt, 50, 1); }, {}},
      {"sync50_ops_s", "one sync_client shared by 50 threads, awaited SETs",
       [&] { return bench::run_sync_shared(opt, 50); }, {}},
  };
  if (args.count("only")) {  // e.g. --only conc50_ops_s, for profiling one case
    cases.erase(std::remove_if(cases.begin(), cases.end(), [&](auto& c) { return c.key != args.at("only"); }),
                cases.end());
    if (cases.empty()) return usage();
  }
  // Rounds alternate the baseline and our cases so drift hits both alike.
  for (int round = 0; round < opt.rounds; ++round)
    for (auto& c : cases) c.samples.push_back(c.run());

  fmt::print("{:<24} {:<54} {:>12} {:>12} {:>12}\n", "case", "what", "median op/s", "min", "max");
  std::map<std::string, double> med;
  for (auto& c : cases) {
    med[c.key] = median(c.samples);
    fmt::print("{:<24} {:<54} {:>12.0f} {:>12.0f} {:>12.0f}\n", c.key, c.what, med[c.key],
               *std::min_element(c.samples.begin(), c.samples.end()),
               *std::max_element(c.samples.begin(), c.samples.end()));
  }
  auto ratio = [&](const char* a, const char* b) { return med.count(a) && med.count(b) ? med[a] / med[b] : 0.0; };
  const double seq_ratio = ratio("seq_ops_s", "hiredis_seq_ops_s");
  const double pipe_ratio = ratio("pipe100_ops_s", "hiredis_pipe100_ops_s");
  const double conc_ratio = ratio("conc50_ops_s", "hiredis_pipe100_ops_s");
  const double sync50_ratio = ratio("sync50_ops_s", "hiredis_pipe100_ops_s");
  fmt::print("ratios: seq/hiredis_seq {:.3f} (target >= 0.95), pipe100/hiredis_pipe100 {:.3f} (>= 1.0), "
             "conc50/hiredis_pipe100 {:.3f} (>= 0.8), sync50/hiredis_pipe100 {:.3f}\n",
             seq_ratio, pipe_ratio, conc_ratio, sync50_ratio);
  fmt::print(
      "{{\"seq_ops_s\": {:.0f}, \"hiredis_seq_ops_s\": {:.0f}, \"conc50_ops_s\": {:.0f}, \"pipe100_ops_s\": {:.0f}, "
      "\"hiredis_pipe100_ops_s\": {:.0f}, \"sync50_ops_s\": {:.0f}, \"seq_ratio\": {:.3f}, \"pipe100_ratio\": {:.3f}, "
      "\"conc50_ratio\": {:.3f}, \"sync50_ratio\": {:.3f}, \"seconds\": {}, \"rounds\": {}}}\n",
      med["seq_ops_s"], med["hiredis_seq_ops_s"], med["conc50_ops_s"], med["pipe100_ops_s"],
      med["hiredis_pipe100_ops_s"], med["sync50_ops_s"], seq_ratio, pipe_ratio, conc_ratio, sync50_ratio, opt.seconds,
      opt.rounds);
  return 0;
}

int hostile(const std::map<std::string, std::string>& args) {
  bench::hostile_options opt;
  if (args.count("seconds")) opt.seconds = std::stod(args.at("seconds"));
  if (args.count("only")) opt.only = args.at("only");
  if (opt.seconds <= 0) return usage();
  return bench::run_hostile_bench(opt);
}

int failover(const std::map<std::string, std::string>& args) {
  bench::failover_options opt;
  if (args.count("runs")) opt.runs = std::stoi(args.at("runs"));
  if (args.count("observe-ms")) opt.observe_ms = std::stoi(args.at("observe-ms"));
  if (args.count("verbose")) opt.verbose = args.at("verbose") != "0";
  if (args.count("server")) {
    const auto& server = args.at("server");
    if (server != "redis" && server != "valkey") return usage();
    ::setenv("REDIS_HA_TEST_SERVER", server.c_str(), 1);  // read by the harness at the first node's start
    if (auto why = redis_ha::test::server_unavailable_reason()) {
      fmt::print(stderr, "redis_ha_bench: {}\n", *why);
      return 1;
    }
    if (server == "valkey") opt.json_prefix = "valkey_";
  }
  if (args.count("no-throughput")) opt.throughput = false;
  if (args.count("throughput-seconds")) opt.throughput_seconds = std::stod(args.at("throughput-seconds"));
  if (args.count("throughput-rounds")) opt.throughput_rounds = std::stoi(args.at("throughput-rounds"));
  const std::string mode = args.count("mode") ? args.at("mode") : "all";
  const std::vector<std::string> known = {"kill", "graceful", "durable_kill", "durable_graceful", "direct_kill",
                                           "direct_graceful", "direct_durable_graceful", "replica_read",
                                           "both", "direct", "all"};
  if (std::find(known.begin(), known.end(), mode) == known.end()) return usage();
  if (opt.runs < 1 || opt.throughput_rounds < 1 || opt.throughput_seconds <= 0) return usage();
  opt.kill = mode == "kill" || mode == "both" || mode == "all";
  opt.graceful = mode == "graceful" || mode == "both" || mode == "all";
  opt.durable_kill = mode == "durable_kill" || mode == "all";
  opt.durable_graceful = mode == "durable_graceful" || mode == "all";
  opt.direct_kill = mode == "direct_kill" || mode == "direct" || mode == "all";
  opt.direct_graceful = mode == "direct_graceful" || mode == "direct" || mode == "all";
  opt.direct_durable_graceful = mode == "direct_durable_graceful" || mode == "direct" || mode == "all";
  opt.replica_read = mode == "replica_read" || mode == "all";
  return bench::run_failover_bench(opt);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string mode = argv[1];
  std::map<std::string, std::string> args;
  for (int i = 2; i < argc; i += 2) {
    if (std::strncmp(argv[i], "--", 2) != 0) return usage();
    if (std::strcmp(argv[i], "--no-throughput") == 0) {  // the one option without a value
      args["no-throughput"] = "1";
      --i;
      continue;
    }
    if (i + 1 >= argc) return usage();
    args[argv[i] + 2] = argv[i + 1];
  }
  try {
    if (mode == "throughput") return throughput(args);
    if (mode == "failover") return failover(args);
    if (mode == "gateway") return bench::gateway_command(args);
    if (mode == "outage") {
      bench::outage_options opt;
      if (args.count("seconds")) opt.seconds = std::stod(args.at("seconds"));
      return bench::run_outage_bench(opt);
    }
    if (mode == "hostile") return hostile(args);
    if (mode == "cluster") {
      bench::cluster_bench_options opt;
      if (args.count("seconds")) opt.seconds = std::stod(args.at("seconds"));
      if (args.count("runs")) opt.runs = std::stoi(args.at("runs"));
      if (args.count("ioredis")) opt.ioredis = args.at("ioredis");
      if (opt.seconds <= 0 || opt.runs < 1) return usage();
      return bench::run_cluster_bench(opt);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "redis_ha_bench: {}\n", e.what());
    return 1;
  }
  return usage();
}
