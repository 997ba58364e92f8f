// One consumer program, built three ways by the package tests:
//   find_package(redis_ha)  -- tests/package/find_package
//   add_subdirectory(...)   -- tests/package/add_subdirectory
//   plain g++ -I include/   -- the "vendored" test
// It connects to the redis-server that redis_ha_with_server started
// (REDIS_HA_TEST_PORT), SETs and GETs one key, and checks the value.
// C++17 on purpose: that is what the library promises its users.
#include <redis_ha.hpp>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <system_error>

#ifndef REDIS_HA_PACKAGE_WAY
#define REDIS_HA_PACKAGE_WAY "unknown"
#endif

namespace {

int fail(std::string const& what) {
  std::fprintf(stderr, "package app (%s): FAILED: %s\n", REDIS_HA_PACKAGE_WAY, what.c_str());
  return 1;
}

}  // namespace

int main() try {
  char const* port_env = std::getenv("REDIS_HA_TEST_PORT");
  if (port_env == nullptr || *port_env == '\0') return fail("REDIS_HA_TEST_PORT is not set (run me under redis_ha_with_server)");
  unsigned long const port = std::strtoul(port_env, nullptr, 10);
  if (port == 0 || port > 65535) return fail(std::string("bad REDIS_HA_TEST_PORT: ") + port_env);

  std::string const key = std::string("redis_ha:package:") + REDIS_HA_PACKAGE_WAY;

  asio::io_context ctx;
  redis_ha::connection conn{ctx.get_executor()};

  std::string error;       // set by any step that fails
  std::string value;       // the GET reply
  bool done = false;

  // Never hang a test run: give up after 20 s.
  asio::steady_timer guard{ctx, std::chrono::seconds(20)};
  guard.async_wait([&](std::error_code ec) {
    if (ec || done) return;
    error = "timed out after 20 s";
    conn.close();
  });

  redis_ha::address addr;
  addr.host = "127.0.0.1";
  addr.port = static_cast<std::uint16_t>(port);

  conn.async_connect(addr, [&](std::error_code ec) {
    if (ec) {
      error = "connect to " + addr.to_string() + ": " + ec.message();
      guard.cancel();
      return;
    }
    redis_ha::request req;
    req.push("SET", key, "ok");
    req.push("GET", key);
    conn.async_exec(req, [&](std::error_code ec2, redis_ha::response resp) {
      done = true;
      guard.cancel();
      conn.close();
      if (ec2) {
        error = "exec: " + ec2.message();
        return;
      }
      if (resp.size() != 2) {
        error = "expected 2 replies, got " + std::to_string(resp.size());
        return;
      }
      if (resp[0].is_error()) {
        error = "SET failed: " + std::string(resp[0].error_message());
        return;
      }
      std::error_code type_ec;
      std::string_view v = resp[1].as_string(type_ec);
      if (type_ec) {
        error = "GET reply is not a string (" + std::string(redis_ha::to_string(resp[1].type())) + "): " +
                type_ec.message();
        return;
      }
      value = std::string(v);
    });
  });

  ctx.run();

  if (!error.empty()) return fail(error);
  if (value != "ok") return fail("GET " + key + " returned \"" + value + "\", expected \"ok\"");
  std::printf("redis-ha package test (%s): SET/GET %s on 127.0.0.1:%lu -> %s\n", REDIS_HA_PACKAGE_WAY, key.c_str(), port,
              value.c_str());
  return 0;
} catch (std::exception const& e) {
  return fail(std::string("exception: ") + e.what());
}
