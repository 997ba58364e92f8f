#ifndef REDIS_HA_DETAIL_SUBSCRIPTION_SET_HPP
#define REDIS_HA_DETAIL_SUBSCRIPTION_SET_HPP

/// @file
/// The Pub/Sub side of a subscriber that needs no I/O (sans-I/O): the
/// channels and patterns wanted, the commands that establish or change
/// them, and the decoding of pushed messages.

#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>
#include <redis_ha/subscriber_types.hpp>

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

/// The channels and patterns a subscriber wants, kept across connections.
class subscription_set {
 public:
  /// Adds (`add`) or removes channels or patterns (`pattern`). Returns the
  /// commands to send on connections that have the set already: one command
  /// per name that changed (one reply each, errors included); empty when
  /// nothing changed.
  request change(bool pattern, bool add, std::vector<std::string> names) {
    auto& wanted = pattern ? patterns_ : channels_;
    const char* cmd = pattern ? (add ? "PSUBSCRIBE" : "PUNSUBSCRIBE") : (add ? "SUBSCRIBE" : "UNSUBSCRIBE");
    request req;
    for (auto& n : names) {
      const bool did = add ? wanted.insert(n).second : wanted.erase(n) > 0;
      if (did) req.push(cmd, n);
    }
    return req;
  }

  /// Appends a `SUBSCRIBE` per channel and a `PSUBSCRIBE` per pattern: the
  /// whole set, for a new connection.
  void push_all(request& req) const {
    for (const auto& c : channels_) req.push("SUBSCRIBE", c);
    for (const auto& p : patterns_) req.push("PSUBSCRIBE", p);
  }

  /// Channels wanted.
  const std::set<std::string>& channels() const noexcept { return channels_; }
  /// Patterns wanted.
  const std::set<std::string>& patterns() const noexcept { return patterns_; }
  /// True when nothing is wanted.
  bool empty() const noexcept { return channels_.empty() && patterns_.empty(); }

 private:
  std::set<std::string> channels_;
  std::set<std::string> patterns_;
};

/// The message in a push: `["message", channel, payload]`,
/// `["pmessage", pattern, channel, payload]` or `["smessage", channel,
/// payload]`; nothing for other pushes or malformed ones.
inline std::optional<message> parse_message(const reply& r) {
  if (r.size() == 0 || !r[0].is_string()) return std::nullopt;
  const auto kind = r[0].as_string();
  const bool pattern = kind == "pmessage";
  if (!pattern && kind != "message" && kind != "smessage") return std::nullopt;
  if (r.size() < (pattern ? 4u : 3u)) return std::nullopt;
  const reply& channel = r[pattern ? 2 : 1];
  const reply& payload = r[pattern ? 3 : 2];
  if (!channel.is_string() || !payload.is_string()) return std::nullopt;
  message m;
  if (pattern && r[1].is_string()) m.pattern = std::string(r[1].as_string());
  m.channel = std::string(channel.as_string());
  m.payload = std::string(payload.as_string());
  return m;
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_SUBSCRIPTION_SET_HPP
