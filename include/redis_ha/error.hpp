#ifndef REDIS_HA_ERROR_HPP
#define REDIS_HA_ERROR_HPP

/// @file
/// Error codes of redis-ha: `redis_ha::error`, its `std::error_category`
/// ("redis_ha") and the exception thrown by throwing overloads.

#include <string>
#include <system_error>

namespace redis_ha {

/// Everything redis-ha itself can report. Errors from the operating system
/// or from Asio (e.g. `connection_refused`) are passed through unchanged.
enum class error {
  // --- protocol -----------------------------------------------------------
  /// The server sent bytes that are not valid RESP. The connection is closed.
  protocol_error = 1,
  /// A bulk string exceeded `connection_config::max_bulk_length`, or a reply
  /// `connection_config::max_reply_size`. The connection is closed.
  reply_too_large,
  /// A reply nested arrays deeper than `connection_config::max_nesting_depth`.
  nesting_too_deep,
  /// The server sent a reply although no request was waiting for one.
  unexpected_reply,
  /// A reply accessor was used on a reply of another type (e.g. `as_integer()` on a bulk string).
  wrong_reply_type,
  /// The reply is a Redis error reply (`-ERR ...`); only raised by throwing accessors.
  server_error,

  // --- connecting ---------------------------------------------------------
  /// Host name resolution did not finish within `connect_timeout`.
  resolve_timeout,
  /// The TCP connection was not established within `connect_timeout`.
  connect_timeout,
  /// The handshake (AUTH, SELECT, CLIENT SETNAME) did not finish within `connect_timeout`.
  handshake_timeout,
  /// The TLS handshake did not finish within `connect_timeout` (is the port a TLS port?).
  tls_handshake_timeout,
  /// The server rejected the credentials (`WRONGPASS`, `NOAUTH`, invalid password).
  auth_failed,
  /// `SELECT <database>` failed (database index out of range).
  select_failed,
  /// Another handshake step (e.g. `CLIENT SETNAME`) was refused by the server.
  handshake_failed,
  /// `async_connect` was called while the connection is connecting or open.
  already_connected,

  // --- requests -----------------------------------------------------------
  /// The connection is not open (never connected, or closed).
  not_connected,
  /// The connection closed before the request was written: it never reached
  /// the server and is safe to send again.
  connection_closed,
  /// The connection was lost after the request was written: the server may
  /// or may not have executed it.
  connection_lost,
  /// The request did not complete within its timeout.
  request_timeout,
  /// The idle health-check `PING` was not answered in time: the server is hung
  /// or unreachable. The connection is closed.
  health_check_failed,
  /// Too many requests (or bytes) are queued on the connection; see
  /// `connection_config::max_queued_requests` / `max_queued_bytes`.
  queue_full,
  /// The request holds no command.
  empty_request,

  // --- high availability -------------------------------------------------
  /// A write was offered on a connection whose node is not a verified
  /// master; it was refused locally, without a network round trip.
  not_master,
  /// No verified master became available within `failover_budget`.
  master_unavailable,
  /// The request was sent but the connection was lost before its reply,
  /// and it is not idempotent, so it was not resent: it may or may not
  /// have been executed.
  outcome_unknown,
  /// No sentinel answered (each sentinel's own error is in the log and in
  /// the client's `last_error_detail()`).
  no_sentinel_reachable,
  /// Sentinels answered, but none knows the configured master name.
  master_name_unknown,
  /// The address Sentinel (or ROLE) named could not be connected to.
  master_unreachable,
  /// The node's ROLE is not what was expected (e.g. a replica where a master was announced).
  role_mismatch,
  /// The client was closed.
  client_closed,
  /// The HA client refuses a command that would take over its shared
  /// connection (`SUBSCRIBE` and the other subscriber-mode commands): use
  /// `redis_ha::subscriber` (`subscriber.hpp`), which also re-subscribes
  /// after failovers.
  unsupported_command,
  /// `min_replicas_acked` is set and `WAIT` did not confirm that many
  /// replicas within `replication_timeout`: the write ran on the master
  /// but may be lost if the master fails now.
  not_replicated,

  // --- protocol (added later; enumerators keep their values) --------------
  /// A simple-string or error line exceeded `connection_config::max_line_length`,
  /// or a number line (`:`, `$`, `*`) 20 characters. The connection is closed.
  line_too_long,
  /// A sentinel answered, but with something that is not a usable address
  /// (or not a Sentinel reply at all).
  sentinel_protocol_error,

  // --- Redis Cluster (cluster_client.hpp) ----------------------------------
  /// The keys of a request hash to different slots of a Redis Cluster; it was
  /// refused locally, before any round trip (put the keys in one slot with a
  /// hash tag: `{user1}.name`, `{user1}.mail`).
  cross_slot,
  /// The cluster client has no routing for this command, or for this mix of
  /// commands (e.g. `SCAN`, `SELECT`, or `FLUSHALL` beside keyed commands).
  unroutable_command,
  /// A request was redirected (`MOVED`/`ASK`) too many times.
  too_many_redirects,
  /// A node answered `CLUSTER SHARDS` / `CLUSTER SLOTS` with something that
  /// is not a usable slot map (malformed, out of range, or too large).
  cluster_map_invalid,
  /// A connection asked for TLS (`tls_config::enabled`) but the program has
  /// no TLS support compiled in (link `redis_ha::tls`, or build
  /// `redis_ha_compiled` with OpenSSL).
  tls_unavailable,
};

namespace detail {

/// The "redis_ha" error category.
class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "redis_ha"; }

  std::string message(int ev) const override {
    switch (static_cast<error>(ev)) {
      case error::protocol_error: return "the server sent malformed RESP data; the connection was closed";
      case error::reply_too_large: return "a reply exceeded the configured max_bulk_length or max_reply_size; the connection was closed";
      case error::nesting_too_deep: return "a reply exceeded the configured maximum nesting depth; the connection was closed";
      case error::unexpected_reply: return "the server sent a reply no request was waiting for; the connection was closed";
      case error::wrong_reply_type: return "the reply has another type than the one requested";
      case error::server_error: return "the server answered with an error reply";
      case error::resolve_timeout: return "host name resolution timed out";
      case error::connect_timeout: return "the TCP connection was not established in time";
      case error::handshake_timeout: return "the connection handshake (AUTH/SELECT/CLIENT SETNAME) timed out";
      case error::tls_handshake_timeout: return "the TLS handshake did not finish in time (is the port a TLS port?)";
      case error::auth_failed: return "authentication failed: wrong user name or password";
      case error::select_failed: return "SELECT failed: the database index is invalid";
      case error::handshake_failed: return "the server refused a handshake command";
      case error::already_connected: return "the connection is already connecting or open";
      case error::not_connected: return "the connection is not open";
      case error::connection_closed: return "the connection closed before the request was sent; it was not executed";
      case error::connection_lost: return "the connection was lost after the request was sent; its outcome is unknown";
      case error::request_timeout: return "the request timed out";
      case error::health_check_failed: return "the server did not answer the health-check PING in time; the connection was closed";
      case error::queue_full: return "too many requests are queued on the connection";
      case error::empty_request: return "the request holds no command";
      case error::not_master: return "refused locally: a write cannot go to a node that is not a verified master";
      case error::master_unavailable: return "no verified master became available within the failover budget";
      case error::outcome_unknown: return "the connection was lost after a non-idempotent request was sent; it may or may not have run";
      case error::no_sentinel_reachable: return "no sentinel could be reached";
      case error::master_name_unknown: return "the sentinels do not know this master name";
      case error::master_unreachable: return "no candidate master could be connected to and verified";
      case error::role_mismatch: return "the node's ROLE is not master";
      case error::client_closed: return "the client was closed";
      case error::unsupported_command: return "the HA client refuses subscriber-mode commands (SUBSCRIBE, PSUBSCRIBE, ...): use redis_ha::subscriber";
      case error::not_replicated: return "the write was not confirmed by enough replicas (WAIT) in time";
      case error::line_too_long: return "a reply line exceeded the configured max_line_length; the connection was closed";
      case error::sentinel_protocol_error: return "a sentinel answered with something that is not a usable master address";
      case error::cross_slot: return "the keys of the request are in different hash slots of the cluster (use a hash tag such as {user1})";
      case error::unroutable_command: return "the cluster client cannot route this command (or this mix of commands)";
      case error::too_many_redirects: return "the request was redirected (MOVED/ASK) too many times";
      case error::cluster_map_invalid: return "a node answered CLUSTER SHARDS/SLOTS with something that is not a usable slot map";
      case error::tls_unavailable: return "TLS was asked for but this program has no TLS support (link redis_ha::tls)";
    }
    return "unknown redis_ha error";
  }
};

}  // namespace detail

/// The category of `redis_ha::error` values. Its name is "redis_ha".
inline const std::error_category& error_category() noexcept {
  static const detail::error_category_impl instance;
  return instance;
}

/// Makes `std::error_code` from a `redis_ha::error` (found by ADL).
inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// Exception thrown by redis-ha's throwing overloads (`sync_client`, `run`,
/// `reply::as_string()`, `as<T>()`): a `std::system_error` whose `what()`
/// carries the context (e.g. the server's message). Asio's tokens
/// (`use_awaitable`, `use_future`) throw a plain `std::system_error`, so
/// catch `const std::system_error&` to handle both (docs/errors.md).
class system_error : public std::system_error {
 public:
  using std::system_error::system_error;
};

/// Throws `redis_ha::system_error` when `ec` holds an error.
inline void throw_if(const std::error_code& ec) {
  if (ec) throw system_error(ec);
}

/// Throws `redis_ha::system_error` with `context` prepended to the message.
inline void throw_if(const std::error_code& ec, const std::string& context) {
  if (ec) throw system_error(ec, context);
}

}  // namespace redis_ha

namespace std {
/// Lets `std::error_code ec = redis_ha::error::...;` compile.
template <>
struct is_error_code_enum<redis_ha::error> : true_type {};
}  // namespace std

#endif  // REDIS_HA_ERROR_HPP
