#ifndef REDIS_HA_CLUSTER_SUBSCRIBER_HPP
#define REDIS_HA_CLUSTER_SUBSCRIBER_HPP

/// @file
/// `redis_ha::basic_cluster_subscriber<Stream>`: sharded Pub/Sub
/// (`SSUBSCRIBE` / `SPUBLISH`, Redis 7) on a Redis Cluster, through the
/// shards of a `basic_cluster_client`. Classic Pub/Sub on a cluster needs
/// no routing: use a `basic_subscriber` whose `client_config::addresses`
/// are the cluster's nodes (docs/cluster.md).

#include <redis_ha/address.hpp>
#include <redis_ha/cluster_client.hpp>
#include <redis_ha/detail/config.hpp>
#include <redis_ha/detail/stream_traits.hpp>
#include <redis_ha/subscriber_types.hpp>

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace redis_ha {
namespace detail {

template <class Stream>
class cluster_subscriber_impl;

/// What `basic_cluster_subscriber` asks of its implementation (definitions
/// in `impl/cluster_subscriber.ipp`, compiled once in separate compilation).
template <class Stream>
struct cluster_subscriber_ops {
  using impl_type = cluster_subscriber_impl<Stream>;
  using executor_type = detail::stream_executor_t<Stream>;
  static std::shared_ptr<impl_type> create(cluster_impl<Stream>& cluster);
  static void close(impl_type& impl);
  static executor_type executor(const impl_type& impl);
  static void set_message_handler(impl_type& impl, std::function<void(const message&)> h);
  static void set_event_handler(impl_type& impl, std::function<void(const subscriber_event&)> h);
  static void change(impl_type& impl, bool add, std::vector<std::string> names);
  static const std::set<std::string>& channels(const impl_type& impl);
  static std::optional<address> node(const impl_type& impl, const std::string& channel);
  static subscriber_stats stats(const impl_type& impl);
};

}  // namespace detail

/// Sharded Pub/Sub on a Redis Cluster that follows slots and failovers.
///
/// - **Routing**: each sharded channel is subscribed (`SSUBSCRIBE`) on the
///   master of the shard serving its slot (CRC16 with hash tags, as a key),
///   on one connection per shard with every channel of that shard.
/// - **Failover**: each shard's subscription shares that shard's HA core in
///   the cluster client (as `basic_subscriber(client)` shares a client's):
///   when the shard's master fails or is replaced, it subscribes again on
///   the verified new master, and the cluster client holds its `SPUBLISH`es
///   to that shard while it does (at most 1 s).
/// - **Slot moves**: when a slot migrates, its old node ends the
///   subscriptions itself (`sunsubscribe`: a `shard_moved` event) or
///   refuses them (`-MOVED`: `subscribe_failed`); either way the channel
///   is subscribed again on the node the next slot map names. A map change
///   the cluster client learns of (a refresh, a `-MOVED` reply) moves the
///   channels of the slots concerned at once.
/// - **Delivery**: at most once per connection, as `basic_subscriber`;
///   messages published while a channel moves are missed (Pub/Sub keeps no
///   history; `stats()` reports the deaf times).
///
/// Thread safety: call every member from the cluster client's executor (the
/// subscriber keeps the cluster client's state alive, but closing the
/// cluster client ends every subscription). Handlers run on that executor.
///
/// @code
/// redis_ha::cluster_client cluster{ioc.get_executor(), cfg};
/// redis_ha::cluster_subscriber sub{cluster};
/// sub.set_message_handler([](const redis_ha::message& m) { std::cout << m.channel << ": " << m.payload << '\n'; });
/// sub.ssubscribe({"orders.{eu}", "orders.{us}"});
/// @endcode
template <class Stream = any_stream>
class basic_cluster_subscriber {
  using ops = detail::cluster_subscriber_ops<Stream>;
  using impl_type = typename ops::impl_type;

  template <class Range>
  using if_range = std::enable_if_t<!std::is_convertible_v<const Range&, std::string_view>, int>;

 public:
  /// The executor type.
  using executor_type = detail::stream_executor_t<Stream>;

  /// Creates a subscriber on `cluster`'s shards, with no subscription yet.
  explicit basic_cluster_subscriber(basic_cluster_client<Stream>& cluster) : impl_(ops::create(*cluster.impl_)) {}
  /// Closes every connection of the subscriber.
  ~basic_cluster_subscriber() {
    if (impl_) ops::close(*impl_);
  }
  basic_cluster_subscriber(const basic_cluster_subscriber&) = delete;
  basic_cluster_subscriber& operator=(const basic_cluster_subscriber&) = delete;

  /// The executor (the cluster client's).
  executor_type get_executor() const noexcept { return ops::executor(*impl_); }

  /// Receives every message (`message::sharded` is true), on the executor.
  void set_message_handler(std::function<void(const message&)> handler) {
    ops::set_message_handler(*impl_, std::move(handler));
  }
  /// Receives every shard's state changes (`subscriber_event::node` says
  /// which), on the executor.
  void set_event_handler(std::function<void(const subscriber_event&)> handler) {
    ops::set_event_handler(*impl_, std::move(handler));
  }

  /// Subscribes to a sharded channel (kept across failovers and slot moves).
  void ssubscribe(std::string_view channel) { change(true, {channel}); }
  /// Subscribes to sharded channels.
  void ssubscribe(std::initializer_list<std::string_view> channels) { change(true, channels); }
  /// Subscribes to sharded channels given as a range of strings.
  template <class Range, if_range<Range> = 0>
  void ssubscribe(const Range& channels) {
    change(true, channels);
  }

  /// Unsubscribes from a sharded channel.
  void sunsubscribe(std::string_view channel) { change(false, {channel}); }
  /// Unsubscribes from sharded channels.
  void sunsubscribe(std::initializer_list<std::string_view> channels) { change(false, channels); }
  /// Unsubscribes from sharded channels given as a range of strings.
  template <class Range, if_range<Range> = 0>
  void sunsubscribe(const Range& channels) {
    change(false, channels);
  }

  /// Stops: closes the connections; no handler is called afterwards.
  void close() { ops::close(*impl_); }

  /// The sharded channels wanted.
  const std::set<std::string>& shard_channels() const noexcept { return ops::channels(*impl_); }
  /// The node on which `channel`'s subscription works, if it does now.
  std::optional<address> node(std::string_view channel) const { return ops::node(*impl_, std::string(channel)); }
  /// The counters of every shard's subscription, added up.
  subscriber_stats stats() const { return ops::stats(*impl_); }

 private:
  template <class Range>
  void change(bool add, const Range& names) {
    std::vector<std::string> v;
    for (const auto& n : names) v.emplace_back(std::string_view(n));
    ops::change(*impl_, add, std::move(v));
  }
  void change(bool add, std::initializer_list<std::string_view> names) {
    change<std::initializer_list<std::string_view>>(add, names);
  }

  std::shared_ptr<impl_type> impl_;
};

/// The cluster subscriber: TCP, TLS or UNIX sockets as the cluster client's config says.
using cluster_subscriber = basic_cluster_subscriber<>;

#if !defined(REDIS_HA_HEADER_ONLY)
extern template struct detail::cluster_subscriber_ops<any_stream>;
#endif

}  // namespace redis_ha

#if defined(REDIS_HA_HEADER_ONLY)
#include <redis_ha/impl/cluster_subscriber.ipp>
#endif

#endif  // REDIS_HA_CLUSTER_SUBSCRIBER_HPP
