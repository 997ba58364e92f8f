#ifndef REDIS_HA_CLIENT_HPP
#define REDIS_HA_CLIENT_HPP

/// @file
/// `redis_ha::basic_client<Stream>`: the HA client. Writes go only to a node
/// whose `ROLE` said master on this connection; failovers cost callers a
/// delay, not an error.

#include <redis_ha/client_config.hpp>
#include <redis_ha/client_event.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/client_impl.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <asio/async_result.hpp>
#include <asio/ip/tcp.hpp>

#include <memory>
#include <optional>
#include <utility>

namespace redis_ha {

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
template <class Stream = asio::ip::tcp::socket>
class basic_client {
  using impl_type = detail::client_impl<Stream>;

 public:
  /// The executor type.
  using executor_type = typename Stream::executor_type;

  /// Creates the client and starts resolving the master in the background.
  /// `factory` creates every connection (data nodes and sentinels); the
  /// default suits plain TCP. TLS clients pass one (see `tls.hpp`).
  basic_client(const executor_type& ex, client_config cfg,
               connection_factory<Stream> factory = default_connection_factory<Stream>())
      : impl_(std::make_shared<impl_type>(ex, std::move(cfg), std::move(factory))) {
    impl_->start();
  }

  /// Closes the client; waiting requests complete with `client_closed`.
  ~basic_client() {
    if (impl_) impl_->close();
  }
  basic_client(const basic_client&) = delete;
  basic_client& operator=(const basic_client&) = delete;

  /// The executor.
  executor_type get_executor() const noexcept { return impl_->executor(); }

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
          impl->start_exec(std::move(r), std::move(handler));
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
        [](auto handler, std::shared_ptr<impl_type> impl) { impl->start_wait_ready(std::move(handler)); }, token,
        impl_);
  }

  /// Stops: closes every connection; waiting requests fail with `client_closed`.
  void close() { impl_->close(); }

  /// True while a verified master is connected.
  bool ready() const noexcept { return impl_->ready(); }
  /// The verified master, if any.
  std::optional<address> master() const { return impl_->master(); }
  /// Direct mode with probes: the verified master's replication id
  /// (`master_replid`), which tells the nodes behind one load-balanced
  /// address apart; empty otherwise.
  std::string master_replication_id() const { return impl_->master_replication_id(); }
  /// Counters.
  const client_stats& stats() const noexcept { return impl_->stats(); }
  /// The last resolution error, with the addresses tried.
  const std::string& last_error_detail() const noexcept { return impl_->last_error_detail(); }

 private:
  std::shared_ptr<impl_type> impl_;
};

/// The HA client over plain TCP.
using client = basic_client<>;

}  // namespace redis_ha

#endif  // REDIS_HA_CLIENT_HPP
