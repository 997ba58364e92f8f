// The one client type over UNIX-domain sockets (`unix:/path` addresses) against
// redis-server's `unixsocket`, and a TLS config in a program without TLS support.
// Built twice: unix_socket_test (header-only, without redis_ha::tls: TLS is absent on
// purpose) and unix_socket_compiled_test (separate compilation against
// redis_ha::redis_ha_compiled, which has TLS compiled in where OpenSSL is).
#include <redis_ha/client.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/sync_client.hpp>

#include <asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "support/io_thread.hpp"
#include "support/redis_server.hpp"

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using redis_ha::error;
using redis_ha::test::io_thread;
using redis_ha::test::redis_node;
using redis_ha::test::server_options;

namespace {

redis_ha::address unix_address(const redis_node& node) { return {"unix:" + node.unix_socket(), 0}; }

// The CLIENT INFO line of the connection itself.
std::string client_info(io_thread& io, redis_ha::connection& conn) {
  auto [ec, resp] = io.await<redis_ha::response>(
      [&](auto h) { conn.async_exec(redis_ha::request{}.push("CLIENT", "INFO"), std::move(h)); });
  REQUIRE_FALSE(ec);
  return std::string(resp.at(0).as_string());
}

}  // namespace

TEST_CASE("address: unix: paths", "[unix]") {
  redis_ha::address a{"unix:/run/redis/redis.sock", 0};
  CHECK(a.is_unix());
  CHECK(a.unix_path() == "/run/redis/redis.sock");
  CHECK(a.to_string() == "unix:/run/redis/redis.sock");
  redis_ha::address tcp{"127.0.0.1", 6379};
  CHECK_FALSE(tcp.is_unix());
  CHECK(tcp.unix_path().empty());
}

TEST_CASE("connection over a UNIX socket: the same type as TCP, a UNIX client for the server", "[unix]") {
  redis_node node{server_options{.unix_socket = true}};
  REQUIRE_FALSE(node.unix_socket().empty());
  io_thread io;
  redis_ha::connection_config cfg;
  cfg.client_name = "over-unix";
  auto conn = io.call([&] { return std::make_unique<redis_ha::connection>(io.executor(), cfg); });
  auto [connect_ec] = io.await<>([&](auto h) { conn->async_connect(unix_address(node), std::move(h)); });
  INFO("connect: " << connect_ec.message());
  REQUIRE_FALSE(connect_ec);
  const auto info = client_info(io, *conn);
  INFO(info);
  CHECK_THAT(info, Contains("name=over-unix"));
  CHECK_THAT(info, Contains("flags=U"));  // Redis's flag for a UNIX-socket client
  CHECK_THAT(info, Contains("addr=" + node.unix_socket()));
  io.call([&] { conn.reset(); });

  // And a TCP connection of the same type to the same server is a TCP client.
  conn = io.call([&] { return std::make_unique<redis_ha::connection>(io.executor(), cfg); });
  redis_ha::address tcp{"127.0.0.1", node.port()};
  auto [tcp_ec] = io.await<>([&](auto h) { conn->async_connect(tcp, std::move(h)); });
  REQUIRE_FALSE(tcp_ec);
  CHECK_THAT(client_info(io, *conn), Contains("addr=127.0.0.1:"));
  io.call([&] { conn.reset(); });
}

TEST_CASE("client and sync_client over a UNIX socket (direct mode)", "[unix]") {
  redis_node node{server_options{.unix_socket = true}};
  redis_ha::client_config cfg;
  cfg.addresses = {unix_address(node)};
  cfg.direct_probe_interval = 0ms;
  {
    io_thread io;
    auto client = io.call([&] { return std::make_unique<redis_ha::client>(io.executor(), cfg); });
    auto [ready_ec] = io.await<>([&](auto h) { client->async_wait_ready(std::move(h)); });
    INFO("wait_ready: " << ready_ec.message() << " " << io.call([&] { return client->last_error_detail(); }));
    REQUIRE_FALSE(ready_ec);
    CHECK(io.call([&] { return client->master(); }) == std::optional<redis_ha::address>(unix_address(node)));
    auto [ec, resp] = io.await<redis_ha::response>(
        [&](auto h) { client->async_exec(redis_ha::request{}.push("SET", "u", "1").push("GET", "u"), std::move(h)); });
    REQUIRE_FALSE(ec);
    CHECK(resp.at(1).as_string() == "1");
    io.call([&] { client.reset(); });
  }
  redis_ha::sync_client redis{cfg};
  CHECK(redis.incr("u") == 2);
  CHECK(redis.get("u") == std::optional<std::string>("2"));
}

TEST_CASE("the Stream parameter remains for custom streams: basic_connection<asio::ip::tcp::socket>", "[unix]") {
  redis_node node;
  io_thread io;
  using tcp_connection = redis_ha::basic_connection<asio::ip::tcp::socket>;
  auto conn = io.call([&] { return std::make_unique<tcp_connection>(io.executor(), redis_ha::connection_config{}); });
  redis_ha::address addr{"localhost", node.port()};  // resolved by the generic stream_connector
  auto [connect_ec] = io.await<>([&](auto h) { conn->async_connect(addr, std::move(h)); });
  REQUIRE_FALSE(connect_ec);
  auto [ec, resp] =
      io.await<redis_ha::response>([&](auto h) { conn->async_exec(redis_ha::request{}.push("PING"), std::move(h)); });
  REQUIRE_FALSE(ec);
  CHECK(resp.at(0).as_string() == "PONG");
  const bool nodelay = io.call([&] {
    asio::ip::tcp::no_delay opt;
    conn->stream().get_option(opt);
    return opt.value();
  });
  CHECK(nodelay);  // the socket options of stream_connect.hpp
  io.call([&] { conn.reset(); });
}

TEST_CASE("a unix: path nobody listens on fails at once with the system's error", "[unix]") {
  io_thread io;
  auto conn = io.call([&] { return std::make_unique<redis_ha::connection>(io.executor(), redis_ha::connection_config{}); });
  redis_ha::address nowhere{"unix:/nonexistent-redis-ha-dir/redis.sock", 0};
  const auto t0 = std::chrono::steady_clock::now();
  auto [ec] = io.await<>([&](auto h) { conn->async_connect(nowhere, std::move(h)); });
  INFO("connect: " << ec.message());
  CHECK(ec.value() == ENOENT);  // asio reports it in its system category
  CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);  // not the connect timeout
  io.call([&] { conn.reset(); });
}

TEST_CASE("TLS asked for: error::tls_unavailable without TLS support, a TLS failure with it, nothing sent",
          "[unix][tls]") {
  redis_node node;
  io_thread io;
  redis_ha::connection_config cfg;
  cfg.tls.enabled = true;
  cfg.tls.verify_peer = false;
  cfg.connect_timeout = 500ms;
  cfg.client_name = "no-tls-here";
  auto conn = io.call([&] { return std::make_unique<redis_ha::connection>(io.executor(), cfg); });
  redis_ha::address addr{"127.0.0.1", node.port()};
  auto [ec] = io.await<>([&](auto h) { conn->async_connect(addr, std::move(h)); });
  INFO("connect: " << ec.message());
#if defined(REDIS_HA_TEST_COMPILED_WITH_TLS)
  CHECK(ec);  // a TLS handshake against a plaintext port fails (OpenSSL error or handshake timeout)
  CHECK(ec != error::tls_unavailable);
#else
  CHECK(ec == error::tls_unavailable);
  CHECK_THAT(ec.message(), Contains("redis_ha::tls"));
#endif
  io.call([&] { conn.reset(); });
  // No plaintext fallback: the server never saw the client's name.
  CHECK(node.command({"CLIENT", "LIST"}).str.find("no-tls-here") == std::string::npos);
}
