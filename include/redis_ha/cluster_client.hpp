#ifndef REDIS_HA_CLUSTER_CLIENT_HPP
#define REDIS_HA_CLUSTER_CLIENT_HPP

/// @file
/// `redis_ha::basic_cluster_client<Stream>`: Redis Cluster with the
/// guarantees of the Sentinel client (docs/cluster.md).
///
/// - **Routing**: the slot of a request's keys (CRC16, hash tags `{...}`)
///   picks its shard; keys in different slots are refused locally with
///   `error::cross_slot`. Keyless commands go to any master (`PING`, `EVAL`
///   with no key, `CLUSTER INFO`, ...), or to every master with the replies
///   merged (`FLUSHALL`, `FLUSHDB`, `KEYS`, `DBSIZE`, `SCRIPT LOAD`,
///   `FUNCTION LOAD`, ...); `SCAN`, `SELECT`, `READONLY`, ... are refused
///   (`unroutable_command`).
/// - **The slot map** comes from `CLUSTER SHARDS` (Redis 7), falling back to
///   `CLUSTER SLOTS`; `-MOVED` updates it and resends, `-ASK` sends `ASKING`
///   and the request once to the target; `-TRYAGAIN` / `-CLUSTERDOWN` wait
///   (growing delays) within `failover_budget`. Failover signals refresh the
///   map once per burst, with backoff.
/// - **Each shard is followed by the HA core** (`master_fsm`, as in direct
///   mode over the shard's nodes), with one automatically pipelined
///   connection to its master: requests for a shard without a verified
///   master wait within `failover_budget` while the other shards go on;
///   the retry rule applies unchanged (never sent, or idempotent: resent;
///   else `outcome_unknown`), and so does `min_replicas_acked` (`WAIT` on
///   the shard's master).
///
/// Thread safety: as `basic_client` (use `sync_cluster_client` to share one
/// between threads).

#include <redis_ha/cluster_config.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/cluster_impl.hpp>
#include <redis_ha/detail/cluster_slot.hpp>
#include <redis_ha/request.hpp>

#include <asio/async_result.hpp>
#include <asio/ip/tcp.hpp>

#include <memory>
#include <optional>
#include <string_view>

namespace redis_ha {

/// A Redis Cluster client. See the file comment and docs/cluster.md.
template <class Stream = asio::ip::tcp::socket>
class basic_cluster_client {
  using impl_type = detail::cluster_impl<Stream>;

 public:
  /// The executor type.
  using executor_type = typename Stream::executor_type;

  /// Creates the client and starts reading the slot map in the background.
  /// Throws `std::invalid_argument` without seeds.
  basic_cluster_client(const executor_type& ex, cluster_config cfg,
                       connection_factory<Stream> factory = default_connection_factory<Stream>())
      : impl_(std::make_shared<impl_type>(ex, std::move(cfg), std::move(factory))) {
    impl_->start();
  }
  /// Closes the client; waiting requests complete with `client_closed`.
  ~basic_cluster_client() {
    if (impl_) impl_->close();
  }
  basic_cluster_client(const basic_cluster_client&) = delete;
  basic_cluster_client& operator=(const basic_cluster_client&) = delete;

  /// The executor.
  executor_type get_executor() const noexcept { return impl_->executor(); }

  /// Runs a request on the master of its keys' slot (or as the keyless
  /// routing says), following redirections and failovers.
  ///
  /// Completion: `void(std::error_code, response)`. Errors besides those of
  /// `basic_client::async_exec`: `cross_slot`, `unroutable_command`
  /// (refused locally, nothing sent), `too_many_redirects`. Cancellation:
  /// not supported (bounded by `failover_budget` and `request_options::timeout`).
  template <class CompletionToken>
  auto async_exec(request req, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, response)>(
        [](auto handler, std::shared_ptr<impl_type> impl, request r) {
          impl->start_exec(std::move(r), std::move(handler));
        },
        token, impl_, std::move(req));
  }

  /// Stops: closes every connection; waiting requests fail with `client_closed`.
  void close() { impl_->close(); }
  /// True when every slot has a shard with a verified master.
  bool ready() const noexcept { return impl_->ready(); }
  /// The verified master serving `slot`, if any.
  std::optional<address> master_for_slot(int slot) const { return impl_->master_for(slot); }
  /// The verified master serving `key`'s slot, if any.
  std::optional<address> master_for_key(std::string_view key) const {
    return impl_->master_for(detail::key_slot(key));
  }
  /// Counters.
  const cluster_stats& stats() const noexcept { return impl_->stats(); }
  /// Why the last slot map refresh failed, with the nodes tried.
  const std::string& last_error_detail() const noexcept { return impl_->last_error_detail(); }

 private:
  std::shared_ptr<impl_type> impl_;
};

/// The cluster client over plain TCP.
using cluster_client = basic_cluster_client<>;

/// The hash slot (0..16383) of `key`, hash tags included.
inline int key_slot(std::string_view key) noexcept { return detail::key_slot(key); }

}  // namespace redis_ha

#endif  // REDIS_HA_CLUSTER_CLIENT_HPP
