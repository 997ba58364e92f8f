#ifndef REDIS_HA_CONNECTION_HPP
#define REDIS_HA_CONNECTION_HPP

/// @file
/// `redis_ha::basic_connection<Stream>`: one connection to one Redis
/// server, with automatic pipelining, per-request timeouts, an idle PING
/// health check and Asio completion tokens.

#include <redis_ha/address.hpp>
#include <redis_ha/any_stream.hpp>
#include <redis_ha/connection_config.hpp>
#include <redis_ha/connection_stats.hpp>
#include <redis_ha/detail/config.hpp>
#include <redis_ha/detail/connection_impl.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <asio/async_result.hpp>

#include <functional>
#include <memory>
#include <system_error>
#include <utility>

namespace redis_ha {

/// One connection to one Redis server.
///
/// - **Pipelining is automatic**: requests started while a write is in
///   flight (or while replies are being delivered) leave together in the
///   next single write; replies are matched to requests in FIFO order.
/// - **Nothing hangs**: when the connection is lost, times out a health
///   check or reads malformed data, every pending request completes, with
///   `error::connection_lost` if it was written (outcome unknown) or
///   `error::connection_closed` if it never left (safe to resend).
/// - A connection is used once: connect, use, close. To reconnect, create
///   a new one (the HA client does this for you).
///
/// Thread safety: like Asio's sockets, distinct objects are safe, a shared
/// object is not. Start operations from the connection's executor (use a
/// strand when the `io_context` runs on several threads). Handlers run on
/// their associated executor (default: the connection's).
///
/// @tparam Stream `any_stream` (default: TCP, TLS or UNIX chosen at run
///   time from the address and `connection_config::tls`), or another stream
///   whose `lowest_layer()` is a TCP socket, e.g. `asio::ip::tcp::socket` or
///   `asio::ssl::stream<tcp::socket>` (its `async_handshake` runs after the
///   TCP connect), or any stream with a `detail::stream_connector`.
template <class Stream = any_stream>
class basic_connection {
  using impl_type = detail::connection_impl<Stream>;

 public:
  /// The stream type.
  using stream_type = Stream;
  /// The executor every operation runs on.
  using executor_type = typename Stream::executor_type;

  /// Creates a closed connection with the default `connection_config`.
  /// (An overload rather than a default argument: a defaulted
  /// `connection_config{}` would be an aggregate temporary inside
  /// `connection conn{co_await asio::this_coro::executor};`, which GCC 12
  /// destroys twice.)
  explicit basic_connection(const executor_type& ex) : basic_connection(ex, connection_config{}) {}

  /// Creates a closed connection. Extra arguments are passed to the
  /// stream's constructor after the executor (e.g. an `ssl::context&`).
  template <class... StreamArgs>
  explicit basic_connection(const executor_type& ex, connection_config config, StreamArgs&&... stream_args)
      : impl_(std::make_shared<impl_type>(ex, std::move(config), std::forward<StreamArgs>(stream_args)...)) {}

  /// Closes the connection; pending operations complete with errors.
  ~basic_connection() {
    if (impl_) impl_->close_from_user();
  }

  basic_connection(const basic_connection&) = delete;
  basic_connection& operator=(const basic_connection&) = delete;
  /// Movable; the moved-from object may only be destroyed or assigned to.
  basic_connection(basic_connection&&) noexcept = default;
  /// Closes this connection, then takes `other`'s.
  basic_connection& operator=(basic_connection&& other) noexcept {
    if (this != &other) {
      if (impl_) impl_->close_from_user();
      impl_ = std::move(other.impl_);
    }
    return *this;
  }

  /// The executor.
  executor_type get_executor() const noexcept { return impl_->executor(); }

  /// Resolves `addr.host` (skipped for IP literals), connects with
  /// `connect_timeout`, and runs the handshake: `AUTH` (user and password,
  /// or password only), `SELECT`, `CLIENT SETNAME`, pipelined in one write.
  ///
  /// Completion: `void(std::error_code)`. Errors: `resolve_timeout`,
  /// `connect_timeout`, `handshake_timeout`, `auth_failed`,
  /// `select_failed`, `handshake_failed`, `already_connected`, or the
  /// system's error (e.g. `connection_refused`, `host_not_found`).
  ///
  /// Cancellation: terminal (closes the connection).
  template <class CompletionToken>
  auto async_connect(address addr, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [](auto handler, std::shared_ptr<impl_type> impl, address a) {
          impl->start_connect(std::move(a), std::move(handler));
        },
        token, impl_, std::move(addr));
  }

  /// Sends the request's commands and completes with one reply per command.
  /// A Redis error reply (`-ERR ...`) is a reply, not an error code: check
  /// `reply::is_error()`.
  ///
  /// Completion: `void(std::error_code, response)`. Errors:
  /// `not_connected`, `empty_request`, `queue_full`, `request_timeout`,
  /// `connection_closed` (never sent), `connection_lost` (sent, outcome
  /// unknown), `asio::error::operation_aborted` (cancelled), and for the
  /// request whose own reply was malformed or broke a limit (the connection
  /// then closes with the same reason): `protocol_error`, `reply_too_large`,
  /// `line_too_long`, `nesting_too_deep`.
  ///
  /// Cancellation: a request not yet written supports terminal, partial
  /// and total cancellation (it is removed and never reaches the server).
  /// A written request supports terminal and partial cancellation only: it
  /// completes at once and its reply is discarded when it arrives, but the
  /// server may still execute it.
  ///
  /// The request is copied into the connection's write buffer before this
  /// function returns; it need not outlive the call.
  /// With a deferred token (`asio::experimental::deferred`), a request
  /// passed as an lvalue must live until the operation is launched; pass a
  /// temporary (or `std::move`) and it is stored in the operation instead.
  template <class CompletionToken>
  auto async_exec(const request& req, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, response)>(
        [](auto handler, std::shared_ptr<impl_type> impl, const request* r) {
          impl->start_exec(*r, std::move(handler));
        },
        token, impl_, &req);
  }

  /// As above, taking ownership of a temporary request (safe with deferred
  /// tokens; moving a request costs no copy of its bytes).
  template <class CompletionToken>
  auto async_exec(request&& req, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, response)>(
        [](auto handler, std::shared_ptr<impl_type> impl, request r) { impl->start_exec(r, std::move(handler)); },
        token, impl_, std::move(req));
  }

  /// Completes when the connection closes, with the reason (e.g.
  /// `asio::error::eof`, `error::health_check_failed`,
  /// `error::protocol_error`, `error::line_too_long`; `operation_aborted`
  /// after `close()`).
  /// Completes at once (posted) if already closed.
  template <class CompletionToken>
  auto async_wait_closed(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [](auto handler, std::shared_ptr<impl_type> impl) { impl->add_close_waiter(std::move(handler)); }, token,
        impl_);
  }

  /// Receives Pub/Sub messages (`["message", channel, payload]`,
  /// `["pmessage", pattern, channel, payload]`, `["smessage", channel,
  /// payload]`) after a `SUBSCRIBE` / `PSUBSCRIBE` / `SSUBSCRIBE` request on
  /// this connection. Called on the connection's executor. Subscribe with a
  /// request whose reply count is the number of channels (one confirmation
  /// each).
  ///
  /// `also` (optional) names further replies that are pushes rather than
  /// replies to a request: it is asked about every other reply, in arrival
  /// order, and those it accepts go to `handler` (a cluster node's own
  /// `sunsubscribe`, for instance, see `detail::sunsubscribe_tracker`).
  void set_push_handler(std::function<void(reply&&)> handler, std::function<bool(const reply&)> also = {}) {
    impl_->set_push_handler(std::move(handler), std::move(also));
  }

  /// Closes now. Pending requests complete with `connection_closed` or
  /// `connection_lost`, a pending connect with `operation_aborted`; their
  /// handlers run later (posted), never inside this call.
  void close() { impl_->close_from_user(); }

  /// True after a successful connect and until closed.
  bool is_open() const noexcept { return impl_->is_open(); }
  /// Why the connection closed (empty while it has not).
  std::error_code close_reason() const noexcept { return impl_->close_reason(); }
  /// Counters (requests, writes, bytes, health checks...).
  const connection_stats& stats() const noexcept { return impl_->stats(); }
  /// The settings.
  const connection_config& config() const noexcept { return impl_->config(); }
  /// The address given to `async_connect`.
  const address& remote_address() const noexcept { return impl_->remote_address(); }
  /// The underlying stream (e.g. to set socket options).
  Stream& stream() noexcept { return impl_->stream(); }

 private:
  std::shared_ptr<impl_type> impl_;
};

/// A connection over TCP, TLS or a UNIX socket, as the address and
/// `connection_config::tls` say.
using connection = basic_connection<>;

#if !defined(REDIS_HA_HEADER_ONLY)
// Compiled once, by src.hpp.
extern template class detail::connection_impl<any_stream>;
extern template class basic_connection<any_stream>;
#endif

}  // namespace redis_ha

#endif  // REDIS_HA_CONNECTION_HPP
