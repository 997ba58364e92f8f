// The one exception rule (docs/errors.md): everything redis-ha throws, or
// lets Asio's completion tokens throw, is a std::system_error whose code()
// is the error. redis_ha::system_error (thrown by the blocking API and the
// throwing accessors) derives from it. No server needed: a connection that
// is not open and a client with no address fail at once.
#include <redis_ha/client.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/sync_client.hpp>
#include <redis_ha/typed.hpp>

#include <asio/co_spawn.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <future>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>

using namespace std::chrono_literals;
using redis_ha::error;

static_assert(std::is_base_of_v<std::system_error, redis_ha::system_error>);

namespace {

// A client that can never find a master, and fails within 50 ms.
redis_ha::client_config nowhere() {
  redis_ha::client_config cfg;  // neither sentinels nor addresses
  cfg.failover_budget = 50ms;
  return cfg;
}

}  // namespace

TEST_CASE("the blocking API throws redis_ha::system_error, caught as std::system_error", "[errors]") {
  redis_ha::sync_client redis{nowhere()};
  try {
    redis.command("GET", "k");
    FAIL("no throw");
  } catch (const std::system_error& e) {
    CHECK(e.code() == error::master_unavailable);
    CHECK(dynamic_cast<const redis_ha::system_error*>(&e) != nullptr);
  }
  CHECK_THROWS_AS(redis.wait_ready(), std::system_error);
  CHECK_THROWS_AS(redis.command<long long>("INCR", "n"), std::system_error);
  CHECK_THROWS_AS(redis_ha::reply::integer(1).as_string(), std::system_error);
  CHECK_THROWS_AS(redis_ha::as<int>(redis_ha::reply{}), std::system_error);
}

TEST_CASE("use_future throws std::system_error (not redis_ha::system_error) with the error code", "[errors]") {
  asio::io_context ioc;
  auto work = asio::make_work_guard(ioc);
  std::thread io([&] { ioc.run(); });
  std::optional<redis_ha::client> client;
  // Construction is safe off the executor; use and destruction go through it.
  asio::post(ioc, asio::use_future([&] { client.emplace(ioc.get_executor(), nowhere()); })).get();

  redis_ha::request req;
  req.push("GET", "k");
  std::future<redis_ha::response> f =
      asio::post(ioc, asio::use_future([&] { return client->async_exec(req, asio::use_future); })).get();
  try {
    f.get();
    FAIL("no throw");
  } catch (const redis_ha::system_error&) {
    FAIL("Asio's tokens throw plain std::system_error: the docs say so, catch std::system_error");
  } catch (const std::system_error& e) {
    CHECK(e.code() == error::master_unavailable);
  }
  asio::post(ioc, asio::use_future([&] { client.reset(); })).get();
  work.reset();
  io.join();
}

TEST_CASE("use_awaitable throws std::system_error with the error code", "[errors]") {
  asio::io_context ioc;
  redis_ha::connection conn{ioc.get_executor()};  // never connected
  std::error_code caught;
  bool other = false;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        redis_ha::request req;
        req.push("PING");
        try {
          co_await conn.async_exec(req, asio::use_awaitable);
        } catch (const std::system_error& e) {
          caught = e.code();
          other = dynamic_cast<const redis_ha::system_error*>(&e) != nullptr;
        }
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  ioc.run();
  CHECK(caught == error::not_connected);
  CHECK_FALSE(other);
}
