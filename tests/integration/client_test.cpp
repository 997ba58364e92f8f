// The HA client and its blocking facade against real servers, outside of
// Sentinel failovers (those are in failover_test.cpp).
#include <redis_ha/client.hpp>
#include <redis_ha/sync_client.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/redis_server.hpp"
#include "support/sync_client.hpp"

using namespace std::chrono_literals;
using redis_ha::error;
using redis_ha::test::redis_node;

namespace {

// A loopback port where nothing listens any more.
std::uint16_t dead_port() {
  redis_node gone;
  return gone.port();
}

redis_ha::client_config direct(std::uint16_t port) {
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", port}};
  return cfg;
}

}  // namespace

TEST_CASE("sync_client convenience calls and error reporting", "[client][sync]") {
  redis_node server;
  redis_ha::sync_client c{direct(server.port())};
  c.set("k", "v");
  CHECK(c.get("k") == "v");
  CHECK_FALSE(c.get("missing").has_value());
  CHECK(c.incr("n") == 1);
  CHECK(c.incrby("n", 41) == 42);
  CHECK(c.expire("k", 60s));
  CHECK(c.hset("h", "f", "x") == 1);
  CHECK(c.hget("h", "f") == "x");
  CHECK(c.del("k") == 1);
  std::vector<std::string> keys{"e"}, args{"7"};
  CHECK(c.eval("redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])", keys, args).as_string() ==
        "7");
  c.set("ttl", "x", 5000ms);
  CHECK(redis_ha::test::command(server.port(), {"PTTL", "ttl"}).integer > 0);
  // A Redis error reply: thrown by the throwing overload, a reply otherwise.
  CHECK_THROWS_AS(c.command("INCR", "h"), redis_ha::system_error);
  std::error_code ec;
  auto r = c.command(ec, "INCR", "h");
  CHECK_FALSE(ec);
  CHECK(r.error_prefix() == "WRONGTYPE");
  // Subscriber mode would take over the shared connection: refused locally.
  c.command(ec, "SUBSCRIBE", "news");
  CHECK(ec == error::unsupported_command);
  CHECK(c.hget("h", "f") == "x");  // the connection still works
}

TEST_CASE("one sync_client shared by many threads", "[client][sync]") {
  redis_node server;
  redis_ha::sync_client c{direct(server.port())};
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) {
        std::error_code ec;
        c.command(ec, "INCR", "shared");
        if (ec) ++errors;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(errors == 0);
  CHECK(c.get("shared") == "2000");
}

TEST_CASE("async client with a coroutine", "[client][async]") {
  redis_node server;
  asio::io_context ioc;
  redis_ha::client c{ioc.get_executor(), direct(server.port())};
  std::string got;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        redis_ha::request req;
        req.push("SET", "co", "yes").push("GET", "co");
        auto resp = co_await c.async_exec(req, asio::use_awaitable);
        got = std::string(resp.at(1).as_string());
        c.close();
      },
      asio::detached);
  ioc.run_for(5s);
  CHECK(got == "yes");
}

TEST_CASE("direct mode follows a replica's ROLE to its master", "[client][direct]") {
  redis_node master;
  redis_ha::test::server_options opts;
  opts.replicaof = master.port();
  redis_node replica{opts};
  redis_ha::sync_client c{direct(replica.port())};
  c.set("followed", "1");  // would be READONLY on the replica
  CHECK(redis_ha::test::command(master.port(), {"GET", "followed"}).str == "1");
}

TEST_CASE("requests fail with master_unavailable once the budget is spent", "[client][budget]") {
  auto cfg = direct(dead_port());
  cfg.failover_budget = 300ms;
  redis_ha::sync_client c{cfg};
  std::error_code ec;
  const auto t0 = std::chrono::steady_clock::now();
  c.command(ec, "SET", "k", "v");
  CHECK(ec == error::master_unavailable);
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited >= 250ms);
  CHECK(waited < 3s);
}

TEST_CASE("a hung node: a non-idempotent write in flight gives outcome_unknown, an idempotent one is resent",
          "[client][retry]") {
  redis_node server;
  auto cfg = direct(server.port());
  cfg.connection.health_check_interval = 100ms;
  cfg.connection.health_check_timeout = 200ms;
  redis_ha::sync_client c{cfg};
  c.wait_ready();
  server.pause();
  std::error_code incr_ec, set_ec;
  std::thread incr([&] { c.command(incr_ec, "INCR", "counter"); });
  std::thread set([&] { c.command(set_ec, "SET", "idem", "v"); });
  std::this_thread::sleep_for(800ms);  // the health check gives up on the node
  server.resume();
  incr.join();
  set.join();
  CHECK(incr_ec == error::outcome_unknown);
  CHECK_FALSE(set_ec);  // resent after reconnecting
  CHECK(c.get("idem") == "v");
  CHECK(c.stats().retries >= 1);
}

TEST_CASE("the client bounds its waiting queue", "[client][budget]") {
  auto cfg = direct(dead_port());
  cfg.max_queued = 2;
  cfg.failover_budget = 500ms;
  asio::io_context ioc;
  redis_ha::client c{ioc.get_executor(), cfg};
  int full = 0, unavailable = 0;
  redis_ha::request req;
  req.push("PING");
  for (int i = 0; i < 5; ++i)
    c.async_exec(req, [&](std::error_code ec, redis_ha::response) {
      if (ec == error::queue_full) ++full;
      if (ec == error::master_unavailable) ++unavailable;
    });
  ioc.run_for(2s);
  CHECK(full == 3);
  CHECK(unavailable == 2);
}
