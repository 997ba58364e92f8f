#ifndef REDIS_HA_DETAIL_STREAM_CONNECT_HPP
#define REDIS_HA_DETAIL_STREAM_CONNECT_HPP

/// @file
/// How `basic_connection` connects its stream: the one place for name
/// resolution, the TCP connect, socket options and the TLS handshake.
/// `stream_connector<Stream>` is the customization point; the primary
/// template serves streams whose `lowest_layer()` is a TCP socket (plain, or
/// an `asio::ssl::stream` whose `async_handshake` then runs); `any_stream`
/// specializes it (TCP, TLS or UNIX chosen from the address and config).

#include <redis_ha/address.hpp>
#include <redis_ha/connection_config.hpp>
#include <redis_ha/detail/handshake.hpp>
#include <redis_ha/error.hpp>

#include <asio/error.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream_base.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace redis_ha {
namespace detail {

/// Shared between a connect in progress and its connection: the phase whose
/// timeout error the connect timer reports, and whether the connection
/// closed meanwhile (then no further step starts and `done` is not called).
struct connect_progress {
  error phase = error::resolve_timeout;  ///< the step running now
  bool cancelled = false;                ///< the connection closed
};

/// Sets the options every TCP connection of redis-ha uses.
template <class Socket>
void set_tcp_options(Socket& s) {
  std::error_code ignored;
  s.set_option(asio::ip::tcp::no_delay(true), ignored);
  s.set_option(asio::socket_base::keep_alive(true), ignored);
}

/// Connects `socket` to each endpoint in turn; `done(ec)` once one
/// connected, else with the last error. Not `asio::async_connect` over the
/// range: when the socket cannot even be opened (EMFILE: no file descriptor
/// left) that reports `operation_aborted`; here the open's own error is the
/// reason.
template <class Socket, class Endpoint>
void connect_each(Socket& socket, std::shared_ptr<std::vector<Endpoint>> eps, std::size_t i, std::error_code last,
                  connect_progress& progress, std::function<void(std::error_code)> done) {
  for (; i < eps->size(); ++i) {
    std::error_code ec;
    socket.close(ec);
    socket.open((*eps)[i].protocol(), ec);
    if (ec) {
      last = ec;
      continue;
    }
    socket.async_connect((*eps)[i], [&socket, eps, i, &progress, done](std::error_code ec) {
      if (progress.cancelled) return;
      if (ec) return connect_each(socket, eps, i + 1, ec, progress, done);
      done(std::error_code{});
    });
    return;
  }
  done(last);
}

/// Connects `stream` to `addr`; `done(ec)` once connected (the Redis
/// handshake comes next) or on the first error. `resolver` is the
/// connection's, cancelled when it closes. Everything referenced must live
/// until `done` runs (it holds the connection).
template <class Stream, class = void>
struct stream_connector {
  static void async_connect(Stream& stream, asio::ip::tcp::resolver& resolver, const address& addr,
                            const connection_config& cfg, connect_progress& progress,
                            std::function<void(std::error_code)> done) {
    (void)cfg;
    auto on_resolved = [&stream, &progress, host = addr.host, done](const auto& endpoints) {
      progress.phase = error::connect_timeout;
      auto eps = std::make_shared<std::vector<asio::ip::tcp::endpoint>>();
      for (const auto& e : endpoints) eps->push_back(e);
      connect_each(stream.lowest_layer(), eps, 0, asio::error::host_not_found, progress,
                   [&stream, &progress, host, done](std::error_code ec) {
                     if (ec) return done(ec);
                     set_tcp_options(stream.lowest_layer());
                     handshake_tls(stream, host, progress, done);
                   });
    };
    std::error_code ec;
    auto ip = asio::ip::make_address(addr.host, ec);
    if (!ec) return on_resolved(std::array<asio::ip::tcp::endpoint, 1>{asio::ip::tcp::endpoint(ip, addr.port)});
    progress.phase = error::resolve_timeout;
    resolver.async_resolve(addr.host, std::to_string(addr.port),
                           [&progress, on_resolved, done](std::error_code ec, auto results) {
                             if (progress.cancelled) return;
                             if (ec) return done(ec);
                             on_resolved(results);
                           });
  }

  static void handshake_tls(Stream& stream, const std::string& host, connect_progress& progress,
                            const std::function<void(std::error_code)>& done) {
    if constexpr (has_tls_handshake<Stream>::value) {
      progress.phase = error::tls_handshake_timeout;
      if (auto ec = tls_setup<Stream>::prepare(stream, host)) return done(ec);
      stream.async_handshake(asio::ssl::stream_base::client, [&progress, done](std::error_code ec) {
        if (!progress.cancelled) done(ec);
      });
    } else {
      (void)stream, (void)host, (void)progress;
      done(std::error_code{});
    }
  }
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_STREAM_CONNECT_HPP
