#ifndef REDIS_HA_DETAIL_SENTINEL_SET_HPP
#define REDIS_HA_DETAIL_SENTINEL_SET_HPP

/// @file
/// The sentinels of one deployment as the HA core knows them (sans-I/O):
/// the configured ones (always kept), the ones learned from `SENTINEL
/// sentinels` (bounded, forgotten when they stay unreachable), each with the
/// state of its event subscription and its own reconnect backoff. Also the
/// parsed answer of one sentinel to one query round.

#include <redis_ha/address.hpp>
#include <redis_ha/detail/backoff.hpp>
#include <redis_ha/detail/sentinel_parse.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

/// What one sentinel said in one query round.
struct sentinel_answer {
  enum class kind {
    master,        ///< it named `master`
    unknown_name,  ///< nil: it does not monitor the master name
    unreachable,   ///< connecting or querying failed (`text`)
    auth_failed,   ///< it refused the credentials
    malformed,     ///< it answered, but not with something usable (`text`)
  };
  kind what = kind::unreachable;
  address master{"", 0};
  std::string text;
  std::vector<address> sentinels;     ///< `SENTINEL sentinels` (other sentinels)
  std::vector<listed_node> replicas;  ///< `SENTINEL replicas`
};

/// Reads the three replies of a query round: `get-master-addr-by-name`,
/// `sentinels`, `replicas`.
inline sentinel_answer parse_sentinel_answer(const std::vector<reply>& r) {
  sentinel_answer a;
  if (r.size() != 3) {
    a.what = sentinel_answer::kind::malformed;
    a.text = "expected 3 replies, got " + std::to_string(r.size());
    return a;
  }
  if (r[0].is_nil()) {
    a.what = sentinel_answer::kind::unknown_name;
    return a;
  }
  if (r[0].is_error()) {
    auto prefix = r[0].error_prefix();
    a.what = (prefix == "NOAUTH" || prefix == "WRONGPASS" || prefix == "NOPERM") ? sentinel_answer::kind::auth_failed
                                                                                 : sentinel_answer::kind::malformed;
    a.text = std::string(r[0].error_message());
    return a;
  }
  auto m = parse_master_addr(r[0]);
  if (!m) {
    a.what = sentinel_answer::kind::malformed;
    a.text = "get-master-addr-by-name answered " + r[0].to_string();
    return a;
  }
  a.what = sentinel_answer::kind::master;
  a.master = *m;
  for (auto& n : parse_node_list(r[1])) a.sentinels.push_back(n.addr);
  a.replicas = parse_node_list(r[2]);
  return a;
}

/// The tally of one query round: who said what, and what the round means
/// when no sentinel named a master.
struct round_tally {
  std::size_t asked = 0, answered = 0, unknown = 0, auth = 0, malformed = 0;
  std::vector<std::pair<address, address>> named;  ///< sentinel -> the master it named (mapped)
  std::vector<std::string> lines;                  ///< one per sentinel, for logs and errors

  /// Records `who`'s answer; `master` is the mapped address it named.
  void add(const address& who, const sentinel_answer& a, const std::string& master_name, const address& master) {
    ++answered;
    using k = sentinel_answer::kind;
    switch (a.what) {
      case k::master:
        named.emplace_back(who, master);
        lines.push_back(who.to_string() + ": names " + master.to_string());
        break;
      case k::unknown_name:
        ++unknown;
        lines.push_back(who.to_string() + ": does not know master name '" + master_name + "'");
        break;
      case k::auth_failed:
        ++auth;
        lines.push_back(who.to_string() + ": " + (a.text.empty() ? std::string("refused the credentials") : a.text));
        break;
      case k::malformed:
        ++malformed;
        lines.push_back(who.to_string() + ": unusable answer: " + a.text);
        break;
      case k::unreachable:
        lines.push_back(who.to_string() + ": " + a.text);
        break;
    }
  }
  /// True when every sentinel asked has answered.
  bool complete() const noexcept { return answered >= asked; }
  /// True when the sentinels that named a master named different ones.
  bool disagree() const {
    for (const auto& n : named)
      if (n.second != named.front().second) return true;
    return false;
  }
  /// What a round in which no master was named means: the name is unknown
  /// (some sentinel said nil), the credentials are wrong (all refused them),
  /// a sentinel answered garbage, or none could be reached.
  std::error_code classify() const {
    if (unknown) return error::master_name_unknown;
    if (auth && auth == asked) return error::auth_failed;
    if (malformed) return error::sentinel_protocol_error;
    return error::no_sentinel_reachable;
  }
  /// Every line, joined.
  std::string detail() const {
    std::string d;
    for (const auto& l : lines) d += (d.empty() ? "" : "; ") + l;
    return d;
  }
};

/// The sentinel set. Slots have stable ids (used to name queries, watches
/// and timers); an index may change when a learned sentinel is forgotten.
class sentinel_set {
 public:
  /// Limits and reconnect pacing of the set.
  struct limits {
    std::size_t max_learned = 16;                    ///< learned sentinels kept beside the configured ones
    std::chrono::milliseconds forget_after{60000};   ///< a learned sentinel unreachable this long is dropped
    std::chrono::milliseconds watch_backoff_min{100};
    std::chrono::milliseconds watch_backoff_max{2000};
  };

  /// One sentinel.
  struct slot {
    std::uint64_t id = 0;
    address addr;
    bool configured = false;
    enum class watch_state { off, connecting, up, waiting } watch = watch_state::off;
    backoff watch_delay;
    std::chrono::steady_clock::time_point last_ok{};  ///< last answer or working subscription
    std::chrono::steady_clock::time_point failing_since{};
    bool failing = false;
  };

  sentinel_set(const std::vector<address>& configured, limits l, std::uint64_t seed) : limits_(l), seed_(seed) {
    for (const auto& a : configured) add(a, true, {});
  }

  /// The slots, configured ones first, the last to answer promoted to the front.
  const std::vector<slot>& slots() const noexcept { return slots_; }
  /// The addresses, in query order.
  std::vector<address> addresses() const {
    std::vector<address> out;
    for (const auto& s : slots_) out.push_back(s.addr);
    return out;
  }
  /// The slot with `id`, or nullptr.
  slot* find(std::uint64_t id) {
    for (auto& s : slots_)
      if (s.id == id) return &s;
    return nullptr;
  }
  /// The slot with `id`, or nullptr.
  const slot* find(std::uint64_t id) const { return const_cast<sentinel_set*>(this)->find(id); }

  /// Records that a sentinel answered; moves it to the front.
  void answered(std::uint64_t id, std::chrono::steady_clock::time_point now) {
    auto it = std::find_if(slots_.begin(), slots_.end(), [&](const slot& s) { return s.id == id; });
    if (it == slots_.end()) return;
    it->last_ok = now;
    it->failing = false;
    std::rotate(slots_.begin(), it, it + 1);
  }

  /// Records a failure. Returns the ids of learned sentinels forgotten now
  /// (unreachable for longer than `forget_after`).
  std::vector<std::uint64_t> failed(std::uint64_t id, std::chrono::steady_clock::time_point now) {
    if (auto* s = find(id)) {
      if (!s->failing) s->failing_since = now;
      s->failing = true;
    }
    return forget_unreachable(now);
  }

  /// Adds learned sentinels (mapped addresses). Returns the ids added; at
  /// most `max_learned` learned sentinels are kept.
  std::vector<std::uint64_t> learn(const std::vector<address>& found, std::chrono::steady_clock::time_point now) {
    std::vector<std::uint64_t> added;
    for (const auto& a : found) {
      if (a.host.empty() || contains(a)) continue;
      if (learned_count() >= limits_.max_learned) break;
      added.push_back(add(a, false, now));
    }
    return added;
  }

  /// Number of learned (not configured) sentinels.
  std::size_t learned_count() const {
    return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [](const slot& s) { return !s.configured; }));
  }

  /// True when `a` is in the set.
  bool contains(const address& a) const {
    return std::any_of(slots_.begin(), slots_.end(), [&](const slot& s) { return s.addr == a; });
  }

 private:
  std::uint64_t add(const address& a, bool configured, std::chrono::steady_clock::time_point now) {
    slot s{next_id_++, a, configured, slot::watch_state::off,
           backoff(limits_.watch_backoff_min, limits_.watch_backoff_max, seed_ ? seed_ + next_id_ : 0), now, {}, false};
    slots_.push_back(std::move(s));
    return slots_.back().id;
  }

  std::vector<std::uint64_t> forget_unreachable(std::chrono::steady_clock::time_point now) {
    std::vector<std::uint64_t> gone;
    slots_.erase(std::remove_if(slots_.begin(), slots_.end(),
                                [&](const slot& s) {
                                  const bool drop = !s.configured && s.failing &&
                                                    now - s.failing_since >= limits_.forget_after;
                                  if (drop) gone.push_back(s.id);
                                  return drop;
                                }),
                 slots_.end());
    return gone;
  }

  limits limits_;
  std::uint64_t seed_;
  std::uint64_t next_id_ = 1;
  std::vector<slot> slots_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_SENTINEL_SET_HPP
