#ifndef REDIS_HA_DETAIL_SUBSCRIPTION_SET_HPP
#define REDIS_HA_DETAIL_SUBSCRIPTION_SET_HPP

/// @file
/// The Pub/Sub side of a subscriber that needs no I/O (sans-I/O): the
/// channels, patterns and sharded channels wanted, the commands that
/// establish or change them, the decoding of pushed messages, and the
/// telling apart of a server's own `sunsubscribe` from the reply to ours.

#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>
#include <redis_ha/subscriber_types.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

/// One subscription of a subscriber: its namespace and name.
struct subscription_name {
  /// The namespace.
  subscription_kind kind = subscription_kind::channel;
  /// The channel or pattern.
  std::string name;
};

/// The channels, patterns and sharded channels a subscriber wants, kept
/// across connections.
class subscription_set {
 public:
  /// Adds (`add`) or removes names of `kind`. Returns the commands to send
  /// on connections that have the set already: one command per name that
  /// changed (one reply each, errors included), in `changed`'s order;
  /// empty when nothing changed.
  request change(subscription_kind kind, bool add, std::vector<std::string> names,
                 std::vector<subscription_name>* changed = nullptr) {
    auto& wanted = of(kind);
    const char* cmd = command(kind, add);
    request req;
    for (auto& n : names) {
      const bool did = add ? wanted.insert(n).second : wanted.erase(n) > 0;
      if (!did) continue;
      req.push(cmd, n);
      if (changed) changed->push_back({kind, std::move(n)});
    }
    return req;
  }

  /// Forgets `name` of `kind` without a command (the server ended it).
  /// False when it was not wanted.
  bool forget(subscription_kind kind, const std::string& name) { return of(kind).erase(name) > 0; }

  /// Appends a `SUBSCRIBE` per channel, a `PSUBSCRIBE` per pattern and an
  /// `SSUBSCRIBE` per sharded channel: the whole set, for a new connection.
  /// Returns the names in the order of their replies.
  std::vector<subscription_name> push_all(request& req) const {
    std::vector<subscription_name> order;
    for (auto kind : kinds)
      for (const auto& n : of(kind)) {
        req.push(command(kind, true), n);
        order.push_back({kind, n});
      }
    return order;
  }

  /// Names wanted of `kind`.
  const std::set<std::string>& of(subscription_kind kind) const noexcept {
    return sets_[static_cast<std::size_t>(kind)];
  }
  /// Channels wanted.
  const std::set<std::string>& channels() const noexcept { return of(subscription_kind::channel); }
  /// Patterns wanted.
  const std::set<std::string>& patterns() const noexcept { return of(subscription_kind::pattern); }
  /// Sharded channels wanted.
  const std::set<std::string>& shard_channels() const noexcept { return of(subscription_kind::shard_channel); }
  /// Everything wanted.
  std::size_t size() const noexcept {
    std::size_t n = 0;
    for (const auto& s : sets_) n += s.size();
    return n;
  }
  /// True when nothing is wanted.
  bool empty() const noexcept { return size() == 0; }

  /// The subscribe (`add`) or unsubscribe command of `kind`.
  static const char* command(subscription_kind kind, bool add) noexcept {
    switch (kind) {
      case subscription_kind::pattern: return add ? "PSUBSCRIBE" : "PUNSUBSCRIBE";
      case subscription_kind::shard_channel: return add ? "SSUBSCRIBE" : "SUNSUBSCRIBE";
      case subscription_kind::channel: break;
    }
    return add ? "SUBSCRIBE" : "UNSUBSCRIBE";
  }

 private:
  static constexpr std::array<subscription_kind, 3> kinds{subscription_kind::channel, subscription_kind::pattern,
                                                          subscription_kind::shard_channel};
  std::set<std::string>& of(subscription_kind kind) noexcept { return sets_[static_cast<std::size_t>(kind)]; }

  std::array<std::set<std::string>, 3> sets_;
};

/// In RESP2 a cluster node's own `sunsubscribe` (sent when a slot leaves
/// the node: "your sharded subscription to this channel ended") has the
/// shape of the reply to a `SUNSUBSCRIBE` the client sent. One tracker per
/// connection counts the `SUNSUBSCRIBE`s it sent, so that each reply is
/// taken as the reply and every other `sunsubscribe` as the server's push.
class sunsubscribe_tracker {
 public:
  /// A `SUNSUBSCRIBE channel` was queued on the connection.
  void sent(const std::string& channel) { asked_.insert(channel); }
  /// The reply to the `SUNSUBSCRIBE channel` sent was an error: it is not
  /// awaited any more.
  void refused(const std::string& channel) {
    if (auto it = asked_.find(channel); it != asked_.end()) asked_.erase(it);
  }
  /// True when `r` is a `sunsubscribe` the connection did not ask for (a
  /// push: the server ended the subscription); a reply it asked for is
  /// counted off and gives false, as does anything else.
  bool unasked(const reply& r) {
    if (!r.is_array() || r.size() < 2 || !r[0].is_string() || r[0].as_string() != "sunsubscribe") return false;
    if (!r[1].is_string()) return false;  // "no subscription left": only ever a reply
    auto it = asked_.find(std::string(r[1].as_string()));
    if (it == asked_.end()) return true;
    asked_.erase(it);
    return false;
  }
  /// Number of replies awaited.
  std::size_t awaited() const noexcept { return asked_.size(); }

 private:
  std::multiset<std::string> asked_;
};

/// The `sunsubscribe_tracker`s of a subscriber's connections, by
/// connection (a handful: the subscribed one, one being verified, a new one).
class sunsubscribe_trackers {
 public:
  /// A tracker for the new connection `conn`; forgets those of connections
  /// other than `keep_a` and `keep_b` (the ones still in use).
  std::shared_ptr<sunsubscribe_tracker> make(const void* conn, const void* keep_a, const void* keep_b) {
    list_.erase(std::remove_if(list_.begin(), list_.end(),
                               [&](const auto& t) { return t.first != keep_a && t.first != keep_b; }),
                list_.end());
    list_.emplace_back(conn, std::make_shared<sunsubscribe_tracker>());
    return list_.back().second;
  }
  /// The tracker of `conn`, or null.
  std::shared_ptr<sunsubscribe_tracker> of(const void* conn) const {
    for (const auto& t : list_)
      if (t.first == conn) return t.second;
    return nullptr;
  }

 private:
  std::vector<std::pair<const void*, std::shared_ptr<sunsubscribe_tracker>>> list_;
};

/// The deaf time of a subscriber: from the moment its subscription stopped
/// working to the confirmation on a new connection, kept in its stats.
class deaf_clock {
 public:
  /// The clock.
  using steady = std::chrono::steady_clock;
  /// The subscription stopped working at `since` (default: now); a loss
  /// already pending keeps its start.
  void lost(std::optional<steady::time_point> since = std::nullopt) {
    if (pending_) return;
    pending_ = true;
    at_ = since.value_or(steady::now());
  }
  /// Every subscription is confirmed again: the deaf time (recorded in
  /// `stats`), or nothing when none was pending (a first subscription).
  std::optional<std::chrono::milliseconds> confirmed(subscriber_stats& stats) {
    ++stats.connects;
    if (!pending_) return std::nullopt;
    pending_ = false;
    const auto deaf = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - at_);
    ++stats.reconnects;
    stats.last_deaf_ms = deaf;
    stats.max_deaf_ms = std::max(stats.max_deaf_ms, deaf);
    stats.total_deaf_ms += deaf;
    return deaf;
  }

 private:
  bool pending_ = false;
  steady::time_point at_{};
};

/// The channel of a server's own `sunsubscribe` push (see
/// `sunsubscribe_tracker`), if `r` is one.
inline std::optional<std::string> ended_shard_channel(const reply& r) {
  if (!r.is_array() || r.size() < 2 || !r[0].is_string() || r[0].as_string() != "sunsubscribe" || !r[1].is_string())
    return std::nullopt;
  return std::string(r[1].as_string());
}

/// The message in a push: `["message", channel, payload]`,
/// `["pmessage", pattern, channel, payload]` or `["smessage", channel,
/// payload]`; nothing for other pushes or malformed ones.
inline std::optional<message> parse_message(const reply& r) {
  if (r.size() == 0 || !r[0].is_string()) return std::nullopt;
  const auto kind = r[0].as_string();
  const bool pattern = kind == "pmessage";
  const bool sharded = kind == "smessage";
  if (!pattern && !sharded && kind != "message") return std::nullopt;
  if (r.size() < (pattern ? 4u : 3u)) return std::nullopt;
  const reply& channel = r[pattern ? 2 : 1];
  const reply& payload = r[pattern ? 3 : 2];
  if (!channel.is_string() || !payload.is_string()) return std::nullopt;
  message m;
  if (pattern && r[1].is_string()) m.pattern = std::string(r[1].as_string());
  m.channel = std::string(channel.as_string());
  m.payload = std::string(payload.as_string());
  m.sharded = sharded;
  return m;
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_SUBSCRIPTION_SET_HPP
