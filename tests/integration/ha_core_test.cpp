// The HA core's rules on real servers: a rejected reply is the request's
// error and never a reconnect storm; verification has a deadline and close()
// ends it; a stale sentinel does not win; the request rate does not drive
// resolutions.
#include <redis_ha/client.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/client_on.hpp"
#include "support/fake_server.hpp"
#include "support/fault_proxy.hpp"
#include "support/ha_config.hpp"
#include "support/io_thread.hpp"
#include "support/redis_server.hpp"
#include "support/topology.hpp"

using namespace std::chrono_literals;
using redis_ha::error;
using redis_ha::test::io_thread;
using redis_ha::test::redis_node;

using redis_ha::test::client_on;
using redis_ha::test::cmd;

TEST_CASE("a reply nested deeper than the reader allows fails its request once, with no reconnect storm",
          "[ha_core][rejected]") {
  redis_node node;
  io_thread io;
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", node.port()}};
  client_on c(io, cfg);
  REQUIRE(c.exec(cmd({"SET", "before", "1"})).first == std::error_code{});
  const auto connects = c.stats().connects;
  // EVAL_RO returning tables nested 9 deep (hiredis 0.14 reads at most 7).
  auto [ec, resp] = c.exec(cmd({"EVAL_RO", "return {{{{{{{{{1}}}}}}}}}", "0"}));
  CHECK(ec == error::nesting_too_deep);
  std::this_thread::sleep_for(1500ms);
  CHECK(c.stats().connects - connects <= 1);
  CHECK(c.saw(redis_ha::client_event::kind::reconnecting));
  CHECK_FALSE(c.saw(redis_ha::client_event::kind::master_lost));
  CHECK(c.detail().find("nest") != std::string::npos);
  // The client keeps working on the same master.
  CHECK(c.exec(cmd({"SET", "after", "1"})).first == std::error_code{});
}

TEST_CASE("direct mode, no health check, a SIGSTOPped server: bounded verification, a real detail, prompt close",
          "[ha_core][deadline]") {
  redis_node node;
  node.pause();  // accepts TCP (kernel backlog), never answers ROLE
  io_thread io;
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", node.port()}};
  cfg.connection.health_check_interval = 0ms;
  cfg.connection.connect_timeout = 300ms;
  cfg.failover_budget = 2000ms;
  {
    client_on c(io, cfg);
    auto [ec, resp] = c.exec(cmd({"GET", "k"}), 10s);
    CHECK(ec == error::master_unavailable);
    CHECK(c.stats().connects >= 2);  // it kept trying, each attempt bounded
    const auto d = c.detail();
    CHECK_THAT(d, Catch::Contains(std::to_string(node.port())));
    // Bounded either by the verification deadline ("did not answer ROLE within") or, as the
    // handshake now always sends CLIENT CAPA redirect, by connect_timeout ("handshake ... timed out").
    CHECK_THAT(d, Catch::Contains("within") || Catch::Contains("handshake"));
    const auto t0 = std::chrono::steady_clock::now();
    c.io.call([&] {
      c.c->close();
      return 0;
    });
    CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
  }
  node.resume();
}

TEST_CASE("a stale sentinel that names a replica does not win over the real ones", "[ha_core][stale]") {
  redis_ha::test::topology topo;
  const auto master = topo.master_port_from_sentinel();
  std::uint16_t replica = 0;
  for (auto p : topo.node_ports())
    if (p != master) replica = p;
  REQUIRE(replica != 0);
  // Answers at once, naming the replica (as a sentinel that missed the failover would).
  redis_ha::test::fake_server stale([&](const std::vector<std::string>& argv) -> std::string {
    // A Redis sentinel: no primary-named lookup (the client falls back on the same connection).
    if (argv.size() >= 2 && argv[0] == "SENTINEL" && argv[1] == "get-primary-addr-by-name")
      return "-ERR unknown subcommand 'get-primary-addr-by-name'. Try SENTINEL HELP.\r\n";
    if (argv.size() >= 2 && argv[0] == "SENTINEL" && argv[1] == "get-master-addr-by-name")
      return "*2\r\n" + redis_ha::test::resp_bulk("127.0.0.1") + redis_ha::test::resp_bulk(std::to_string(replica));
    if (argv.size() >= 1 && argv[0] == "SENTINEL") return "*0\r\n";
    if (argv[0] == "SUBSCRIBE" || argv[0] == "PSUBSCRIBE") {
      std::string out;
      for (std::size_t i = 1; i < argv.size(); ++i)
        out += "*3\r\n" + redis_ha::test::resp_bulk(argv[0] == "SUBSCRIBE" ? "subscribe" : "psubscribe") +
               redis_ha::test::resp_bulk(argv[i]) + ":" + std::to_string(i) + "\r\n";
      return out;
    }
    if (argv[0] == "PING") return "+PONG\r\n";
    return redis_ha::test::resp_ok();
  });
  // The real sentinel answers 30 ms later.
  redis_ha::test::fault_proxy slow(topo.sentinel_ports()[0]);
  slow.delay(30ms);
  auto cfg = redis_ha::test::sentinel_client_config(
      std::vector<std::uint16_t>{stale.port(), slow.port()}, topo.master_name());
  io_thread io;
  client_on c(io, cfg);
  for (int i = 0; i < 12; ++i) {
    auto [ec, resp] = c.exec(cmd({"SET", "stale:" + std::to_string(i), "1"}), 5s);
    CHECK(ec == std::error_code{});
  }
  CHECK(c.io.call([&] { return c.c->master(); }) == redis_ha::address{"127.0.0.1", master});
  CHECK(c.saw(redis_ha::client_event::kind::following));
}

TEST_CASE("during an outage the request rate does not drive resolutions", "[ha_core][outage]") {
  redis_ha::test::topology_options opts;
  opts.down_after_ms = 600000;  // no failover
  redis_ha::test::topology topo(opts);
  io_thread io;
  auto cfg = redis_ha::test::sentinel_client_config(topo);
  cfg.backoff_max = 100ms;
  client_on c(io, cfg);
  REQUIRE(c.exec(cmd({"SET", "k", "v"})).first == std::error_code{});
  topo.kill_master();
  std::this_thread::sleep_for(500ms);
  auto s0 = c.stats();
  std::this_thread::sleep_for(2s);
  auto s1 = c.stats();
  for (int i = 0; i < 200; ++i) {  // 100 requests/s for 2 s
    c.io.call([&] {
      c.c->async_exec(cmd({"SET", "k", "v"}), [](std::error_code, redis_ha::response) {});
      return 0;
    });
    std::this_thread::sleep_for(10ms);
  }
  auto s2 = c.stats();
  const auto idle = s1.resolutions - s0.resolutions;
  const auto loaded = s2.resolutions - s1.resolutions;
  INFO("idle " << idle << ", loaded " << loaded);
  CHECK(idle >= 5);  // it keeps trying (every <= 100 ms, plus each round's own time)
  CHECK(loaded <= 2 * idle + 3);
}
