// What Valkey adds, used where the server says it has it: CLIENT CAPA redirect (a demoted
// master answers -REDIRECT naming the new primary), SENTINEL GET-PRIMARY-ADDR-BY-NAME, and the
// availability-zone of replicas for read_from_zone. Registered twice: against Redis 7 (label
// integration) each case checks that the client works the old way without the feature;
// against Valkey 8 (label valkey) that it uses it.
#include <redis_ha/sentinel.hpp>
#include <redis_ha/sync_client.hpp>

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/ha_config.hpp"
#include "support/info.hpp"
#include "support/redis_server.hpp"
#include "support/server_kind.hpp"
#include "support/sync_client.hpp"
#include "support/topology.hpp"

using namespace std::chrono_literals;
using redis_ha::test::redis_node;
using redis_ha::test::server_options;
using redis_ha::test::testing_valkey;

namespace {

// Log lines and events of a client, from its executor's thread.
struct recorder {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::vector<redis_ha::client_event> events;

  void attach(redis_ha::client_config& cfg) {
    cfg.connection.logger.min_level = redis_ha::log_level::info;
    cfg.connection.logger.sink = [this](redis_ha::log_level, std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
    };
    cfg.on_event = [this](const redis_ha::client_event& ev) {
      std::lock_guard lock(mutex);
      events.push_back(ev);
    };
  }
  std::size_t lines_with(const std::string& text) {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (const auto& l : lines) n += l.find(text) != std::string::npos;
    return n;
  }
  std::vector<std::string> lost_details() {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& e : events)
      if (e.type == redis_ha::client_event::kind::master_lost) out.push_back(e.detail);
    return out;
  }
};

long long calls(std::uint16_t port, const std::string& command) {
  auto stats = redis_ha::test::parse_info(redis_ha::test::command(port, {"INFO", "commandstats"}).str);
  auto it = stats.find("cmdstat_" + command);
  if (it == stats.end()) return 0;
  return std::stoll(redis_ha::test::parse_info_value(it->second).at("calls"));
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

bool linked(redis_node& replica) {
  auto info = redis_ha::test::parse_info(replica.command({"INFO", "replication"}).str);
  return info["master_link_status"] == "up";
}

}  // namespace

TEST_CASE("a demoted master answers -REDIRECT (Valkey) or -READONLY (Redis): the client moves to the new primary "
          "and no write fails",
          "[valkey][redirect]") {
  redis_node a;
  redis_node b(server_options{.replicaof = a.port()});
  REQUIRE(eventually([&] { return linked(b); }, 10s));

  recorder rec;
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", a.port()}};
  cfg.direct_probe_interval = 0ms;  // only the reply may tell the client
  rec.attach(cfg);
  redis_ha::sync_client c{cfg};
  for (int i = 0; i < 20; ++i) c.set("redirect:" + std::to_string(i), "before");
  REQUIRE(a.command({"GET", "redirect:19"}).str == "before");

  // A manual switch, as Sentinel does it: b first, then a follows b.
  b.command({"REPLICAOF", "NO", "ONE"});
  a.command({"REPLICAOF", "127.0.0.1", std::to_string(b.port())});

  for (int i = 0; i < 20; ++i) {
    std::error_code ec;
    auto r = c.command(ec, "SET", "redirect:" + std::to_string(i), "after");
    REQUIRE_FALSE(ec);
    REQUIRE_FALSE(r.is_error());
  }
  CHECK(redis_ha::test::command(b.port(), {"GET", "redirect:19"}).str == "after");
  const auto details = rec.lost_details();
  REQUIRE(details.size() == 1);
  INFO(details.front());
  if (testing_valkey()) {
    // The reply named the primary: no second look at a's ROLE was needed.
    CHECK(details.front().find("-REDIRECT 127.0.0.1:" + std::to_string(b.port())) != std::string::npos);
  } else {
    CHECK(details.front().find("-READONLY") != std::string::npos);
  }
  CHECK(c.stats().master_changes == 1);
}

TEST_CASE("the sentinels are asked with GET-PRIMARY-ADDR-BY-NAME (Valkey) or fall back to GET-MASTER-ADDR-BY-NAME "
          "once per sentinel (Redis)",
          "[valkey][sentinel]") {
  redis_ha::test::topology topo;
  asio::io_context ioc;
  std::vector<std::string> lines;
  redis_ha::logger log;
  log.sink = [&](redis_ha::log_level, std::string_view line) { lines.emplace_back(line); };
  redis_ha::sentinel_config cfg;
  cfg.master_name = topo.master_name();
  const auto ports = topo.sentinel_ports();
  cfg.sentinels = {{"127.0.0.1", ports[0]}};
  redis_ha::sentinel s{ioc.get_executor(), cfg, {}, log};
  for (int round = 0; round < 3; ++round) {
    std::optional<std::error_code> ec;
    redis_ha::address master;
    s.async_resolve([&](std::error_code e, redis_ha::address a) {
      ec = e;
      master = a;
    });
    ioc.restart();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!ec && std::chrono::steady_clock::now() < deadline) ioc.run_one_for(10ms);
    REQUIRE(ec);
    REQUIRE_FALSE(*ec);
    CHECK(master.port == topo.master().port());
  }
  // Per sentinel: how often it was found to lack the new name (the resolver learns the other
  // two sentinels in the first round and asks them too in the later ones).
  std::size_t fallbacks = 0;
  for (const auto& l : lines) fallbacks += l.find("has no SENTINEL GET-PRIMARY-ADDR-BY-NAME") != std::string::npos;
  for (auto p : ports) {
    std::size_t n = 0;
    for (const auto& l : lines) n += l.find("sentinel 127.0.0.1:" + std::to_string(p) + " has no SENTINEL") != std::string::npos;
    INFO("sentinel " << p);
    CHECK(n <= 1);  // remembered: asked with the old name at once afterwards
    if (testing_valkey()) CHECK(n == 0);
    if (!testing_valkey() && p == ports[0]) CHECK(n == 1);
  }
  if (testing_valkey()) CHECK(fallbacks == 0);
  CHECK(s.replicas().size() == 2);
}

TEST_CASE("read_from_zone: reads go to the replica in the zone, to the other one when it is gone (Valkey), "
          "spread over both where no zone is reported (Redis)",
          "[valkey][zone]") {
  const bool zones = testing_valkey();
  auto zone = [&](const char* z) {
    return zones ? std::vector<std::string>{std::string("availability-zone ") + z} : std::vector<std::string>{};
  };
  redis_node master(server_options{.extra_config = zone("zone-a")});
  redis_node near(server_options{.replicaof = master.port(), .extra_config = zone("zone-b")});
  redis_node far(server_options{.replicaof = master.port(), .extra_config = zone("zone-c")});
  REQUIRE(eventually([&] { return linked(near) && linked(far); }, 10s));
  // Direct mode takes the replicas from the master's ROLE once, when it verifies the master:
  // wait until the master lists both (it does so after their first REPLCONF ACK).
  REQUIRE(eventually([&] { return master.command({"ROLE"}).elements.at(2).elements.size() == 2; }, 10s));

  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", master.port()}};
  cfg.read_from = redis_ha::read_from::replica;
  cfg.read_from_zone = "zone-b";
  redis_ha::test::fast_health_check(cfg.connection);
  redis_ha::sync_client c{cfg};
  c.set("zone:k", "v");
  REQUIRE(eventually([&] { return c.stats().replicas >= 2; }, 5s));
  REQUIRE(eventually([&] { return redis_ha::test::command(far.port(), {"GET", "zone:k"}).str == "v" &&
                                  redis_ha::test::command(near.port(), {"GET", "zone:k"}).str == "v"; },
                     5s));
  const auto near0 = calls(near.port(), "get"), far0 = calls(far.port(), "get");
  for (int i = 0; i < 40; ++i) REQUIRE(c.get("zone:k") == "v");
  const auto near_reads = calls(near.port(), "get") - near0, far_reads = calls(far.port(), "get") - far0;
  CHECK(calls(master.port(), "get") == 0);
  CHECK(near_reads + far_reads == 40);
  if (zones) {
    CHECK(near_reads == 40);
    CHECK(far_reads == 0);
    near.kill();  // the zone's only replica: the others serve
    for (int i = 0; i < 20; ++i) REQUIRE(c.get("zone:k") == "v");
    CHECK(calls(far.port(), "get") - far0 >= 19);  // one read may have been sent to near before it died
  } else {
    CHECK(near_reads >= 10);  // round-robin over both
    CHECK(far_reads >= 10);
  }
}
