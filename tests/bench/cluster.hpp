// redis_ha_bench cluster: throughput of cluster_client against a real
// 3-master cluster beside the same load on one node (redis_ha::client,
// direct mode), then failovers (SIGKILL of one master, CLUSTER FAILOVER on
// a replica) under a writer with one lane per shard: fault -> failover,
// failover -> first successful write on that shard, failed requests,
// acknowledged writes lost, and the longest delay on the other shards.
// Optionally runs a Node.js script (--ioredis SCRIPT) against the same
// cluster for the comparison with ioredis's Cluster.
#pragma once

#include <redis_ha/client.hpp>
#include <redis_ha/cluster_client.hpp>

#include "support/cluster.hpp"
#include "support/cluster_writer.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"
#include "throughput.hpp"

#include <asio/io_context.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace bench {

struct cluster_bench_options {
  double seconds = 3.0;  ///< one throughput measurement
  int runs = 1;          ///< failovers per mode
  std::string ioredis;   ///< a Node.js script to run against the cluster (empty: none)
};

/// `concurrency` requesters, each awaiting requests of `batch` SETs (one
/// hash tag per request, so one slot), for `seconds`, through `Client`.
/// Returns commands per second.
template <class Client>
double run_sets(Client& client, asio::io_context& ioc, int concurrency, int batch, double seconds) {
  struct state {
    Client& client;
    bench_clock::time_point deadline;
    std::uint64_t requests = 0;
    int active = 0;
    std::error_code failure;
    int batch;
  } st{client, bench_clock::now() + std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(seconds)),
       0, 0, {}, batch};
  struct requester {
    state* st;
    int id;
    std::uint64_t n = 0;
    redis_ha::request make() {
      redis_ha::request r;
      const std::string tag = "{r" + std::to_string(id) + ":" + std::to_string(n++ % 64) + "}";
      for (int i = 0; i < st->batch; ++i) r.push("SET", tag + std::to_string(i), "0123456789abcdef");
      return r;
    }
    void operator()(std::error_code ec, redis_ha::response) {
      if (ec) st->failure = ec;
      ++st->requests;
      if (!ec && ((st->requests & 63) != 0 || bench_clock::now() < st->deadline))
        st->client.async_exec(make(), std::move(*this));
      else
        --st->active;
    }
  };
  const auto t0 = bench_clock::now();
  for (int i = 0; i < concurrency; ++i) {
    ++st.active;
    requester r{&st, i};
    auto req = r.make();
    client.async_exec(std::move(req), std::move(r));
  }
  while (st.active > 0 && ioc.run_one()) {
  }
  const double elapsed = std::chrono::duration<double>(bench_clock::now() - t0).count();
  if (st.failure) throw std::runtime_error("throughput: " + st.failure.message());
  return static_cast<double>(st.requests) * batch / elapsed;
}

inline redis_ha::cluster_config bench_cluster_config(redis_ha::test::test_cluster& c) {
  redis_ha::cluster_config cfg;
  for (auto p : c.ports()) cfg.seeds.push_back({"127.0.0.1", p});
  cfg.connection.connect_timeout = std::chrono::milliseconds(300);
  cfg.connection.health_check_interval = std::chrono::milliseconds(300);
  cfg.connection.health_check_timeout = std::chrono::milliseconds(300);
  return cfg;
}

inline double cluster_throughput(redis_ha::test::test_cluster& c, int conc, int batch, double seconds) {
  asio::io_context ioc{1};
  redis_ha::cluster_client client{ioc.get_executor(), bench_cluster_config(c)};
  const auto deadline = bench_clock::now() + std::chrono::seconds(10);
  while (!client.ready() && bench_clock::now() < deadline) ioc.run_for(std::chrono::milliseconds(5));
  if (!client.ready()) throw std::runtime_error("cluster client not ready");
  const double r = run_sets(client, ioc, conc, batch, seconds);
  client.close();
  ioc.run_for(std::chrono::milliseconds(100));
  return r;
}

inline double single_throughput(std::uint16_t port, int conc, int batch, double seconds) {
  asio::io_context ioc{1};
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", port}};
  redis_ha::client client{ioc.get_executor(), cfg};
  std::optional<std::error_code> ready;
  client.async_wait_ready([&](std::error_code ec) { ready = ec; });
  while (!ready && ioc.run_one()) {
  }
  if (!ready || *ready) throw std::runtime_error("single-node client not ready");
  const double r = run_sets(client, ioc, conc, batch, seconds);
  client.close();
  ioc.run_for(std::chrono::milliseconds(100));
  return r;
}

/// One failover under the writer.
struct cluster_failover_result {
  double fault_to_failover_ms = -1;
  double failover_to_first_write_ms = -1;
  std::uint64_t failed = 0;
  std::uint64_t lost = 0;
  double other_max_delay_ms = 0;
  double hit_max_delay_ms = 0;
};

inline cluster_failover_result run_cluster_failover(bool kill) {
  using namespace std::chrono_literals;
  redis_ha::test::test_cluster c;
  std::vector<std::string> tags;
  std::vector<std::size_t> masters;
  for (int i = 0; tags.size() < 3 && i < 10000; ++i) {
    const std::string tag = "t" + std::to_string(i);
    const auto m = c.master_of_slot(redis_ha::key_slot(tag));
    if (std::find(masters.begin(), masters.end(), m) == masters.end()) {
      masters.push_back(m);
      tags.push_back(tag);
    }
  }
  const auto replica = c.replica_of(masters[0]);
  redis_ha::test::cluster_writer w(bench_cluster_config(c), tags, 1ms);
  if (!redis_ha::test::eventually([&] { return w.ok(0) > 100 && w.ok(1) > 100 && w.ok(2) > 100; }, 10000ms))
    throw std::runtime_error("the writer did not start");
  w.mark();
  const auto fault = bench_clock::now();
  if (kill) {
    c.node(masters[0]).kill();
  } else {
    auto r = c.node(replica).command({"CLUSTER", "FAILOVER"});
    if (r.str != "OK") throw std::runtime_error("CLUSTER FAILOVER: " + r.str);
  }
  // The failover: the replica calls itself master.
  std::optional<bench_clock::time_point> promoted;
  const auto give_up = fault + 20s;
  while (!promoted && bench_clock::now() < give_up) {
    try {
      auto r = redis_ha::test::command(c.node(replica).port(), {"ROLE"}, {}, 200ms);
      if (!r.elements.empty() && r.elements[0].str == "master") promoted = bench_clock::now();
    } catch (...) {
    }
    if (!promoted) std::this_thread::sleep_for(1ms);
  }
  if (!promoted) throw std::runtime_error("no failover within 20 s");
  std::this_thread::sleep_for(1500ms);  // the writer goes on over the new master
  w.stop();
  const auto res = w.results();
  cluster_failover_result out;
  out.fault_to_failover_ms = std::chrono::duration<double, std::milli>(*promoted - fault).count();
  for (auto t : res[0].ok_after_mark)
    if (t >= *promoted) {
      out.failover_to_first_write_ms = std::chrono::duration<double, std::milli>(t - *promoted).count();
      break;
    }
  for (std::size_t i = 0; i < res.size(); ++i) {
    out.failed += res[i].failed;
    const double d = static_cast<double>(res[i].max_latency.count());
    if (i == 0)
      out.hit_max_delay_ms = d;
    else
      out.other_max_delay_ms = std::max(out.other_max_delay_ms, d);
  }
  // Acknowledged writes of the hit shard that the new master does not have.
  auto conn = c.node(replica).connect(5000ms);
  for (auto index : res[0].acked) {
    auto r = conn.command({"EXISTS", "{" + tags[0] + "}:" + std::to_string(index)});
    if (r.integer != 1) ++out.lost;
  }
  return out;
}

inline double median_of(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

inline int run_cluster_bench(const cluster_bench_options& opt) {
  std::map<std::string, double> out;
  {
    redis_ha::test::test_cluster c;
    redis_ha::test::redis_node single;
    out["cluster_conc50_ops_s"] = cluster_throughput(c, 50, 1, opt.seconds);
    out["single_conc50_ops_s"] = single_throughput(single.port(), 50, 1, opt.seconds);
    out["cluster_pipe16x50_ops_s"] = cluster_throughput(c, 50, 16, opt.seconds);
    out["single_pipe16x50_ops_s"] = single_throughput(single.port(), 50, 16, opt.seconds);
    if (!opt.ioredis.empty()) {
      redis_ha::test::temp_dir dir;
      const auto path = (dir.path() / "ioredis.json").string();
      std::vector<std::string> argv{"node", opt.ioredis, std::to_string(opt.seconds)};
      for (auto p : c.ports()) argv.push_back(std::to_string(p));
      auto p = redis_ha::test::child_process::spawn(argv, {.output_path = path});
      p.wait();
      std::ifstream in(path);
      std::string line, last;
      while (std::getline(in, line)) {
        fmt::print("ioredis: {}\n", line);
        if (!line.empty() && line[0] == '{') last = line;
      }
      for (const char* k : {"ioredis_conc50_ops_s", "ioredis_pipe16x50_ops_s"}) {
        const auto at = last.find(k);
        if (at != std::string::npos) out[k] = std::stod(last.substr(last.find(':', at) + 1));
      }
    }
  }
  std::vector<cluster_failover_result> kills, manuals;
  for (int i = 0; i < opt.runs; ++i) kills.push_back(run_cluster_failover(true));
  for (int i = 0; i < opt.runs; ++i) manuals.push_back(run_cluster_failover(false));

  auto col = [](const std::vector<cluster_failover_result>& v, auto f) {
    std::vector<double> x;
    for (auto& r : v) x.push_back(f(r));
    return x;
  };
  auto maxv = [](std::vector<double> v) { return v.empty() ? -1 : *std::max_element(v.begin(), v.end()); };
  fmt::print("{:<36} {:>14}\n", "throughput (SET, 16-byte values)", "ops/s");
  for (auto& [k, v] : out) fmt::print("{:<36} {:>14.0f}\n", k, v);
  fmt::print("\n{:<8} {:>5} {:>16} {:>18} {:>8} {:>6} {:>14} {:>14}\n", "fault", "run", "fault->failover", "failover->write",
             "failed", "lost", "hit max ms", "others max ms");
  auto rows = [&](const char* name, const std::vector<cluster_failover_result>& v) {
    for (std::size_t i = 0; i < v.size(); ++i)
      fmt::print("{:<8} {:>5} {:>16.1f} {:>18.1f} {:>8} {:>6} {:>14.0f} {:>14.0f}\n", name, i + 1, v[i].fault_to_failover_ms,
                 v[i].failover_to_first_write_ms, v[i].failed, v[i].lost, v[i].hit_max_delay_ms, v[i].other_max_delay_ms);
  };
  rows("kill", kills);
  rows("manual", manuals);
  double failed_kill = 0, failed_manual = 0, lost_kill = 0;
  for (auto& r : kills) failed_kill += static_cast<double>(r.failed), lost_kill += static_cast<double>(r.lost);
  for (auto& r : manuals) failed_manual += static_cast<double>(r.failed);
  const double others = std::max(maxv(col(kills, [](auto& r) { return r.other_max_delay_ms; })),
                                 maxv(col(manuals, [](auto& r) { return r.other_max_delay_ms; })));
  const double kill_first = median_of(col(kills, [](auto& r) { return r.failover_to_first_write_ms; }));
  fmt::print("targets: cluster_kill_failed_requests = 0, cluster_manual_failed_requests = 0, "
             "cluster_kill_failover_to_first_write_ms <= 50, cluster_other_shards_max_delay_ms <= 50\n");
  std::string extra;
  for (auto& [k, v] : out)
    if (k != "cluster_conc50_ops_s" && k != "single_conc50_ops_s") extra += fmt::format(", \"{}\": {:.0f}", k, v);
  fmt::print(
      "{{\"cluster_conc50_ops_s\": {:.0f}, \"single_conc50_ops_s\": {:.0f}, \"cluster_kill_failover_to_first_write_ms\": "
      "{:.1f}, \"cluster_kill_failed_requests\": {:.0f}, \"cluster_manual_failed_requests\": {:.0f}, "
      "\"cluster_other_shards_max_delay_ms\": {:.0f}, \"cluster_kill_fault_to_failover_ms\": {:.0f}, "
      "\"cluster_manual_failover_to_first_write_ms\": {:.1f}, \"cluster_kill_acked_lost\": {:.0f}, \"runs\": {}{}}}\n",
      out["cluster_conc50_ops_s"], out["single_conc50_ops_s"], kill_first, failed_kill, failed_manual, others,
      median_of(col(kills, [](auto& r) { return r.fault_to_failover_ms; })),
      median_of(col(manuals, [](auto& r) { return r.failover_to_first_write_ms; })), lost_kill, opt.runs, extra);
  return 0;
}

}  // namespace bench
