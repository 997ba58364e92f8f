// redis_ha::script against real servers: EVALSHA with one SCRIPT LOAD, the
// NOSCRIPT fallback after SCRIPT FLUSH and on a new master after a Sentinel
// failover; async_run through basic_client and basic_connection.
#include <redis_ha/client.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/script.hpp>
#include <redis_ha/sync_client.hpp>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <exception>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "support/ha_config.hpp"
#include "support/info.hpp"
#include "support/redis_server.hpp"
#include "support/sync_client.hpp"
#include "support/topology.hpp"

using namespace std::chrono_literals;
using redis_ha::test::redis_node;
using redis_ha::test::topology;

namespace {

const char* const incr_by_source = "return redis.call('INCRBY', KEYS[1], ARGV[1])";

redis_ha::client_config direct(std::uint16_t port) {
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", port}};
  return cfg;
}

// `calls` of a command in INFO commandstats (0 when never called).
// Redis 7 names subcommands "cmdstat_script|load", Redis 6 counts "cmdstat_script".
long long calls(std::uint16_t port, const std::string& command) {
  auto info = redis_ha::test::parse_info(redis_ha::test::command(port, {"INFO", "commandstats"}).str);
  auto it = info.find("cmdstat_" + command);
  if (it == info.end() && command == "script|load") it = info.find("cmdstat_script");
  if (it == info.end()) return 0;
  return std::stoll(redis_ha::test::parse_info_value(it->second)["calls"]);
}

// How many NOSCRIPT errors the server sent (INFO errorstats, Redis >= 6.2).
long long noscript_errors(std::uint16_t port) {
  auto info = redis_ha::test::parse_info(redis_ha::test::command(port, {"INFO", "errorstats"}).str);
  auto it = info.find("errorstat_NOSCRIPT");
  if (it == info.end()) return 0;
  return std::stoll(redis_ha::test::parse_info_value(it->second)["count"]);
}

}  // namespace

TEST_CASE("script: runs by SHA, SCRIPT LOAD once across many runs", "[scripts]") {
  redis_node server;
  redis_ha::sync_client c{direct(server.port())};
  redis_ha::script s{incr_by_source};
  CHECK(s.sha().empty());
  for (int i = 1; i <= 20; ++i) CHECK(redis_ha::run(c, s, {"counter"}, {"2"}).as_integer() == 2 * i);
  CHECK(s.sha().size() == 40);
  CHECK(calls(server.port(), "evalsha") == 20);
  CHECK(calls(server.port(), "script|load") == 1);
  CHECK(calls(server.port(), "eval") == 0);

  // Keys and arguments from ranges of strings or numbers.
  std::vector<std::string> keys{"other"};
  std::array<int, 1> by{5};
  CHECK(redis_ha::run(c, s, keys, by).as_integer() == 5);

  // A copy shares nothing but starts with the known digest.
  redis_ha::script copy = s;
  CHECK(copy.sha() == s.sha());
  CHECK(redis_ha::run(c, copy, {"counter"}, {"1"}).as_integer() == 41);
  CHECK(calls(server.port(), "script|load") == 1);
}

TEST_CASE("script: after SCRIPT FLUSH the next run succeeds through the fallback", "[scripts]") {
  redis_node server;
  redis_ha::sync_client c{direct(server.port())};
  redis_ha::script s{incr_by_source};
  CHECK(redis_ha::run(c, s, {"n"}, {"1"}).as_integer() == 1);
  redis_ha::test::command(server.port(), {"SCRIPT", "FLUSH"});
  CHECK(redis_ha::test::command(server.port(), {"SCRIPT", "EXISTS", s.sha()}).elements.at(0).integer == 0);
  CHECK(redis_ha::run(c, s, {"n"}, {"1"}).as_integer() == 2);
  CHECK(noscript_errors(server.port()) == 1);
  CHECK(calls(server.port(), "script|load") == 2);
  // Back on the fast path.
  CHECK(redis_ha::run(c, s, {"n"}, {"1"}).as_integer() == 3);
  CHECK(calls(server.port(), "script|load") == 2);
  CHECK(noscript_errors(server.port()) == 1);
}

TEST_CASE("script: errors are replies, and the throwing run throws them", "[scripts]") {
  redis_node server;
  redis_ha::sync_client c{direct(server.port())};
  redis_ha::script bad{"return +"};  // does not compile
  std::error_code ec;
  auto r = redis_ha::run(c, bad, {}, {}, ec);
  CHECK_FALSE(ec);
  CHECK(r.is_error());
  CHECK(bad.sha().empty());
  CHECK_THROWS_AS(redis_ha::run(c, bad, {}, {}), redis_ha::system_error);
  redis_ha::script raising{"return redis.error_reply('MYERR custom')"};
  r = redis_ha::run(c, raising, {}, {}, ec);
  CHECK_FALSE(ec);
  CHECK(r.error_prefix() == "MYERR");
}

TEST_CASE("script: request options reach the EVALSHA requests", "[scripts]") {
  redis_ha::script s{incr_by_source};
  s.set_sha("0123456789012345678901234567890123456789");
  redis_ha::detail::script_call plain(s, {"k"}, {"1"}, {});
  REQUIRE(plain.know_sha());
  CHECK_FALSE(plain.eval().idempotent());  // EVALSHA: not idempotent by its traits
  CHECK(plain.eval().has_write());
  CHECK_FALSE(plain.reload().idempotent());
  CHECK(plain.load().idempotent());  // SCRIPT LOAD alone is
  redis_ha::request_options opts;
  opts.idempotent = true;
  opts.timeout = 750ms;
  redis_ha::detail::script_call safe(s, {"k"}, {"1"}, opts);
  REQUIRE(safe.know_sha());
  CHECK(safe.eval().idempotent());
  CHECK(safe.reload().idempotent());
  CHECK(safe.eval().options().timeout == 750ms);
  CHECK(safe.load().options().timeout == 750ms);
  CHECK(safe.reload().size() == 2);
}

TEST_CASE("script: async_run through basic_client and basic_connection", "[scripts]") {
  redis_node server;
  asio::io_context ioc;
  redis_ha::client client{ioc.get_executor(), direct(server.port())};
  redis_ha::connection conn{ioc.get_executor()};
  redis_ha::script s{incr_by_source};
  std::vector<long long> results;
  std::error_code last;
  redis_ha::request_options opts;
  opts.idempotent = true;
  // Callbacks, chained: client (loads once), then a plain connection.
  std::function<void(int)> next = [&](int i) {
    if (i == 5) {
      conn.async_connect({"127.0.0.1", server.port()}, [&](std::error_code ec) {
        last = ec;
        if (ec) return client.close();
        redis_ha::async_run(conn, s, {"a"}, {"10"}, [&](std::error_code ec2, redis_ha::reply r) {
          last = ec2;
          if (!ec2) results.push_back(r.as_integer());
          conn.close();
          client.close();
        });
      });
      return;
    }
    redis_ha::async_run(client, s, {"a"}, {"1"}, opts, [&, i](std::error_code ec, redis_ha::reply r) {
      last = ec;
      if (ec) return client.close();
      results.push_back(r.as_integer());
      next(i + 1);
    });
  };
  next(0);
  ioc.run_for(10s);
  CHECK_FALSE(last);
  CHECK(results == std::vector<long long>{1, 2, 3, 4, 5, 15});
  CHECK(calls(server.port(), "script|load") == 1);
  CHECK(calls(server.port(), "evalsha") == 6);

  // With asio::use_future, after SCRIPT FLUSH.
  redis_ha::test::command(server.port(), {"SCRIPT", "FLUSH"});
  asio::io_context ioc2;
  redis_ha::client client2{ioc2.get_executor(), direct(server.port())};
  auto guard = asio::make_work_guard(ioc2);
  std::thread io([&] { ioc2.run_for(10s); });
  auto fut = redis_ha::async_run(client2, s, {"a"}, {"1"}, asio::use_future);
  CHECK(fut.get().as_integer() == 16);
  asio::post(ioc2, [&] { client2.close(); });
  guard.reset();
  io.join();
  CHECK(calls(server.port(), "script|load") == 2);
}

// GCC 12 failed on the shapes below: braced script_args inside a co_await
// did not compile ("array used as initializer"); a braced address, and the
// defaulted connection_config of `connection conn{co_await ...}`, were
// destroyed twice (free(): invalid pointer). They must compile and run, also
// under the sanitizers.
TEST_CASE("script: braced keys, args and address inside co_await (GCC 12 shapes)", "[scripts]") {
  redis_node server;
  asio::io_context ioc;
  redis_ha::client client{ioc.get_executor(), direct(server.port())};
  redis_ha::script s{incr_by_source};
  redis_ha::script echo{"return {KEYS[1], ARGV[1], ARGV[2]}"};
  std::vector<long long> results;
  std::vector<std::string> echoed;
  std::string failure;
  const std::uint16_t port = server.port();
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        redis_ha::connection conn{co_await asio::this_coro::executor};
        co_await conn.async_connect({"127.0.0.1", port}, asio::use_awaitable);
        auto r1 = co_await redis_ha::async_run(conn, s, {"g"}, {"2"}, asio::use_awaitable);
        results.push_back(r1.as_integer());
        auto r2 = co_await redis_ha::async_run(client, s, {"g"}, {5}, asio::use_awaitable);
        results.push_back(r2.as_integer());
        auto r3 = co_await redis_ha::async_run(client, echo, {"k"}, {'x', 1.5}, asio::use_awaitable);
        for (const auto& e : r3.as_array()) echoed.emplace_back(e.as_string());
        conn.close();
      },
      [&](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            failure = ex.what();
          }
        }
        client.close();
      });
  ioc.run_for(10s);
  CHECK(failure.empty());
  CHECK(results == std::vector<long long>{2, 7});
  CHECK(echoed == std::vector<std::string>{"k", "x", "1.5"});
}

TEST_CASE("script: right after a Sentinel failover it runs on the new master", "[scripts][failover]") {
  topology topo;
  redis_ha::sync_client c{redis_ha::test::sentinel_client_config(topo)};
  redis_ha::script s{incr_by_source};
  CHECK(redis_ha::run(c, s, {"fo"}, {"1"}).as_integer() == 1);
  CHECK(redis_ha::run(c, s, {"fo"}, {"1"}).as_integer() == 2);
  const auto sha = s.sha();
  topo.wait_replicas_in_sync();
  // Redis >= 7 does not propagate SCRIPT LOAD to replicas; make sure on older versions too.
  for (auto port : topo.node_ports()) {
    if (port == topo.master_port_from_sentinel()) continue;
    redis_ha::test::command(port, {"SCRIPT", "FLUSH"});
    REQUIRE(redis_ha::test::command(port, {"SCRIPT", "EXISTS", sha}).elements.at(0).integer == 0);
  }
  const auto started = std::chrono::steady_clock::now();
  const auto old_port = topo.failover();
  const auto new_port = topo.wait_for_master_change(old_port);
  redis_ha::request_options opts;
  opts.idempotent = true;  // resent if a connection drops mid-run (the count is then checked with >=)
  auto r = redis_ha::run(c, s, {"fo"}, {"1"}, opts);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  std::cout << "script after failover: " << r.to_string() << " on 127.0.0.1:" << new_port << ", " << took.count()
            << " ms after SENTINEL FAILOVER" << std::endl;
  CHECK(r.as_integer() >= 3);
  CHECK(redis_ha::test::command(new_port, {"SCRIPT", "EXISTS", sha}).elements.at(0).integer == 1);
  CHECK(calls(new_port, "script|load") >= 1);
  CHECK(noscript_errors(new_port) >= 1);
  CHECK(s.sha() == sha);
  // And by SHA from then on.
  const auto loads = calls(new_port, "script|load");
  CHECK(redis_ha::run(c, s, {"fo"}, {"1"}).as_integer() == r.as_integer() + 1);
  CHECK(calls(new_port, "script|load") == loads);
}
