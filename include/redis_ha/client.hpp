#ifndef REDIS_HA_CLIENT_HPP
#define REDIS_HA_CLIENT_HPP

/// @file
/// `redis_ha::basic_client<Stream>`: the HA client. Writes go only to a node
/// whose `ROLE` said master on this connection; failovers cost callers a
/// delay, not an error.

#include <redis_ha/client_config.hpp>
#include <redis_ha/client_event.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/completion.hpp>
#include <redis_ha/detail/config.hpp>
#include <redis_ha/detail/stream_traits.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <asio/async_result.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace redis_ha {

template <class Stream>
class basic_subscriber;

namespace detail {

template <class Stream>
class client_impl;

/// What `basic_client` asks of its implementation, as functions that are
/// not templates on the handler: their definitions (`impl/client.ipp`)
/// are compiled once in separate compilation, so a file using the client
/// includes neither the implementation nor the HA machinery.
template <class Stream>
struct client_ops {
  using impl_type = client_impl<Stream>;
  using executor_type = detail::stream_executor_t<Stream>;
  static std::shared_ptr<impl_type> create(const executor_type& ex, client_config cfg,
                                           connection_factory<Stream> factory);
  static void exec(impl_type& impl, request req, any_completion<std::error_code, response> handler);
  static void wait_ready(impl_type& impl, any_completion<std::error_code> handler);
  static void close(impl_type& impl);
  static executor_type executor(const impl_type& impl);
  static bool ready(const impl_type& impl);
  static std::optional<address> master(const impl_type& impl);
  static const client_stats& stats(const impl_type& impl);
  static const std::string& last_error_detail(const impl_type& impl);
  static std::string master_replication_id(const impl_type& impl);
};

}  // namespace detail

/// A Redis client that follows the master through failovers.
///
/// - **Discovery**: Sentinel mode asks every sentinel concurrently
///   (`sentinel_config`); direct mode tries `client_config::addresses`.
///   Resolution runs again on every reconnect: no address is cached.
/// - **Verification**: every data-node connection runs `ROLE` before use;
///   only a node that says `master` receives requests. In direct mode a
///   replica's `ROLE` names its master, which is followed and verified.
/// - **Failover signals**: `+switch-master` / `+promoted-slave` from any
///   sentinel (a hint), `-READONLY`, connection loss (including Sentinel's
///   `CLIENT KILL`), health-check timeouts. On any of them the client
///   resolves and verifies again. An announced promotion
///   (`+failover-state-send-slaveof-noone`) holds writes back until the new
///   master is verified, so they do not land on the master being demoted.
/// - **Requests wait, bounded**: while no verified master is known, requests
///   queue (at most `max_queued`) for up to `failover_budget`, then fail
///   with `master_unavailable` (or with the resolution error that explains
///   it: `no_sentinel_reachable`, `master_name_unknown`).
/// - **Retry rule** (`detail/retry_policy.hpp`): never sent, or refused with
///   `-READONLY`: resent. Sent but unanswered: resent only if idempotent,
///   else `outcome_unknown`.
///
/// Thread safety: as for `basic_connection` (use `sync_client` to share one
/// client between threads). Construction: any thread. Use and destruction:
/// on the executor, or once its io_context no longer runs; from other
/// threads, `asio::post` + `use_future` (docs/quickstart.md).
template <class Stream = any_stream>
class basic_client {
  using impl_type = detail::client_impl<Stream>;
  using ops = detail::client_ops<Stream>;

 public:
  /// The executor type.
  using executor_type = detail::stream_executor_t<Stream>;

  /// Creates the client and starts resolving the master in the background.
  /// `factory` creates every connection (data nodes and sentinels); the
  /// default (empty) creates plain connections of `Stream`, which for
  /// `any_stream` means TCP, TLS or UNIX as the config says. Custom streams
  /// that need more than an executor pass one (see `tls.hpp`).
  basic_client(const executor_type& ex, client_config cfg, connection_factory<Stream> factory = {})
      : impl_(ops::create(ex, std::move(cfg), std::move(factory))) {}

  /// Closes the client; waiting requests complete with `client_closed`.
  ~basic_client() {
    if (impl_) ops::close(*impl_);
  }
  basic_client(const basic_client&) = delete;
  basic_client& operator=(const basic_client&) = delete;

  /// The executor.
  executor_type get_executor() const noexcept { return ops::executor(*impl_); }

  /// Runs a request on the verified master, waiting for one (bounded) and
  /// resending it after a failover as the retry rule allows.
  ///
  /// Completion: `void(std::error_code, response)`. Errors besides those of
  /// `basic_connection::async_exec`: `not_master`, `master_unavailable`,
  /// `outcome_unknown`, `no_sentinel_reachable`, `master_name_unknown`,
  /// `auth_failed`, `queue_full`, `client_closed`, `unsupported_command`
  /// (subscriber-mode commands: use `redis_ha::subscriber`, docs/pubsub.md). Cancellation: not supported (bound the
  /// wait with `request_options::timeout` and `failover_budget`).
  template <class CompletionToken>
  auto async_exec(request req, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, response)>(
        [](auto handler, std::shared_ptr<impl_type> impl, request r) {
          ops::exec(*impl, std::move(r),
                    detail::any_completion<std::error_code, response>(std::move(handler), ops::executor(*impl)));
        },
        token, impl_, std::move(req));
  }

  /// Completes when a verified master is connected (at once if it is), or
  /// with the error that prevents it once `failover_budget` has passed.
  ///
  /// Completion: `void(std::error_code)`.
  template <class CompletionToken>
  auto async_wait_ready(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code)>(
        [](auto handler, std::shared_ptr<impl_type> impl) {
          ops::wait_ready(*impl, detail::any_completion<std::error_code>(std::move(handler), ops::executor(*impl)));
        },
        token, impl_);
  }

  /// Stops: closes every connection; waiting requests fail with `client_closed`.
  void close() { ops::close(*impl_); }

  /// True while a verified master is connected.
  bool ready() const noexcept { return ops::ready(*impl_); }
  /// The verified master, if any.
  std::optional<address> master() const { return ops::master(*impl_); }
  /// Direct mode with probes: the verified master's replication id
  /// (`master_replid`), which tells the nodes behind one load-balanced
  /// address apart; empty otherwise.
  std::string master_replication_id() const { return ops::master_replication_id(*impl_); }
  /// Counters.
  const client_stats& stats() const noexcept { return ops::stats(*impl_); }
  /// The last resolution error, with the addresses tried.
  const std::string& last_error_detail() const noexcept { return ops::last_error_detail(*impl_); }

 private:
  template <class>
  friend class basic_subscriber;  // a subscriber built on this client shares its HA core
  std::shared_ptr<impl_type> impl_;
};

/// The HA client: TCP, TLS or UNIX sockets as the config says.
using client = basic_client<>;

#if !defined(REDIS_HA_HEADER_ONLY)
// Compiled once, by src.hpp.
extern template struct detail::client_ops<any_stream>;
#endif

}  // namespace redis_ha

#if defined(REDIS_HA_HEADER_ONLY)
#include <redis_ha/impl/client.ipp>
#endif

#endif  // REDIS_HA_CLIENT_HPP
