// read_from: reads on verified replicas, writes on the master, through failovers.
#include <redis_ha/sync_client.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "support/ha_config.hpp"
#include "support/info.hpp"
#include "support/sync_client.hpp"
#include "support/topology.hpp"

using namespace std::chrono_literals;
using redis_ha::test::topology;

namespace {

redis_ha::client_config reading_config(topology& topo, redis_ha::read_from where) {
  auto cfg = redis_ha::test::sentinel_client_config(topo);
  cfg.read_from = where;
  redis_ha::test::fast_health_check(cfg.connection);
  return cfg;
}

long long calls(std::uint16_t port, const std::string& command) {
  auto stats = redis_ha::test::parse_info(redis_ha::test::command(port, {"INFO", "commandstats"}).str);
  auto it = stats.find("cmdstat_" + command);
  if (it == stats.end()) return 0;
  auto fields = redis_ha::test::parse_info_value(it->second);
  return std::stoll(fields.at("calls"));
}

// Waits until the client has verified `n` replicas (reads then spread).
void wait_replicas(redis_ha::sync_client& c, std::size_t n) {
  for (int i = 0; i < 200 && c.stats().replicas < n; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(c.stats().replicas >= n);
}

}  // namespace

TEST_CASE("read_from=replica: reads are spread over verified replicas, writes go to the master", "[replica]") {
  topology topo;
  redis_ha::sync_client c{reading_config(topo, redis_ha::read_from::replica)};
  c.set("r:k", "v");  // a write, even with read_from=replica
  const auto master_port = topo.master().port();
  CHECK(calls(master_port, "set") == 1);
  wait_replicas(c, 2);
  topo.wait_replicas_in_sync();
  for (int i = 0; i < 40; ++i) CHECK(c.get("r:k") == "v");
  CHECK(calls(master_port, "get") == 0);
  for (auto p : topo.node_ports())
    if (p != master_port) CHECK(calls(p, "get") >= 10);  // both replicas served reads
}

TEST_CASE("read_from=replica_preferred: reads keep succeeding through a failover", "[replica]") {
  topology topo;
  redis_ha::sync_client c{reading_config(topo, redis_ha::read_from::replica_preferred)};
  c.set("r:k", "v");
  topo.wait_replicas_in_sync();
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, failures{0};
  std::thread reader([&] {
    while (!stop) {
      std::error_code ec;
      auto r = c.command(ec, "GET", "r:k");
      if (ec || r.is_error() || r.as_string(ec) != "v") ++failures;
      ++reads;
      std::this_thread::sleep_for(2ms);
    }
  });
  const auto old_port = topo.failover();
  topo.wait_for_master_change(old_port);
  const auto before = reads.load();
  while (reads < before + 100) std::this_thread::sleep_for(5ms);
  stop = true;
  reader.join();
  CHECK(failures == 0);
  // Writes still reach the (new) master.
  c.set("r:after", "1");
  CHECK(redis_ha::test::command(topo.master().port(), {"GET", "r:after"}).str == "1");
}

TEST_CASE("a replica answering -MASTERDOWN leaves the pool, and resends stay bounded by the budget", "[replica]") {
  redis_ha::test::topology_options opts;
  opts.extra_server_config = {"replica-serve-stale-data no"};
  topology topo{opts};
  auto cfg = reading_config(topo, redis_ha::read_from::replica);
  cfg.failover_budget = 2s;
  redis_ha::sync_client c{cfg};
  c.set("r:k", "v");
  wait_replicas(c, 2);
  topo.kill_master();  // replicas lose their link: -MASTERDOWN until one is promoted
  std::error_code ec;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.command(ec, "GET", "r:k");
  const auto took = std::chrono::steady_clock::now() - t0;
  INFO("GET: " << (ec ? ec.message() : r.to_string()));
  CHECK(took < 3s);                      // bounded by the budget
  CHECK(c.stats().retries < 1000);       // no tight resend loop
  CHECK((ec || r.is_nil() || r.is_string() || r.is_error()));
}
