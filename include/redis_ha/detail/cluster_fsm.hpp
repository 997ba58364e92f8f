#ifndef REDIS_HA_DETAIL_CLUSTER_FSM_HPP
#define REDIS_HA_DETAIL_CLUSTER_FSM_HPP

/// @file
/// The cluster client's decisions, sans-I/O (docs/cluster.md):
/// - `judge`: what to do with the replies of a request to a shard: complete,
///   follow `-MOVED` (update the map, resend), follow `-ASK` (`ASKING` plus
///   the request once, to the target), or resend later (`-TRYAGAIN`,
///   `-CLUSTERDOWN`), bounded by redirections and by the failover budget.
///   A redirection reply means the command did not run, so following it is
///   always safe; a request of which some commands ran is resent only when
///   those are idempotent (the retry rule of the Sentinel client).
/// - `refresh_gate`: failover signals (MOVED, CLUSTERDOWN, -READONLY, a lost
///   node, a failed health check) refresh the slot map once per burst, with
///   backoff (`detail::backoff`).
/// Connection losses and -READONLY on a shard's master are handled by the
/// shard's HA core (`master_fsm`, direct mode over the shard's nodes), as in
/// the Sentinel client.

#include <redis_ha/address.hpp>
#include <redis_ha/detail/backoff.hpp>
#include <redis_ha/detail/cluster_keys.hpp>
#include <redis_ha/detail/cluster_map.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>

#include <chrono>
#include <cstddef>
#include <system_error>

namespace redis_ha {
namespace detail {

/// Bounds of the decisions.
struct cluster_policy {
  int max_redirects = 16;                         ///< MOVED + ASK followed per request
  std::chrono::milliseconds retry_min{5};         ///< first delay after TRYAGAIN / CLUSTERDOWN
  std::chrono::milliseconds retry_max{100};       ///< longest such delay
  std::chrono::milliseconds failover_budget{10000};
};

/// What to do with a request after the replies of one attempt.
struct cluster_verdict {
  enum class action {
    complete,     ///< hand `ec` and the replies to the caller
    redirect,     ///< MOVED: `slot` now lives on `target`; resend there
    ask,          ///< ASK: send ASKING + the request once to `target`
    retry_later,  ///< TRYAGAIN / CLUSTERDOWN: resend after `delay`
  };
  action what = action::complete;
  std::error_code ec;
  int slot = -1;
  address target{"", 0};
  std::chrono::milliseconds delay{0};
  bool refresh = false;  ///< a failover signal: refresh the map (through the gate)
};

/// The cluster error class of a reply.
enum class cluster_reply_kind { other, moved, ask, tryagain, clusterdown, execabort };

/// Classifies one reply.
inline cluster_reply_kind classify_reply(const reply& r) {
  if (!r.is_error()) return cluster_reply_kind::other;
  const auto p = r.error_prefix();
  if (p == "MOVED") return cluster_reply_kind::moved;
  if (p == "ASK") return cluster_reply_kind::ask;
  if (p == "TRYAGAIN") return cluster_reply_kind::tryagain;
  if (p == "CLUSTERDOWN") return cluster_reply_kind::clusterdown;
  if (p == "EXECABORT") return cluster_reply_kind::execabort;
  return cluster_reply_kind::other;
}

/// True when one of `resp` is a `-MOVED` naming `node` (an empty host in
/// it stands for `node`'s). From a replica of the shard whose master is
/// `node`, it means the replica no longer serves that shard's slots (it
/// follows another master now, or its view is behind): reads stop going there.
inline bool moved_to(const response& resp, const address& node) {
  for (const auto& r : resp) {
    if (classify_reply(r) != cluster_reply_kind::moved) continue;
    const auto rd = parse_redirect(r, node);
    if (rd.what == cluster_redirect::kind::moved && rd.addr == node) return true;
  }
  return false;
}

/// True when resending the whole request cannot run a non-idempotent
/// command twice: every command got a "did not run" reply (a cluster
/// redirection or error, or it sat in a `MULTI` whose `EXEC` aborted), or is
/// idempotent. `route` holds one entry per command; `resp` one reply each.
inline bool safe_to_resend(const cluster_route& route, const response& resp, bool request_idempotent) {
  if (request_idempotent) return true;
  const std::size_t n = std::min(resp.size(), route.names.size());
  std::vector<bool> ran(n, true);
  std::size_t multi_at = n;
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = classify_reply(resp[i]);
    if (k == cluster_reply_kind::moved || k == cluster_reply_kind::ask || k == cluster_reply_kind::tryagain ||
        k == cluster_reply_kind::clusterdown)
      ran[i] = false;
    if (route.names[i] == "multi") multi_at = i;
    if (route.names[i] == "exec" && multi_at < n) {
      if (k == cluster_reply_kind::execabort)
        for (std::size_t j = multi_at; j <= i; ++j) ran[j] = false;
      multi_at = n;
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    if (ran[i] && !(i < route.idempotent.size() && route.idempotent[i])) return false;
  return true;
}

/// The rule. `from`: the node that answered; `redirects`: MOVED/ASK already
/// followed; `retries`: TRYAGAIN/CLUSTERDOWN already waited out; `elapsed`:
/// since the request started.
inline cluster_verdict judge(const cluster_route& route, const response& resp, bool request_idempotent,
                             const address& from, int redirects, int retries, std::chrono::milliseconds elapsed,
                             const cluster_policy& pol) {
  cluster_verdict v;
  const reply* signal = nullptr;
  cluster_reply_kind kind = cluster_reply_kind::other;
  for (const auto& r : resp) {
    const auto k = classify_reply(r);
    if (k == cluster_reply_kind::moved || k == cluster_reply_kind::ask || k == cluster_reply_kind::tryagain ||
        k == cluster_reply_kind::clusterdown) {
      signal = &r;
      kind = k;
      break;
    }
  }
  if (!signal) return v;  // complete as is
  if (kind == cluster_reply_kind::moved || kind == cluster_reply_kind::clusterdown) v.refresh = true;
  if (!safe_to_resend(route, resp, request_idempotent)) return v;  // the caller sees the replies
  if (kind == cluster_reply_kind::moved || kind == cluster_reply_kind::ask) {
    const auto rd = parse_redirect(*signal, from);
    if (rd.what == cluster_redirect::kind::none) return v;  // unreadable: hand it over
    if (redirects >= pol.max_redirects) {
      v.ec = error::too_many_redirects;
      return v;
    }
    v.what = kind == cluster_reply_kind::moved ? cluster_verdict::action::redirect : cluster_verdict::action::ask;
    v.slot = rd.slot;
    v.target = rd.addr;
    return v;
  }
  // TRYAGAIN (a multi-key request during a migration) or CLUSTERDOWN: later.
  auto d = pol.retry_min;
  for (int i = 0; i < retries && d < pol.retry_max; ++i) d *= 2;
  d = std::min(d, pol.retry_max);
  if (elapsed + d >= pol.failover_budget) {
    v.ec = error::master_unavailable;
    return v;
  }
  v.what = cluster_verdict::action::retry_later;
  v.delay = d;
  return v;
}

/// Failover signals refresh the slot map once per burst, with backoff.
/// `signal` asks for a refresh; the gate answers `refresh` (start one now),
/// `arm` (start one when the timer fires, after `after`) or `none` (one is
/// running or armed: the signal joins that burst). Signals during a
/// refresh, or a failed refresh, make one more after it, paced by the
/// backoff; a quiet successful refresh resets the backoff.
class refresh_gate {
 public:
  using clock = std::chrono::steady_clock;
  using ms = std::chrono::milliseconds;
  enum class step { none, refresh, arm };
  struct out {
    step what = step::none;
    ms after{0};
  };

  refresh_gate(ms min, ms max, std::uint64_t seed = 0) : backoff_(min, max, seed) {}

  bool in_flight() const noexcept { return in_flight_; }
  bool armed() const noexcept { return armed_; }

  /// A failover signal.
  out signal(clock::time_point now) {
    if (in_flight_) {
      again_ = true;
      return {};
    }
    if (armed_) return {};
    if (now >= not_before_) {
      in_flight_ = true;
      return {step::refresh, ms(0)};
    }
    armed_ = true;
    return {step::arm, std::chrono::duration_cast<ms>(not_before_ - now) + ms(1)};
  }
  /// The armed timer fired.
  out on_timer(clock::time_point) {
    if (!armed_ || in_flight_) return {};
    armed_ = false;
    in_flight_ = true;
    return {step::refresh, ms(0)};
  }
  /// The refresh ended; `ok`: a usable map was read. A failed refresh, or
  /// signals that came while it ran, arm one more after the backoff (which
  /// grows); a quiet success resets the backoff.
  out done(bool ok, clock::time_point now) {
    in_flight_ = false;
    const bool more = !ok || again_;
    again_ = false;
    if (!more) {
      backoff_.reset();
      not_before_ = now + backoff_.next();
      return {};
    }
    const auto d = backoff_.next();
    not_before_ = now + d;
    armed_ = true;
    return {step::arm, d};
  }
  /// Cancels everything (close).
  void reset() {
    in_flight_ = armed_ = again_ = false;
  }

 private:
  backoff backoff_;
  bool in_flight_ = false;
  bool armed_ = false;
  bool again_ = false;
  clock::time_point not_before_{};
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CLUSTER_FSM_HPP
