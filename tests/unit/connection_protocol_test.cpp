// How a connection treats a peer that breaks the protocol. The peer here is
// a loopback socket that writes chosen bytes: not a Redis mock, the real
// server is used everywhere else (tests/integration).
#include <redis_ha/connection.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

using redis_ha::error;

namespace {

// Accepts one connection; after reading `read_bytes` bytes writes `answer`.
struct scripted_peer {
  asio::ip::tcp::acceptor acceptor;
  asio::ip::tcp::socket socket;
  std::string received;

  explicit scripted_peer(asio::io_context& ioc)
      : acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0}), socket(ioc) {}

  std::uint16_t port() const { return acceptor.local_endpoint().port(); }

  void answer_after(std::size_t read_bytes, std::string answer) {
    acceptor.async_accept(socket, [this, read_bytes, answer](std::error_code ec) {
      if (ec) return;
      received.resize(read_bytes);
      if (read_bytes == 0) return (void)asio::write(socket, asio::buffer(answer));
      asio::async_read(socket, asio::buffer(received), [this, answer](std::error_code ec, std::size_t) {
        if (!ec) asio::write(socket, asio::buffer(answer));
      });
    });
  }
};

struct result {
  std::optional<std::error_code> connect, exec, closed;
  redis_ha::response replies;
};

result run_against(asio::io_context& ioc, scripted_peer& peer, redis_ha::connection_config cfg = {},
                   bool exec = true) {
  result r;
  redis_ha::connection conn{ioc.get_executor(), cfg};
  conn.async_wait_closed([&](std::error_code ec) { r.closed = ec; });
  conn.async_connect({"127.0.0.1", peer.port()}, [&](std::error_code ec) {
    r.connect = ec;
    if (ec || !exec) return;
    redis_ha::request req;
    req.push("GET", "k");
    conn.async_exec(req, [&](std::error_code ec, redis_ha::response replies) {
      r.exec = ec;
      r.replies = std::move(replies);
    });
  });
  ioc.run_for(std::chrono::seconds(5));
  return r;
}

const std::size_t get_k_size = std::string("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").size();

}  // namespace

TEST_CASE("connection reads a well-formed reply from a scripted peer", "[connection][protocol]") {
  asio::io_context ioc;
  scripted_peer peer{ioc};
  peer.answer_after(get_k_size, "$2\r\nhi\r\n");
  auto r = run_against(ioc, peer);
  REQUIRE(r.exec == std::error_code{});
  CHECK(peer.received == "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  CHECK(r.replies.at(0).as_string() == "hi");
}

TEST_CASE("connection closes on malformed RESP and fails the pending request", "[connection][protocol]") {
  asio::io_context ioc;
  scripted_peer peer{ioc};
  peer.answer_after(get_k_size, "%garbage\r\n");
  auto r = run_against(ioc, peer);
  CHECK(r.exec == error::protocol_error);  // the request whose reply it was learns the cause
  CHECK(r.closed == error::protocol_error);
}

TEST_CASE("connection closes on a reply nobody asked for", "[connection][protocol]") {
  asio::io_context ioc;
  scripted_peer peer{ioc};
  peer.answer_after(0, "+SURPRISE\r\n");
  auto r = run_against(ioc, peer, {}, false);
  CHECK(r.connect == std::error_code{});
  CHECK(r.closed == error::unexpected_reply);
}

TEST_CASE("connection enforces the configured bulk limit", "[connection][protocol]") {
  asio::io_context ioc;
  scripted_peer peer{ioc};
  peer.answer_after(get_k_size, "$100\r\n" + std::string(100, 'x') + "\r\n");
  redis_ha::connection_config cfg;
  cfg.max_bulk_length = 10;
  auto r = run_against(ioc, peer, cfg);
  CHECK(r.exec == error::reply_too_large);
  CHECK(r.closed == error::reply_too_large);
}

TEST_CASE("connection reports handshake_timeout when the server never answers AUTH", "[connection][protocol]") {
  asio::io_context ioc;
  scripted_peer peer{ioc};
  peer.answer_after(1 << 20, "");  // reads forever, answers nothing
  redis_ha::connection_config cfg;
  cfg.password = "secret";
  cfg.connect_timeout = std::chrono::milliseconds(200);
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_against(ioc, peer, cfg);
  CHECK(r.connect == error::handshake_timeout);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
}

TEST_CASE("connection reports a refused connect and rejects requests when not open", "[connection]") {
  asio::io_context ioc;
  std::uint16_t port;
  {
    asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  redis_ha::connection conn{ioc.get_executor()};
  std::optional<std::error_code> connect_ec, exec_ec;
  redis_ha::request req;
  req.push("PING");
  conn.async_exec(req, [&](std::error_code ec, redis_ha::response) { exec_ec = ec; });
  CHECK_FALSE(exec_ec);  // never completes inline
  conn.async_connect({"127.0.0.1", port}, [&](std::error_code ec) { connect_ec = ec; });
  ioc.run_for(std::chrono::seconds(5));
  CHECK(exec_ec == error::not_connected);
  CHECK(connect_ec == asio::error::connection_refused);
  CHECK_FALSE(conn.is_open());
}
