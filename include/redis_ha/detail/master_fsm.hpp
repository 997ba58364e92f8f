#ifndef REDIS_HA_DETAIL_MASTER_FSM_HPP
#define REDIS_HA_DETAIL_MASTER_FSM_HPP

/// @file
/// `master_fsm`: follows the master of one deployment, sans-I/O. It is fed
/// events (a sentinel's answer, a connect result, a ROLE reply, a Sentinel
/// event, a lost connection, a request's signal, a timer) and answers with
/// actions (query the sentinels, connect, send ROLE, ready, arm a timer...)
/// that a driver carries out. Backoff, the promotion hold, hops, the address
/// map, the sentinel set and every deadline live here, once, for the client,
/// the subscriber and the sentinel watches. See docs/design.md.

#include <redis_ha/detail/backoff.hpp>
#include <redis_ha/detail/master_fsm_types.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/detail/sentinel_parse.hpp>
#include <redis_ha/detail/sentinel_set.hpp>
#include <redis_ha/error.hpp>

#include <algorithm>
#include <deque>
#include <optional>

namespace redis_ha {
namespace detail {

/// True for the reasons a connection closes because a reply was rejected
/// (malformed, too large, too deep): not a failover signal.
inline bool is_rejected_reply(std::error_code ec) noexcept {
  return ec == error::protocol_error || ec == error::reply_too_large || ec == error::nesting_too_deep ||
         ec == error::line_too_long;
}

class master_fsm {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using ms = std::chrono::milliseconds;

  explicit master_fsm(master_fsm_config cfg)
      : cfg_(std::move(cfg)),
        backoff_(cfg_.backoff_min, cfg_.backoff_max, cfg_.seed),
        sentinels_(map_all(cfg_.sentinels), cfg_.sentinel_limits, cfg_.seed) {}

  // --- observers ------------------------------------------------------------
  master_state state() const noexcept { return state_; }
  bool sentinel_mode() const noexcept { return !cfg_.sentinels.empty(); }
  /// The connection in use and its node, while ready.
  std::uint64_t master_id() const noexcept { return state_ == master_state::ready ? master_id_ : 0; }
  std::optional<address> master() const {
    if (state_ == master_state::ready) return master_addr_;
    return std::nullopt;
  }
  bool verified() const noexcept { return state_ == master_state::ready && verified_; }
  bool held() const noexcept { return held_; }
  std::error_code last_error() const noexcept { return last_error_; }
  const std::string& last_detail() const noexcept { return last_detail_; }
  const master_fsm_stats& stats() const noexcept { return stats_; }
  const sentinel_set& sentinels() const noexcept { return sentinels_; }
  const std::vector<listed_node>& listed_replicas() const noexcept { return listed_replicas_; }
  const master_fsm_config& config() const noexcept { return cfg_; }
  /// Direct mode with probes: verifications and probes also ask
  /// `INFO replication`, and the machine compares replication histories
  /// (`role_info::replid`, `replid2`) to tell a promoted node from ours.
  bool tracks_history() const noexcept {
    return !sentinel_mode() && cfg_.follow_master && cfg_.probe_interval.count() > 0;
  }
  /// The replication id of the master in use (empty when not known).
  const std::string& master_replid() const noexcept { return replid_; }

  // --- events ---------------------------------------------------------------

  /// Begins following the master.
  fsm_actions start(time_point now) {
    if (state_ == master_state::idle) begin_cycle(now);
    return take();
  }

  /// Closes: everything stops at once.
  fsm_actions close() {
    if (state_ == master_state::closed) return {};
    state_ = master_state::closed;
    attempt_ = {};
    master_id_ = 0;
    held_ = false;
    confirming_ = false;
    act(fsm_action::type::shutdown);
    return take();
  }

  /// One sentinel's answer in round `round`.
  fsm_actions on_sentinel_answer(std::uint64_t round, std::uint64_t slot, const sentinel_answer& a, time_point now);
  /// A data connection's connect result (`text`: its error, for the log).
  fsm_actions on_connected(std::uint64_t id, std::error_code ec, const std::string& text, time_point now);
  /// The ROLE reply on connection `id` (`ec` when it failed; `raw`: the reply as text).
  fsm_actions on_role(std::uint64_t id, std::error_code ec, const role_info& info, const std::string& raw,
                      time_point now);
  /// Connection `id` closed for `reason`.
  fsm_actions on_closed(std::uint64_t id, std::error_code reason, time_point now);
  /// A request on connection `id` was answered `-READONLY` (the node is no longer a master).
  fsm_actions on_readonly(std::uint64_t id, time_point now);
  /// A request on connection `id` was answered `-REDIRECT host:port`
  /// (Valkey, `CLIENT CAPA redirect`): the node is a replica of `primary`.
  /// Leaves it for `primary` (after the address map), verified by ROLE like
  /// a replica's ROLE; a `primary` that is the node itself or empty counts
  /// as `-READONLY`.
  fsm_actions on_redirect(std::uint64_t id, const address& primary, time_point now);
  /// A request on connection `id` was answered: the connection works.
  fsm_actions on_healthy(std::uint64_t id) {
    if (state_ == master_state::ready && id == master_id_ && !proved_) proved();
    return take();
  }
  /// A failover event from a sentinel (already filtered by master name and mapped).
  fsm_actions on_sentinel_event(const sentinel_event& ev, time_point now);
  /// The subscription to sentinel slot `slot` is up.
  fsm_actions on_watch_up(std::uint64_t slot, time_point now) {
    if (auto* s = sentinels_.find(slot)) {
      s->watch = sentinel_set::slot::watch_state::up;
      s->watch_delay.reset();
      s->last_ok = now;
      s->failing = false;
    }
    return take();
  }
  /// The subscription to sentinel slot `slot` failed or was lost.
  fsm_actions on_watch_lost(std::uint64_t slot, time_point now) {
    if (state_ == master_state::closed) return {};
    if (auto* s = sentinels_.find(slot)) {
      s->watch = sentinel_set::slot::watch_state::waiting;
      arm({fsm_timer::kind::watch, slot}, s->watch_delay.next());
    }
    forget(sentinels_.failed(slot, now));
    return take();
  }
  /// A timer fired.
  fsm_actions on_timer(fsm_timer t, time_point now);
  /// The ROLE answer (or failure) of direct-mode probe `id`.
  fsm_actions on_probe(std::uint64_t id, std::error_code ec, const role_info& info, time_point now);
  /// Direct mode with histories: a durable write's `ROLE` showed that a
  /// replica the master had is gone. It may have been promoted, and then
  /// every write the remaining replicas acknowledge is lost: writes are held
  /// and the nodes probed at once; the hold ends when that probe round
  /// found no promotion (or after `promotion_hold`), or the machine leaves.
  fsm_actions on_replica_left(std::uint64_t id, time_point now);
  /// The replica list should be looked at again soon (a replica connection
  /// was lost or failed its check): after `delay`, unless sooner anyway.
  fsm_actions on_replicas_wanted(ms delay) {
    if (state_ == master_state::ready && cfg_.want_replicas) arm({fsm_timer::kind::refresh, 0}, delay);
    return take();
  }

 private:
  struct candidate {
    address addr;
    int hops = 0;
  };
  struct attempt_state {
    std::uint64_t id = 0;  // 0: none
    address addr{"", 0};
    int hops = 0;
    bool connected = false;
  };
  struct round_state {
    std::uint64_t id = 0;
    bool done = true;
    bool refresh = false;  // asked while ready: only the replica list matters
    std::vector<std::pair<std::uint64_t, address>> asked;
    std::vector<std::uint64_t> answered;
    round_tally tally;
  };

  // --- helpers ----------------------------------------------------------------

  address mapped(const address& a) const { return cfg_.address_map ? cfg_.address_map(a) : a; }
  std::vector<address> map_all(const std::vector<address>& v) const {
    std::vector<address> out;
    for (const auto& a : v) out.push_back(mapped(a));
    return out;
  }
  fsm_actions take() {
    fsm_actions out;
    out.swap(out_);
    return out;
  }
  fsm_action& act(fsm_action::type t, std::uint64_t id = 0) {
    out_.emplace_back();
    out_.back().what = t;
    out_.back().id = id;
    return out_.back();
  }
  void arm(fsm_timer t, ms after) {
    auto& a = act(fsm_action::type::arm);
    a.timer = t;
    a.after = after;
  }
  void cancel(fsm_timer t) { act(fsm_action::type::cancel).timer = t; }
  void emit(client_event::kind k, log_level level, std::string text, const address& node = {"", 0},
            std::error_code ec = {}, std::string detail = {}) {
    auto& a = act(fsm_action::type::emit);
    a.event.type = k;
    a.event.node = node;
    a.event.ec = ec;
    a.event.detail = std::move(detail);
    a.level = level;
    a.text = std::move(text);
  }
  void emit_replicas(std::vector<address> v) {
    if (!cfg_.want_replicas) return;
    act(fsm_action::type::replicas).addrs = std::move(v);
  }
  bool tried(const address& a) const { return std::find(tried_.begin(), tried_.end(), a) != tried_.end(); }
  void add_candidate(const address& a, int hops, bool front) {
    if (a.host.empty() || tried(a)) return;
    for (const auto& c : candidates_)
      if (c.addr == a) return;
    if (front)
      candidates_.push_front({a, hops});
    else
      candidates_.push_back({a, hops});
  }
  void forget(const std::vector<std::uint64_t>& gone) {
    for (auto id : gone) {
      act(fsm_action::type::unwatch, id);
      cancel({fsm_timer::kind::watch, id});
    }
  }
  void watch_slot(sentinel_set::slot& s) {
    s.watch = sentinel_set::slot::watch_state::connecting;
    act(fsm_action::type::watch, s.id).addr = s.addr;
  }

  // --- cycles -------------------------------------------------------------------

  void begin_cycle(time_point now);
  void start_round(time_point now, bool refresh);
  void round_complete(time_point now);
  void next_candidate(time_point now);
  void begin_attempt(const candidate& c);
  void attempt_failed(std::error_code ec, std::string detail, time_point now);
  void cycle_failed(std::error_code ec, std::string detail, time_point now);
  void become_ready(const address& a, bool verified, const std::vector<address>& replicas, time_point now,
                    const role_info* ids = nullptr);
  void master_lost(std::error_code ec, std::string detail, bool retire, time_point now);
  void leave_master(bool retire);
  void start_probe();
  void probe_verdict(const role_info& info, time_point now);
  void release_hold(const std::string& why);
  void go_to_announced(const address& node, const std::string& why, time_point now);
  void switch_away(const std::string& why, const address* node, time_point now);
  bool superseded(const std::string& replid) const {
    return !replid.empty() && std::find(superseded_.begin(), superseded_.end(), replid) != superseded_.end();
  }
  void note_superseded(const std::string& replid) {
    if (replid.empty() || superseded(replid)) return;
    if (superseded_.size() >= 8) superseded_.erase(superseded_.begin());
    superseded_.push_back(replid);
  }
  void proved() {
    proved_ = true;
    backoff_.reset();
    cancel({fsm_timer::kind::stable, master_id_});
  }
  void drop_attempt() {
    if (!attempt_.id) return;
    act(fsm_action::type::drop, attempt_.id);
    cancel({fsm_timer::kind::verify, attempt_.id});
    attempt_ = {};
  }
  std::error_code classify_round() const;
  std::string round_detail() const;

  master_fsm_config cfg_;
  backoff backoff_;
  sentinel_set sentinels_;
  master_state state_ = master_state::idle;
  fsm_actions out_;
  master_fsm_stats stats_;

  std::uint64_t next_id_ = 1;  // connection ids and round ids share one sequence
  attempt_state attempt_;
  round_state round_;
  std::deque<candidate> candidates_;
  std::vector<address> tried_;
  std::error_code attempt_error_;  // why the last candidate of this cycle failed
  std::string attempt_detail_;
  std::size_t next_address_ = 0;

  std::uint64_t master_id_ = 0;
  address master_addr_{"", 0};
  bool verified_ = false;
  bool held_ = false;
  bool confirming_ = false;  // held after a replica left: released by a clean probe round
  bool proved_ = false;
  bool had_master_ = false;
  bool watching_ = false;
  bool lost_pending_ = false;          // writes have been unavailable since lost_at_
  std::optional<address> reconnect_;  // after a rejected reply: the same master again
  address previous_{"", 0};
  time_point lost_at_{};
  std::vector<address> direct_replicas_;
  std::vector<std::uint64_t> probes_;  // direct-mode probes in flight
  std::string replid_;                 // the master's replication history (tracks_history())
  std::string replid2_;                // the history it continued
  std::vector<std::string> superseded_;  // histories a promoted node continued: their masters are stale
  bool warned_two_masters_ = false;
  std::vector<listed_node> listed_replicas_;

  std::error_code last_error_;
  std::string last_detail_;
  std::error_code warned_ec_;  // rate limit of repeated warnings
  time_point warned_at_{};
  std::size_t suppressed_ = 0;
};

}  // namespace detail
}  // namespace redis_ha

#include <redis_ha/detail/impl/master_fsm.ipp>

#endif  // REDIS_HA_DETAIL_MASTER_FSM_HPP
