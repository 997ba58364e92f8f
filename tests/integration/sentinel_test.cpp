// basic_sentinel: discovery and event watching on a real topology.
#include <redis_ha/sentinel.hpp>

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "support/topology.hpp"

using namespace std::chrono_literals;
using redis_ha::test::topology;

namespace {
template <class Pred>
bool run_until(asio::io_context& ioc, Pred done, std::chrono::milliseconds timeout) {
  ioc.restart();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) ioc.run_one_for(10ms);
  return done();
}
}  // namespace

TEST_CASE("sentinel resolves the master, learns the other sentinels and the replicas", "[sentinel]") {
  topology topo;
  asio::io_context ioc;
  redis_ha::sentinel_config cfg;
  cfg.master_name = topo.master_name();
  const auto ports = topo.sentinel_ports();
  cfg.sentinels = {{"127.0.0.1", ports[2]}};  // only one configured
  redis_ha::sentinel s{ioc.get_executor(), cfg};
  std::optional<std::error_code> ec;
  redis_ha::address master;
  s.async_resolve([&](std::error_code e, redis_ha::address a) {
    ec = e;
    master = a;
  });
  REQUIRE(run_until(ioc, [&] { return ec.has_value(); }, 5s));
  REQUIRE_FALSE(*ec);
  CHECK(master.port == topo.master().port());
  CHECK(s.sentinels().size() == 3);
  CHECK(s.sentinels().front().port == ports[2]);
  CHECK(s.replicas().size() == 2);
  for (auto& r : s.replicas()) CHECK(r.healthy());
}

TEST_CASE("sentinel watch reports the promotion and the switch of a failover", "[sentinel]") {
  topology topo;
  asio::io_context ioc;
  redis_ha::sentinel_config cfg;
  cfg.master_name = topo.master_name();
  for (auto p : topo.sentinel_ports()) cfg.sentinels.push_back({"127.0.0.1", p});
  redis_ha::sentinel s{ioc.get_executor(), cfg};
  std::vector<redis_ha::sentinel_event> events;
  s.watch([&](const redis_ha::sentinel_event& ev) { events.push_back(ev); });
  run_until(ioc, [] { return false; }, 300ms);  // let the subscriptions settle
  std::uint16_t old_port = 0;
  std::thread faults([&] { old_port = topo.failover(); });
  auto seen = [&](redis_ha::sentinel_event::kind k) {
    for (auto& e : events)
      if (e.type == k) return true;
    return false;
  };
  run_until(ioc, [&] { return seen(redis_ha::sentinel_event::kind::switch_master); }, 15s);
  faults.join();
  CHECK(seen(redis_ha::sentinel_event::kind::promoting));
  CHECK(seen(redis_ha::sentinel_event::kind::promoted));
  REQUIRE(seen(redis_ha::sentinel_event::kind::switch_master));
  for (auto& e : events)
    if (e.type == redis_ha::sentinel_event::kind::switch_master) CHECK(e.node.port != old_port);
}
