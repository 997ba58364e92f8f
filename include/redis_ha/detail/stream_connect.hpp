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

#include <asio/connect.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream_base.hpp>

#include <array>
#include <functional>
#include <string>
#include <system_error>

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
      asio::async_connect(stream.lowest_layer(), endpoints,
                          [&stream, &progress, host, done](std::error_code ec, const auto&) {
                            if (progress.cancelled) return;
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
