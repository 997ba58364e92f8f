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

#include <redis_ha/any_stream.hpp>
#include <redis_ha/cluster_config.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/cluster_slot.hpp>
#include <redis_ha/detail/completion.hpp>
#include <redis_ha/detail/config.hpp>
#include <redis_ha/detail/stream_traits.hpp>
#include <redis_ha/request.hpp>

#include <asio/async_result.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace redis_ha {

template <class Stream>
class basic_cluster_subscriber;

namespace detail {

template <class Stream>
class cluster_impl;

/// What `basic_cluster_client` asks of its implementation, as functions
/// that are not templates on the handler (`impl/cluster_client.ipp`):
/// compiled once in separate compilation, so a file using the cluster
/// client includes neither its implementation nor the HA machinery.
template <class Stream>
struct cluster_ops {
  using impl_type = cluster_impl<Stream>;
  using executor_type = detail::stream_executor_t<Stream>;
  static std::shared_ptr<impl_type> create(const executor_type& ex, cluster_config cfg,
                                           connection_factory<Stream> factory);
  static void exec(impl_type& impl, request req, any_completion<std::error_code, response> handler);
  static void close(impl_type& impl);
  static executor_type executor(const impl_type& impl);
  static bool ready(const impl_type& impl);
  static std::optional<address> master_for(const impl_type& impl, int slot);
  static const cluster_stats& stats(const impl_type& impl);
  static const std::string& last_error_detail(const impl_type& impl);
};

}  // namespace detail

/// A Redis Cluster client. See the file comment and docs/cluster.md.
template <class Stream = any_stream>
class basic_cluster_client {
  using ops = detail::cluster_ops<Stream>;
  using impl_type = typename ops::impl_type;

 public:
  /// The executor type.
  using executor_type = detail::stream_executor_t<Stream>;

  /// Creates the client and starts reading the slot map in the background.
  /// `factory` creates every connection; the default (empty) creates plain
  /// connections of `Stream`, which for `any_stream` means TCP, TLS or UNIX
  /// as `cluster_config::connection` says. Throws `std::invalid_argument`
  /// without seeds.
  basic_cluster_client(const executor_type& ex, cluster_config cfg, connection_factory<Stream> factory = {})
      : impl_(ops::create(ex, std::move(cfg), std::move(factory))) {}
  /// Closes the client; waiting requests complete with `client_closed`.
  ~basic_cluster_client() {
    if (impl_) ops::close(*impl_);
  }
  basic_cluster_client(const basic_cluster_client&) = delete;
  basic_cluster_client& operator=(const basic_cluster_client&) = delete;

  /// The executor.
  executor_type get_executor() const noexcept { return ops::executor(*impl_); }

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
          ops::exec(*impl, std::move(r),
                    detail::any_completion<std::error_code, response>(std::move(handler), ops::executor(*impl)));
        },
        token, impl_, std::move(req));
  }

  /// Stops: closes every connection; waiting requests fail with `client_closed`.
  void close() { ops::close(*impl_); }
  /// True when every slot has a shard with a verified master.
  bool ready() const noexcept { return ops::ready(*impl_); }
  /// The verified master serving `slot`, if any.
  std::optional<address> master_for_slot(int slot) const { return ops::master_for(*impl_, slot); }
  /// The verified master serving `key`'s slot, if any.
  std::optional<address> master_for_key(std::string_view key) const {
    return ops::master_for(*impl_, detail::key_slot(key));
  }
  /// Counters.
  const cluster_stats& stats() const noexcept { return ops::stats(*impl_); }
  /// Why the last slot map refresh failed, with the nodes tried.
  const std::string& last_error_detail() const noexcept { return ops::last_error_detail(*impl_); }

 private:
  template <class>
  friend class basic_cluster_subscriber;

  std::shared_ptr<impl_type> impl_;
};

/// The cluster client: TCP, TLS or UNIX sockets as the config says.
using cluster_client = basic_cluster_client<>;

#if !defined(REDIS_HA_HEADER_ONLY)
// Compiled once, by src.hpp.
extern template struct detail::cluster_ops<any_stream>;
#endif

/// The hash slot (0..16383) of `key`, hash tags included.
inline int key_slot(std::string_view key) noexcept { return detail::key_slot(key); }

}  // namespace redis_ha

#if defined(REDIS_HA_HEADER_ONLY)
#include <redis_ha/impl/cluster_client.ipp>
#endif

#endif  // REDIS_HA_CLUSTER_CLIENT_HPP
