// basic_connection against a real redis-server started by the harness.
#include <redis_ha/connection.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/redis_server.hpp"
#include "support/sync_client.hpp"

using namespace std::chrono_literals;
using redis_ha::error;
using redis_ha::request;
using redis_ha::response;
using redis_ha::test::redis_node;

namespace {

redis_ha::address local(const redis_node& node) { return {"127.0.0.1", node.port()}; }

// Runs `ioc` until `done()` holds or `timeout` passes (the connection
// always has work pending, so plain run() would not return).
template <class Pred>
bool run_until(asio::io_context& ioc, Pred done, std::chrono::milliseconds timeout = 5000ms) {
  ioc.restart();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) ioc.run_one_for(10ms);
  return done();
}

// Connects `conn` and runs the io_context until connected (or 5 s).
std::error_code connect(asio::io_context& ioc, redis_ha::connection& conn, redis_ha::address addr) {
  std::optional<std::error_code> result;
  conn.async_connect(std::move(addr), [&](std::error_code ec) { result = ec; });
  REQUIRE(run_until(ioc, [&] { return result.has_value(); }));
  return *result;
}

// Runs one request to completion and requires it to succeed.
response exec_ok(asio::io_context& ioc, redis_ha::connection& conn, const request& req) {
  std::optional<std::error_code> ec;
  response out;
  conn.async_exec(req, [&](std::error_code e, response r) {
    ec = e;
    out = std::move(r);
  });
  REQUIRE(run_until(ioc, [&] { return ec.has_value(); }));
  REQUIRE_FALSE(*ec);
  return out;
}

request single(std::string_view cmd, std::string_view arg) {
  request r;
  r.push(cmd, arg);
  return r;
}

}  // namespace

TEST_CASE("connection runs requests with callbacks, coroutines, futures and deferred", "[connection]") {
  redis_node server;
  asio::io_context ioc;
  redis_ha::connection conn{ioc.get_executor()};
  REQUIRE_FALSE(connect(ioc, conn, local(server)));
  REQUIRE(conn.is_open());

  SECTION("callback, several commands in one request") {
    request req;
    req.push("SET", "k", "v").push("GET", "k").push("INCR", "k").push("GET", "missing");
    std::optional<response> got = exec_ok(ioc, conn, req);  // a callback underneath
    REQUIRE(got->size() == 4);
    CHECK((*got)[0].as_string() == "OK");
    CHECK((*got)[1].as_string() == "v");
    CHECK((*got)[2].is_error());  // a reply, not an error code
    CHECK((*got)[2].error_message().find("not an integer") != std::string_view::npos);
    CHECK((*got)[3].is_nil());
  }

  SECTION("coroutine with use_awaitable") {
    long long last = 0;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          for (int i = 0; i < 10; ++i) {
            auto r = co_await conn.async_exec(single("INCR", "counter"), asio::use_awaitable);
            last = r.at(0).as_integer();
          }
        },
        asio::detached);
    run_until(ioc, [&] { return last == 10; });
    CHECK(last == 10);
  }

  SECTION("use_future, completed by an io_context running on another thread") {
    auto fut = conn.async_exec(single("ECHO", "hello"), asio::use_future);
    ioc.restart();
    std::atomic<bool> stop{false};
    std::thread io{[&] { run_until(ioc, [&] { return stop.load(); }); }};
    auto r = fut.get();
    stop = true;
    io.join();
    CHECK(r.at(0).as_string() == "hello");
  }

  SECTION("deferred") {
    auto op = conn.async_exec(single("ECHO", "later"), asio::experimental::deferred);
    std::string got;
    std::move(op)([&](std::error_code ec, response r) {
      REQUIRE_FALSE(ec);
      got = std::string(r.at(0).as_string());
    });
    run_until(ioc, [&] { return !got.empty(); });
    CHECK(got == "later");
  }
}

TEST_CASE("100 000 concurrent requests on one connection complete in order, pipelined", "[connection]") {
  redis_node server;
  asio::io_context ioc;
  redis_ha::connection conn{ioc.get_executor()};
  REQUIRE_FALSE(connect(ioc, conn, local(server)));
  constexpr long long total = 100000;
  long long completed = 0;
  long long out_of_order = 0;
  const request incr = single("INCR", "seq");
  for (long long i = 1; i <= total; ++i) {
    conn.async_exec(incr, [&, i](std::error_code ec, response r) {
      REQUIRE_FALSE(ec);
      if (r.at(0).as_integer() != i) ++out_of_order;
      ++completed;
    });
  }
  run_until(ioc, [&] { return completed == total; }, 60000ms);
  CHECK(completed == total);
  CHECK(out_of_order == 0);
  CHECK(conn.stats().requests == static_cast<std::uint64_t>(total));
  // Automatic pipelining: far fewer writes than requests.
  CHECK(conn.stats().writes < static_cast<std::uint64_t>(total) / 10);
  CHECK(redis_ha::test::command(server.port(), {"GET", "seq"}).str == std::to_string(total));
}

TEST_CASE("server SIGKILLed mid-pipeline: every pending request completes with an error", "[connection]") {
  redis_node server;
  asio::io_context ioc;
  redis_ha::connection conn{ioc.get_executor()};
  REQUIRE_FALSE(connect(ioc, conn, local(server)));
  constexpr int total = 50000;
  int ok = 0, lost = 0, not_sent = 0, other = 0;
  std::optional<std::error_code> closed;
  conn.async_wait_closed([&](std::error_code ec) { closed = ec; });
  const request set = [] {
    request r;
    r.push("SET", "key", std::string(100, 'x'));
    return r;
  }();
  for (int i = 0; i < total; ++i) {
    conn.async_exec(set, [&](std::error_code ec, response) {
      if (!ec && ++ok == 100) server.kill();
      if (ec == error::connection_lost) ++lost;
      else if (ec == error::connection_closed) ++not_sent;
      else if (ec) ++other;
    });
  }
  run_until(ioc, [&] { return ok + lost + not_sent + other == total && closed; }, 30000ms);
  CHECK(ok + lost + not_sent + other == total);  // nothing hangs
  CHECK(other == 0);
  CHECK(lost + not_sent > 0);
  REQUIRE(closed);
  CHECK(*closed != std::error_code{});
  CHECK_FALSE(conn.is_open());
  // A request after the loss fails at once with not_connected.
  std::optional<std::error_code> after;
  conn.async_exec(set, [&](std::error_code ec, response) { after = ec; });
  run_until(ioc, [&] { return after.has_value(); });
  CHECK(after == error::not_connected);
}

TEST_CASE("server SIGSTOPped: requests time out and the health check closes the connection", "[connection]") {
  redis_node server;
  asio::io_context ioc;
  redis_ha::connection_config cfg;
  cfg.request_timeout = 300ms;
  cfg.health_check_interval = 200ms;
  cfg.health_check_timeout = 400ms;
  redis_ha::connection conn{ioc.get_executor(), cfg};
  REQUIRE_FALSE(connect(ioc, conn, local(server)));
  server.pause();
  std::optional<std::error_code> exec_ec, closed;
  auto t0 = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration timed_out_after{}, closed_after{};
  conn.async_exec(single("GET", "k"), [&](std::error_code ec, response) {
    exec_ec = ec;
    timed_out_after = std::chrono::steady_clock::now() - t0;
  });
  conn.async_wait_closed([&](std::error_code ec) {
    closed = ec;
    closed_after = std::chrono::steady_clock::now() - t0;
  });
  run_until(ioc, [&] { return exec_ec && closed; });
  server.resume();
  CHECK(exec_ec == error::request_timeout);
  CHECK(closed == error::health_check_failed);
  CHECK(timed_out_after >= 300ms);
  CHECK(closed_after < 3s);  // bounded: interval + timeout + tick granularity
  CHECK(conn.stats().health_pings >= 1);
  CHECK(conn.stats().timeouts == 1);
}

TEST_CASE("an idle healthy connection stays open and answers health-check PINGs", "[connection]") {
  redis_node server;
  asio::io_context ioc;
  redis_ha::connection_config cfg;
  cfg.health_check_interval = 50ms;
  cfg.health_check_timeout = 200ms;
  redis_ha::connection conn{ioc.get_executor(), cfg};
  REQUIRE_FALSE(connect(ioc, conn, local(server)));
  run_until(ioc, [] { return false; }, 600ms);
  CHECK(conn.is_open());
  CHECK(conn.stats().health_pings >= 3);
}

TEST_CASE("a timed-out request's late reply is discarded and the connection keeps working", "[connection]") {
  redis_node server;
  asio::io_context ioc;
  redis_ha::connection conn{ioc.get_executor()};
  REQUIRE_FALSE(connect(ioc, conn, local(server)));
  request slow;
  slow.push("BLPOP", "nothing", "0.3");  // blocks 300 ms, then answers nil
  slow.options().timeout = 50ms;
  std::optional<std::error_code> slow_ec;
  std::optional<response> next;
  conn.async_exec(slow, [&](std::error_code ec, response) { slow_ec = ec; });
  conn.async_exec(single("ECHO", "after"), [&](std::error_code ec, response r) {
    REQUIRE_FALSE(ec);
    next = std::move(r);
  });
  run_until(ioc, [&] { return slow_ec && next; });
  CHECK(slow_ec == error::request_timeout);
  REQUIRE(next);
  CHECK(next->at(0).as_string() == "after");
  CHECK(conn.is_open());
}

TEST_CASE("connection authenticates with a password or an ACL user, and reports auth_failed", "[connection][auth]") {
  redis_ha::test::server_options opts;
  opts.requirepass = "s3cret";
  redis_node server{opts};
  redis_ha::test::command(server.port(), {"ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "+get", "+set"},
                          "s3cret");
  asio::io_context ioc;
  auto try_connect = [&](std::string user, std::string password) {
    redis_ha::connection_config cfg;
    cfg.username = std::move(user);
    cfg.password = std::move(password);
    redis_ha::connection conn{ioc.get_executor(), cfg};
    return connect(ioc, conn, local(server));
  };
  CHECK(try_connect("", "s3cret") == std::error_code{});
  CHECK(try_connect("app", "apppw") == std::error_code{});
  CHECK(try_connect("", "wrong") == error::auth_failed);
  CHECK(try_connect("app", "wrong") == error::auth_failed);
  CHECK(try_connect("nobody", "x") == error::auth_failed);
}

TEST_CASE("connection selects the database and names itself", "[connection]") {
  redis_node server;
  asio::io_context ioc;
  redis_ha::connection_config cfg;
  cfg.database = 3;
  cfg.client_name = "redis_ha_test";
  redis_ha::connection conn{ioc.get_executor(), cfg};
  REQUIRE_FALSE(connect(ioc, conn, {"localhost", server.port()}));  // host name resolution too
  request req;
  req.push("SET", "in3", "yes").push("CLIENT", "GETNAME");
  auto got = exec_ok(ioc, conn, req);
  CHECK(got.at(1).as_string() == "redis_ha_test");
  CHECK(redis_ha::test::command(server.port(), {"SELECT", "3"}).str == "OK");

  cfg.database = 99;
  redis_ha::connection bad{ioc.get_executor(), cfg};
  CHECK(connect(ioc, bad, local(server)) == error::select_failed);
}

TEST_CASE("connection bounds its queue with queue_full", "[connection]") {
  redis_node server;
  asio::io_context ioc;
  redis_ha::connection_config cfg;
  cfg.max_queued_requests = 10;
  redis_ha::connection conn{ioc.get_executor(), cfg};
  REQUIRE_FALSE(connect(ioc, conn, local(server)));
  int ok = 0, full = 0;
  for (int i = 0; i < 25; ++i)
    conn.async_exec(single("PING", "x"), [&](std::error_code ec, response) {
      if (!ec) ++ok;
      else if (ec == error::queue_full) ++full;
    });
  run_until(ioc, [&] { return ok + full == 25; });
  CHECK(ok == 10);
  CHECK(full == 15);
}

TEST_CASE("per-operation cancellation", "[connection][cancel]") {
  redis_node server;
  asio::io_context ioc;
  redis_ha::connection conn{ioc.get_executor()};
  REQUIRE_FALSE(connect(ioc, conn, local(server)));
  asio::cancellation_signal sig_unwritten, sig_written;
  std::optional<std::error_code> first, second, third;

  // The first request is written at once; the second waits for that write,
  // so a total cancellation can still remove it.
  conn.async_exec(single("SET", "c1"), [&](std::error_code ec, response) { first = ec; });
  request second_req;
  second_req.push("SET", "c2", "x");
  conn.async_exec(second_req,
                  asio::bind_cancellation_slot(sig_unwritten.slot(),
                                               [&](std::error_code ec, response) { second = ec; }));
  sig_unwritten.emit(asio::cancellation_type::total);

  // A written BLPOP ignores total cancellation but honours terminal.
  request blpop;
  blpop.push("BLPOP", "never", "0.2");
  conn.async_exec(blpop,
                  asio::bind_cancellation_slot(sig_written.slot(), [&](std::error_code ec, response) { third = ec; }));
  run_until(ioc, [] { return false; }, 50ms);
  sig_written.emit(asio::cancellation_type::total);
  run_until(ioc, [] { return false; }, 10ms);
  CHECK_FALSE(third);
  sig_written.emit(asio::cancellation_type::terminal);
  std::optional<response> after;
  conn.async_exec(single("EXISTS", "c2"), [&](std::error_code ec, response r) {
    REQUIRE_FALSE(ec);
    after = std::move(r);
  });
  run_until(ioc, [&] { return third && after; });
  CHECK(first->value() == 0);  // SET c1 without a value: an error reply, but completed
  CHECK(second == asio::error::operation_aborted);
  CHECK(third == asio::error::operation_aborted);
  REQUIRE(after);
  CHECK(after->at(0).as_integer() == 0);  // c2 never reached the server
}

TEST_CASE("close() completes pending requests later, never inside the call", "[connection]") {
  redis_node server;
  asio::io_context ioc;
  redis_ha::connection conn{ioc.get_executor()};
  REQUIRE_FALSE(connect(ioc, conn, local(server)));
  std::optional<std::error_code> first, second;
  conn.async_exec(single("ECHO", "a"), [&](std::error_code ec, response) { first = ec; });   // written at once
  conn.async_exec(single("ECHO", "b"), [&](std::error_code ec, response) { second = ec; });  // waits for that write
  conn.close();
  CHECK_FALSE(first);
  CHECK_FALSE(second);
  run_until(ioc, [&] { return first && second; });
  CHECK(first == error::connection_lost);
  CHECK(second == error::connection_closed);
}
