#ifndef REDIS_HA_DETAIL_MASTER_DRIVER_HPP
#define REDIS_HA_DETAIL_MASTER_DRIVER_HPP

/// @file
/// `master_driver<Stream>`: the one I/O driver of `master_fsm`. It carries
/// out the machine's actions with Asio (sentinel query rounds, data
/// connections, ROLE, timers, sentinel event subscriptions) and feeds every
/// result back. It decides nothing. Its owner (the HA client, the
/// subscriber) learns through `master_owner` which connection to use.

#include <redis_ha/address.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/master_fsm.hpp>
#include <redis_ha/detail/master_observers.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/detail/sentinel_io.hpp>
#include <redis_ha/logger.hpp>
#include <redis_ha/request.hpp>

#include <asio/steady_timer.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <memory>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

template <class Stream>
class master_driver : public std::enable_shared_from_this<master_driver<Stream>> {
 public:
  using executor_type = typename Stream::executor_type;
  using connection_type = basic_connection<Stream>;
  using owner_type = master_owner<Stream>;

  /// How long a retired connection keeps its requests in flight.
  std::chrono::milliseconds retire_grace{500};

  master_driver(const executor_type& ex, master_fsm_config fsm_cfg, connection_config data, sentinel_config sentinel,
                connection_factory<Stream> factory)
      : ex_(ex), fsm_(std::move(fsm_cfg)), data_(std::move(data)), sentinel_(std::move(sentinel)),
        factory_(std::move(factory)) {}

  const executor_type& executor() const noexcept { return ex_; }
  const master_fsm& fsm() const noexcept { return fsm_; }
  const redis_ha::logger& log() const noexcept { return data_.logger; }

  /// Starts following the master; `owner` must outlive the driver or `close()` it.
  void start(owner_type* owner) {
    owner_ = owner;
    feed(fsm_.start(now()));
  }
  /// Stops everything at once; the owner hears nothing afterwards.
  void close() {
    owner_ = nullptr;
    feed(fsm_.close());
  }
  /// A request on connection `id` was answered `-READONLY`.
  void readonly(std::uint64_t id) { feed(fsm_.on_readonly(id, now())); }
  /// A request on connection `id` was answered `-REDIRECT` naming `primary`.
  void redirect(std::uint64_t id, const address& primary) { feed(fsm_.on_redirect(id, primary, now())); }
  /// A request on connection `id` was answered.
  void healthy(std::uint64_t id) { feed(fsm_.on_healthy(id)); }
  /// A durable write's `ROLE` on connection `id` lacks a replica the master had.
  void replica_left(std::uint64_t id) { feed(fsm_.on_replica_left(id, now())); }
  /// How many replies at the start of a verification belong to the driver
  /// (`ROLE`, plus `INFO replication` when histories are tracked).
  std::size_t own_commands() const noexcept { return fsm_.tracks_history() ? 2 : 1; }
  /// A replica connection was lost or failed its check: refresh the list after `delay`.
  void replicas_wanted(std::chrono::milliseconds delay) { feed(fsm_.on_replicas_wanted(delay)); }
  /// Adds a follower (held weakly); it hears the node in use at once when
  /// there is one.
  void follow(const std::shared_ptr<master_follower>& f) {
    followers_.push_back(f);
    if (serving_id_) f->on_master(serving_, serving_verified_);
  }
  /// The node serving now (a verified master, or a replica in direct mode
  /// without `follow_master`), if any.
  std::optional<address> serving() const {
    if (serving_id_) return serving_;
    return std::nullopt;
  }
  /// True while a follower is catching up with a new master.
  bool followers_settling() const {
    for (const auto& w : followers_)
      if (auto f = w.lock(); f && f->settling()) return true;
    return false;
  }
  /// A follower settled: when none is settling any more, the owner hears it.
  void follower_settled() {
    if (owner_ && !followers_settling()) owner_->on_followers_settled();
  }
  /// Closes the retired connections now (the subscriber, once its new
  /// subscriptions are confirmed).
  void drop_retired() {
    auto r = std::move(retiring_);
    retiring_.clear();
    for (auto& c : r) c->close();
  }

 private:
  static master_fsm::time_point now() { return master_fsm::clock::now(); }
  std::weak_ptr<master_driver> weak() { return this->shared_from_this(); }

  // Runs actions in order; actions produced while running (a handler that
  // calls back) are queued behind them.
  void feed(fsm_actions acts) {
    for (auto& a : acts) pending_.push_back(std::move(a));
    if (running_) return;
    running_ = true;
    while (!pending_.empty()) {
      fsm_action a = std::move(pending_.front());
      pending_.pop_front();
      execute(a);
    }
    running_ = false;
  }

  std::shared_ptr<connection_type> conn(std::uint64_t id) {
    auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second;
  }

  void execute(fsm_action& a) {
    using t = fsm_action::type;
    switch (a.what) {
      case t::query: return query(a);
      case t::connect: return connect(a.id, a.addr);
      case t::send_role: return send_role(a.id);
      case t::ready:
        // Followers first: a subscriber that starts re-subscribing holds the
        // owner's PUBLISHes, which the owner sends when it hears of the master.
        serving_id_ = a.id;
        serving_ = a.addr;
        serving_verified_ = a.flag;
        tell_followers([&](master_follower& f) { f.on_master(a.addr, a.flag); });
        if (auto c = conn(a.id); c && owner_) owner_->on_ready(a.id, c, a.addr, a.flag, verify_[a.id]);
        verify_.erase(a.id);
        return;
      case t::unready:
        if (owner_) owner_->on_unready(a.id);
        if (a.id == serving_id_) {
          serving_id_ = 0;
          tell_followers([](master_follower& f) { f.on_master_lost(); });
        }
        return;
      case t::hold:
        tell_followers([&](master_follower& f) { f.on_hold(a.flag); });
        if (owner_) owner_->on_hold(a.flag);
        return;
      case t::retire: return retire(a.id);
      case t::drop:
        if (auto c = conn(a.id)) c->close();
        conns_.erase(a.id);
        verify_.erase(a.id);
        return;
      case t::arm: return arm(a.timer, a.after);
      case t::cancel:
        timers_.erase(a.timer);  // destroying a timer cancels its wait
        return;
      case t::watch: return watch(a.id, a.addr);
      case t::unwatch:
        if (auto it = links_.find(a.id); it != links_.end()) {
          it->second->stop();
          links_.erase(it);
        }
        return;
      case t::replicas:
        if (owner_) owner_->on_replicas(a.addrs);
        return;
      case t::fail_waiting:
        if (owner_) owner_->on_fail_waiting(a.ec);
        return;
      case t::emit:
        if (a.level != log_level::off && !a.text.empty() && log().enabled(a.level)) log().sink(a.level, a.text);
        if (owner_) owner_->on_event(a.event);
        return;
      case t::shutdown: return shutdown();
      case t::probe: return probe(a.id, a.addr);
    }
  }

  void query(const fsm_action& a) {
    if (round_) round_->cancel();
    if (!dialects_) dialects_ = std::make_shared<sentinel_dialects>(log());
    round_ = std::make_shared<sentinel_round<Stream>>(ex_, factory_, sentinel_query_config(sentinel_, log()),
                                                       sentinel_.master_name, dialects_);
    round_->start(a.targets, [weak = weak(), id = a.id](std::uint64_t slot, const sentinel_answer& ans) {
      if (auto self = weak.lock()) self->feed(self->fsm_.on_sentinel_answer(id, slot, ans, now()));
    });
  }

  void connect(std::uint64_t id, const address& addr) {
    auto c = factory_(ex_, data_, node_kind::data);
    if (owner_) owner_->prepare(*c);
    conns_[id] = c;
    c->async_connect(addr, [weak = weak(), id, c](std::error_code ec) {
      auto self = weak.lock();
      if (!self) return c->close();
      self->feed(self->fsm_.on_connected(id, ec, ec.message(), now()));
      if (ec) return;
      c->async_wait_closed([weak, id](std::error_code why) {
        if (auto self = weak.lock()) self->feed(self->fsm_.on_closed(id, why, now()));
      });
    });
  }

  void send_role(std::uint64_t id) {
    auto c = conn(id);
    if (!c) return;
    request r;
    r.push("ROLE");
    const bool history = fsm_.tracks_history();
    if (history) r.push("INFO", "replication");
    if (owner_) owner_->verify_request(c, r);
    c->async_exec(std::move(r), [weak = weak(), id, history](std::error_code ec, response resp) {
      auto self = weak.lock();
      if (!self) return;
      role_info info;
      std::string raw;
      if (!ec && resp.size() < (history ? 2u : 1u)) ec = error::protocol_error;
      if (!ec) {
        info = parse_role(resp[0]);
        if (history) parse_replication(resp[1], info);
        raw = resp[0].to_string();
        self->verify_[id] = std::move(resp);
      }
      self->feed(self->fsm_.on_role(id, ec, info, raw, now()));
    });
  }

  // A short connection of its own: connect, ROLE and INFO replication, report, close.
  void probe(std::uint64_t id, const address& addr) {
    connection_config cfg = data_;
    cfg.health_check_interval = std::chrono::milliseconds(0);
    cfg.request_timeout = cfg.connect_timeout;
    cfg.redirect_capability = false;  // ROLE only
    cfg.client_name = data_.client_name.empty() ? "redis_ha-probe" : data_.client_name;
    auto c = factory_(ex_, cfg, node_kind::data);
    c->async_connect(addr, [weak = weak(), id, c](std::error_code ec) {
      auto self = weak.lock();
      if (!self || ec) {
        c->close();
        if (self) self->feed(self->fsm_.on_probe(id, ec ? ec : make_error_code(error::client_closed), {}, now()));
        return;
      }
      request r;
      r.push("ROLE");
      r.push("INFO", "replication");
      c->async_exec(std::move(r), [weak, id, c](std::error_code ec, response resp) {
        c->close();
        auto self = weak.lock();
        if (!self) return;
        role_info info;
        if (!ec && !resp.empty()) info = parse_role(resp[0]);
        if (!ec && resp.size() >= 2) parse_replication(resp[1], info);
        self->feed(self->fsm_.on_probe(id, ec, info, now()));
      });
    });
  }

  void retire(std::uint64_t id) {
    auto c = conn(id);
    conns_.erase(id);
    verify_.erase(id);
    if (!c || !c->is_open()) return;
    retiring_.push_back(c);
    auto timer = std::make_shared<asio::steady_timer>(ex_, retire_grace);
    timer->async_wait([weak = weak(), c, timer](std::error_code) {
      c->close();
      if (auto self = weak.lock()) {
        auto& r = self->retiring_;
        r.erase(std::remove(r.begin(), r.end(), c), r.end());
      }
    });
  }

  void arm(fsm_timer t, std::chrono::milliseconds after) {
    auto& slot = timers_[t];
    slot = std::make_unique<asio::steady_timer>(ex_, after);
    slot->async_wait([weak = weak(), t, raw = slot.get()](std::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      auto it = self->timers_.find(t);
      if (it == self->timers_.end() || it->second.get() != raw) return;  // re-armed meanwhile
      self->timers_.erase(it);
      self->feed(self->fsm_.on_timer(t, now()));
    });
  }

  void watch(std::uint64_t slot, const address& addr) {
    if (auto it = links_.find(slot); it != links_.end()) it->second->stop();
    auto link = std::make_shared<sentinel_link<Stream>>(ex_, factory_, sentinel_, log(), fsm_.config().address_map);
    links_[slot] = link;
    auto w = weak();
    link->start(addr, {[w, slot] {
                         if (auto self = w.lock()) self->feed(self->fsm_.on_watch_up(slot, now()));
                       },
                       [w](const sentinel_event& ev) {
                         if (auto self = w.lock()) self->feed(self->fsm_.on_sentinel_event(ev, now()));
                       },
                       [w, slot](std::error_code) {
                         if (auto self = w.lock()) self->feed(self->fsm_.on_watch_lost(slot, now()));
                       }});
  }

  template <class F>
  void tell_followers(F f) {
    followers_.erase(std::remove_if(followers_.begin(), followers_.end(), [](const auto& w) { return w.expired(); }),
                     followers_.end());
    auto all = followers_;  // a follower may be added meanwhile
    for (auto& w : all)
      if (auto p = w.lock()) f(*p);
  }

  void shutdown() {
    serving_id_ = 0;
    auto followers = std::move(followers_);
    followers_.clear();
    for (auto& w : followers)
      if (auto p = w.lock()) p->on_driver_closed();
    if (round_) round_->cancel();
    round_.reset();
    auto conns = std::move(conns_);
    conns_.clear();
    for (auto& [id, c] : conns) c->close();
    drop_retired();
    auto links = std::move(links_);
    links_.clear();
    for (auto& [slot, l] : links) l->stop();
    timers_.clear();
    verify_.clear();
  }

  executor_type ex_;
  master_fsm fsm_;
  connection_config data_;
  sentinel_config sentinel_;
  connection_factory<Stream> factory_;
  owner_type* owner_ = nullptr;

  std::deque<fsm_action> pending_;
  bool running_ = false;
  std::shared_ptr<sentinel_round<Stream>> round_;
  std::shared_ptr<sentinel_dialects> dialects_;  // which sentinels need the master-named commands
  std::map<std::uint64_t, std::shared_ptr<connection_type>> conns_;
  std::map<std::uint64_t, response> verify_;
  std::vector<std::shared_ptr<connection_type>> retiring_;
  std::map<fsm_timer, std::unique_ptr<asio::steady_timer>> timers_;
  std::map<std::uint64_t, std::shared_ptr<sentinel_link<Stream>>> links_;
  std::vector<std::weak_ptr<master_follower>> followers_;
  std::uint64_t serving_id_ = 0;
  address serving_{"", 0};
  bool serving_verified_ = false;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_MASTER_DRIVER_HPP
