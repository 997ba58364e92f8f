#ifndef REDIS_HA_DETAIL_CLUSTER_SUBSCRIBER_IMPL_HPP
#define REDIS_HA_DETAIL_CLUSTER_SUBSCRIBER_IMPL_HPP

/// @file
/// The implementation of `basic_cluster_subscriber`: sharded Pub/Sub
/// (`SSUBSCRIBE`) over a cluster client. Each sharded channel belongs to
/// the shard serving its slot; per shard entry of the cluster client this
/// keeps one `subscriber_impl` that shares that entry's HA core (as
/// `basic_subscriber(client)` does), so it follows the shard's verified
/// master through failovers with no reconnect logic of its own.
///
/// A channel changes shard when the routing changes (a new slot map or a
/// `-MOVED`: the cluster client tells its routing listeners), when the node
/// ends the subscription itself (`sunsubscribe` after its slot left:
/// `shard_moved`) or refuses it (`-MOVED`); the last two ask for a new map
/// and the channel waits, unrouted, until the map names its shard.

#include <redis_ha/address.hpp>
#include <redis_ha/detail/cluster_impl.hpp>
#include <redis_ha/detail/cluster_slot.hpp>
#include <redis_ha/detail/subscriber_impl.hpp>
#include <redis_ha/subscriber_types.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

/// True when a subscription refusal means "not on this node": its slot
/// lives elsewhere (`MOVED`, `ASK`) or the cluster is changing (`TRYAGAIN`,
/// `CLUSTERDOWN`), so a new map is needed rather than a report alone.
inline bool refusal_means_elsewhere(std::string_view error) noexcept {
  for (std::string_view prefix : {"MOVED ", "ASK ", "TRYAGAIN", "CLUSTERDOWN"})
    if (error.substr(0, prefix.size()) == prefix) return true;
  return false;
}

template <class Stream>
class cluster_subscriber_impl : public std::enable_shared_from_this<cluster_subscriber_impl<Stream>> {
 public:
  using cluster_type = cluster_impl<Stream>;
  using shard_subscriber = subscriber_impl<Stream>;
  using executor_type = typename cluster_type::executor_type;

  explicit cluster_subscriber_impl(std::shared_ptr<cluster_type> cluster) : cluster_(std::move(cluster)) {}
  ~cluster_subscriber_impl() { close(); }

  const executor_type& executor() const noexcept { return cluster_->executor(); }
  const std::set<std::string>& channels() const noexcept { return wanted_; }

  /// Listens to the cluster client's routing.
  void start() {
    std::weak_ptr<cluster_subscriber_impl> weak = this->shared_from_this();
    cluster_->add_routing_listener([weak] {
      auto self = weak.lock();
      if (!self || self->closed_) return false;
      self->reroute();
      return true;
    });
  }

  void set_message_handler(std::function<void(const message&)> h) { on_message_ = std::move(h); }
  void set_event_handler(std::function<void(const subscriber_event&)> h) { on_event_ = std::move(h); }

  void change(bool add, std::vector<std::string> names) {
    if (closed_) return;
    for (auto& n : names) {
      if (add) {
        if (!wanted_.insert(n).second) continue;
        route(n, routes_[n] = -1);
      } else if (wanted_.erase(n) > 0) {
        if (auto* s = sub_at(routes_[n])) s->change(subscription_kind::shard_channel, false, {n});
        routes_.erase(n);
      }
    }
    prune();
  }

  /// The node `channel`'s subscription works on, if it does.
  std::optional<address> node(const std::string& channel) const {
    auto it = routes_.find(channel);
    if (it == routes_.end()) return std::nullopt;
    const auto* s = sub_at(it->second);
    if (!s || !s->shard_channels().count(channel)) return std::nullopt;
    return s->node();
  }

  /// The counters of every shard's subscription, added up.
  subscriber_stats stats() const {
    subscriber_stats sum = retired_;
    for (const auto& [entry, s] : subs_) add(sum, s->stats());
    return sum;
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    for (auto& [entry, s] : subs_) s->close();
    subs_.clear();
  }

 private:
  // The subscriber of entry `i` while that entry is open, else null.
  shard_subscriber* sub_at(int i) const {
    auto it = subs_.find(i);
    if (it == subs_.end() || !cluster_->entry_client(i)) return nullptr;
    return it->second.get();
  }

  // Subscribes `name` on the shard serving its slot, moving it from `entry`
  // (its shard until now, -1 when none); unknown shard: asks for a map.
  void route(const std::string& name, int& entry) {
    const int now = cluster_->entry_for_slot(key_slot(name));
    auto* old = sub_at(entry);
    if (now == entry && old && old->shard_channels().count(name)) return;
    if (old && now != entry) old->change(subscription_kind::shard_channel, false, {name});
    entry = now;
    if (now < 0) return cluster_->refresh();
    subscriber_for(now).change(subscription_kind::shard_channel, true, {name});
  }

  void reroute() {
    for (auto& [name, entry] : routes_) route(name, entry);
    prune();
  }

  shard_subscriber& subscriber_for(int i) {
    if (auto* s = sub_at(i)) return *s;
    const auto client = cluster_->entry_client(i);
    auto s = std::make_shared<shard_subscriber>(client->driver(), client->config(), client->factory());
    std::weak_ptr<cluster_subscriber_impl> weak = this->shared_from_this();
    s->set_message_handler([weak](const message& m) {
      auto self = weak.lock();
      if (!self || self->closed_ || !self->on_message_) return;
      auto handler = self->on_message_;  // the handler may replace itself
      handler(m);
    });
    s->set_event_handler([weak, i](const subscriber_event& ev) {
      if (auto self = weak.lock(); self && !self->closed_) self->on_shard_event(i, ev);
    });
    s->start();
    auto& slot = subs_[i];
    if (slot) retire(*slot);
    slot = std::move(s);
    return *slot;
  }

  void on_shard_event(int entry, const subscriber_event& ev) {
    using k = subscriber_event::kind;
    const bool elsewhere = ev.type == k::shard_moved ||
                           (ev.type == k::subscribe_failed && refusal_means_elsewhere(ev.detail));
    if (elsewhere && wanted_.count(ev.channel)) {
      int& at = routes_[ev.channel];
      if (at == entry) {
        if (auto* s = sub_at(entry)) s->change(subscription_kind::shard_channel, false, {ev.channel});
        at = -1;  // unrouted until a new map names its shard
        cluster_->refresh();
      }
    }
    if (on_event_) {
      auto handler = on_event_;  // the handler may replace itself
      handler(ev);
    }
  }

  // Closes the subscribers of closed entries and those left with nothing.
  void prune() {
    for (auto it = subs_.begin(); it != subs_.end();) {
      if (cluster_->entry_client(it->first) && !it->second->shard_channels().empty()) {
        ++it;
        continue;
      }
      retire(*it->second);
      it = subs_.erase(it);
    }
  }

  void retire(shard_subscriber& s) {
    add(retired_, s.stats());
    s.close();
  }

  static void add(subscriber_stats& sum, const subscriber_stats& s) {
    sum.connects += s.connects;
    sum.reconnects += s.reconnects;
    sum.messages += s.messages;
    sum.failed_attempts += s.failed_attempts;
    sum.last_deaf_ms = s.last_deaf_ms.count() ? s.last_deaf_ms : sum.last_deaf_ms;
    sum.max_deaf_ms = std::max(sum.max_deaf_ms, s.max_deaf_ms);
    sum.total_deaf_ms += s.total_deaf_ms;
  }

  std::shared_ptr<cluster_type> cluster_;
  std::set<std::string> wanted_;
  std::map<std::string, int> routes_;                        // channel -> shard entry (-1: unrouted)
  std::map<int, std::shared_ptr<shard_subscriber>> subs_;  // shard entry -> its subscription
  subscriber_stats retired_;                                 // counters of subscribers closed
  std::function<void(const message&)> on_message_;
  std::function<void(const subscriber_event&)> on_event_;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CLUSTER_SUBSCRIBER_IMPL_HPP
