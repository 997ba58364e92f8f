#ifndef REDIS_HA_DETAIL_CLIENT_IMPL_HPP
#define REDIS_HA_DETAIL_CLIENT_IMPL_HPP

/// @file
/// The state machine of `basic_client`: resolve -> connect -> verify ROLE
/// -> ready -> (lost | READONLY | Sentinel event) -> resolve. Requests that
/// find no verified master wait in `waiting_`; the retry rule lives in
/// `retry_policy.hpp`.

#include <redis_ha/address.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/client_event.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/backoff.hpp>
#include <redis_ha/detail/completion.hpp>
#include <redis_ha/detail/retry_policy.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/request.hpp>
#include <redis_ha/sentinel.hpp>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

template <class Stream>
class client_impl : public std::enable_shared_from_this<client_impl<Stream>> {
 public:
  using executor_type = typename Stream::executor_type;
  using connection_type = basic_connection<Stream>;

  client_impl(const executor_type& ex, client_config cfg, connection_factory<Stream> factory)
      : ex_(ex),
        cfg_(std::move(cfg)),
        factory_(std::move(factory)),
        backoff_(cfg_.backoff_min, cfg_.backoff_max),
        retry_timer_(ex),
        budget_timer_(ex),
        hold_timer_(ex),
        replica_timer_(ex) {
    if (!factory_) throw std::invalid_argument("redis_ha: this stream type needs a connection factory (see tls.hpp)");
    if (!cfg_.sentinel.sentinels.empty())
      sentinel_ = std::make_unique<basic_sentinel<Stream>>(ex_, cfg_.sentinel, cfg_.address_map, log(), factory_);
  }

  const executor_type& executor() const noexcept { return ex_; }
  bool ready() const noexcept { return master_ && master_->is_open() && verified_master_; }
  std::optional<address> master() const {
    if (ready()) return master_addr_;
    return std::nullopt;
  }
  const client_stats& stats() const noexcept {
    stats_.replicas = replicas_.size();
    return stats_;
  }
  const std::string& last_error_detail() const noexcept { return last_detail_; }

  void start() {
    asio::post(ex_, [self = this->shared_from_this()] { self->ensure_connecting(); });
  }

  template <class Handler>
  void start_exec(request req, Handler&& handler) {
    auto p = std::make_unique<pending>();
    p->req = std::move(req);
    p->handler = any_completion<std::error_code, response>(std::forward<Handler>(handler), ex_);
    ++stats_.requests;
    if (closed_) return finish(std::move(p), error::client_closed, {}, true);
    if (p->req.empty()) return finish(std::move(p), error::empty_request, {}, true);
    if (has(p->req.flags(), command_flags::pubsub)) return finish(std::move(p), error::unsupported_command, {}, true);
    if (!try_dispatch(p)) enqueue(std::move(p), true);
  }

  template <class Handler>
  void start_wait_ready(Handler&& handler) {
    any_completion<std::error_code> h(std::forward<Handler>(handler), ex_);
    if (closed_) return h.post(error::client_closed);
    if (ready()) return h.post(std::error_code{});
    ready_waiters_.push_back({std::move(h), clock::now() + cfg_.failover_budget});
    arm_budget(ready_waiters_.back().deadline);
    ensure_connecting();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    retry_timer_.cancel();
    budget_timer_.cancel();
    hold_timer_.cancel();
    if (sentinel_) sentinel_->close();
    if (master_) master_->close();
    auto retiring = std::move(retiring_);
    retiring_.clear();
    for (auto& c : retiring) c->close();
    replica_timer_.cancel();
    auto replicas = std::move(replicas_);  // closing runs handlers that edit replicas_
    replicas_.clear();
    for (auto& r : replicas) r.conn->close();
    fail_waiting(error::client_closed, true);  // posted: never inside close()
  }

 private:
  struct pending {
    request req;
    clock::time_point created = clock::now();
    any_completion<std::error_code, response> handler;
    clock::time_point deadline = clock::time_point::max();
  };
  using pending_ptr = std::unique_ptr<pending>;

  struct ready_waiter {
    any_completion<std::error_code> handler;
    clock::time_point deadline;
  };

  const redis_ha::logger& log() const noexcept { return cfg_.connection.logger; }

  void emit(client_event::kind k, const address& node = address{"", 0}, std::error_code ec = {}, std::string detail = {},
            const address& previous = address{"", 0}, std::chrono::milliseconds unavailable = {}) {
    if (!cfg_.on_event) return;
    client_event ev;
    ev.type = k;
    ev.node = node;
    ev.previous = previous;
    ev.ec = ec;
    ev.detail = std::move(detail);
    ev.unavailable = unavailable;
    cfg_.on_event(ev);
  }

  address mapped(const address& a) const { return cfg_.address_map ? cfg_.address_map(a) : a; }

  // --- requests --------------------------------------------------------------

  bool can_send() const noexcept { return !hold_ && master_ && master_->is_open(); }

  // Sends `p` now if a suitable node is up (and takes it), else leaves it.
  bool try_dispatch(pending_ptr& p) {
    if (cfg_.read_from != read_from::master && p->req.read_only()) {
      if (auto conn = pick_replica()) {
        send_on(conn, std::move(p), false);
        return true;
      }
      if (cfg_.read_from == read_from::replica) return false;
    }
    if (!can_send()) return false;
    if (p->req.has_write() && !verified_master_) {
      ++stats_.refused_not_master;
      finish(std::move(p), error::not_master, {}, true);
      return true;
    }
    const bool durable = cfg_.min_replicas_acked > 0 && p->req.has_write();
    send_on(master_, std::move(p), durable);
    return true;
  }

  void send_on(const std::shared_ptr<connection_type>& conn, pending_ptr p, bool durable) {
    const request& r = p->req;  // lives on the heap with *p, which the handler owns
    auto handler = [self = this->shared_from_this(), p = std::move(p), conn, durable](std::error_code ec,
                                                                                   response resp) mutable {
      self->on_result(std::move(p), conn, ec, std::move(resp), durable);
    };
    if (!durable) return conn->async_exec(r, std::move(handler));
    // The WAIT leaves in the same write as the request.
    request with_wait = r;
    with_wait.push("WAIT", cfg_.min_replicas_acked, cfg_.replication_timeout.count());
    conn->async_exec(with_wait, std::move(handler));
  }

  void on_result(pending_ptr p, const std::shared_ptr<connection_type>& conn, std::error_code ec, response resp,
                 bool durable) {
    long long acked = -1;
    if (durable && !ec && !resp.empty()) {
      if (resp.back().is_integer()) acked = resp.back().as_integer();
      resp.pop_back();
    }
    auto d = decide(p->req, ec, resp);
    if (d.failover_signal) {
      std::error_code why = ec ? ec : std::error_code(error::role_mismatch);
      if (conn != master_) {
        conn->close();  // a replica that lost its link (-MASTERDOWN) or its connection: out of the pool
      } else {
        on_failover_signal(conn, why, ec ? ec.message() : "the node answered -READONLY");
      }
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
    emit(client_event::kind::retry, master_addr_, ec);
    if (!try_dispatch(p)) enqueue(std::move(p), false);
  }

  void enqueue(pending_ptr p, bool from_initiation) {
    if (waiting_.size() >= cfg_.max_queued) return finish(std::move(p), error::queue_full, {}, from_initiation);
    if (p->deadline == clock::time_point::max()) p->deadline = clock::now() + cfg_.failover_budget;
    arm_budget(p->deadline);
    waiting_.push_back(std::move(p));
    ensure_connecting();
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
    if (waiting_.empty()) return;
    std::deque<pending_ptr> left;
    auto all = std::move(waiting_);
    waiting_.clear();
    for (auto& p : all)
      if (!try_dispatch(p)) left.push_back(std::move(p));
    for (auto& p : waiting_) left.push_back(std::move(p));  // queued meanwhile by completions
    waiting_.swap(left);
  }

  void fail_waiting(std::error_code ec, bool post = false) {
    auto all = std::move(waiting_);
    waiting_.clear();
    for (auto& p : all) finish(std::move(p), ec, {}, post);
    auto waiters = std::move(ready_waiters_);
    ready_waiters_.clear();
    for (auto& w : waiters) post ? w.handler.post(ec) : w.handler.dispatch(ec);
  }

  // --- replicas (read_from) ---------------------------------------------------

  std::shared_ptr<connection_type> pick_replica() {
    for (std::size_t n = 0; n < replicas_.size(); ++n) {
      auto& r = replicas_[next_replica_++ % replicas_.size()];
      if (r.conn->is_open() && r.addr != master_addr_) return r.conn;
    }
    return nullptr;
  }

  // Connects to and verifies the replicas not in the pool yet. Sentinel
  // mode asks the sentinels for the current list first.
  void refresh_replicas() {
    if (cfg_.read_from == read_from::master || closed_) return;
    replica_timer_.expires_after(std::chrono::seconds(5));
    replica_timer_.async_wait([self = this->shared_from_this()](std::error_code ec) {
      if (!ec && !self->closed_) self->refresh_replicas();
    });
    if (refreshing_replicas_) return;  // the timer above runs the next one
    refreshing_replicas_ = true;
    if (sentinel_) {
      sentinel_->async_resolve([self = this->shared_from_this()](std::error_code ec, address) {
        self->refreshing_replicas_ = false;
        if (ec || self->closed_) return;
        std::vector<address> candidates;
        for (const auto& r : self->sentinel_->replicas())
          if (r.healthy() && (r.link_status.empty() || r.link_status == "ok")) candidates.push_back(r.addr);
        self->add_replicas(candidates);
      });
    } else {
      refreshing_replicas_ = false;
      add_replicas(master_replicas_);
    }
  }

  void add_replicas(const std::vector<address>& candidates) {
    // Forget replicas that were promoted or are no longer listed.
    std::vector<std::shared_ptr<connection_type>> dropped;
    replicas_.erase(std::remove_if(replicas_.begin(), replicas_.end(),
                                   [&](const replica_node& r) {
                                     bool listed = std::find(candidates.begin(), candidates.end(), r.addr) !=
                                                   candidates.end();
                                     if (listed && r.addr != master_addr_ && r.conn->is_open()) return false;
                                     dropped.push_back(r.conn);
                                     return true;
                                   }),
                    replicas_.end());
    for (auto& c : dropped) c->close();  // after the erase: closing runs handlers that edit replicas_
    for (const auto& a : candidates) {
      if (a == master_addr_) continue;
      bool known = false;
      for (auto& r : replicas_) known = known || r.addr == a;
      if (!known) verify_replica(a);
    }
  }

  void verify_replica(const address& a) {
    auto conn = factory_(ex_, cfg_.connection, node_kind::data);
    conn->async_connect(a, [self = this->shared_from_this(), conn, a](std::error_code ec) {
      if (ec || self->closed_) return conn->close();
      request role;
      role.push("ROLE");
      conn->async_exec(role, [self, conn, a](std::error_code ec, response r) {
        if (ec || self->closed_) return conn->close();
        auto info = parse_role(r.at(0));
        if (info.role != role_info::kind::replica || info.link_state != "connected") {
          self->log().log(log_level::info, "redis_ha: {} not used for reads (ROLE {})", a.to_string(),
                          r.at(0).to_string());
          return conn->close();
        }
        for (auto& known : self->replicas_)
          if (known.addr == a) return conn->close();  // verified twice concurrently
        self->replicas_.push_back({a, conn});
        self->emit(client_event::kind::replica_added, a);
        conn->async_wait_closed([weak = std::weak_ptr<client_impl>(self), conn, a](std::error_code) {
          auto s = weak.lock();
          if (!s) return;
          auto& v = s->replicas_;
          v.erase(std::remove_if(v.begin(), v.end(), [&](const replica_node& n) { return n.conn == conn; }),
                  v.end());
        });
        self->flush();  // reads waiting for a replica
      });
    });
  }

  // --- the budget ------------------------------------------------------------

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

  // The error a request that waited too long gets: the resolution error
  // when it explains the wait, else master_unavailable.
  std::error_code budget_error() const {
    if (last_error_ == error::no_sentinel_reachable || last_error_ == error::master_name_unknown ||
        last_error_ == error::auth_failed)
      return last_error_;
    return error::master_unavailable;
  }

  void expire_waiting() {
    const auto now = clock::now();
    clock::time_point next = clock::time_point::max();
    std::deque<pending_ptr> keep;
    std::vector<pending_ptr> expired;
    for (auto& p : waiting_) {
      if (p->deadline <= now)
        expired.push_back(std::move(p));
      else {
        next = std::min(next, p->deadline);
        keep.push_back(std::move(p));
      }
    }
    waiting_.swap(keep);
    std::vector<ready_waiter> late;
    for (auto it = ready_waiters_.begin(); it != ready_waiters_.end();) {
      if (it->deadline <= now) {
        late.push_back(std::move(*it));
        it = ready_waiters_.erase(it);
      } else {
        next = std::min(next, it->deadline);
        ++it;
      }
    }
    if (!expired.empty() || !late.empty())
      log().log(log_level::error, "redis_ha: no verified master within {} ms: {} request(s) failed; last error: {}",
                cfg_.failover_budget.count(), expired.size(), last_detail_);
    const auto ec = budget_error();
    for (auto& p : expired) finish(std::move(p), ec, {}, false);
    for (auto& w : late) w.handler.dispatch(ec);
    if (next != clock::time_point::max()) arm_budget(next);
  }

  // --- failover signals -------------------------------------------------------

  void on_failover_signal(const std::shared_ptr<connection_type>& conn, std::error_code why, std::string detail) {
    if (closed_ || conn != master_) return;  // closing, or a connection already given up
    master_lost(why, std::move(detail));
  }

  void master_lost(std::error_code why, std::string detail) {
    if (!master_) return;
    log().log(log_level::warning, "redis_ha: master {} lost: {}", master_addr_.to_string(), detail);
    emit(client_event::kind::master_lost, master_addr_, why, detail);
    retire(std::move(master_));
    master_.reset();
    verified_master_ = false;
    if (!hold_) lost_at_ = clock::now();  // a hold already started the unavailability
    hold_ = false;
    hold_timer_.cancel();
    ensure_connecting();
  }

  // Stops sending to `conn` and closes it once its in-flight requests had
  // a moment to finish.
  void retire(std::shared_ptr<connection_type> conn) {
    if (!conn || !conn->is_open()) return;
    retiring_.push_back(conn);
    auto timer = std::make_shared<asio::steady_timer>(ex_, std::chrono::milliseconds(500));
    timer->async_wait([self = this->shared_from_this(), conn, timer](std::error_code) {
      conn->close();
      auto& r = self->retiring_;
      r.erase(std::remove(r.begin(), r.end(), conn), r.end());
    });
  }

  void on_sentinel_event(const sentinel_event& ev) {
    if (closed_) return;
    emit(client_event::kind::failover_hint, ev.node, {}, ev.channel);
    switch (ev.type) {
      case sentinel_event::kind::promoting:
        // The master is about to be replaced: stop writing to it.
        if (master_ && !hold_) {
          log().log(log_level::info, "redis_ha: promotion of {} announced; holding writes", ev.node.to_string());
          hold_ = true;
          lost_at_ = clock::now();  // writes stop flowing now
          hold_timer_.expires_after(cfg_.promotion_hold);
          hold_timer_.async_wait([self = this->shared_from_this()](std::error_code ec) {
            if (ec || !self->hold_ || self->closed_) return;
            self->master_lost(error::master_unavailable, "promotion announced but not confirmed in time");
          });
        }
        break;
      case sentinel_event::kind::aborted:
        if (hold_) {
          hold_ = false;
          hold_timer_.cancel();
          flush();
        }
        break;
      case sentinel_event::kind::promoted:
      case sentinel_event::kind::switch_master:
        if (ev.node.host.empty()) break;
        if (connecting_ && target_ == ev.node) break;  // the same news from another sentinel
        if (master_ && master_addr_ == ev.node) {
          hold_ = false;
          hold_timer_.cancel();
          flush();
          break;
        }
        // Go straight to the announced master (ROLE still decides).
        if (master_) {
          if (!hold_) lost_at_ = clock::now();
          emit(client_event::kind::master_lost, master_addr_, error::role_mismatch, ev.channel);
          retire(std::move(master_));
          master_.reset();
          verified_master_ = false;
        }
        hold_ = false;
        hold_timer_.cancel();
        connect_to(ev.node, true);
        break;
      default:
        break;
    }
  }

  // --- resolve, connect, verify ------------------------------------------------

  void ensure_connecting() {
    if (connecting_ || closed_ || master_) return;
    connecting_ = true;
    const auto gen = ++generation_;
    ++stats_.resolutions;
    if (sentinel_) {
      sentinel_->async_resolve([self = this->shared_from_this(), gen](std::error_code ec, address a) {
        if (gen != self->generation_ || self->closed_) return;
        if (ec) return self->attempt_failed(ec, self->sentinel_->last_error_detail());
        self->emit(client_event::kind::resolved, a);
        if (self->cfg_.sentinel.watch_events)
          self->sentinel_->watch([weak = std::weak_ptr<client_impl>(self)](const sentinel_event& ev) {
            if (auto s = weak.lock()) s->on_sentinel_event(ev);
          });
        self->verify(a, gen, 0);
      });
      return;
    }
    if (cfg_.addresses.empty()) return attempt_failed(error::master_unreachable, "no address configured");
    const address a = mapped(cfg_.addresses[next_address_++ % cfg_.addresses.size()]);
    emit(client_event::kind::resolved, a);
    verify(a, gen, 0);
  }

  // Abandons any attempt in progress and connects to `a` now.
  void connect_to(const address& a, bool from_hint) {
    if (closed_) return;
    connecting_ = true;
    retry_timer_.cancel();
    const auto gen = ++generation_;
    if (from_hint) backoff_.reset();
    verify(a, gen, 0);
  }

  void verify(const address& a, std::uint64_t gen, int hops) {
    target_ = a;
    auto conn = factory_(ex_, cfg_.connection, node_kind::data);
    conn->async_connect(a, [self = this->shared_from_this(), conn, a, gen, hops](std::error_code ec) {
      if (gen != self->generation_ || self->closed_) return conn->close();
      if (ec) {
        const error e = ec == error::auth_failed ? error::auth_failed : error::master_unreachable;
        return self->attempt_failed(make_error_code(e), a.to_string() + ": " + ec.message());
      }
      ++self->stats_.connects;
      self->emit(client_event::kind::connected, a);
      request role;
      role.push("ROLE");
      conn->async_exec(role, [self, conn, a, gen, hops](std::error_code ec, response r) {
        if (gen != self->generation_ || self->closed_) return conn->close();
        if (ec) return self->attempt_failed(error::master_unreachable, a.to_string() + ": ROLE: " + ec.message());
        auto info = parse_role(r.at(0));
        if (info.role == role_info::kind::master) {
          self->master_replicas_.clear();
          for (const auto& rep : info.replicas) self->master_replicas_.push_back(self->mapped(rep));
          return self->install(conn, a, true);
        }
        const bool direct = !self->sentinel_;
        if (info.role == role_info::kind::replica && direct && self->cfg_.follow_master && hops < 3) {
          conn->close();
          const address next = self->mapped(info.master);
          self->log().log(log_level::info, "redis_ha: {} is a replica of {}; following", a.to_string(),
                          next.to_string());
          return self->verify(next, gen, hops + 1);
        }
        if (info.role == role_info::kind::replica && direct && !self->cfg_.follow_master)
          return self->install(conn, a, false);
        conn->close();
        self->attempt_failed(error::role_mismatch,
                             a.to_string() + " answered ROLE " + (r.empty() ? std::string("?") : r[0].to_string()));
      });
    });
  }

  void attempt_failed(std::error_code ec, std::string detail) {
    connecting_ = false;
    last_error_ = ec;
    last_detail_ = std::move(detail);
    emit(client_event::kind::resolve_failed, {}, ec, last_detail_);
    log().log(log_level::warning, "redis_ha: no verified master yet ({}): {}", ec.message(), last_detail_);
    if (ec == error::master_name_unknown || ec == error::auth_failed) fail_waiting(ec);  // configuration errors
    const auto delay = backoff_.next();
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([self = this->shared_from_this()](std::error_code e) {
      if (!e && !self->closed_) self->ensure_connecting();
    });
  }

  void install(const std::shared_ptr<connection_type>& conn, const address& a, bool is_master) {
    connecting_ = false;
    backoff_.reset();
    last_error_.clear();
    const bool changed = had_master_ && previous_master_ != a;
    master_ = conn;
    master_addr_ = a;
    verified_master_ = is_master;
    hold_ = false;
    hold_timer_.cancel();
    if (is_master) emit(client_event::kind::role_verified, a);
    if (changed) {
      ++stats_.master_changes;
      auto unavailable = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - lost_at_);
      log().log(log_level::warning, "redis_ha: master changed {} -> {} (writes waited {} ms)",
                previous_master_.to_string(), a.to_string(), unavailable.count());
      emit(client_event::kind::master_changed, a, {}, {}, previous_master_, unavailable);
    }
    had_master_ = true;
    previous_master_ = a;
    std::weak_ptr<client_impl> weak = this->shared_from_this();
    conn->async_wait_closed([weak, conn](std::error_code ec) {
      if (auto self = weak.lock()) self->on_failover_signal(conn, ec, "connection closed: " + ec.message());
    });
    flush();
    refresh_replicas();
    auto waiters = std::move(ready_waiters_);
    ready_waiters_.clear();
    for (auto& w : waiters) w.handler.dispatch(std::error_code{});
  }

  executor_type ex_;
  client_config cfg_;
  connection_factory<Stream> factory_;
  std::unique_ptr<basic_sentinel<Stream>> sentinel_;
  backoff backoff_;
  asio::steady_timer retry_timer_;
  asio::steady_timer budget_timer_;
  asio::steady_timer hold_timer_;
  clock::time_point budget_armed_ = clock::time_point::max();

  std::shared_ptr<connection_type> master_;
  address master_addr_;
  bool verified_master_ = false;
  bool had_master_ = false;
  address previous_master_;
  clock::time_point lost_at_{};
  std::vector<std::shared_ptr<connection_type>> retiring_;

  struct replica_node {
    address addr;
    std::shared_ptr<connection_type> conn;
  };
  std::vector<replica_node> replicas_;
  std::vector<address> master_replicas_;  // direct mode: from the master's ROLE
  std::size_t next_replica_ = 0;
  bool refreshing_replicas_ = false;
  asio::steady_timer replica_timer_;

  std::deque<pending_ptr> waiting_;
  std::vector<ready_waiter> ready_waiters_;
  bool connecting_ = false;
  bool hold_ = false;
  bool closed_ = false;
  std::uint64_t generation_ = 0;
  address target_;  // the node being connected and verified
  std::size_t next_address_ = 0;
  std::error_code last_error_;
  std::string last_detail_;
  mutable client_stats stats_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CLIENT_IMPL_HPP
