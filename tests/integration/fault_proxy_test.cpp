// Tests of tests/support/fault_proxy.hpp with a hiredis client and real redis-servers.

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "support/fault_proxy.hpp"
#include "support/info.hpp"
#include "support/redis_server.hpp"
#include "support/sync_client.hpp"

using namespace redis_ha::test;
using namespace std::chrono_literals;

namespace {

constexpr auto short_timeout = 300ms;

/// Port of the server a fresh connection through the proxy lands on.
std::uint16_t server_port_via(const fault_proxy& proxy) {
  return static_cast<std::uint16_t>(
      std::stoi(parse_info(command(proxy.port(), {"INFO", "server"}).str).at("tcp_port")));
}

/// Runs PING on `connection`; returns "PONG", "timeout" or "error".
std::string ping(sync_connection& connection) {
  try {
    return connection.command({"PING"}).str;
  } catch (const connection_error& e) {
    return e.timed_out() ? "timeout" : "error";
  }
}

/// PING on a new connection through the proxy; returns "PONG", "timeout" or "error".
std::string ping_new(const fault_proxy& proxy) {
  try {
    sync_connection connection(proxy.port(), short_timeout);
    return ping(connection);
  } catch (const connection_error& e) {
    return e.timed_out() ? "timeout" : "error";
  }
}

}  // namespace

TEST_CASE("fault_proxy passes traffic through", "[fault_proxy]") {
  redis_node server;
  fault_proxy proxy(server.port());
  CHECK(proxy.port() != server.port());
  sync_connection connection(proxy.port());
  CHECK(connection.command({"SET", "k", std::string(100000, 'x')}).str == "OK");
  CHECK(connection.command({"GET", "k"}).str.size() == 100000);
  CHECK(server_port_via(proxy) == server.port());
  CHECK(proxy.accepted() == 2);
}

TEST_CASE("fault_proxy delays data in both directions", "[fault_proxy]") {
  redis_node server;
  fault_proxy proxy(server.port());
  sync_connection connection(proxy.port());
  proxy.delay(150ms);
  const auto start = std::chrono::steady_clock::now();
  CHECK(connection.command({"PING"}).str == "PONG");
  CHECK(std::chrono::steady_clock::now() - start >= 300ms);  // 150 ms each way
  proxy.pass();
  CHECK(connection.command({"PING"}).str == "PONG");
}

TEST_CASE("fault_proxy blackhole swallows data without closing connections", "[fault_proxy]") {
  redis_node server;
  fault_proxy proxy(server.port());
  sync_connection existing(proxy.port(), short_timeout);
  REQUIRE(ping(existing) == "PONG");

  proxy.blackhole();
  CHECK(ping(existing) == "timeout");
  sync_connection fresh(proxy.port(), short_timeout);  // connects succeed, nothing answers
  CHECK(ping(fresh) == "timeout");
  CHECK(proxy.open_connections() == 2);
  CHECK(command(server.port(), {"PING"}).str == "PONG");  // the server itself is fine

  proxy.pass();
  sync_connection after(proxy.port(), short_timeout);
  CHECK(ping(after) == "PONG");
  CHECK(proxy.open_connections() == 3);  // blackholed connections stay open (and hung)
}

TEST_CASE("fault_proxy reset resets current and new connections", "[fault_proxy]") {
  redis_node server;
  fault_proxy proxy(server.port());
  sync_connection existing(proxy.port(), short_timeout);
  REQUIRE(ping(existing) == "PONG");

  proxy.reset();
  CHECK(ping(existing) == "error");
  CHECK(ping_new(proxy) == "error");
  CHECK(proxy.open_connections() == 0);

  proxy.pass();
  CHECK(ping_new(proxy) == "PONG");
}

TEST_CASE("fault_proxy refuse closes the listener but keeps current connections", "[fault_proxy]") {
  redis_node server;
  fault_proxy proxy(server.port());
  sync_connection existing(proxy.port(), short_timeout);  // connected, not used yet

  proxy.refuse();
  const auto accepted = proxy.accepted();
  try {
    sync_connection refused(proxy.port(), short_timeout);
    FAIL("connect to a refusing proxy succeeded");
  } catch (const connection_error& e) {
    CHECK_FALSE(e.timed_out());
  }
  CHECK(proxy.accepted() == accepted);
  CHECK(ping(existing) == "PONG");

  proxy.pass();
  CHECK(ping_new(proxy) == "PONG");
}

TEST_CASE("fault_proxy drop_all resets current connections once", "[fault_proxy]") {
  redis_node server;
  fault_proxy proxy(server.port());
  sync_connection first(proxy.port(), short_timeout);
  sync_connection second(proxy.port(), short_timeout);
  proxy.drop_all();
  CHECK(ping(first) == "error");
  CHECK(ping(second) == "error");
  CHECK(ping_new(proxy) == "PONG");
}

TEST_CASE("fault_proxy balances new connections round-robin over its upstreams", "[fault_proxy]") {
  redis_node a;
  redis_node b;
  fault_proxy proxy(std::vector<std::uint16_t>{a.port(), b.port()});
  std::vector<std::uint16_t> landed;
  for (int i = 0; i < 4; ++i) landed.push_back(server_port_via(proxy));
  CHECK(landed == std::vector<std::uint16_t>{a.port(), b.port(), a.port(), b.port()});

  proxy.set_upstreams({b.port()});
  CHECK(server_port_via(proxy) == b.port());
  CHECK(server_port_via(proxy) == b.port());
}

TEST_CASE("fault_proxy resets clients whose upstream is down", "[fault_proxy]") {
  redis_node server;
  fault_proxy proxy(server.port());
  server.kill();
  CHECK(ping_new(proxy) == "error");
}
