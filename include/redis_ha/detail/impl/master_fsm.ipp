// The transitions of master_fsm (included by detail/master_fsm.hpp).

namespace redis_ha {
namespace detail {

inline void master_fsm::begin_cycle(time_point now) {
  candidates_.clear();
  tried_.clear();
  attempt_error_.clear();
  attempt_detail_.clear();
  state_ = master_state::resolving;
  ++stats_.resolutions;
  if (sentinel_mode()) return start_round(now, false);
  if (cfg_.addresses.empty()) return cycle_failed(error::master_unreachable, "no address configured", now);
  // Every configured address once per cycle, starting one further each time.
  const std::size_t n = cfg_.addresses.size();
  for (std::size_t i = 0; i < n; ++i) add_candidate(mapped(cfg_.addresses[(next_address_ + i) % n]), 0, false);
  ++next_address_;
  next_candidate(now);
}

inline void master_fsm::start_round(time_point now, bool refresh) {
  round_ = {};
  round_.id = next_id_++;
  round_.done = false;
  round_.refresh = refresh;
  for (const auto& s : sentinels_.slots()) round_.asked.emplace_back(s.id, s.addr);
  round_.tally.asked = round_.asked.size();
  if (round_.asked.empty()) {
    round_.done = true;
    if (!refresh) cycle_failed(error::no_sentinel_reachable, "no sentinel configured", now);
    return;
  }
  act(fsm_action::type::query, round_.id).targets = round_.asked;
  arm({fsm_timer::kind::round, round_.id}, cfg_.round_timeout);
}

inline fsm_actions master_fsm::on_sentinel_answer(std::uint64_t round, std::uint64_t slot, const sentinel_answer& a,
                                                  time_point now) {
  if (state_ == master_state::closed || round != round_.id || round_.done) return take();
  if (std::find(round_.answered.begin(), round_.answered.end(), slot) != round_.answered.end()) return take();
  round_.answered.push_back(slot);
  address who{"?", 0};
  for (const auto& [id, addr] : round_.asked)
    if (id == slot) who = addr;
  const address m = mapped(a.master);
  round_.tally.add(who, a, cfg_.master_name, m);
  using k = sentinel_answer::kind;
  if (a.what == k::unknown_name) sentinels_.answered(slot, now);
  if (a.what == k::malformed || a.what == k::unreachable) forget(sentinels_.failed(slot, now));
  if (a.what == k::master) {
    sentinels_.answered(slot, now);
    for (auto id : sentinels_.learn(map_all(a.sentinels), now)) {
      auto* s = sentinels_.find(id);
      emit(client_event::kind::sentinel_learned, log_level::info, "redis_ha: learned sentinel " + s->addr.to_string(),
           s->addr);
      if (watching_) watch_slot(*s);
    }
    const bool first = round_.tally.named.size() == 1;
    if (first) {
      listed_replicas_ = a.replicas;
      std::vector<address> healthy;
      for (auto& r : listed_replicas_) {
        r.addr = mapped(r.addr);
        if (r.healthy() && (r.link_status.empty() || r.link_status == "ok")) healthy.push_back(r.addr);
      }
      emit_replicas(std::move(healthy));
    }
    if (!round_.refresh) {
      if (first) emit(client_event::kind::resolved, log_level::debug, {}, m);
      add_candidate(m, 0, false);
      if (state_ == master_state::resolving && !attempt_.id) next_candidate(now);
    }
  }
  if (round_.answered.size() >= round_.asked.size()) round_complete(now);
  return take();
}

inline std::error_code master_fsm::classify_round() const {
  if (!round_.tally.named.empty()) return attempt_error_ ? attempt_error_ : make_error_code(error::master_unreachable);
  return round_.tally.classify();
}

inline std::string master_fsm::round_detail() const {
  std::string d = round_.tally.detail();
  if (!attempt_detail_.empty()) d += (d.empty() ? "" : "; ") + attempt_detail_;
  return d;
}

inline void master_fsm::round_complete(time_point now) {
  round_.done = true;
  cancel({fsm_timer::kind::round, round_.id});
  if (round_.refresh) {
    if (state_ == master_state::ready) arm({fsm_timer::kind::refresh, 0}, cfg_.replica_refresh);
    return;
  }
  if (round_.tally.disagree())
    emit(client_event::kind::sentinels_disagree, log_level::warning,
         "redis_ha: the sentinels disagree about master '" + cfg_.master_name + "': " + round_detail(), {},
         error::role_mismatch, round_detail());
  if (state_ == master_state::resolving && !attempt_.id && candidates_.empty())
    cycle_failed(classify_round(), round_detail(), now);
}

inline void master_fsm::next_candidate(time_point now) {
  while (!candidates_.empty()) {
    candidate c = candidates_.front();
    candidates_.pop_front();
    if (tried(c.addr)) continue;
    return begin_attempt(c);
  }
  if (sentinel_mode() && !round_.done) return;  // more answers may come
  if (sentinel_mode())
    return cycle_failed(classify_round(), round_detail(), now);
  cycle_failed(attempt_error_ ? attempt_error_ : make_error_code(error::master_unreachable), attempt_detail_, now);
}

inline void master_fsm::begin_attempt(const candidate& c) {
  tried_.push_back(c.addr);
  attempt_ = {next_id_++, c.addr, c.hops, false};
  state_ = master_state::connecting;
  ++stats_.connects;
  act(fsm_action::type::connect, attempt_.id).addr = c.addr;
  arm({fsm_timer::kind::verify, attempt_.id}, cfg_.verify_timeout);
}

inline fsm_actions master_fsm::on_connected(std::uint64_t id, std::error_code ec, const std::string& text,
                                            time_point now) {
  if (state_ == master_state::closed || id != attempt_.id || !id) return take();
  if (ec) {
    const error e = ec == error::auth_failed ? error::auth_failed : error::master_unreachable;
    attempt_failed(e, "connecting to " + attempt_.addr.to_string() + " failed: " + text, now);
    return take();
  }
  attempt_.connected = true;
  emit(client_event::kind::connected, log_level::debug, {}, attempt_.addr);
  act(fsm_action::type::send_role, id);
  return take();
}

inline fsm_actions master_fsm::on_role(std::uint64_t id, std::error_code ec, const role_info& info,
                                       const std::string& raw, time_point now) {
  if (state_ == master_state::closed || id != attempt_.id || !id) return take();
  const address a = attempt_.addr;
  if (ec) {
    attempt_failed(is_rejected_reply(ec) ? ec : make_error_code(error::master_unreachable),
                   a.to_string() + ": ROLE failed: " + ec.message(), now);
    return take();
  }
  if (info.role == role_info::kind::master) {
    if (tracks_history()) {
      // A master whose history a promoted node continued is the old master
      // that Sentinel has not demoted yet: writes to it would be lost.
      if (superseded(info.replid)) {
        attempt_failed(error::role_mismatch,
                       a.to_string() + " is a stale master: a promoted node continued its replication history " +
                           info.replid,
                       now);
        return take();
      }
      note_superseded(info.replid2);
    }
    std::vector<address> replicas;
    for (const auto& r : info.replicas) replicas.push_back(mapped(r));
    become_ready(a, true, replicas, now, &info);
    return take();
  }
  if (info.role == role_info::kind::replica) {
    const address next = mapped(info.master);
    const bool direct = !sentinel_mode();
    if (direct && !cfg_.follow_master) {
      become_ready(a, false, {}, now);
      return take();
    }
    if (attempt_.hops < cfg_.max_hops && !tried(next)) {
      // The replica's own ROLE names the master: evidence worth one more try
      // (a stale sentinel, a load balancer that reached a replica).
      emit(client_event::kind::following, log_level::info,
           "redis_ha: " + a.to_string() + " is a replica of " + next.to_string() + "; trying " + next.to_string(), a,
           {}, next.to_string());
      const int hops = attempt_.hops + 1;
      drop_attempt();
      attempt_detail_ = a.to_string() + " is a replica of " + next.to_string();
      attempt_error_ = error::role_mismatch;
      add_candidate(next, hops, true);
      state_ = master_state::resolving;
      next_candidate(now);
      return take();
    }
  }
  attempt_failed(error::role_mismatch, a.to_string() + " answered ROLE " + raw, now);
  return take();
}

inline void master_fsm::attempt_failed(std::error_code ec, std::string detail, time_point now) {
  drop_attempt();
  attempt_error_ = ec;
  attempt_detail_ = std::move(detail);
  if (ec == error::auth_failed) return cycle_failed(ec, attempt_detail_, now);  // a configuration error
  state_ = master_state::resolving;
  next_candidate(now);
}

inline void master_fsm::cycle_failed(std::error_code ec, std::string detail, time_point now) {
  drop_attempt();
  state_ = master_state::backing_off;
  ++stats_.failed_cycles;
  last_error_ = ec;
  last_detail_ = std::move(detail);
  // One warning per cause per 10 s; the repeats are counted, not printed.
  log_level level = log_level::warning;
  std::string text = "redis_ha: no verified master yet (" + ec.message() + "): " + last_detail_;
  if (ec == warned_ec_ && now - warned_at_ < std::chrono::seconds(10)) {
    ++suppressed_;
    level = log_level::debug;
  } else {
    if (suppressed_) text += " (" + std::to_string(suppressed_) + " similar failure(s) not logged)";
    suppressed_ = 0;
    warned_ec_ = ec;
    warned_at_ = now;
  }
  emit(client_event::kind::resolve_failed, level, std::move(text), {}, ec, last_detail_);
  if (ec == error::master_name_unknown || ec == error::auth_failed) act(fsm_action::type::fail_waiting).ec = ec;
  arm({fsm_timer::kind::retry, 0}, backoff_.next());
}

inline void master_fsm::become_ready(const address& a, bool verified, const std::vector<address>& replicas,
                                     time_point now, const role_info* ids) {
  const std::uint64_t id = attempt_.id;
  cancel({fsm_timer::kind::verify, id});
  attempt_ = {};
  candidates_.clear();
  state_ = master_state::ready;
  master_id_ = id;
  master_addr_ = a;
  verified_ = verified;
  held_ = false;
  proved_ = false;
  reconnect_.reset();
  last_error_.clear();
  act(fsm_action::type::ready, id).addr = a;
  out_.back().flag = verified;
  arm({fsm_timer::kind::stable, id}, cfg_.stable_after);
  if (verified) emit(client_event::kind::role_verified, log_level::debug, {}, a);
  // Behind a load balancer the address stays the same when the master
  // changes: a different replication history is the change.
  const std::string replid = ids ? ids->replid : std::string();
  const bool other_history = !replid.empty() && !replid_.empty() && replid != replid_;
  if (had_master_ && (previous_ != a || other_history)) {
    ++stats_.master_changes;
    const auto waited = lost_pending_ ? std::chrono::duration_cast<ms>(now - lost_at_) : ms(0);
    const std::string behind = previous_ == a ? " (another node behind that address: replication id " +
                                                    replid_.substr(0, 8) + " -> " + replid.substr(0, 8) + ")"
                                              : std::string();
    emit(client_event::kind::master_changed, log_level::warning,
         "redis_ha: master changed " + previous_.to_string() + " -> " + a.to_string() + behind + " (writes waited " +
             std::to_string(waited.count()) + " ms)",
         a);
    out_.back().event.previous = previous_;
    out_.back().event.unavailable = waited;
  }
  lost_pending_ = false;
  had_master_ = true;
  previous_ = a;
  if (ids || !tracks_history()) {
    replid_ = replid;
    replid2_ = ids ? ids->replid2 : std::string();
  }
  warned_two_masters_ = false;
  if (!sentinel_mode()) {
    direct_replicas_ = replicas;
    emit_replicas(direct_replicas_);
  }
  if (cfg_.want_replicas) arm({fsm_timer::kind::refresh, 0}, cfg_.replica_refresh);
  // The first probe comes early: through a load balancer the node just
  // verified is known only by the balancer's address until a replica names it.
  if (!sentinel_mode() && cfg_.probe_interval.count() > 0 && cfg_.follow_master)
    arm({fsm_timer::kind::probe, 0}, std::min(cfg_.probe_interval, ms(100)));
  if (sentinel_mode() && cfg_.watch_events && !watching_) {
    watching_ = true;
    for (const auto& s : sentinels_.slots()) watch_slot(*sentinels_.find(s.id));
  }
}

inline void master_fsm::leave_master(bool retire) {
  act(fsm_action::type::unready, master_id_);
  act(retire ? fsm_action::type::retire : fsm_action::type::drop, master_id_);
  cancel({fsm_timer::kind::stable, master_id_});
  if (held_) cancel({fsm_timer::kind::hold, 0});
  held_ = false;
  confirming_ = false;
  master_id_ = 0;
}

inline void master_fsm::master_lost(std::error_code ec, std::string detail, bool retire, time_point now) {
  emit(client_event::kind::master_lost, log_level::warning,
       "redis_ha: master " + master_addr_.to_string() + " lost: " + detail, master_addr_, ec, detail);
  if (!lost_pending_) lost_at_ = now;
  lost_pending_ = true;
  const bool was_proved = proved_;
  leave_master(retire);
  last_error_ = ec;
  last_detail_ = std::move(detail);
  // A connection that had proved healthy: look again at once. One that had
  // not (it failed right after ROLE): the backoff decides.
  if (was_proved) {
    backoff_.reset();
    return begin_cycle(now);
  }
  state_ = master_state::backing_off;
  arm({fsm_timer::kind::retry, 0}, backoff_.next());
}

inline fsm_actions master_fsm::on_closed(std::uint64_t id, std::error_code reason, time_point now) {
  if (state_ == master_state::closed || !id) return take();
  if (id == attempt_.id) {
    attempt_failed(is_rejected_reply(reason) ? reason : make_error_code(error::master_unreachable),
                   attempt_.addr.to_string() + " closed the connection during verification: " + reason.message(),
                   now);
    return take();
  }
  if (state_ != master_state::ready || id != master_id_) return take();
  if (is_rejected_reply(reason)) {
    // Not a failover: the node is fine, one reply was refused. Reconnect to
    // the same node after the backoff (the refused request is not resent).
    const address same = master_addr_;
    emit(client_event::kind::reconnecting, log_level::warning,
         "redis_ha: a reply from " + same.to_string() + " was rejected (" + reason.message() +
             "); reconnecting to the same master",
         same, reason, reason.message());
    if (!lost_pending_) lost_at_ = now;
    lost_pending_ = true;
    leave_master(false);
    last_error_ = reason;
    last_detail_ = "a reply from " + same.to_string() + " was rejected: " + reason.message();
    reconnect_ = same;
    state_ = master_state::backing_off;
    arm({fsm_timer::kind::retry, 0}, backoff_.next());
    return take();
  }
  master_lost(reason, "connection closed: " + reason.message(), false, now);
  return take();
}

inline fsm_actions master_fsm::on_readonly(std::uint64_t id, time_point now) {
  if (state_ == master_state::ready && id == master_id_ && id)
    master_lost(error::role_mismatch, master_addr_.to_string() + " answered -READONLY: it is no longer the master",
                true, now);
  return take();
}

inline fsm_actions master_fsm::on_redirect(std::uint64_t id, const address& primary, time_point now) {
  if (state_ != master_state::ready || id != master_id_ || !id) return take();
  const address next = mapped(primary);
  if (next.host.empty() || next == master_addr_ || (!sentinel_mode() && !cfg_.follow_master))
    return on_readonly(id, now);
  go_to_announced(next, master_addr_.to_string() + " answered -REDIRECT " + primary.to_string(), now);
  return take();
}

inline fsm_actions master_fsm::on_sentinel_event(const sentinel_event& ev, time_point now) {
  if (state_ == master_state::closed || state_ == master_state::idle) return take();
  emit(client_event::kind::failover_hint, log_level::debug, {}, ev.node, {}, ev.channel);
  using k = sentinel_event::kind;
  switch (ev.type) {
    case k::promoting:
      if (state_ == master_state::ready && !held_ && ev.node != master_addr_) {
        held_ = true;
        if (!lost_pending_) lost_at_ = now;
        lost_pending_ = true;
        act(fsm_action::type::hold).flag = true;
        arm({fsm_timer::kind::hold, 0}, cfg_.promotion_hold);
        emit(client_event::kind::hold, log_level::info,
             "redis_ha: promotion of " + ev.node.to_string() + " announced; holding writes", ev.node);
      }
      break;
    case k::aborted:
      if (held_) {
        held_ = false;
        lost_pending_ = false;
        cancel({fsm_timer::kind::hold, 0});
        act(fsm_action::type::hold).flag = false;
      }
      break;
    case k::promoted:
    case k::switch_master: {
      if (ev.node.host.empty()) break;
      if (state_ == master_state::connecting && attempt_.addr == ev.node) break;  // the same news again
      if (state_ == master_state::ready && master_addr_ == ev.node) {
        if (held_) {
          held_ = false;
          lost_pending_ = false;
          cancel({fsm_timer::kind::hold, 0});
          act(fsm_action::type::hold).flag = false;
        }
        break;
      }
      go_to_announced(ev.node, ev.channel + " announces master " + ev.node.to_string(), now);
      break;
    }
    case k::replica_up:
    case k::replica_down:
      // The replica list changed: refresh it soon (several sentinels report
      // the same change; re-arming the timer folds them into one round).
      if (state_ == master_state::ready && cfg_.want_replicas)
        arm({fsm_timer::kind::refresh, 0}, ms(ev.type == k::replica_up ? 20 : 200));
      break;
    default:
      break;
  }
  return take();
}

// Leaves the current master (if any) for `node`, whose ROLE still decides.
inline void master_fsm::go_to_announced(const address& node, const std::string& why, time_point now) {
  switch_away(why, &node, now);
}

// Leaves the master in use for `node`, or (none) for a new cycle.
inline void master_fsm::switch_away(const std::string& why, const address* node, time_point now) {
  if (state_ == master_state::ready) {
    emit(client_event::kind::master_lost, log_level::warning,
         "redis_ha: " + why + "; leaving " + master_addr_.to_string(), master_addr_, error::role_mismatch, why);
    if (!lost_pending_) lost_at_ = now;
    lost_pending_ = true;
    leave_master(true);
  }
  drop_attempt();
  cancel({fsm_timer::kind::retry, 0});
  reconnect_.reset();
  candidates_.clear();
  tried_.clear();
  backoff_.reset();
  if (!node) return begin_cycle(now);
  state_ = master_state::resolving;
  begin_attempt({*node, 0});
}

inline void master_fsm::start_probe() {
  probes_.clear();
  for (const auto& a : cfg_.addresses)
    for (int i = 0; i < cfg_.probes_per_address; ++i) {
      probes_.push_back(next_id_++);
      ++stats_.probes;
      act(fsm_action::type::probe, probes_.back()).addr = mapped(a);
    }
  arm({fsm_timer::kind::probe, 0}, cfg_.probe_interval);
}

// Direct mode has no Sentinel to announce a failover, and the old master
// may still call itself master for a while (Sentinel demotes it late), so
// every write it acknowledges then is lost. The probes look for evidence:
// - with replication ids (tracks_history()): a node whose master_replid2 is
//   our master's replid was promoted from our master's history, so ours is
//   stale, whichever address reached either; nodes of our own history, or
//   of the one ours continued, say nothing;
// - a replica that follows another master.
inline fsm_actions master_fsm::on_probe(std::uint64_t id, std::error_code ec, const role_info& info, time_point now) {
  auto it = std::find(probes_.begin(), probes_.end(), id);
  if (it == probes_.end() || state_ != master_state::ready) return take();
  probes_.erase(it);
  if (!ec) probe_verdict(info, now);
  // Held because a replica left: a whole round without evidence of a promotion ends it.
  if (confirming_ && probes_.empty() && state_ == master_state::ready)
    release_hold("the probes found no promoted node");
  return take();
}

inline void master_fsm::probe_verdict(const role_info& info, time_point now) {
  const bool ids = !replid_.empty() && !info.replid.empty();
  if (ids) {
    if (info.replid == replid_ || info.replid == replid2_) return;
    if (info.replid2 == replid_) {
      note_superseded(replid_);
      probes_.clear();
      const bool replica = info.role == role_info::kind::replica && info.link_up;
      const address followed = mapped(info.master);
      const std::string why = (replica ? "a replica of " + followed.to_string() : std::string("a master")) +
                              " reached through the configured addresses continues the replication history of " +
                              master_addr_.to_string() + " (master_replid2 " + replid_.substr(0, 8) +
                              "): that node was promoted and " + master_addr_.to_string() + " is stale";
      switch_away(why, replica && !followed.host.empty() ? &followed : nullptr, now);
      return;
    }
    if (info.role == role_info::kind::master) {
      if (!warned_two_masters_)
        emit(client_event::kind::masters_disagree, log_level::warning,
             "redis_ha: two masters with unrelated replication histories answer through the configured addresses (" +
                 replid_.substr(0, 8) + " in use, " + info.replid.substr(0, 8) +
                 "); staying with the one in use: nothing shows which is real",
             master_addr_, error::role_mismatch, info.replid);
      warned_two_masters_ = true;
      return;
    }
    if (!info.link_up) return;
  }
  if (info.role != role_info::kind::replica) return;
  const address followed = mapped(info.master);
  if (followed == master_addr_ || followed.host.empty()) return;
  probes_.clear();
  go_to_announced(followed, "a replica reached through the configured addresses follows " + followed.to_string(), now);
  return;
}

inline fsm_actions master_fsm::on_replica_left(std::uint64_t id, time_point now) {
  (void)now;
  if (state_ != master_state::ready || id != master_id_ || !tracks_history() || held_) return take();
  held_ = true;
  confirming_ = true;
  act(fsm_action::type::hold).flag = true;
  arm({fsm_timer::kind::hold, 0}, cfg_.promotion_hold);
  emit(client_event::kind::hold, log_level::info,
       "redis_ha: a replica of " + master_addr_.to_string() +
           " disconnected from it; holding writes until the probes show whether it was promoted",
       master_addr_);
  start_probe();
  return take();
}

inline void master_fsm::release_hold(const std::string& why) {
  held_ = false;
  confirming_ = false;
  cancel({fsm_timer::kind::hold, 0});
  act(fsm_action::type::hold).flag = false;
  emit(client_event::kind::hold, log_level::info, "redis_ha: writes to " + master_addr_.to_string() + " resume: " + why,
       master_addr_, {}, "released");
}

inline fsm_actions master_fsm::on_timer(fsm_timer t, time_point now) {
  if (state_ == master_state::closed) return take();
  switch (t.what) {
    case fsm_timer::kind::retry:
      if (state_ != master_state::backing_off) break;
      if (reconnect_) {
        const address same = *reconnect_;
        reconnect_.reset();
        candidates_.clear();
        tried_.clear();
        state_ = master_state::resolving;
        begin_attempt({same, 0});
      } else {
        begin_cycle(now);
      }
      break;
    case fsm_timer::kind::verify:
      if (attempt_.id == t.index && t.index)
        attempt_failed(error::master_unreachable,
                       attempt_.addr.to_string() + (attempt_.connected ? " did not answer ROLE" : " did not connect") +
                           " within " + std::to_string(cfg_.verify_timeout.count()) + " ms",
                       now);
      break;
    case fsm_timer::kind::hold:
      if (held_ && confirming_ && state_ == master_state::ready)
        release_hold("no probe showed a promotion within " + std::to_string(cfg_.promotion_hold.count()) + " ms");
      else if (held_ && state_ == master_state::ready)
        master_lost(error::master_unavailable,
                    "promotion announced but not confirmed within " + std::to_string(cfg_.promotion_hold.count()) +
                        " ms",
                    true, now);
      break;
    case fsm_timer::kind::stable:
      if (state_ == master_state::ready && t.index == master_id_ && !proved_) proved();
      break;
    case fsm_timer::kind::round:
      if (t.index == round_.id && !round_.done) {
        for (const auto& [id, addr] : round_.asked)
          if (std::find(round_.answered.begin(), round_.answered.end(), id) == round_.answered.end()) {
            round_.tally.lines.push_back(addr.to_string() + ": no answer within " +
                                         std::to_string(cfg_.round_timeout.count()) + " ms");
            forget(sentinels_.failed(id, now));
          }
        round_complete(now);
      }
      break;
    case fsm_timer::kind::refresh:
      if (state_ != master_state::ready || !cfg_.want_replicas) break;
      if (!sentinel_mode()) {
        emit_replicas(direct_replicas_);
        arm({fsm_timer::kind::refresh, 0}, cfg_.replica_refresh);
      } else if (round_.done) {
        start_round(now, true);
      } else {
        arm({fsm_timer::kind::refresh, 0}, ms(100));  // a round is under way: look again after it
      }
      break;
    case fsm_timer::kind::probe:
      if (state_ == master_state::ready && !sentinel_mode() && cfg_.probe_interval.count() > 0) start_probe();
      break;
    case fsm_timer::kind::watch:
      if (auto* s = sentinels_.find(t.index))
        if (s->watch == sentinel_set::slot::watch_state::waiting) watch_slot(*s);
      break;
  }
  return take();
}

}  // namespace detail
}  // namespace redis_ha
