#ifndef REDIS_HA_DETAIL_CLIENT_IMPL_HPP
#define REDIS_HA_DETAIL_CLIENT_IMPL_HPP

/// @file
/// The request side of `basic_client`: requests go to the connection the
/// HA core (`master_driver` + `master_fsm`) made ready, wait in a
/// `wait_queue` while there is none (bounded by `failover_budget`), and are
/// completed or resent by the retry rule (`retry_policy.hpp`). Reads may go
/// to the `replica_pool`.

#include <redis_ha/address.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/client_event.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/completion.hpp>
#include <redis_ha/detail/log_format.hpp>
#include <redis_ha/detail/master_driver.hpp>
#include <redis_ha/detail/replica_pool.hpp>
#include <redis_ha/detail/replica_watch.hpp>
#include <redis_ha/detail/retry_policy.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/detail/wait_queue.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/request.hpp>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

template <class Stream>
class client_impl : public std::enable_shared_from_this<client_impl<Stream>>, private master_owner<Stream> {
 public:
  using executor_type = typename Stream::executor_type;
  using connection_type = basic_connection<Stream>;

  /// `rules`: how replicas serve reads when they are a cluster shard's (see `replica_rules`).
  client_impl(const executor_type& ex, client_config cfg, connection_factory<Stream> factory, replica_rules rules = {})
      : ex_(ex),
        cfg_(std::move(cfg)),
        rules_(std::move(rules)),
        budget_timer_(ex),
        waiting_(cfg_.max_queued),
        ready_waiters_(cfg_.max_queued),
        factory_(factory) {
    if (!factory) throw std::invalid_argument("redis_ha: this stream type needs a connection factory (see tls.hpp)");
    driver_ = std::make_shared<master_driver<Stream>>(ex, make_fsm_config(cfg_), master_connection_config(cfg_),
                                                      cfg_.sentinel, factory);
    if (cfg_.read_from != read_from::master) {
      typename replica_pool<Stream>::handlers h;
      h.added = [this](const address& a) {
        emit(client_event::kind::replica_added, a);
        flush();  // reads waiting for a replica
      };
      h.lost = [this](const address&) {
        if (!closed_) driver_->replicas_wanted(std::chrono::milliseconds(500));
      };
      h.prepare = rules_.prepare;
      if (rules_.check)
        h.check = [this](const role_info& info) { return rules_.check(info, master_addr_); };
      auto replica_cfg = cfg_.connection;
      // Valkey redirects reads too on a connection with the capability (outside READONLY mode).
      replica_cfg.redirect_capability = false;
      pool_ = std::make_shared<replica_pool<Stream>>(ex, std::move(replica_cfg), std::move(factory), cfg_.read_from_zone,
                                                     std::move(h));
    }
  }
  ~client_impl() override { close(); }

  const executor_type& executor() const noexcept { return ex_; }
  bool ready() const noexcept { return !closed_ && master_ && master_->is_open() && verified_; }
  std::optional<address> master() const {
    if (ready()) return master_addr_;
    return std::nullopt;
  }
  std::string master_replication_id() const { return ready() ? driver_->fsm().master_replid() : std::string(); }
  const client_stats& stats() const noexcept {
    const auto& f = driver_->fsm().stats();
    stats_.resolutions = f.resolutions;
    stats_.connects = f.connects;
    stats_.master_changes = f.master_changes;
    stats_.replicas = pool_ ? pool_->size() : 0;
    return stats_;
  }
  const std::string& last_error_detail() const noexcept { return driver_->fsm().last_detail(); }

  /// What a subscriber built on this client shares: the HA core, the
  /// settings and the connection factory.
  const std::shared_ptr<master_driver<Stream>>& driver() const noexcept { return driver_; }
  const client_config& config() const noexcept { return cfg_; }
  const connection_factory<Stream>& factory() const noexcept { return factory_; }

  void start() {
    asio::post(ex_, [self = this->shared_from_this()] {
      if (!self->closed_) self->driver_->start(self.get());
    });
  }

  /// Runs `req`; `replica_ok` false keeps a read on the master even under
  /// `read_from` (the cluster client's resend after `-MOVED`, which names a
  /// master). `since` starts the request's `failover_budget` (a cluster
  /// request resent after a redirection keeps the budget of its first send).
  template <class Handler>
  void start_exec(request req, Handler&& handler, bool replica_ok = true, clock::time_point since = clock::now()) {
    auto p = std::make_unique<pending>();
    p->req = std::move(req);
    p->created = since;
    p->replica_ok = replica_ok;
    p->handler = any_completion<std::error_code, response>(std::forward<Handler>(handler), ex_);
    ++stats_.requests;
    if (auto ec = refused_before_send(p->req, closed_)) return finish(std::move(p), ec, {}, true);
    if (!try_dispatch(p)) enqueue(std::move(p), true);
  }

  template <class Handler>
  void start_wait_ready(Handler&& handler) {
    any_completion<std::error_code> h(std::forward<Handler>(handler), ex_);
    if (closed_) return h.post(error::client_closed);
    if (ready()) return h.post(std::error_code{});
    if (ready_waiters_.full()) return h.post(error::queue_full);
    const auto deadline = clock::now() + cfg_.failover_budget;
    ready_waiters_.push(std::move(h), deadline);
    arm_budget(deadline);
  }

  /// Replicas known besides those of the HA core (a cluster shard's, from
  /// the slot map): also candidates for reads, verified as the others.
  void replica_hint(std::vector<address> replicas) {
    if (!closed_ && pool_) pool_->hint(std::move(replicas), master_addr_);
  }

  /// The cluster client learned (a `-MOVED` into this shard, a new slot
  /// map) that the master in use may no longer be the master: the HA core
  /// verifies again, as after `-READONLY`.
  void master_suspect() {
    if (!closed_ && master_id_) driver_->readonly(master_id_);
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    driver_->close();
    if (pool_) pool_->close();
    budget_timer_.cancel();
    master_.reset();
    fail_waiting(error::client_closed, true);  // posted: never inside close()
  }

 private:
  struct pending {
    request req;
    clock::time_point created = clock::now();
    any_completion<std::error_code, response> handler;
    clock::time_point deadline = clock::time_point::max();
    std::shared_ptr<const std::vector<address>> replicas;  // the master's replicas when sent (durable, direct)
    bool replica_ok = true;  // a read may go to a replica (read_from)
  };
  using pending_ptr = std::unique_ptr<pending>;
  using waiter = any_completion<std::error_code>;

  void emit(client_event::kind k, const address& node, std::error_code ec = {}, std::string detail = {}) {
    if (!cfg_.on_event) return;
    client_event ev;
    ev.type = k;
    ev.node = node;
    ev.ec = ec;
    ev.detail = std::move(detail);
    cfg_.on_event(ev);
  }

  // --- what the HA core says ---------------------------------------------------

  void on_ready(std::uint64_t id, const std::shared_ptr<connection_type>& conn, const address& node, bool verified,
                const response& verify) override {
    watch_.reset(verify.empty() ? std::vector<address>{} : parse_role(verify[0]).replicas);
    master_ = conn;
    master_id_ = id;
    master_addr_ = node;
    verified_ = verified;
    hold_ = false;
    proved_ = false;
    update_pool();
    flush();
    for (auto& w : ready_waiters_.take_all()) w.dispatch(std::error_code{});
  }
  void on_unready(std::uint64_t id) override {
    if (id != master_id_) return;
    master_.reset();
    master_id_ = 0;
    verified_ = false;
  }
  void on_hold(bool on) override {
    hold_ = on;
    if (on) return;
    watch_.released();
    flush();
  }
  void on_replicas(const std::vector<address>& replicas) override {
    replicas_ = replicas;
    update_pool();
  }
  void update_pool() {
    if (pool_) pool_->update(replicas_, master_addr_);
  }
  void on_fail_waiting(std::error_code ec) override { fail_waiting(ec); }
  void on_followers_settled() override { flush(); }
  void on_event(const client_event& ev) override {
    if (cfg_.on_event) cfg_.on_event(ev);
  }

  // --- requests ----------------------------------------------------------------

  bool can_send() const noexcept { return !hold_ && master_ && master_->is_open(); }

  // Sends `p` now if a suitable node is up (and takes it), else leaves it.
  bool try_dispatch(pending_ptr& p) {
    if (pool_ && p->replica_ok && p->req.read_only()) {
      auto conn = pool_->pick(master_addr_);
      switch (route_read(cfg_.read_from, true, conn != nullptr)) {
        case read_target::replica: send_on(conn, 0, std::move(p), false); return true;
        case read_target::wait: return false;
        case read_target::master: break;
      }
    }
    if (!can_send()) return false;
    // A subscriber of this process is re-subscribing on the new master: a
    // PUBLISH sent now would miss it (bounded by the subscriber's settle time).
    if (p->req.publishes() && driver_->followers_settling()) return false;
    if (p->req.has_write() && !verified_) {
      ++stats_.refused_not_master;
      finish(std::move(p), error::not_master, {}, true);
      return true;
    }
    const bool durable = cfg_.min_replicas_acked > 0 && p->req.has_write();
    send_on(master_, master_id_, std::move(p), durable);
    return true;
  }

  // `id`: the master connection's id in the HA core, 0 for a replica.
  void send_on(const std::shared_ptr<connection_type>& conn, std::uint64_t id, pending_ptr p, bool durable) {
    if (durable && checks_replicas()) p->replicas = watch_.snapshot();
    const request& r = p->req;  // lives on the heap with *p, which the handler owns
    auto handler = [self = this->shared_from_this(), p = std::move(p), conn, id, durable](std::error_code ec,
                                                                                       response resp) mutable {
      self->on_result(std::move(p), conn, id, ec, std::move(resp), durable);
    };
    if (!durable) return conn->async_exec(r, std::move(handler));
    // The WAIT (and ROLE) leave in the same write as the request (see on_result).
    conn->async_exec(durable_request(r, cfg_.min_replicas_acked, cfg_.replication_timeout, checks_replicas()),
                     std::move(handler));
  }

  bool checks_replicas() const noexcept { return driver_->fsm().tracks_history(); }

  // A durable write's trailing ROLE on connection `id` (see replica_watch):
  // a replica of the master in use that left makes the core hold writes and probe.
  bool replicas_intact(std::uint64_t id, const std::vector<address>& before, const reply& role) {
    const auto v = watch_.check(before, role, id == master_id_ && !closed_, hold_);
    if (v.replica_left) driver_->replica_left(id);
    return v.intact;
  }

  void on_result(pending_ptr p, const std::shared_ptr<connection_type>& conn, std::uint64_t id, std::error_code ec,
                 response resp, bool durable) {
    long long acked = -1;
    if (durable && !ec) {
      auto trailing = take_durable_replies(resp, p->replicas != nullptr);
      // WAIT's count is trusted only while the master kept its replicas.
      if (!trailing.role || replicas_intact(id, *p->replicas, *trailing.role)) acked = trailing.acked;
    }
    if (!id && !ec && rules_.stale && rules_.stale(resp, master_addr_))
      conn->close();  // a replica that no longer serves this shard: out of the pool (the caller follows its -MOVED)
    auto d = decide(p->req, ec, resp);
    if (d.failover_signal && !ec && !closed_) {
      // -READONLY / -MASTERDOWN / -REDIRECT: the node is no longer usable for this.
      if (id && !d.redirect.host.empty())
        driver_->redirect(id, d.redirect);
      else if (id)
        driver_->readonly(id);
      else
        conn->close();  // a replica that lost its master link: out of the pool
    } else if (!ec && id && id == master_id_ && !proved_ && !closed_) {
      proved_ = true;  // the first answer on this master: it works
      driver_->healthy(id);
    }
    if (d.what == retry_decision::action::complete && durable && !d.ec && acked < cfg_.min_replicas_acked) {
      // Ran on the master, not confirmed on enough replicas.
      const bool in_budget = clock::now() - p->created < cfg_.failover_budget;
      if (!p->req.idempotent() || !in_budget || closed_)
        return finish(std::move(p), error::not_replicated, std::move(resp), false);
      d.what = retry_decision::action::resend;
      ec = error::not_replicated;
    }
    if (d.what == retry_decision::action::complete) return finish(std::move(p), d.ec, std::move(resp), false);
    if (closed_) return finish(std::move(p), error::client_closed, {}, false);
    if (clock::now() - p->created >= cfg_.failover_budget)  // resends are bounded by the budget too
      return finish(std::move(p), budget_error(), {}, false);
    ++stats_.retries;
    emit(client_event::kind::retry, master_addr_, ec, resend_reason(ec));
    if (!try_dispatch(p)) enqueue(std::move(p), false);
  }

  void enqueue(pending_ptr p, bool from_initiation) {
    if (waiting_.full()) return finish(std::move(p), error::queue_full, {}, from_initiation);
    if (p->deadline == clock::time_point::max()) p->deadline = p->created + cfg_.failover_budget;  // one budget per request
    const auto deadline = p->deadline;
    waiting_.push(std::move(p), deadline);
    arm_budget(deadline);
  }

  void finish(pending_ptr p, std::error_code ec, response resp, bool post) {
    if (ec) {
      ++stats_.failed;
      if (ec == error::outcome_unknown || ec == error::master_unavailable || ec == error::not_master ||
          ec == error::no_sentinel_reachable || ec == error::master_name_unknown)
        emit(client_event::kind::request_failed, master_addr_, ec);
    } else {
      ++stats_.succeeded;
    }
    if (post)
      p->handler.post(ec, std::move(resp));
    else
      p->handler.dispatch(ec, std::move(resp));
  }

  // Sends every waiting request that can go now, keeping the others in order.
  void flush() {
    if (closed_) return;
    waiting_.drain([this](pending_ptr& p) { return try_dispatch(p); });
  }

  void fail_waiting(std::error_code ec, bool post = false) {
    for (auto& p : waiting_.take_all()) finish(std::move(p), ec, {}, post);
    for (auto& w : ready_waiters_.take_all()) post ? w.post(ec) : w.dispatch(ec);
  }

  // --- the budget ----------------------------------------------------------------

  void arm_budget(clock::time_point when) {
    if (when >= budget_armed_) return;
    budget_armed_ = when;
    budget_timer_.expires_at(when);
    budget_timer_.async_wait([self = this->shared_from_this(), when](std::error_code ec) {
      if (ec || self->closed_ || self->budget_armed_ != when) return;
      self->budget_armed_ = clock::time_point::max();
      self->expire_waiting();
    });
  }

  std::error_code budget_error() const { return detail::budget_error(driver_->fsm().last_error()); }

  void expire_waiting() {
    const auto now = clock::now();
    auto expired = waiting_.expire(now);
    auto late = ready_waiters_.expire(now);
    if (!expired.empty() || !late.empty())
      driver_->log().log(log_level::error,
                         "redis_ha: no verified master within {} ms: {} request(s) failed; last error: {}",
                         cfg_.failover_budget.count(), expired.size() + late.size(), last_error_detail());
    const auto ec = budget_error();
    for (auto& p : expired) finish(std::move(p), ec, {}, false);
    for (auto& w : late) w.dispatch(ec);
    const auto next = std::min(waiting_.next_deadline(), ready_waiters_.next_deadline());
    if (next != clock::time_point::max()) arm_budget(next);
  }

  executor_type ex_;
  client_config cfg_;
  replica_rules rules_;
  std::shared_ptr<master_driver<Stream>> driver_;
  std::shared_ptr<replica_pool<Stream>> pool_;
  asio::steady_timer budget_timer_;
  clock::time_point budget_armed_ = clock::time_point::max();

  std::shared_ptr<connection_type> master_;
  std::uint64_t master_id_ = 0;
  address master_addr_{"", 0};
  bool verified_ = false;
  bool hold_ = false;
  bool proved_ = false;
  bool closed_ = false;
  std::vector<address> replicas_;
  replica_watch watch_;  // the master's replicas by ROLE (durable writes)

  wait_queue<pending_ptr> waiting_;
  wait_queue<waiter> ready_waiters_;
  connection_factory<Stream> factory_;
  mutable client_stats stats_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CLIENT_IMPL_HPP
