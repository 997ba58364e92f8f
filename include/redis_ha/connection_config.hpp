#ifndef REDIS_HA_CONNECTION_CONFIG_HPP
#define REDIS_HA_CONNECTION_CONFIG_HPP

/// @file
/// `redis_ha::connection_config`: credentials, timeouts and limits of one
/// connection.

#include <redis_ha/logger.hpp>
#include <redis_ha/tls_config.hpp>

#include <chrono>
#include <cstddef>
#include <string>

namespace redis_ha {

/// Settings of a `basic_connection`. Every field has a usable default.
struct connection_config {
  /// ACL user for `AUTH user password`; empty means `AUTH password` (or no AUTH).
  std::string username;
  /// Password; empty means no `AUTH` is sent.
  std::string password;
  /// Database index; `SELECT` is sent when it is not 0.
  int database = 0;
  /// Sent as `CLIENT SETNAME` when not empty (visible in `CLIENT LIST`).
  std::string client_name;
  /// Sends `CLIENT CAPA redirect` last in the handshake (Valkey 8): a
  /// replica then answers a write (and a read, outside `READONLY` mode)
  /// with `-REDIRECT host:port`, naming its primary, instead of
  /// `-READONLY`. A server without the capability (Redis) answers with an
  /// error, which is ignored: the connection opens as without it. The HA
  /// client sets this on its master connections (`client_config::use_redirect`).
  bool redirect_capability = false;

  /// Bound on resolving, TCP connect and the handshake, each phase
  /// reporting its own timeout error.
  std::chrono::milliseconds connect_timeout{2000};
  /// Default per-request timeout (0: none). A request may override it.
  /// A request that times out completes with `error::request_timeout`; the
  /// connection stays open (the late reply is discarded).
  std::chrono::milliseconds request_timeout{0};
  /// After this long without reading anything, a `PING` is sent
  /// (0 disables the health check).
  std::chrono::milliseconds health_check_interval{1000};
  /// How long the health-check `PING` may stay unanswered before the
  /// connection is declared dead and closed with `error::health_check_failed`.
  /// Keep it above the longest command you run (blocking commands such as
  /// `BLPOP` need a connection with the health check disabled).
  std::chrono::milliseconds health_check_timeout{1000};

  /// Maximum number of requests queued or awaiting replies; beyond it
  /// `async_exec` completes with `error::queue_full`.
  std::size_t max_queued_requests = std::size_t{1} << 20;
  /// Maximum bytes of requests not yet written; beyond it `error::queue_full`.
  std::size_t max_queued_bytes = std::size_t{64} << 20;
  // Limits on what the server may send, so that a misbehaving peer (a bug,
  // a proxy, a port that is not Redis) costs a bounded amount of memory and
  // CPU. Breaking one closes the connection; the request whose reply broke
  // it completes with that error. docs/configuration.md lists the costs.

  /// Longest accepted bulk string, refused as soon as its `$<length>` header
  /// arrives (`error::reply_too_large`). A bulk is buffered once whole and
  /// then copied into the reply: about 2 x this much at peak. Redis's own
  /// `proto-max-bulk-len` is 512 MiB; raise this knowingly for larger values.
  std::size_t max_bulk_length = std::size_t{32} << 20;
  /// Longest accepted simple-string or error line (`+...`, `-...`); beyond it
  /// `error::line_too_long`, before the rest of the line arrives. Integer and
  /// length lines are capped at 20 characters.
  std::size_t max_line_length = std::size_t{64} << 10;
  /// Budget of one decoded reply, in bytes: `sizeof(redis_ha::reply)` (about
  /// 72) per array element, counted when the array header announces it, plus
  /// the bytes of its strings. An array header that cannot fit is refused at
  /// once with `error::reply_too_large`; keep it >= `max_bulk_length`.
  std::size_t max_reply_size = std::size_t{128} << 20;
  /// Deepest accepted array nesting (hiredis 0.14 supports at most 7).
  /// Beyond it the connection is closed with `error::nesting_too_deep`.
  int max_nesting_depth = 7;

  /// Where log lines go (none by default).
  redis_ha::logger logger;

  /// TLS for this connection (off by default; see `tls_config`). Used by the
  /// default stream, `any_stream`; custom streams (e.g. `tls_stream`) ignore it.
  redis_ha::tls_config tls;
};

}  // namespace redis_ha

#endif  // REDIS_HA_CONNECTION_CONFIG_HPP
