// master_fsm: the HA core, driven by event sequences without sockets or timers.
#include <redis_ha/detail/master_fsm.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace redis_ha;
using namespace redis_ha::detail;
using act = fsm_action::type;
using ms = std::chrono::milliseconds;

namespace {

const address s1{"10.0.0.1", 26379}, s2{"10.0.0.2", 26379}, s3{"10.0.0.3", 26379};
const address m1{"10.0.1.1", 6379}, m2{"10.0.1.2", 6379}, m3{"10.0.1.3", 6379};

master_fsm_config sentinel_cfg() {
  master_fsm_config c;
  c.sentinels = {s1, s2, s3};
  c.seed = 42;
  return c;
}

master_fsm_config direct_cfg(std::vector<address> addrs) {
  master_fsm_config c;
  c.addresses = std::move(addrs);
  c.seed = 42;
  return c;
}

sentinel_answer names(const address& m) {
  sentinel_answer a;
  a.what = sentinel_answer::kind::master;
  a.master = m;
  return a;
}
sentinel_answer answer(sentinel_answer::kind k, std::string text = {}) {
  sentinel_answer a;
  a.what = k;
  a.text = std::move(text);
  return a;
}
role_info master_role() {
  role_info r;
  r.role = role_info::kind::master;
  return r;
}
role_info replica_of(const address& m) {
  role_info r;
  r.role = role_info::kind::replica;
  r.master = m;
  r.link_state = "connected";
  return r;
}

// A fake world: remembers what the machine asked for and the time.
struct harness {
  master_fsm fsm;
  master_fsm::time_point now{};
  std::map<fsm_timer, ms> armed;
  std::vector<fsm_action> log;  // every action so far
  fsm_actions last;

  explicit harness(master_fsm_config c) : fsm(std::move(c)) {}

  const fsm_actions& apply(fsm_actions a) {
    for (const auto& x : a) {
      if (x.what == act::arm) armed[x.timer] = x.after;
      if (x.what == act::cancel) armed.erase(x.timer);
      if (x.what == act::shutdown) armed.clear();
      log.push_back(x);
    }
    last = std::move(a);
    return last;
  }
  // Copies: `last` changes with the next step.
  std::optional<fsm_action> find(act t) const {
    for (const auto& x : last)
      if (x.what == t) return x;
    return std::nullopt;
  }
  std::size_t count(act t) const {
    return static_cast<std::size_t>(std::count_if(last.begin(), last.end(), [&](const fsm_action& x) { return x.what == t; }));
  }
  std::optional<fsm_action> emitted(client_event::kind k) const {
    for (const auto& x : last)
      if (x.what == act::emit && x.event.type == k) return x;
    return std::nullopt;
  }
  // Fires timer `t` after its armed delay.
  const fsm_actions& fire(fsm_timer t) {
    REQUIRE(armed.count(t));
    now += armed[t];
    armed.erase(t);
    return apply(fsm.on_timer(t, now));
  }
  bool is_armed(fsm_timer::kind k) const {
    for (const auto& [t, d] : armed)
      if (t.what == k) return true;
    return false;
  }
  fsm_timer timer_of(fsm_timer::kind k) const {
    for (const auto& [t, d] : armed)
      if (t.what == k) return t;
    FAIL("timer not armed");
    return {};
  }
  std::uint64_t round() const {
    auto q = find(act::query);
    REQUIRE(q);
    return q->id;
  }
  // Runs a candidate through connect + ROLE.
  std::uint64_t verify(const address& expected, const role_info& role) {
    auto c = find(act::connect);
    REQUIRE(c);
    REQUIRE(c->addr == expected);
    const auto id = c->id;
    apply(fsm.on_connected(id, {}, "", now));
    REQUIRE(find(act::send_role));
    apply(fsm.on_role(id, {}, role, role.role == role_info::kind::master ? "master" : "slave", now));
    return id;
  }
  // start -> every sentinel names `m` -> ROLE master: ready.
  std::uint64_t ready_on(const address& m) {
    apply(fsm.start(now));
    const auto r = round();
    apply(fsm.on_sentinel_answer(r, 1, names(m), now));
    const auto id = verify(m, master_role());
    REQUIRE(fsm.state() == master_state::ready);
    return id;
  }
};

}  // namespace

TEST_CASE("master_fsm: start asks every sentinel, verifies the named master, then watches", "[fsm]") {
  harness h(sentinel_cfg());
  h.apply(h.fsm.start(h.now));
  auto q = h.find(act::query);
  REQUIRE(q);
  REQUIRE(q->targets.size() == 3);
  CHECK(h.is_armed(fsm_timer::kind::round));
  CHECK(h.fsm.state() == master_state::resolving);

  h.apply(h.fsm.on_sentinel_answer(q->id, 2, names(m1), h.now));
  auto c = h.find(act::connect);
  REQUIRE(c);
  CHECK(c->addr == m1);
  CHECK(h.is_armed(fsm_timer::kind::verify));
  h.apply(h.fsm.on_connected(c->id, {}, "", h.now));
  CHECK(h.find(act::send_role));
  h.apply(h.fsm.on_role(c->id, {}, master_role(), "master", h.now));
  auto r = h.find(act::ready);
  REQUIRE(r);
  CHECK(r->flag);
  CHECK(r->addr == m1);
  CHECK(h.count(act::watch) == 3);
  CHECK(h.fsm.master() == m1);
  CHECK(h.fsm.master_id() == c->id);
  CHECK_FALSE(h.is_armed(fsm_timer::kind::verify));
  CHECK(h.is_armed(fsm_timer::kind::stable));
  // Late answers of the same round start nothing.
  h.apply(h.fsm.on_sentinel_answer(q->id, 1, names(m1), h.now));
  CHECK_FALSE(h.find(act::connect));
}

TEST_CASE("master_fsm: a stale sentinel names a replica, and its ROLE leads to the real master", "[fsm][defect4]") {
  harness h(sentinel_cfg());
  h.apply(h.fsm.start(h.now));
  const auto r = h.round();
  h.apply(h.fsm.on_sentinel_answer(r, 1, names(m1), h.now));  // stale: m1 is a replica now
  const auto id = h.find(act::connect)->id;
  h.apply(h.fsm.on_connected(id, {}, "", h.now));
  h.apply(h.fsm.on_role(id, {}, replica_of(m2), "slave", h.now));
  CHECK(h.emitted(client_event::kind::following));
  auto c = h.find(act::connect);
  REQUIRE(c);
  CHECK(c->addr == m2);
  CHECK(h.find(act::drop));
  // The other sentinels name m2 meanwhile: reported as a disagreement, no second attempt.
  h.apply(h.fsm.on_sentinel_answer(r, 2, names(m2), h.now));
  CHECK_FALSE(h.find(act::connect));
  h.apply(h.fsm.on_sentinel_answer(r, 3, names(m2), h.now));
  CHECK(h.emitted(client_event::kind::sentinels_disagree));
  h.apply(h.fsm.on_connected(c->id, {}, "", h.now));
  h.apply(h.fsm.on_role(c->id, {}, master_role(), "master", h.now));
  CHECK(h.fsm.master() == m2);
}

TEST_CASE("master_fsm: when the first candidate fails, the next sentinel's answer is tried before backing off",
          "[fsm][defect4]") {
  harness h(sentinel_cfg());
  h.apply(h.fsm.start(h.now));
  const auto r = h.round();
  h.apply(h.fsm.on_sentinel_answer(r, 1, names(m1), h.now));
  const auto first = h.find(act::connect)->id;
  h.apply(h.fsm.on_sentinel_answer(r, 2, names(m2), h.now));
  CHECK_FALSE(h.find(act::connect));  // one attempt at a time
  h.apply(h.fsm.on_connected(first, make_error_code(std::errc::connection_refused), "Connection refused", h.now));
  auto c = h.find(act::connect);
  REQUIRE(c);
  CHECK(c->addr == m2);
  CHECK_FALSE(h.is_armed(fsm_timer::kind::retry));
}

TEST_CASE("master_fsm: what a round without a master means", "[fsm]") {
  using k = sentinel_answer::kind;
  struct row {
    std::vector<sentinel_answer> answers;
    error expected;
    bool fails_waiting;
  };
  const std::vector<row> rows = {
      {{answer(k::unknown_name), answer(k::unknown_name), answer(k::unreachable, "refused")}, error::master_name_unknown, true},
      {{answer(k::auth_failed), answer(k::auth_failed), answer(k::auth_failed)}, error::auth_failed, true},
      {{answer(k::auth_failed), answer(k::unreachable, "x"), answer(k::unreachable, "y")}, error::no_sentinel_reachable, false},
      {{answer(k::malformed, "garbage"), answer(k::unreachable, "x"), answer(k::unreachable, "y")}, error::sentinel_protocol_error, false},
      {{answer(k::unreachable, "a"), answer(k::unreachable, "b"), answer(k::unreachable, "c")}, error::no_sentinel_reachable, false},
  };
  for (const auto& row : rows) {
    harness h(sentinel_cfg());
    h.apply(h.fsm.start(h.now));
    const auto r = h.round();
    for (std::uint64_t i = 0; i < 3; ++i) h.apply(h.fsm.on_sentinel_answer(r, i + 1, row.answers[i], h.now));
    CHECK(h.fsm.state() == master_state::backing_off);
    CHECK(h.fsm.last_error() == row.expected);
    auto e = h.emitted(client_event::kind::resolve_failed);
    REQUIRE(e);
    CHECK(e->event.ec == row.expected);
    CHECK_FALSE(h.fsm.last_detail().empty());
    CHECK(bool(h.find(act::fail_waiting)) == row.fails_waiting);
    CHECK(h.is_armed(fsm_timer::kind::retry));
  }
}

TEST_CASE("master_fsm: a black-holed sentinel is bounded by the round deadline", "[fsm]") {
  harness h(sentinel_cfg());
  h.apply(h.fsm.start(h.now));
  const auto r = h.round();
  h.apply(h.fsm.on_sentinel_answer(r, 1, answer(sentinel_answer::kind::unreachable, "refused"), h.now));
  h.apply(h.fsm.on_sentinel_answer(r, 2, answer(sentinel_answer::kind::unreachable, "refused"), h.now));
  CHECK(h.fsm.state() == master_state::resolving);
  h.fire(h.timer_of(fsm_timer::kind::round));
  CHECK(h.fsm.state() == master_state::backing_off);
  CHECK(h.fsm.last_detail().find("no answer within") != std::string::npos);
  // A late answer of that round is ignored.
  h.apply(h.fsm.on_sentinel_answer(r, 3, names(m1), h.now));
  CHECK_FALSE(h.find(act::connect));
}

TEST_CASE("master_fsm: attempts are paced by the backoff, never by events", "[fsm][defect2]") {
  auto cfg = sentinel_cfg();
  cfg.backoff_min = ms(10);
  cfg.backoff_max = ms(200);
  harness h(cfg);
  h.apply(h.fsm.start(h.now));
  std::vector<ms> delays;
  for (int cycle = 0; cycle < 8; ++cycle) {
    const auto r = h.round();
    for (std::uint64_t i = 1; i <= 3; ++i)
      h.apply(h.fsm.on_sentinel_answer(r, i, answer(sentinel_answer::kind::unreachable, "down"), h.now));
    REQUIRE(h.fsm.state() == master_state::backing_off);
    delays.push_back(h.armed[h.timer_of(fsm_timer::kind::retry)]);
    // Whatever happens meanwhile (requests' signals, stale connections), no new attempt.
    for (int k = 0; k < 100; ++k) {
      h.apply(h.fsm.on_readonly(0, h.now));
      h.apply(h.fsm.on_healthy(0));
      h.apply(h.fsm.on_closed(999, make_error_code(error::connection_lost), h.now));
      CHECK_FALSE(h.find(act::query));
      CHECK_FALSE(h.find(act::connect));
    }
    h.fire(h.timer_of(fsm_timer::kind::retry));
    REQUIRE(h.find(act::query));
  }
  for (std::size_t i = 0; i < delays.size(); ++i) {
    CHECK(delays[i] >= ms(5));
    CHECK(delays[i] <= ms(200));
  }
  CHECK(delays.back() >= ms(100));  // grew to the top
  CHECK(h.fsm.stats().resolutions == 9);
}

TEST_CASE("master_fsm: a master that drops right after ROLE does not reset the backoff", "[fsm][defect3]") {
  auto cfg = sentinel_cfg();
  cfg.backoff_min = ms(10);
  cfg.backoff_max = ms(1000);
  harness h(cfg);
  auto id = h.ready_on(m1);
  std::vector<ms> delays;
  for (int i = 0; i < 6; ++i) {
    h.apply(h.fsm.on_closed(id, make_error_code(std::errc::connection_reset), h.now));
    REQUIRE(h.emitted(client_event::kind::master_lost));
    REQUIRE(h.find(act::unready));
    REQUIRE_FALSE(h.find(act::query));  // not at once: it never proved healthy
    delays.push_back(h.armed[h.timer_of(fsm_timer::kind::retry)]);
    h.fire(h.timer_of(fsm_timer::kind::retry));
    h.apply(h.fsm.on_sentinel_answer(h.round(), 1, names(m1), h.now));
    id = h.verify(m1, master_role());
  }
  CHECK(delays.back() > delays.front());
  // Once it answered a request, a loss is retried at once.
  h.apply(h.fsm.on_healthy(id));
  h.apply(h.fsm.on_closed(id, make_error_code(std::errc::connection_reset), h.now));
  CHECK(h.find(act::query));
}

TEST_CASE("master_fsm: staying up for stable_after also proves the connection", "[fsm][defect3]") {
  harness h(sentinel_cfg());
  auto id = h.ready_on(m1);
  h.fire({fsm_timer::kind::stable, id});
  h.apply(h.fsm.on_closed(id, make_error_code(std::errc::connection_reset), h.now));
  CHECK(h.find(act::query));
}

TEST_CASE("master_fsm: a rejected reply reconnects to the same master after the backoff, without a failover",
          "[fsm][defect1]") {
  for (auto why : {error::nesting_too_deep, error::reply_too_large, error::protocol_error, error::line_too_long}) {
    harness h(sentinel_cfg());
    auto id = h.ready_on(m1);
    h.apply(h.fsm.on_closed(id, make_error_code(why), h.now));
    CHECK_FALSE(h.emitted(client_event::kind::master_lost));
    auto e = h.emitted(client_event::kind::reconnecting);
    REQUIRE(e);
    CHECK(e->event.ec == why);
    CHECK(h.fsm.last_detail().find(make_error_code(why).message()) != std::string::npos);
    CHECK_FALSE(h.find(act::query));
    CHECK_FALSE(h.find(act::connect));
    h.fire(h.timer_of(fsm_timer::kind::retry));
    CHECK_FALSE(h.find(act::query));  // no resolution: the master did not change
    auto c = h.find(act::connect);
    REQUIRE(c);
    CHECK(c->addr == m1);
  }
}

TEST_CASE("master_fsm: verification has a deadline, and close ends everything at once", "[fsm][defect5]") {
  harness h(direct_cfg({m1, m2}));
  h.apply(h.fsm.start(h.now));
  auto c = h.find(act::connect);
  REQUIRE(c);
  const auto id = c->id;
  h.apply(h.fsm.on_connected(id, {}, "", h.now));
  // m1 is hung: ROLE never answers.
  h.fire({fsm_timer::kind::verify, id});
  CHECK(h.find(act::drop));
  auto next = h.find(act::connect);
  REQUIRE(next);
  CHECK(next->addr == m2);
  h.fire({fsm_timer::kind::verify, next->id});
  CHECK(h.fsm.state() == master_state::backing_off);
  CHECK(h.fsm.last_detail().find("did not connect within") != std::string::npos);
  h.apply(h.fsm.close());
  CHECK(h.find(act::shutdown));
  CHECK(h.fsm.state() == master_state::closed);
  CHECK(h.fsm.on_timer({fsm_timer::kind::retry, 0}, h.now).empty());
  CHECK(h.fsm.on_connected(next->id, {}, "", h.now).empty());
  CHECK(h.fsm.on_sentinel_event({}, h.now).empty());
}

TEST_CASE("master_fsm: the sentinel set is bounded and forgets unreachable learned sentinels", "[fsm][defect6]") {
  auto cfg = sentinel_cfg();
  cfg.sentinel_limits.max_learned = 16;
  cfg.sentinel_limits.forget_after = ms(60000);
  harness h(cfg);
  h.apply(h.fsm.start(h.now));
  auto a = names(m1);
  for (int i = 0; i < 5000; ++i) a.sentinels.push_back({"10.9." + std::to_string(i / 250) + "." + std::to_string(i % 250), 26379});
  h.apply(h.fsm.on_sentinel_answer(h.round(), 1, a, h.now));
  CHECK(h.fsm.sentinels().slots().size() == 3 + 16);
  h.verify(m1, master_role());
  CHECK(h.count(act::watch) == 19);
  // Every learned sentinel fails its subscription; 60 s later it is forgotten.
  std::vector<std::uint64_t> learned;
  for (const auto& s : h.fsm.sentinels().slots())
    if (!s.configured) learned.push_back(s.id);
  for (auto id : learned) h.apply(h.fsm.on_watch_lost(id, h.now));
  h.now += ms(61000);
  h.apply(h.fsm.on_watch_lost(learned.front(), h.now));
  CHECK(h.count(act::unwatch) == 16);
  CHECK(h.fsm.sentinels().slots().size() == 3);
  // The configured ones stay, whatever happens.
  for (std::uint64_t id = 1; id <= 3; ++id) h.apply(h.fsm.on_watch_lost(id, h.now + ms(1000000)));
  CHECK(h.fsm.sentinels().slots().size() == 3);
}

TEST_CASE("master_fsm: watch subscriptions reconnect with their own backoff", "[fsm]") {
  harness h(sentinel_cfg());
  h.ready_on(m1);
  h.apply(h.fsm.on_watch_lost(2, h.now));
  CHECK_FALSE(h.find(act::watch));
  const fsm_timer t{fsm_timer::kind::watch, 2};
  REQUIRE(h.armed.count(t));
  CHECK(h.armed[t] >= ms(50));
  h.fire(t);
  auto w = h.find(act::watch);
  REQUIRE(w);
  CHECK(w->id == 2);
  h.apply(h.fsm.on_watch_up(2, h.now));
  CHECK(h.fsm.sentinels().find(2)->watch == sentinel_set::slot::watch_state::up);
}

TEST_CASE("master_fsm: promotion hold, then the promoted node", "[fsm][hold]") {
  harness h(sentinel_cfg());
  const auto id = h.ready_on(m1);
  sentinel_event promoting{sentinel_event::kind::promoting, "+failover-state-send-slaveof-noone", m2};
  h.apply(h.fsm.on_sentinel_event(promoting, h.now));
  auto hold = h.find(act::hold);
  REQUIRE(hold);
  CHECK(hold->flag);
  CHECK(h.fsm.held());
  CHECK(h.is_armed(fsm_timer::kind::hold));
  h.now += ms(300);
  sentinel_event promoted{sentinel_event::kind::promoted, "+promoted-slave", m2};
  h.apply(h.fsm.on_sentinel_event(promoted, h.now));
  CHECK(h.emitted(client_event::kind::master_lost));
  auto retire = h.find(act::retire);
  REQUIRE(retire);
  CHECK(retire->id == id);
  CHECK_FALSE(h.is_armed(fsm_timer::kind::hold));
  const auto nid = h.verify(m2, master_role());
  auto changed = h.emitted(client_event::kind::master_changed);
  REQUIRE(changed);
  CHECK(changed->event.previous == m1);
  CHECK(changed->event.unavailable == ms(300));
  CHECK(h.fsm.master_id() == nid);
  // The same news from the other sentinels changes nothing.
  sentinel_event sw{sentinel_event::kind::switch_master, "+switch-master", m2};
  for (int i = 0; i < 3; ++i) {
    h.apply(h.fsm.on_sentinel_event(sw, h.now));
    CHECK_FALSE(h.find(act::connect));
    CHECK_FALSE(h.find(act::unready));
  }
}

TEST_CASE("master_fsm: an unconfirmed promotion ends the hold with a new resolution", "[fsm][hold]") {
  harness h(sentinel_cfg());
  h.ready_on(m1);
  h.apply(h.fsm.on_sentinel_event({sentinel_event::kind::promoting, "+failover-state-send-slaveof-noone", m2}, h.now));
  h.fire(h.timer_of(fsm_timer::kind::hold));
  auto lost = h.emitted(client_event::kind::master_lost);
  REQUIRE(lost);
  CHECK(lost->event.ec == error::master_unavailable);
  CHECK(h.find(act::retire));
}

TEST_CASE("master_fsm: an aborted failover releases the hold", "[fsm][hold]") {
  harness h(sentinel_cfg());
  h.ready_on(m1);
  h.apply(h.fsm.on_sentinel_event({sentinel_event::kind::promoting, "+failover-state-send-slaveof-noone", m2}, h.now));
  h.apply(h.fsm.on_sentinel_event({sentinel_event::kind::aborted, "-failover-abort-no-good-slave", m1}, h.now));
  auto hold = h.find(act::hold);
  REQUIRE(hold);
  CHECK_FALSE(hold->flag);
  CHECK_FALSE(h.fsm.held());
  CHECK(h.fsm.state() == master_state::ready);
}

TEST_CASE("master_fsm: a switch announced while backing off goes straight to the new master", "[fsm]") {
  harness h(sentinel_cfg());
  h.apply(h.fsm.start(h.now));
  const auto r = h.round();
  for (std::uint64_t i = 1; i <= 3; ++i)
    h.apply(h.fsm.on_sentinel_answer(r, i, answer(sentinel_answer::kind::unreachable, "x"), h.now));
  REQUIRE(h.fsm.state() == master_state::backing_off);
  h.apply(h.fsm.on_sentinel_event({sentinel_event::kind::switch_master, "+switch-master", m3}, h.now));
  CHECK(h.find(act::cancel));
  h.verify(m3, master_role());
  CHECK(h.fsm.master() == m3);
}

TEST_CASE("master_fsm: -READONLY on the master retires it and resolves again", "[fsm]") {
  harness h(sentinel_cfg());
  const auto id = h.ready_on(m1);
  h.apply(h.fsm.on_healthy(id));
  h.apply(h.fsm.on_readonly(id + 100, h.now));  // another connection: ignored
  CHECK(h.last.empty());
  h.apply(h.fsm.on_readonly(id, h.now));
  auto lost = h.emitted(client_event::kind::master_lost);
  REQUIRE(lost);
  CHECK(lost->event.ec == error::role_mismatch);
  CHECK(h.find(act::retire));
  CHECK(h.find(act::query));
}

TEST_CASE("master_fsm: direct mode walks the addresses and follows a replica to its master", "[fsm][direct]") {
  harness h(direct_cfg({m1, m2}));
  h.apply(h.fsm.start(h.now));
  auto c = h.find(act::connect);
  REQUIRE(c);
  CHECK(c->addr == m1);
  h.apply(h.fsm.on_connected(c->id, {}, "", h.now));
  h.apply(h.fsm.on_role(c->id, {}, replica_of(m3), "slave", h.now));
  h.verify(m3, master_role());
  CHECK(h.fsm.master() == m3);
  CHECK(h.fsm.verified());
}

TEST_CASE("master_fsm: direct mode stops following after max_hops", "[fsm][direct]") {
  auto cfg = direct_cfg({address{"10.0.2.0", 6379}});
  cfg.max_hops = 3;
  harness h(cfg);
  h.apply(h.fsm.start(h.now));
  for (int i = 0; i < 3; ++i) {
    auto c = h.find(act::connect);
    REQUIRE(c);
    const auto id = c->id;
    h.apply(h.fsm.on_connected(id, {}, "", h.now));
    h.apply(h.fsm.on_role(id, {}, replica_of({"10.0.2." + std::to_string(i + 1), 6379}), "slave", h.now));
  }
  auto c = h.find(act::connect);
  REQUIRE(c);
  h.apply(h.fsm.on_connected(c->id, {}, "", h.now));
  h.apply(h.fsm.on_role(c->id, {}, replica_of({"10.0.2.9", 6379}), "slave", h.now));
  CHECK_FALSE(h.find(act::connect));
  CHECK(h.fsm.state() == master_state::backing_off);
  CHECK(h.fsm.last_error() == error::role_mismatch);
}

TEST_CASE("master_fsm: direct mode without follow_master keeps the replica, unverified", "[fsm][direct]") {
  auto cfg = direct_cfg({m1});
  cfg.follow_master = false;
  harness h(cfg);
  h.apply(h.fsm.start(h.now));
  h.verify(m1, replica_of(m2));
  auto r = h.find(act::ready);
  REQUIRE(r);
  CHECK_FALSE(r->flag);
  CHECK_FALSE(h.fsm.verified());
}

TEST_CASE("master_fsm: answers about old connections are ignored", "[fsm][generation]") {
  harness h(direct_cfg({m1, m2}));
  h.apply(h.fsm.start(h.now));
  const auto old = h.find(act::connect)->id;
  h.apply(h.fsm.on_connected(old, make_error_code(std::errc::connection_refused), "refused", h.now));
  const auto cur = h.find(act::connect)->id;
  CHECK(cur != old);
  CHECK(h.fsm.on_connected(old, {}, "", h.now).empty());
  CHECK(h.fsm.on_role(old, {}, master_role(), "master", h.now).empty());
  CHECK(h.fsm.on_closed(old, make_error_code(error::connection_lost), h.now).empty());
  h.apply(h.fsm.on_connected(cur, {}, "", h.now));
  CHECK(h.find(act::send_role));
}

TEST_CASE("master_fsm: repeated failures are logged once per 10 s, with a count", "[fsm][log]") {
  auto cfg = direct_cfg({m1});
  cfg.backoff_max = ms(250);
  harness h(cfg);
  h.apply(h.fsm.start(h.now));
  int warnings = 0;
  std::string last_text;
  for (int i = 0; i < 100; ++i) {  // ~20 s of failures
    auto c = h.find(act::connect);
    REQUIRE(c);
    h.apply(h.fsm.on_connected(c->id, make_error_code(std::errc::connection_refused), "Connection refused", h.now));
    auto e = h.emitted(client_event::kind::resolve_failed);
    REQUIRE(e);
    if (e->level == log_level::warning) {
      ++warnings;
      last_text = e->text;
    }
    h.fire(h.timer_of(fsm_timer::kind::retry));
  }
  CHECK(warnings >= 2);
  CHECK(warnings <= 4);
  CHECK(last_text.find("not logged") != std::string::npos);
  CHECK(last_text.find("Connection refused") != std::string::npos);
}

TEST_CASE("master_fsm: replica changes refresh the replica list soon, by a refresh round", "[fsm][replicas]") {
  auto cfg = sentinel_cfg();
  cfg.want_replicas = true;
  harness h(cfg);
  h.apply(h.fsm.start(h.now));
  auto a = names(m1);
  listed_node rep;
  rep.addr = m2;
  rep.flags = "slave";
  rep.link_status = "ok";
  a.replicas = {rep};
  h.apply(h.fsm.on_sentinel_answer(h.round(), 1, a, h.now));
  auto reps = h.find(act::replicas);
  REQUIRE(reps);
  CHECK(reps->addrs == std::vector<address>{m2});
  h.verify(m1, master_role());
  CHECK(h.armed[h.timer_of(fsm_timer::kind::refresh)] == ms(5000));
  h.fire(h.timer_of(fsm_timer::kind::round));  // the other sentinels never answered
  h.apply(h.fsm.on_sentinel_event({sentinel_event::kind::replica_up, "+slave-reconf-done", m3}, h.now));
  CHECK(h.armed[h.timer_of(fsm_timer::kind::refresh)] == ms(20));
  h.fire(h.timer_of(fsm_timer::kind::refresh));
  const auto r = h.round();
  h.apply(h.fsm.on_sentinel_answer(r, 1, names(m1), h.now));
  CHECK_FALSE(h.find(act::connect));  // a refresh never moves the master
  CHECK(h.find(act::replicas));
}

// Random event sequences against the invariants of the machine.
TEST_CASE("master_fsm: random event sequences keep the invariants", "[fsm][random]") {
  std::mt19937 rng(12345);
  for (int run = 0; run < 400; ++run) {
    const bool sentinel = run % 2 == 0;
    auto cfg = sentinel ? sentinel_cfg() : direct_cfg({m1, m2, m3});
    cfg.want_replicas = run % 3 == 0;
    cfg.seed = static_cast<std::uint64_t>(run + 1);
    harness h(cfg);
    h.apply(h.fsm.start(h.now));
    std::uint64_t cycles_started = 0, cycle_triggers = 1;  // start is one trigger
    std::vector<std::uint64_t> ids;
    for (int step = 0; step < 200; ++step) {
      const auto before = h.fsm.stats().resolutions;
      const int pick = static_cast<int>(rng() % 10);
      const address pick_addr = std::vector<address>{m1, m2, m3}[rng() % 3];
      bool trigger = false;
      for (const auto& a : h.log)
        if (a.what == act::connect) ids.push_back(a.id);
      const std::uint64_t some_id = ids.empty() ? 0 : ids[rng() % ids.size()];
      switch (pick) {
        case 0:
          if (h.fsm.state() == master_state::resolving && sentinel) {
            const std::uint64_t r = h.log.empty() ? 0 : [&] {
              for (auto it = h.log.rbegin(); it != h.log.rend(); ++it)
                if (it->what == act::query) return it->id;
              return std::uint64_t{0};
            }();
            h.apply(h.fsm.on_sentinel_answer(r, 1 + rng() % 3, rng() % 2 ? names(pick_addr) : answer(sentinel_answer::kind::unreachable, "x"), h.now));
          }
          break;
        case 1: h.apply(h.fsm.on_connected(some_id, rng() % 3 ? std::error_code{} : make_error_code(std::errc::connection_refused), "", h.now)); break;
        case 2: h.apply(h.fsm.on_role(some_id, {}, rng() % 2 ? master_role() : replica_of(pick_addr), "r", h.now)); break;
        case 3: {
          const bool was_ready = h.fsm.state() == master_state::ready && h.fsm.master_id() == some_id;
          h.apply(h.fsm.on_closed(some_id, make_error_code(std::errc::connection_reset), h.now));
          trigger = was_ready;
          break;
        }
        case 4: {
          const bool was_ready = h.fsm.state() == master_state::ready && h.fsm.master_id() == some_id;
          h.apply(h.fsm.on_readonly(some_id, h.now));
          trigger = was_ready;
          break;
        }
        case 5: h.apply(h.fsm.on_healthy(some_id)); break;
        case 6: {
          sentinel_event ev{static_cast<sentinel_event::kind>(rng() % 8), "ev", pick_addr};
          h.apply(h.fsm.on_sentinel_event(ev, h.now));
          break;
        }
        default:
          if (!h.armed.empty()) {
            auto it = h.armed.begin();
            std::advance(it, static_cast<long>(rng() % h.armed.size()));
            trigger = it->first.what == fsm_timer::kind::retry || it->first.what == fsm_timer::kind::hold;
            h.fire(it->first);
          }
          break;
      }
      cycle_triggers += trigger ? 1 : 0;
      cycles_started += h.fsm.stats().resolutions - before;
      // Invariants.
      std::size_t attempts = 0;
      for (const auto& a : h.last) attempts += a.what == act::connect;
      CHECK(attempts <= 1);
      CHECK(cycles_started <= cycle_triggers);
      if (h.fsm.state() == master_state::ready) CHECK(h.fsm.master_id() != 0);
      if (h.fsm.state() == master_state::backing_off) CHECK(h.is_armed(fsm_timer::kind::retry));
      if (h.fsm.state() == master_state::connecting) CHECK(h.is_armed(fsm_timer::kind::verify));
      for (const auto& [t, d] : h.armed) CHECK(d <= ms(60000));
    }
    h.apply(h.fsm.close());
    CHECK(h.fsm.on_timer({fsm_timer::kind::retry, 0}, h.now).empty());
  }
}

TEST_CASE("master_fsm: direct-mode probes move to the node the replicas follow", "[fsm][direct][probe]") {
  const address lb{"10.0.9.9", 6379};
  auto cfg = direct_cfg({lb});
  cfg.probe_interval = ms(1000);
  cfg.probes_per_address = 2;
  harness h(cfg);
  h.apply(h.fsm.start(h.now));
  h.verify(lb, replica_of(m1));
  const auto old = h.verify(m1, master_role());
  REQUIRE(h.fsm.master() == m1);
  h.fire(h.timer_of(fsm_timer::kind::probe));
  std::vector<std::uint64_t> probes;
  for (const auto& a : h.last)
    if (a.what == act::probe) {
      CHECK(a.addr == lb);
      probes.push_back(a.id);
    }
  REQUIRE(probes.size() == 2);
  CHECK(h.is_armed(fsm_timer::kind::probe));
  // A replica that follows our master, a failed probe: nothing.
  h.apply(h.fsm.on_probe(probes[0], {}, replica_of(m1), h.now));
  CHECK(h.last.empty());
  h.apply(h.fsm.on_probe(999, {}, replica_of(m2), h.now));  // not a probe of ours
  CHECK(h.last.empty());
  // A replica that follows m2: the old master is left for m2.
  h.apply(h.fsm.on_probe(probes[1], {}, replica_of(m2), h.now));
  CHECK(h.emitted(client_event::kind::master_lost));
  auto r = h.find(act::retire);
  REQUIRE(r);
  CHECK(r->id == old);
  h.verify(m2, master_role());
  CHECK(h.fsm.master() == m2);
  CHECK(h.emitted(client_event::kind::master_changed));
}

TEST_CASE("master_fsm: no probes in Sentinel mode or when disabled", "[fsm][probe]") {
  auto cfg = direct_cfg({m1});
  cfg.probe_interval = ms(0);
  harness h(cfg);
  h.apply(h.fsm.start(h.now));
  h.verify(m1, master_role());
  CHECK_FALSE(h.is_armed(fsm_timer::kind::probe));
  harness s(sentinel_cfg());
  s.ready_on(m1);
  CHECK_FALSE(s.is_armed(fsm_timer::kind::probe));
}

namespace {
// Replication ids as INFO replication gives them (40 hex digits).
const std::string hist_a(40, 'a'), hist_b(40, 'b'), hist_c(40, 'c');
role_info with_ids(role_info r, const std::string& id, const std::string& id2 = {}, bool link_up = true) {
  r.replid = id;
  r.replid2 = id2;
  r.link_up = r.role == role_info::kind::replica && link_up;
  return r;
}
// Direct mode behind one load-balanced address, ready on a master of history A.
struct lb_harness : harness {
  static inline const address lb{"10.0.9.9", 6379};
  lb_harness() : harness([] {
      auto c = direct_cfg({lb});
      c.probe_interval = ms(500);
      c.probes_per_address = 3;
      return c;
    }()) {
    apply(fsm.start(now));
    verify(lb, with_ids(master_role(), hist_a));
    REQUIRE(fsm.state() == master_state::ready);
    REQUIRE(fsm.master_replid() == hist_a);
  }
  std::vector<std::uint64_t> probe_round() {
    fire(timer_of(fsm_timer::kind::probe));
    std::vector<std::uint64_t> ids;
    for (const auto& a : last)
      if (a.what == act::probe) ids.push_back(a.id);
    REQUIRE(ids.size() == 3);
    return ids;
  }
};
}  // namespace

TEST_CASE("master_fsm: replication ids are asked only where histories are compared", "[fsm][direct][history]") {
  lb_harness h;
  CHECK(h.fsm.tracks_history());
  harness s(sentinel_cfg());
  CHECK_FALSE(s.fsm.tracks_history());
  auto no_probe = direct_cfg({m1});
  no_probe.probe_interval = ms(0);
  CHECK_FALSE(harness(no_probe).fsm.tracks_history());
  auto no_follow = direct_cfg({m1});
  no_follow.follow_master = false;
  CHECK_FALSE(harness(no_follow).fsm.tracks_history());
}

TEST_CASE("master_fsm: behind a load balancer, nodes of our own history say nothing", "[fsm][direct][history]") {
  lb_harness h;
  auto p = h.probe_round();
  // Our master, a replica of it (same replid), and a stale node still on the
  // history ours continued (none here): no action at all.
  h.apply(h.fsm.on_probe(p[0], {}, with_ids(master_role(), hist_a), h.now));
  CHECK(h.last.empty());
  // A replica whose master address differs from the balancer's address but
  // whose history is ours: the address alone is no evidence behind a balancer.
  h.apply(h.fsm.on_probe(p[1], {}, with_ids(replica_of(m1), hist_a), h.now));
  CHECK(h.last.empty());
  h.apply(h.fsm.on_probe(p[2], {}, with_ids(replica_of(m2), hist_c, {}, false), h.now));  // link down: syncing
  CHECK(h.last.empty());
  CHECK(h.fsm.state() == master_state::ready);
}

TEST_CASE("master_fsm: a promoted node that continued our history makes our master stale at once",
          "[fsm][direct][history]") {
  lb_harness h;
  const auto old_id = h.fsm.master_id();
  auto p = h.probe_round();
  // The promoted replica answers master with replid B, replid2 A (ours):
  // our master is stale although it still says master.
  h.apply(h.fsm.on_probe(p[0], {}, with_ids(master_role(), hist_b, hist_a), h.now));
  auto lost = h.emitted(client_event::kind::master_lost);
  REQUIRE(lost);
  CHECK(lost->event.ec == redis_ha::error::role_mismatch);
  CHECK(lost->text.find("continues the replication history") != std::string::npos);
  CHECK(lost->text.find("is stale") != std::string::npos);
  auto r = h.find(act::retire);
  REQUIRE(r);
  CHECK(r->id == old_id);
  // A new cycle goes through the balancer, which first lands on the old
  // master: refused as stale.
  h.verify(lb_harness::lb, with_ids(master_role(), hist_a));
  CHECK(h.fsm.state() != master_state::ready);
  CHECK(h.fsm.last_detail().find("stale master") != std::string::npos);
  // The rest of the old probe round is ignored.
  h.apply(h.fsm.on_probe(p[1], {}, with_ids(replica_of(m2), hist_c), h.now));
  CHECK(h.last.empty());
  // After the backoff it lands on the new master: ready, and the change is
  // counted although the address is the same.
  h.fire(h.timer_of(fsm_timer::kind::retry));
  h.verify(lb_harness::lb, with_ids(master_role(), hist_b, hist_a));
  REQUIRE(h.fsm.state() == master_state::ready);
  CHECK(h.fsm.master_replid() == hist_b);
  auto changed = h.emitted(client_event::kind::master_changed);
  REQUIRE(changed);
  CHECK(changed->text.find("another node behind that address") != std::string::npos);
  CHECK(h.fsm.stats().master_changes == 1);
}

TEST_CASE("master_fsm: a replica of the promoted node leads straight to it", "[fsm][direct][history]") {
  lb_harness h;
  auto p = h.probe_round();
  // Reconfigured by PSYNC: its replid is the new master's, replid2 ours.
  h.apply(h.fsm.on_probe(p[0], {}, with_ids(replica_of(m2), hist_b, hist_a), h.now));
  REQUIRE(h.emitted(client_event::kind::master_lost));
  h.verify(m2, with_ids(master_role(), hist_b, hist_a));
  CHECK(h.fsm.master() == m2);
  CHECK(h.fsm.master_replid() == hist_b);
  // The old master (history A) is now a stale node: probes reaching it,
  // still a master or already a replica catching up, say nothing.
  auto q = h.probe_round();
  h.apply(h.fsm.on_probe(q[0], {}, with_ids(master_role(), hist_a), h.now));
  CHECK(h.last.empty());
  h.apply(h.fsm.on_probe(q[1], {}, with_ids(replica_of(m2), hist_a, {}, false), h.now));
  CHECK(h.last.empty());
  CHECK(h.fsm.master() == m2);
}

TEST_CASE("master_fsm: a master with an unrelated history is reported once, and ours is kept",
          "[fsm][direct][history]") {
  lb_harness h;
  auto p = h.probe_round();
  h.apply(h.fsm.on_probe(p[0], {}, with_ids(master_role(), hist_c), h.now));
  auto two = h.emitted(client_event::kind::masters_disagree);
  REQUIRE(two);
  CHECK(two->level == redis_ha::log_level::warning);
  CHECK(two->event.detail == hist_c);
  CHECK_FALSE(h.find(act::retire));
  h.apply(h.fsm.on_probe(p[1], {}, with_ids(master_role(), hist_c), h.now));
  CHECK(h.last.empty());  // once, not every probe
  CHECK(h.fsm.state() == master_state::ready);
}

TEST_CASE("parse_replication reads the ids of INFO replication and refuses junk", "[fsm][history]") {
  using redis_ha::detail::parse_replication;
  role_info info;
  parse_replication(redis_ha::reply::bulk_string("# Replication\r\nrole:slave\r\nmaster_link_status:up\r\nmaster_replid:" +
                                          hist_b + "\r\nmaster_replid2:" + hist_a + "\r\n"),
                    info);
  CHECK(info.replid == hist_b);
  CHECK(info.replid2 == hist_a);
  CHECK(info.link_up);
  role_info none;
  parse_replication(redis_ha::reply::bulk_string("master_replid:" + hist_b + "\r\nmaster_replid2:" + std::string(40, '0') +
                                          "\r\nmaster_link_status:down\r\n"),
                    none);
  CHECK(none.replid == hist_b);
  CHECK(none.replid2.empty());  // zeros: no previous history
  CHECK_FALSE(none.link_up);
  role_info junk;
  parse_replication(redis_ha::reply::bulk_string("master_replid:xyz\r\nmaster_replid2:" + std::string(41, 'a')), junk);
  CHECK(junk.replid.empty());
  CHECK(junk.replid2.empty());
  parse_replication(redis_ha::reply::error("ERR unknown command"), junk);
  parse_replication(redis_ha::reply::integer(3), junk);
  CHECK(junk.replid.empty());
}

TEST_CASE("master_fsm: -REDIRECT on the master follows the named primary, verified by ROLE", "[fsm][redirect]") {
  harness h(sentinel_cfg());
  const auto id = h.ready_on(m1);
  h.apply(h.fsm.on_healthy(id));
  h.apply(h.fsm.on_redirect(id + 100, m2, h.now));  // another connection: ignored
  CHECK(h.last.empty());
  h.apply(h.fsm.on_redirect(id, m2, h.now));
  auto lost = h.emitted(client_event::kind::master_lost);
  REQUIRE(lost);
  CHECK(lost->event.ec == error::role_mismatch);
  CHECK(lost->event.detail.find("-REDIRECT " + m2.to_string()) != std::string::npos);
  CHECK(h.find(act::unready));
  CHECK(h.find(act::retire));  // requests in flight get their answers
  CHECK_FALSE(h.find(act::query));  // no sentinel round: the reply named the primary
  CHECK(h.fsm.state() == master_state::connecting);
  h.verify(m2, master_role());
  CHECK(h.fsm.master() == m2);
  CHECK(h.fsm.verified());
  auto changed = h.emitted(client_event::kind::master_changed);
  REQUIRE(changed);
  CHECK(changed->event.previous == m1);
  CHECK(h.fsm.stats().master_changes == 1);
}

TEST_CASE("master_fsm: a redirect target that is itself a replica is followed like a replica's ROLE",
          "[fsm][redirect]") {
  harness h(direct_cfg({m1}));
  h.apply(h.fsm.start(h.now));
  const auto id = h.verify(m1, master_role());
  h.apply(h.fsm.on_redirect(id, m2, h.now));
  auto c = h.find(act::connect);
  REQUIRE(c);
  CHECK(c->addr == m2);
  h.apply(h.fsm.on_connected(c->id, {}, "", h.now));
  h.apply(h.fsm.on_role(c->id, {}, replica_of(m3), "slave", h.now));
  CHECK(h.emitted(client_event::kind::following));
  h.verify(m3, master_role());
  CHECK(h.fsm.master() == m3);
}

TEST_CASE("master_fsm: a -REDIRECT that names the node itself, or nothing usable, counts as -READONLY",
          "[fsm][redirect]") {
  SECTION("itself") {
    harness h(sentinel_cfg());
    const auto id = h.ready_on(m1);
    h.apply(h.fsm.on_healthy(id));
    h.apply(h.fsm.on_redirect(id, m1, h.now));
    CHECK(h.emitted(client_event::kind::master_lost));
    CHECK(h.find(act::retire));
    CHECK(h.find(act::query));  // resolves again through the sentinels
  }
  SECTION("empty host") {
    harness h(sentinel_cfg());
    const auto id = h.ready_on(m1);
    h.apply(h.fsm.on_healthy(id));
    h.apply(h.fsm.on_redirect(id, address{"", 6379}, h.now));
    CHECK(h.find(act::query));
  }
  SECTION("direct mode without follow_master never moves") {
    auto cfg = direct_cfg({m1});
    cfg.follow_master = false;
    harness h(cfg);
    h.apply(h.fsm.start(h.now));
    const auto id = h.verify(m1, replica_of(m2));
    h.apply(h.fsm.on_redirect(id, m2, h.now));
    for (const auto& a : h.last) CHECK_FALSE((a.what == act::connect && a.addr == m2));
  }
}

TEST_CASE("master_fsm: the redirect target goes through the address map", "[fsm][redirect]") {
  auto cfg = sentinel_cfg();
  const address outside{"192.168.0.2", 16379};
  cfg.address_map = [&](const address& a) { return a == m2 ? outside : a; };
  harness h(cfg);
  const auto id = h.ready_on(m1);
  h.apply(h.fsm.on_redirect(id, m2, h.now));
  auto c = h.find(act::connect);
  REQUIRE(c);
  CHECK(c->addr == outside);
}

TEST_CASE("master_fsm: a redirect while not ready, or after close, asks for nothing", "[fsm][redirect]") {
  harness h(sentinel_cfg());
  h.apply(h.fsm.start(h.now));
  CHECK(h.fsm.on_redirect(1, m2, h.now).empty());  // resolving: nothing is in use
  h.apply(h.fsm.close());
  CHECK(h.fsm.on_redirect(1, m2, h.now).empty());
}

namespace {
std::vector<std::uint64_t> probes_in(const fsm_actions& acts) {
  std::vector<std::uint64_t> ids;
  for (const auto& a : acts)
    if (a.what == act::probe) ids.push_back(a.id);
  return ids;
}
}  // namespace

TEST_CASE("master_fsm: a replica that left the master holds writes until a probe round finds no promotion",
          "[fsm][direct][history][replica_left]") {
  lb_harness h;
  const auto id = h.fsm.master_id();
  h.apply(h.fsm.on_replica_left(id, h.now));
  auto hold = h.find(act::hold);
  REQUIRE(hold);
  CHECK(hold->flag);
  CHECK(h.fsm.held());
  CHECK(h.emitted(client_event::kind::hold));
  CHECK(h.is_armed(fsm_timer::kind::hold));
  auto p = probes_in(h.last);  // probed at once, not at the next interval
  REQUIRE(p.size() == 3);
  // Again while held: nothing new.
  h.apply(h.fsm.on_replica_left(id, h.now));
  CHECK(h.last.empty());
  // Our master, a failed probe, a replica of ours: no evidence...
  h.apply(h.fsm.on_probe(p[0], {}, with_ids(master_role(), hist_a), h.now));
  CHECK_FALSE(h.find(act::hold));
  h.apply(h.fsm.on_probe(p[1], make_error_code(std::errc::connection_refused), {}, h.now));
  CHECK_FALSE(h.find(act::hold));
  // ... and the last answer of the round releases the writes on the same master.
  h.apply(h.fsm.on_probe(p[2], {}, with_ids(replica_of(m1), hist_a), h.now));
  hold = h.find(act::hold);
  REQUIRE(hold);
  CHECK_FALSE(hold->flag);
  auto released = h.emitted(client_event::kind::hold);
  REQUIRE(released);
  CHECK(released->event.detail == "released");
  CHECK_FALSE(h.fsm.held());
  CHECK(h.fsm.master_id() == id);
  CHECK(h.fsm.state() == master_state::ready);
}

TEST_CASE("master_fsm: a replica that left and was promoted: the probe finds it and the master is left",
          "[fsm][direct][history][replica_left]") {
  lb_harness h;
  const auto id = h.fsm.master_id();
  h.apply(h.fsm.on_replica_left(id, h.now));
  auto p = probes_in(h.last);
  REQUIRE(p.size() == 3);
  h.apply(h.fsm.on_probe(p[0], {}, with_ids(master_role(), hist_b, hist_a), h.now));
  CHECK(h.emitted(client_event::kind::master_lost));
  CHECK(h.find(act::retire));
  CHECK_FALSE(h.fsm.held());
  CHECK(h.fsm.state() != master_state::ready);
  // The rest of the round changes nothing, and releases nothing.
  h.apply(h.fsm.on_probe(p[1], {}, with_ids(master_role(), hist_a), h.now));
  CHECK_FALSE(h.find(act::hold));
}

TEST_CASE("master_fsm: a replica-left hold ends after promotion_hold when probes do not answer",
          "[fsm][direct][history][replica_left]") {
  lb_harness h;
  const auto id = h.fsm.master_id();
  h.apply(h.fsm.on_replica_left(id, h.now));
  REQUIRE(h.fsm.held());
  h.fire(h.timer_of(fsm_timer::kind::hold));
  auto hold = h.find(act::hold);
  REQUIRE(hold);
  CHECK_FALSE(hold->flag);
  CHECK_FALSE(h.emitted(client_event::kind::master_lost));  // not a lost master: no promotion seen
  CHECK(h.fsm.master_id() == id);
}

TEST_CASE("master_fsm: replica_left is ignored outside direct mode with histories, and for other connections",
          "[fsm][replica_left]") {
  harness s(sentinel_cfg());
  s.ready_on(m1);
  s.apply(s.fsm.on_replica_left(s.fsm.master_id(), s.now));
  CHECK(s.last.empty());
  lb_harness h;
  h.apply(h.fsm.on_replica_left(h.fsm.master_id() + 1000, h.now));
  CHECK(h.last.empty());
}

TEST_CASE("replica_left compares two ROLE replica lists of one master", "[fsm][replica_left]") {
  using redis_ha::detail::replica_left;
  const address a{"10.0.0.1", 6379}, b{"10.0.0.2", 6379}, c{"10.0.0.3", 6379};
  CHECK_FALSE(replica_left({}, {}));
  CHECK_FALSE(replica_left({a, b}, {b, a}));
  CHECK_FALSE(replica_left({a}, {a, c}));  // one joined
  CHECK(replica_left({a, b}, {b}));
  CHECK(replica_left({a, b}, {b, c}));  // one left, another joined
  CHECK(replica_left({a}, {}));
}
