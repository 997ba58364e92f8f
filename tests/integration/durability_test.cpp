// min_replicas_acked: a write succeeds only once WAIT confirms it.
#include <redis_ha/sync_client.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "support/eventually.hpp"
#include "support/fault_proxy.hpp"
#include "support/ha_config.hpp"
#include "support/ha_writer.hpp"
#include "support/sync_client.hpp"
#include "support/topology.hpp"

using namespace std::chrono_literals;
using redis_ha::error;
using redis_ha::test::topology;

namespace {
redis_ha::client_config durable_config(topology& topo) {
  auto cfg = redis_ha::test::sentinel_client_config(topo);
  cfg.min_replicas_acked = 1;
  cfg.replication_timeout = 100ms;
  redis_ha::test::fast_health_check(cfg.connection);
  return cfg;
}
}  // namespace

TEST_CASE("min_replicas_acked: writes succeed when replicated and fail with not_replicated when not",
          "[durability]") {
  topology topo;
  auto cfg = durable_config(topo);
  cfg.failover_budget = 600ms;
  redis_ha::sync_client c{cfg};
  c.set("d:k", "v");  // replicated: fine
  CHECK(c.get("d:k") == "v");
  for (auto p : topo.node_ports())
    if (p != topo.master().port()) topo.data_node_by_port(p).pause();
  std::error_code ec;
  c.command(ec, "INCR", "d:n");  // not idempotent: fails at once
  CHECK(ec == error::not_replicated);
  const auto t0 = std::chrono::steady_clock::now();
  c.command(ec, "SET", "d:k2", "v");  // idempotent: resent within the budget, then fails
  CHECK(ec == error::not_replicated);
  CHECK(std::chrono::steady_clock::now() - t0 >= 500ms);
  CHECK(c.stats().retries >= 1);
  // Reads are not affected.
  CHECK(c.get("d:k") == "v");
  for (auto p : topo.node_ports()) topo.data_node_by_port(p).resume();
}

TEST_CASE("min_replicas_acked=1 through a master crash: no acknowledged write is lost", "[durability]") {
  topology topo;
  redis_ha::test::background_writer w(durable_config(topo), "durable");
  REQUIRE(w.wait_more_acked(50, 10s));
  const auto old_port = topo.kill_master();
  const auto new_port = topo.wait_for_master_change(old_port);
  REQUIRE(w.wait_more_acked(50, 15s));
  w.stop();
  for (auto& o : w.outcomes()) CHECK((!o.ec || o.ec == error::not_replicated));
  CHECK(w.missing_on(new_port).empty());
}

// Direct mode has no Sentinel to announce the promotion: the replica that is
// not promoted keeps acknowledging the old master's WAITs until Sentinel
// reconfigures it. ROLE after every durable write shows the promoted replica
// leaving the old master: writes are held until a probe finds the promoted
// node, so nothing acknowledged is lost.
TEST_CASE("min_replicas_acked=1 in direct mode behind a load balancer: a graceful failover loses no acknowledged write",
          "[durability][direct]") {
  topology topo;
  redis_ha::test::fault_proxy balancer(topo.node_ports());  // round-robin per connection
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", balancer.port()}};
  cfg.min_replicas_acked = 1;
  cfg.replication_timeout = 100ms;
  cfg.failover_budget = 10s;
  redis_ha::test::background_writer w(cfg, "direct-durable");
  const auto [old_port, new_port] = redis_ha::test::fault_under_writer(w, topo, [](topology& t) { return t.failover(); });
  std::size_t failed = 0;
  for (auto& o : w.outcomes()) failed += o.ec ? 1 : 0;
  CHECK(failed == 0);
  // The old master is demoted (and resynced) late: wait for it, then count.
  CHECK(redis_ha::test::eventually(
      [&] {
        const auto role = redis_ha::test::command(old_port, {"ROLE"});
        return !role.elements.empty() && role.elements[0].str == "slave";
      },
      20s));
  CHECK(w.missing_on(new_port).empty());
}
