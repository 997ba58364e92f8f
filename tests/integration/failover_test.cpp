// The HA client through real failovers: 1 master + 2 replicas + 3 sentinels
// started by the harness, a writer issuing one awaited SET every 5 ms.
#include <redis_ha/client.hpp>
#include <redis_ha/sync_client.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/client_on.hpp"
#include "support/eventually.hpp"
#include "support/ha_config.hpp"
#include "support/fault_proxy.hpp"
#include "support/io_thread.hpp"
#include "support/ha_writer.hpp"
#include "support/sync_client.hpp"
#include "support/topology.hpp"

using namespace std::chrono_literals;
using redis_ha::error;
using redis_ha::test::background_writer;
using redis_ha::test::topology;

namespace {

redis_ha::client_config sentinel_config(topology& topo) {
  auto cfg = redis_ha::test::sentinel_client_config(topo);
  cfg.connection.client_name = "ha-writer";
  redis_ha::test::fast_health_check(cfg.connection);
  // Long enough for Sentinel's own worst case: an election that fails (split
  // vote) is retried only after 2 x failover-timeout (10 s here), so a
  // failover may take 12 s; the budget must cover it (as docs/failover.md
  // advises), or a correct client reports master_unavailable.
  cfg.failover_budget = 25s;
  return cfg;
}

// Errors a caller may see during a failover, as documented.
bool documented(std::error_code ec) {
  return ec == error::master_unavailable || ec == error::outcome_unknown || ec == error::request_timeout ||
         ec == error::queue_full;
}


void check_outcomes(background_writer& w, bool expect_no_failure) {
  auto outcomes = w.outcomes();
  REQUIRE_FALSE(outcomes.empty());
  for (auto& o : outcomes) {
    INFO("write " << o.index << ": " << o.ec.message());
    CHECK((!o.ec || documented(o.ec)));
    if (expect_no_failure) CHECK_FALSE(o.ec);
    CHECK(o.done - o.sent < 26s);  // bounded by the failover budget
  }
}

bool saw(background_writer& w, redis_ha::client_event::kind k) {
  for (auto& [t, ev] : w.events())
    if (ev.type == k) return true;
  return false;
}

// Writer running; `fault` hits the master (returns the old master's port);
// the writer must resume on the new master with no failed request. Returns
// the acknowledged writes missing on the new master.
template <class Fault>
std::size_t survive(const char* prefix, Fault fault, redis_ha::client_event::kind expected_event) {
  topology topo;
  background_writer w(sentinel_config(topo), prefix);
  const auto [old_port, new_port] = redis_ha::test::fault_under_writer(w, topo, fault);
  if (topo.data_node_by_port(old_port).paused()) topo.data_node_by_port(old_port).resume();
  check_outcomes(w, true);  // SET is idempotent: resent, never failed
  CHECK(saw(w, expected_event));
  const auto missing = w.missing_on(new_port).size();
  INFO("acknowledged writes missing on the new master: " << missing);
  return missing;
}

}  // namespace

TEST_CASE("master SIGKILLed: writes resume on the new master without failing", "[failover][kill]") {
  auto missing = survive("kill", [](topology& t) { return t.kill_master(); },
                         redis_ha::client_event::kind::master_changed);
  CHECK(missing <= 2);  // asynchronous replication may lose the last one or two
}

TEST_CASE("graceful SENTINEL FAILOVER: zero failed requests", "[failover][graceful]") {
  auto missing = survive("graceful", [](topology& t) { return t.failover(); },
                         redis_ha::client_event::kind::master_changed);
  CHECK(missing == 0);  // writes are held while the promotion runs
}

TEST_CASE("master SIGSTOPped (hung, no RST): health check detects it, writes resume after promotion",
          "[failover][hung]") {
  auto missing = survive("hung", [](topology& t) { return t.pause_master(); },
                         redis_ha::client_event::kind::master_lost);
  CHECK(missing <= 2);
}

TEST_CASE("the old master comes back as a replica: no write ever reaches it", "[failover][rejoin]") {
  topology topo;
  background_writer w(sentinel_config(topo), "rejoin");
  REQUIRE(w.wait_more_acked(50, 10s));
  topo.wait_replicas_in_sync();
  auto& old_node = topo.master();
  const auto old_port = old_node.port();
  old_node.kill();
  topo.wait_for_master_change(old_port);
  REQUIRE(w.wait_more_acked(20, 15s));
  old_node.restart();  // comes back believing it is a master, until Sentinel converts it
  const auto deadline = std::chrono::steady_clock::now() + 8s;
  bool converted = false;
  while (std::chrono::steady_clock::now() < deadline) {
    auto clients = redis_ha::test::command(old_port, {"CLIENT", "LIST"}).str;
    INFO(clients);
    REQUIRE(clients.find("name=ha-writer") == std::string::npos);
    auto role = redis_ha::test::command(old_port, {"ROLE"});
    if (!role.elements.empty() && role.elements[0].str == "slave") converted = true;
    if (converted && w.wait_more_acked(20, 5s)) break;
    std::this_thread::sleep_for(50ms);
  }
  CHECK(converted);
  w.stop();
  check_outcomes(w, true);
}

TEST_CASE("one sentinel dead and one black-holed: discovery still succeeds within 1 s", "[failover][sentinels]") {
  topology topo;
  auto ports = topo.sentinel_ports();
  topo.sentinel(0).kill();
  redis_ha::test::fault_proxy hole(ports[1]);
  hole.blackhole();
  redis_ha::client_config cfg;
  cfg.sentinel.master_name = topo.master_name();
  cfg.sentinel.sentinels = {{"127.0.0.1", ports[0]}, {"127.0.0.1", hole.port()}, {"127.0.0.1", ports[2]}};
  cfg.sentinel.watch_events = false;
  const auto t0 = std::chrono::steady_clock::now();
  redis_ha::sync_client c{cfg};
  c.wait_ready();
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(elapsed < 1s);
  c.set("sentinels:k", "v");
  CHECK(c.get("sentinels:k") == "v");
}

TEST_CASE("wrong master name gives master_name_unknown, no sentinel up gives no_sentinel_reachable",
          "[failover][errors]") {
  topology topo;
  SECTION("unknown name") {
    auto cfg = sentinel_config(topo);
    cfg.sentinel.master_name = "no-such-master";
    redis_ha::sync_client c{cfg};
    std::error_code ec;
    c.command(ec, "SET", "k", "v");
    CHECK(ec == error::master_name_unknown);
  }
  SECTION("no sentinel reachable") {
    auto cfg = sentinel_config(topo);
    for (std::size_t i = 0; i < 3; ++i) topo.sentinel(i).kill();
    cfg.failover_budget = 1s;
    redis_ha::sync_client c{cfg};
    std::error_code ec;
    const auto t0 = std::chrono::steady_clock::now();
    c.command(ec, "SET", "k", "v");
    CHECK(ec == error::no_sentinel_reachable);
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  }
}

TEST_CASE("direct mode through a load balancer over all nodes: 1000 writes, none refused", "[failover][direct]") {
  topology topo;
  redis_ha::test::fault_proxy balancer(topo.node_ports());  // round-robin per connection
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", balancer.port()}};
  cfg.address_map = [](const redis_ha::address& a) { return a; };
  redis_ha::sync_client c{cfg};
  for (int i = 0; i < 1000; ++i) {
    std::error_code ec;
    auto r = c.command(ec, "SET", "direct:" + std::to_string(i), i);
    REQUIRE_FALSE(ec);
    REQUIRE_FALSE(r.is_error());  // never READONLY
  }
  CHECK(redis_ha::test::command(topo.master().port(), {"GET", "direct:999"}).str == "999");
}

TEST_CASE("a write on a connection verified as replica is refused locally with not_master", "[failover][refuse]") {
  topology topo;
  std::uint16_t replica_port = 0;
  for (auto p : topo.node_ports())
    if (p != topo.master().port()) replica_port = p;
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", replica_port}};
  cfg.follow_master = false;  // stay on the replica: reads only
  redis_ha::sync_client c{cfg};
  c.wait_ready();
  std::error_code ec;
  c.command(ec, "SET", "k", "v");
  CHECK(ec == error::not_master);
  auto r = c.command(ec, "GET", "k");
  CHECK_FALSE(ec);
  CHECK(c.stats().refused_not_master == 1);
  // The refusal never reached the server.
  auto stats = redis_ha::test::command(replica_port, {"INFO", "commandstats"}).str;
  CHECK(stats.find("cmdstat_set:") == std::string::npos);
}

// The old master still answers ROLE "master" for seconds after a graceful
// failover (Sentinel demotes it late); the probes' replication ids show the
// promoted node continued its history, so the client leaves it at once.
TEST_CASE("direct mode behind a load balancer leaves a stale master while it still claims master",
          "[failover][direct][history]") {
  topology topo;
  redis_ha::test::fault_proxy balancer(topo.node_ports());  // round-robin per connection
  redis_ha::test::io_thread io;
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", balancer.port()}};
  cfg.failover_budget = 10s;
  redis_ha::test::client_on c(io, cfg);
  REQUIRE(c.exec(redis_ha::test::cmd({"SET", "hist:before", "1"})).first == std::error_code{});
  const std::string before = c.io.call([&] { return c.c->master_replication_id(); });
  CHECK(before.size() == 40);
  topo.wait_replicas_in_sync();
  const auto old_port = topo.failover();
  REQUIRE(redis_ha::test::eventually([&] { return c.stats().master_changes == 1; }, 8s));
  // Left while the old node was still a master: the history, not its demotion, moved the client.
  const auto role = redis_ha::test::command(old_port, {"ROLE"});
  INFO(c.all_log());
  CHECK((!role.elements.empty() && role.elements[0].str == "master"));
  const std::string after = c.io.call([&] { return c.c->master_replication_id(); });
  CHECK(after.size() == 40);
  CHECK(after != before);
  auto lost = c.events_of(redis_ha::client_event::kind::master_lost);
  REQUIRE_FALSE(lost.empty());
  CHECK(lost.front().ec == error::role_mismatch);
  // The next write lands on the node Sentinel promoted.
  REQUIRE(c.exec(redis_ha::test::cmd({"SET", "hist:after", "2"})).first == std::error_code{});
  const auto new_port = topo.wait_for_master_change(old_port);
  CHECK(redis_ha::test::command(new_port, {"GET", "hist:after"}).str == "2");
}
