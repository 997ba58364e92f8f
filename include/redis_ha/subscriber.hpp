#ifndef REDIS_HA_SUBSCRIBER_HPP
#define REDIS_HA_SUBSCRIBER_HPP

/// @file
/// `redis_ha::basic_subscriber<Stream>`: Pub/Sub that survives connection
/// losses and Sentinel failovers. The HA core finds and verifies the master
/// as for the client; the subscriber keeps the set of channels and patterns
/// the application asked for and subscribes to all of them again on every
/// new connection.

#include <redis_ha/client.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/connection_factory.hpp>
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
class subscriber_impl;

/// What `basic_subscriber` asks of its implementation (definitions in
/// `impl/subscriber.ipp`, compiled once in separate compilation).
template <class Stream>
struct subscriber_ops {
  using impl_type = subscriber_impl<Stream>;
  using executor_type = detail::stream_executor_t<Stream>;
  static std::shared_ptr<impl_type> create(const executor_type& ex, client_config cfg,
                                           connection_factory<Stream> factory);
  static std::shared_ptr<impl_type> create_on(client_impl<Stream>& client);
  static void close(impl_type& impl);
  static executor_type executor(const impl_type& impl);
  static void set_message_handler(impl_type& impl, std::function<void(const message&)> h);
  static void set_event_handler(impl_type& impl, std::function<void(const subscriber_event&)> h);
  static void change(impl_type& impl, subscription_kind kind, bool add, std::vector<std::string> names);
  static const std::set<std::string>& channels(const impl_type& impl);
  static const std::set<std::string>& patterns(const impl_type& impl);
  static const std::set<std::string>& shard_channels(const impl_type& impl);
  static bool subscribed(const impl_type& impl);
  static std::optional<address> node(const impl_type& impl);
  static const subscriber_stats& stats(const impl_type& impl);
};

}  // namespace detail

/// A Pub/Sub subscriber that follows the master.
///
/// - **Finding the node**: as `basic_client`: in Sentinel mode
///   (`client_config::sentinel`) the master named by the sentinels; in
///   direct mode the `addresses` in turn, following a replica's `ROLE` to
///   its master (`follow_master`). `ROLE` is checked on every connection,
///   pipelined with the subscriptions (one round trip).
/// - **Desired state**: `subscribe`, `psubscribe`, `ssubscribe` and their
///   `unsubscribe` counterparts record the channels, patterns and sharded
///   channels wanted; while connected, the command is sent at once. Every new connection subscribes
///   to the whole recorded set.
/// - **Reconnection**: on connection loss (including `CLIENT KILL`), a failed
///   health check (`connection_config::health_check_interval` /
///   `health_check_timeout`; `PING` is allowed in subscriber mode) or a
///   Sentinel `+switch-master` / `+promoted-slave` naming another node, the
///   subscriber connects again (to the announced node directly, else after
///   resolving again), retrying failed attempts with the jittered backoff
///   of `client_config::backoff_min` / `backoff_max`. When Sentinel
///   announces a new master, the old connection keeps delivering until the
///   new node has confirmed every subscription (at most 2 s).
/// - **Deaf time**: Pub/Sub has no history (at-most-once), so messages
///   published while no subscription works are lost. `stats()` and the
///   `subscribed` event report it: from the moment the master was known to
///   be going (a promotion announced, the master or the subscription's
///   connection lost) to the confirmation on the new node. Streams
///   (`XADD`/`XREADGROUP`) are the lossless alternative (docs/pubsub.md).
/// - **Sharing a client's HA core** (`basic_subscriber(client)`): one view
///   of the master and one set of sentinel subscriptions per client, and
///   the client's own `PUBLISH`es wait while the subscriber re-subscribes.
///
/// Messages are delivered at most once per connection, but around a move
/// announced by Sentinel a message may in rare cases arrive twice (once
/// through each connection, when the old master already replicates from the
/// new one) and messages published during the deaf time are missed.
/// Without Sentinel events (`watch_events = false`, or direct mode) a
/// subscriber may stay on a demoted master; it still receives the new
/// master's messages through replication (Redis replicates `PUBLISH`) until
/// that connection is lost.
///
/// `client_config::on_event`, `failover_budget`, `max_queued` and
/// `promotion_hold` are not used: events arrive through
/// `set_event_handler`.
///
/// Thread safety: as for `basic_connection`: call every member function
/// from the subscriber's executor (use a strand when the `io_context` runs
/// on several threads). Handlers run on that executor.
///
/// @code
/// redis_ha::subscriber sub{ioc.get_executor(), cfg};
/// sub.set_message_handler([](const redis_ha::message& m) { std::cout << m.channel << ": " << m.payload << '\n'; });
/// sub.subscribe({"orders", "alerts"});
/// sub.psubscribe("metrics.*");
/// @endcode
template <class Stream = any_stream>
class basic_subscriber {
  using impl_type = detail::subscriber_impl<Stream>;
  using ops = detail::subscriber_ops<Stream>;

  template <class Range>
  using if_range = std::enable_if_t<!std::is_convertible_v<const Range&, std::string_view>, int>;

 public:
  /// The executor type.
  using executor_type = detail::stream_executor_t<Stream>;

  /// Creates the subscriber and starts connecting in the background (with
  /// no subscription until `subscribe` / `psubscribe` is called). `factory`
  /// creates every connection (data nodes and sentinels; default: plain
  /// connections of `Stream`).
  basic_subscriber(const executor_type& ex, client_config cfg, connection_factory<Stream> factory = {})
      : impl_(ops::create(ex, std::move(cfg), std::move(factory))) {}

  /// Creates a subscriber that shares the HA core of `client` (the
  /// recommended way when a process publishes and subscribes): it follows
  /// the node that client verified, with the client's settings and
  /// connection factory, and opens no sentinel subscriptions and resolves
  /// nothing of its own, so both always agree on the master. Its own
  /// connection (subscriber mode needs one) is opened to that node with
  /// `ROLE` and every subscription in one write. While it re-subscribes
  /// after a failover or a lost connection, `client` holds its `PUBLISH` and
  /// `SPUBLISH` requests (at most 1 s), so that messages this process
  /// publishes are not lost to its own subscriber. The deaf time counts
  /// from the moment the core lost the old master (or the subscription's
  /// connection was lost) to the new node's confirmation. The subscriber
  /// keeps the core alive; closing `client` ends the subscriber too (a
  /// `lost` event with `error::client_closed`). Use it on the client's
  /// executor.
  explicit basic_subscriber(basic_client<Stream>& client) : impl_(ops::create_on(*client.impl_)) {}

  /// Closes every connection.
  ~basic_subscriber() {
    if (impl_) ops::close(*impl_);
  }
  basic_subscriber(const basic_subscriber&) = delete;
  basic_subscriber& operator=(const basic_subscriber&) = delete;

  /// The executor.
  executor_type get_executor() const noexcept { return ops::executor(*impl_); }

  /// Receives every message, on the executor. Set it before subscribing.
  void set_message_handler(std::function<void(const message&)> handler) {
    ops::set_message_handler(*impl_, std::move(handler));
  }
  /// Receives state changes (subscribed, lost, ...), on the executor.
  void set_event_handler(std::function<void(const subscriber_event&)> handler) {
    ops::set_event_handler(*impl_, std::move(handler));
  }

  /// Subscribes to a channel (kept across reconnections).
  void subscribe(std::string_view channel) { change(subscription_kind::channel, true, {channel}); }
  /// Subscribes to channels.
  void subscribe(std::initializer_list<std::string_view> channels) {
    change(subscription_kind::channel, true, channels);
  }
  /// Subscribes to channels given as a range of strings.
  template <class Range, if_range<Range> = 0>
  void subscribe(const Range& channels) {
    change(subscription_kind::channel, true, channels);
  }

  /// Subscribes to a glob-style pattern (`PSUBSCRIBE`).
  void psubscribe(std::string_view pattern) { change(subscription_kind::pattern, true, {pattern}); }
  /// Subscribes to patterns.
  void psubscribe(std::initializer_list<std::string_view> patterns) {
    change(subscription_kind::pattern, true, patterns);
  }
  /// Subscribes to patterns given as a range of strings.
  template <class Range, if_range<Range> = 0>
  void psubscribe(const Range& patterns) {
    change(subscription_kind::pattern, true, patterns);
  }

  /// Subscribes to a sharded channel (`SSUBSCRIBE`, Redis 7 or Valkey 7+),
  /// which receives what `SPUBLISH` sends to it. On a cluster, use
  /// `basic_cluster_subscriber`, which subscribes on the node owning each
  /// channel's slot; here every sharded channel is subscribed on the one
  /// node this subscriber follows, and a node that answers `-MOVED` reports
  /// `subscribe_failed`.
  void ssubscribe(std::string_view channel) { change(subscription_kind::shard_channel, true, {channel}); }
  /// Subscribes to sharded channels.
  void ssubscribe(std::initializer_list<std::string_view> channels) {
    change(subscription_kind::shard_channel, true, channels);
  }
  /// Subscribes to sharded channels given as a range of strings.
  template <class Range, if_range<Range> = 0>
  void ssubscribe(const Range& channels) {
    change(subscription_kind::shard_channel, true, channels);
  }

  /// Unsubscribes from a channel.
  void unsubscribe(std::string_view channel) { change(subscription_kind::channel, false, {channel}); }
  /// Unsubscribes from channels.
  void unsubscribe(std::initializer_list<std::string_view> channels) {
    change(subscription_kind::channel, false, channels);
  }
  /// Unsubscribes from channels given as a range of strings.
  template <class Range, if_range<Range> = 0>
  void unsubscribe(const Range& channels) {
    change(subscription_kind::channel, false, channels);
  }

  /// Unsubscribes from a pattern.
  void punsubscribe(std::string_view pattern) { change(subscription_kind::pattern, false, {pattern}); }
  /// Unsubscribes from patterns.
  void punsubscribe(std::initializer_list<std::string_view> patterns) {
    change(subscription_kind::pattern, false, patterns);
  }
  /// Unsubscribes from patterns given as a range of strings.
  template <class Range, if_range<Range> = 0>
  void punsubscribe(const Range& patterns) {
    change(subscription_kind::pattern, false, patterns);
  }

  /// Unsubscribes from a sharded channel.
  void sunsubscribe(std::string_view channel) { change(subscription_kind::shard_channel, false, {channel}); }
  /// Unsubscribes from sharded channels.
  void sunsubscribe(std::initializer_list<std::string_view> channels) {
    change(subscription_kind::shard_channel, false, channels);
  }
  /// Unsubscribes from sharded channels given as a range of strings.
  template <class Range, if_range<Range> = 0>
  void sunsubscribe(const Range& channels) {
    change(subscription_kind::shard_channel, false, channels);
  }

  /// Stops: closes the connections; no handler is called afterwards.
  void close() { ops::close(*impl_); }

  /// The channels subscribed to (wanted; see `subscribed()` for the connection).
  const std::set<std::string>& channels() const noexcept { return ops::channels(*impl_); }
  /// The patterns subscribed to.
  const std::set<std::string>& patterns() const noexcept { return ops::patterns(*impl_); }
  /// The sharded channels subscribed to (less those a cluster node ended
  /// with `sunsubscribe`: a `shard_moved` event each).
  const std::set<std::string>& shard_channels() const noexcept { return ops::shard_channels(*impl_); }
  /// True while a connection is up on which every channel and pattern
  /// recorded when it connected was confirmed.
  bool subscribed() const noexcept { return ops::subscribed(*impl_); }
  /// The node subscribed on, while `subscribed()`.
  std::optional<address> node() const { return ops::node(*impl_); }
  /// Counters, including the deaf times of reconnections.
  const subscriber_stats& stats() const noexcept { return ops::stats(*impl_); }

 private:
  template <class Range>
  void change(subscription_kind kind, bool add, const Range& names) {
    std::vector<std::string> v;
    for (const auto& n : names) v.emplace_back(std::string_view(n));
    ops::change(*impl_, kind, add, std::move(v));
  }
  void change(subscription_kind kind, bool add, std::initializer_list<std::string_view> names) {
    change<std::initializer_list<std::string_view>>(kind, add, names);
  }

  std::shared_ptr<impl_type> impl_;
};

/// The subscriber: TCP, TLS or UNIX sockets as the config says.
using subscriber = basic_subscriber<>;

#if !defined(REDIS_HA_HEADER_ONLY)
extern template struct detail::subscriber_ops<any_stream>;
#endif

}  // namespace redis_ha

#if defined(REDIS_HA_HEADER_ONLY)
#include <redis_ha/impl/subscriber.ipp>
#endif

#endif  // REDIS_HA_SUBSCRIBER_HPP
