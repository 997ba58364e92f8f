// redis_ha::sync_subscriber against real servers: the pull API with
// timeouts, subscriptions while connected, the bounded queue, reconnection
// after CLIENT KILL, close() waking a blocked next(), several consumer
// threads, and a Sentinel failover (SIGKILL of the master).
#include <redis_ha/sync_client.hpp>
#include <redis_ha/sync_subscriber.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "support/ha_config.hpp"
#include "support/redis_server.hpp"
#include "support/sync_client.hpp"
#include "support/topology.hpp"

using namespace std::chrono_literals;
using redis_ha::sync_subscriber;
using redis_ha::test::eventually;
using redis_ha::test::redis_node;
using redis_ha::test::topology;

namespace {

redis_ha::client_config direct(std::uint16_t port) {
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", port}};
  cfg.connection.client_name = "sync-subscriber";
  return cfg;
}

long long publish(std::uint16_t port, const std::string& channel, const std::string& payload) {
  return redis_ha::test::command(port, {"PUBLISH", channel, payload}).integer;
}

// The next message on `channel` within `timeout`, skipping others.
std::optional<redis_ha::message> next_on(sync_subscriber& sub, const std::string& channel,
                                         std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto m = sub.next(100ms);
    if (m && m->channel == channel) return m;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("sync_subscriber: next() returns messages in order and times out", "[pubsub][sync]") {
  redis_node server;
  sync_subscriber sub{direct(server.port())};
  sub.subscribe({"news", "alerts"});
  sub.psubscribe("metrics.*");
  REQUIRE(sub.wait_subscribed(10s));
  CHECK(sub.subscribed());
  CHECK(sub.node() == redis_ha::address{"127.0.0.1", server.port()});

  CHECK(publish(server.port(), "news", "1") == 1);
  CHECK(publish(server.port(), "metrics.cpu", "42") == 1);
  CHECK(publish(server.port(), "news", "2") == 1);
  auto a = sub.next(5s);
  auto b = sub.next(5s);
  auto c = sub.next(5s);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a->channel == "news");
  CHECK(a->payload == "1");
  CHECK(a->pattern.empty());
  CHECK(b->channel == "metrics.cpu");
  CHECK(b->pattern == "metrics.*");
  CHECK(b->payload == "42");
  CHECK(c->payload == "2");

  // Nothing more: next() waits for its timeout, then returns nothing.
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(sub.next(200ms));
  CHECK(std::chrono::steady_clock::now() - t0 >= 190ms);
  CHECK_FALSE(sub.try_next());
  CHECK(sub.pending() == 0);

  // Changes while subscribed are sent at once.
  sub.subscribe("late");
  sub.unsubscribe("alerts");
  sub.punsubscribe("metrics.*");
  CHECK(eventually([&] { return publish(server.port(), "late", "x") == 1; }, 5s));
  CHECK(eventually([&] { return publish(server.port(), "alerts", "y") == 0; }, 5s));
  CHECK(eventually([&] { return publish(server.port(), "metrics.mem", "z") == 0; }, 5s));
  auto late = next_on(sub, "late");
  REQUIRE(late);
  CHECK(late->payload == "x");
  CHECK(sub.stats().connects == 1);
  CHECK(sub.dropped() == 0);
}

TEST_CASE("sync_subscriber: sharded channels (SSUBSCRIBE) beside channels, and SUNSUBSCRIBE replies kept in order",
          "[pubsub][sync]") {
  redis_node server;
  auto cfg = direct(server.port());
  cfg.connection.health_check_interval = 100ms;  // PINGs that must meet their own PONGs
  cfg.connection.health_check_timeout = 300ms;
  sync_subscriber sub{cfg};
  sub.ssubscribe({"orders", "news"});  // "news" as a sharded channel: a namespace of its own
  sub.subscribe("news");
  REQUIRE(sub.wait_subscribed(10s));
  const auto spublish = [&](const std::string& ch, const std::string& payload) {
    return redis_ha::test::command(server.port(), {"SPUBLISH", ch, payload}).integer;
  };
  CHECK(spublish("orders", "o1") == 1);
  CHECK(publish(server.port(), "news", "classic") == 1);
  CHECK(spublish("news", "sharded") == 1);
  auto a = sub.next(5s);
  auto b = sub.next(5s);
  auto c = sub.next(5s);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a->channel == "orders");
  CHECK(a->sharded);
  CHECK(b->payload == "classic");
  CHECK_FALSE(b->sharded);
  CHECK(c->payload == "sharded");
  CHECK(c->sharded);

  // SUNSUBSCRIBE's replies have the shape of a node's own sunsubscribe:
  // they must be taken as replies (a health check PING afterwards still
  // matches its PONG) and the other subscriptions go on.
  sub.sunsubscribe("orders");
  CHECK(eventually([&] { return spublish("orders", "gone") == 0; }, 5s));
  std::this_thread::sleep_for(600ms);  // several health checks after the SUNSUBSCRIBE
  CHECK(spublish("news", "still") == 1);
  auto still = next_on(sub, "news");
  REQUIRE(still);
  CHECK(still->payload == "still");
  CHECK(sub.subscribed());
  CHECK(sub.stats().connects == 1);
  CHECK(sub.stats().reconnects == 0);
}

TEST_CASE("sync_subscriber: a full queue drops the oldest messages", "[pubsub][sync]") {
  redis_node server;
  sync_subscriber sub{direct(server.port()), 3};
  sub.subscribe("q");
  REQUIRE(sub.wait_subscribed(10s));
  for (int i = 1; i <= 5; ++i) REQUIRE(publish(server.port(), "q", std::to_string(i)) == 1);
  REQUIRE(eventually([&] { return sub.dropped() == 2; }, 5s));
  CHECK(sub.pending() == 3);
  std::vector<std::string> got;
  while (auto m = sub.try_next()) got.push_back(m->payload);
  CHECK(got == std::vector<std::string>{"3", "4", "5"});
}

TEST_CASE("sync_subscriber: re-subscribes after CLIENT KILL and reports it", "[pubsub][sync]") {
  redis_node server;
  sync_subscriber sub{direct(server.port())};
  std::mutex mutex;
  std::vector<redis_ha::subscriber_event::kind> kinds;
  sub.set_event_handler([&](const redis_ha::subscriber_event& ev) {
    std::lock_guard<std::mutex> lock(mutex);
    kinds.push_back(ev.type);
  });
  sub.subscribe("a");
  REQUIRE(sub.wait_subscribed(10s));
  REQUIRE(redis_ha::test::command(server.port(), {"CLIENT", "KILL", "TYPE", "pubsub"}).integer == 1);
  REQUIRE(eventually([&] { return sub.stats().reconnects >= 1; }, 10s));
  CHECK(sub.wait_subscribed(10s));
  CHECK(publish(server.port(), "a", "after") == 1);
  auto m = next_on(sub, "a");
  REQUIRE(m);
  CHECK(m->payload == "after");
  std::lock_guard<std::mutex> lock(mutex);
  CHECK(std::count(kinds.begin(), kinds.end(), redis_ha::subscriber_event::kind::lost) >= 1);
  CHECK(std::count(kinds.begin(), kinds.end(), redis_ha::subscriber_event::kind::subscribed) >= 1);
}

TEST_CASE("sync_subscriber: close() wakes a waiting next(), and destruction joins", "[pubsub][sync]") {
  redis_node server;
  std::optional<sync_subscriber> sub;
  sub.emplace(direct(server.port()));
  sub->subscribe("c");
  REQUIRE(sub->wait_subscribed(10s));
  std::atomic<bool> returned{false};
  std::optional<redis_ha::message> got{redis_ha::message{}};
  std::thread waiter([&] {
    got = sub->next(30s);
    returned = true;
  });
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(returned);
  const auto t0 = std::chrono::steady_clock::now();
  sub->close();
  waiter.join();
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK_FALSE(got);
  CHECK_FALSE(sub->subscribed());
  CHECK_FALSE(sub->wait_subscribed(10ms));
  // The server sees the subscription go.
  CHECK(eventually([&] { return publish(server.port(), "c", "gone") == 0; }, 5s));
  sub.reset();
}

TEST_CASE("sync_subscriber: several consumer threads share the messages", "[pubsub][sync]") {
  redis_node server;
  sync_subscriber sub{direct(server.port())};
  sub.subscribe("work");
  REQUIRE(sub.wait_subscribed(10s));
  constexpr int count = 200;
  std::mutex mutex;
  std::multiset<std::string> seen;
  std::atomic<int> taken{0};
  std::vector<std::thread> consumers;
  for (int t = 0; t < 3; ++t)
    consumers.emplace_back([&] {
      while (taken < count) {
        auto m = sub.next(50ms);
        if (!m) continue;
        std::lock_guard<std::mutex> lock(mutex);
        seen.insert(m->payload);
        ++taken;
      }
    });
  for (int i = 0; i < count; ++i) REQUIRE(publish(server.port(), "work", std::to_string(i)) == 1);
  const bool all = eventually([&] { return taken >= count; }, 20s);
  taken = count;  // stop the consumers either way
  for (auto& c : consumers) c.join();
  REQUIRE(all);
  std::lock_guard<std::mutex> lock(mutex);
  CHECK(seen.size() == count);
  for (int i = 0; i < count; ++i) CHECK(seen.count(std::to_string(i)) == 1);
}

TEST_CASE("sync_subscriber: follows the new master after the master is SIGKILLed", "[pubsub][sync][failover]") {
  topology topo;
  auto cfg = redis_ha::test::sentinel_client_config(topo);
  redis_ha::test::fast_health_check(cfg.connection);
  sync_subscriber sub{cfg};
  sub.subscribe("orders");
  REQUIRE(sub.wait_subscribed(15s));
  const auto first = topo.master_port_from_sentinel();
  REQUIRE(publish(first, "orders", "before") == 1);
  REQUIRE(next_on(sub, "orders"));

  const auto old_port = topo.kill_master();
  const auto new_port = topo.wait_for_master_change(old_port);
  REQUIRE(new_port != old_port);
  REQUIRE(eventually(
      [&] {
        auto n = sub.node();
        return n && n->port == new_port && sub.subscribed();
      },
      15s));
  REQUIRE(publish(new_port, "orders", "after") >= 1);
  auto m = next_on(sub, "orders");
  REQUIRE(m);
  CHECK(m->payload == "after");
  CHECK(sub.stats().reconnects >= 1);
}

TEST_CASE("sync_subscriber on a sync_client: one HA core, and every PUBLISH of that client through a graceful failover is heard",
          "[pubsub][sync][failover][shared]") {
  topology topo;
  auto cfg = redis_ha::test::sentinel_client_config(topo);
  cfg.failover_budget = 15s;
  redis_ha::test::fast_health_check(cfg.connection);
  redis_ha::sync_client redis{cfg};
  std::size_t published = 0, unheard = 0;
  {
    sync_subscriber sub{redis};
    sub.subscribe("orders");
    REQUIRE(sub.wait_subscribed(15s));
    REQUIRE(redis.command<long long>("PUBLISH", "orders", "before") == 1);
    REQUIRE(next_on(sub, "orders"));

    std::atomic<bool> stop{false};
    std::thread publisher([&] {
      for (int i = 0; !stop; ++i) {
        if (redis.command<long long>("PUBLISH", "orders", "m" + std::to_string(i)) < 1) ++unheard;
        ++published;
        std::this_thread::sleep_for(2ms);
      }
    });
    const auto old_port = topo.failover();
    const auto new_port = topo.wait_for_master_change(old_port);
    const bool moved = eventually(
        [&] {
          auto n = sub.node();
          return n && n->port == new_port && sub.subscribed();
        },
        15s);
    std::this_thread::sleep_for(300ms);
    stop = true;
    publisher.join();
    REQUIRE(moved);
    std::set<std::string> got;
    while (auto m = sub.next(500ms))
      if (m->channel == "orders") got.insert(m->payload);
    std::size_t missing = 0;
    for (std::size_t i = 0; i < published; ++i) missing += got.count("m" + std::to_string(i)) ? 0 : 1;
    INFO("published " << published << ", reached no subscriber " << unheard << ", not received " << missing);
    CHECK(published > 100);
    CHECK(unheard == 0);
    CHECK(missing == 0);
    CHECK(sub.stats().reconnects >= 1);
  }  // the subscriber goes first; the client keeps working
  CHECK(redis.command<long long>("PUBLISH", "orders", "after") == 0);
}
