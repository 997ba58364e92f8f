#ifndef REDIS_HA_DETAIL_CLUSTER_IMPL_HPP
#define REDIS_HA_DETAIL_CLUSTER_IMPL_HPP

/// @file
/// The I/O side of `basic_cluster_client`. Each shard is followed by the HA
/// core exactly as a Sentinel-less deployment is: a `client_impl` in direct
/// mode over the shard's nodes (its `master_fsm` walks them, verifies the
/// master by ROLE, follows a replica's ROLE to its master, backs off, and
/// applies the retry rule, the failover budget and `WAIT`). This layer only
/// routes (`cluster_keys.hpp`), reads the slot map (`cluster_map.hpp`),
/// follows redirections and paces refreshes (`cluster_fsm.hpp`).

#include <redis_ha/cluster_config.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/retry_policy.hpp>
#include <redis_ha/detail/client_impl.hpp>
#include <redis_ha/detail/cluster_fsm.hpp>
#include <redis_ha/detail/cluster_keys.hpp>
#include <redis_ha/detail/cluster_map.hpp>
#include <redis_ha/detail/completion.hpp>
#include <redis_ha/detail/wait_queue.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/request.hpp>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

template <class Stream>
class cluster_impl : public std::enable_shared_from_this<cluster_impl<Stream>> {
 public:
  using executor_type = typename Stream::executor_type;
  using connection_type = basic_connection<Stream>;
  using shard_client = client_impl<Stream>;

  cluster_impl(const executor_type& ex, cluster_config cfg, connection_factory<Stream> factory)
      : ex_(ex), cfg_(std::move(cfg)), factory_(std::move(factory)),
        // Map refreshes: quick in a burst, at most 5 a second while no node answers.
        gate_(cfg_.backoff_min, std::max(cfg_.backoff_max, std::chrono::milliseconds(200))), gate_timer_(ex),
        interval_timer_(ex), budget_timer_(ex), waiting_(cfg_.max_queued), slot_entry_(cluster_slots, -1) {
    if (!factory_) throw std::invalid_argument("redis_ha: this stream type needs a connection factory (see tls.hpp)");
    if (cfg_.seeds.empty()) throw std::invalid_argument("redis_ha::cluster_config: no seed node");
    pol_.max_redirects = cfg_.max_redirects;
    pol_.failover_budget = cfg_.failover_budget;
  }
  ~cluster_impl() { close(); }

  const executor_type& executor() const noexcept { return ex_; }
  const cluster_map& map() const noexcept { return map_; }
  const cluster_stats& stats() const noexcept {
    stats_.shards = map_.shards().size();
    return stats_;
  }
  const std::string& last_error_detail() const noexcept { return last_detail_; }
  /// True when every slot has a shard whose master is verified.
  bool ready() const noexcept {
    if (closed_ || map_.covered() != cluster_slots) return false;
    for (const auto& e : entries_)
      if (e.serving && !(e.client && e.client->ready())) return false;
    return true;
  }
  /// The verified master serving `slot`, if any.
  std::optional<address> master_for(int slot) const {
    if (slot < 0 || slot >= cluster_slots) return std::nullopt;
    const int i = slot_entry_[static_cast<std::size_t>(slot)];
    if (i < 0 || !entries_[static_cast<std::size_t>(i)].client) return std::nullopt;
    return entries_[static_cast<std::size_t>(i)].client->master();
  }

  void start() {
    asio::post(ex_, [self = this->shared_from_this()] { self->signal_refresh(); });
  }

  template <class Handler>
  void start_exec(request req, Handler&& handler) {
    auto p = std::make_unique<pending>();
    p->req = std::move(req);
    p->handler = any_completion<std::error_code, response>(std::forward<Handler>(handler), ex_);
    ++stats_.requests;
    if (auto ec = refused_before_send(p->req, closed_)) return finish(std::move(p), ec, {}, true);
    p->route = route_commands(p->req.payload());
    if (p->route.where == cluster_route::kind::refused) {
      ++stats_.refused;
      if (cfg_.connection.logger.enabled(log_level::debug))
        cfg_.connection.logger.log(log_level::debug, "redis_ha cluster: refused: {}", p->route.detail);
      const auto ec = p->route.ec;
      return finish(std::move(p), ec, {}, true);
    }
    p->deadline = p->created + cfg_.failover_budget;
    if (!try_dispatch(p)) enqueue(std::move(p), true);
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    gate_.reset();
    gate_timer_.cancel();
    interval_timer_.cancel();
    budget_timer_.cancel();
    for (auto& e : entries_)
      if (e.client) e.client->close();
    for (auto& p : waiting_.take_all()) finish(std::move(p), error::client_closed, {}, true);
  }

 private:
  using clock = std::chrono::steady_clock;
  struct pending {
    request req;
    cluster_route route;
    clock::time_point created = clock::now();
    clock::time_point deadline = clock::time_point::max();
    any_completion<std::error_code, response> handler;
    int redirects = 0;
    int retries = 0;
    std::optional<address> ask;  // the next attempt goes there, after ASKING
  };
  using pending_ptr = std::unique_ptr<pending>;
  struct entry {
    std::shared_ptr<shard_client> client;  // null once closed
    std::vector<address> addrs;           // the nodes its HA core walks
    bool serving = false;                 // holds slots in the current map
  };

  // --- shards -------------------------------------------------------------------

  int entry_holding(const address& a) const {
    for (std::size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].client && std::find(entries_[i].addrs.begin(), entries_[i].addrs.end(), a) != entries_[i].addrs.end())
        return static_cast<int>(i);
    return -1;
  }

  int make_entry(std::vector<address> addrs) {
    client_config c;
    c.addresses = addrs;
    c.follow_master = true;
    c.direct_probe_interval = std::chrono::milliseconds(0);  // MOVED and the map say when a shard fails over
    c.connection = cfg_.connection;
    c.failover_budget = cfg_.failover_budget;
    c.max_queued = cfg_.max_queued;
    c.backoff_min = cfg_.backoff_min;
    c.backoff_max = cfg_.backoff_max;
    c.min_replicas_acked = cfg_.min_replicas_acked;
    c.replication_timeout = cfg_.replication_timeout;
    std::weak_ptr<cluster_impl> weak = this->shared_from_this();
    c.on_event = [weak](const client_event& ev) {
      auto self = weak.lock();
      if (!self || self->closed_) return;
      if (self->cfg_.on_event) self->cfg_.on_event(ev);
      using k = client_event::kind;
      if (ev.type == k::master_lost || ev.type == k::master_changed || ev.type == k::resolve_failed)
        self->signal_refresh();  // a failover signal: the map may have changed
    };
    entry e;
    e.client = std::make_shared<shard_client>(ex_, std::move(c), factory_);
    e.addrs = std::move(addrs);
    e.client->start();
    entries_.push_back(std::move(e));
    return static_cast<int>(entries_.size() - 1);
  }

  // The entry for node `a` (an ASK or MOVED target), created when unknown.
  int entry_for(const address& a, const cluster_shard* shard) {
    int i = entry_holding(a);
    if (i >= 0) return i;
    return make_entry(shard && shard->holds(a) ? shard->addresses() : std::vector<address>{a});
  }

  void apply_map(cluster_map m, const address& from) {
    map_ = std::move(m);
    ++stats_.refreshes;
    std::vector<int> shard_entry;
    for (const auto& s : map_.shards()) {
      int i = entry_holding(s.master.addr);
      if (i < 0)
        for (const auto& a : s.addresses())
          if ((i = entry_holding(a)) >= 0) break;
      if (i < 0) i = make_entry(s.addresses());
      shard_entry.push_back(i);
    }
    for (auto& e : entries_) e.serving = false;
    for (int slot = 0; slot < cluster_slots; ++slot) {
      const auto* s = map_.shard_for(slot);
      int i = -1;
      if (s) {
        i = shard_entry[static_cast<std::size_t>(s - map_.shards().data())];
        entries_[static_cast<std::size_t>(i)].serving = true;
      }
      slot_entry_[static_cast<std::size_t>(slot)] = i;
    }
    // Nodes that left the cluster: nothing to follow there any more.
    for (auto& e : entries_) {
      if (!e.client || e.serving) continue;
      bool known = false;
      for (const auto& s : map_.shards())
        for (const auto& a : e.addrs) known = known || s.holds(a);
      if (!known) {
        e.client->close();
        e.client.reset();
      }
    }
    if (cfg_.on_event) {
      client_event ev;
      ev.type = client_event::kind::resolved;
      ev.node = from;
      ev.detail = "slot map: " + std::to_string(map_.shards().size()) + " shards, " + std::to_string(map_.covered()) +
                  " slots covered";
      cfg_.on_event(ev);
    }
    flush();
  }

  // -MOVED: the slot lives on `target` now (a migration, or a failover inside the shard).
  void apply_moved(int slot, const address& target) {
    map_.moved(slot, target);
    const int i = entry_for(target, map_.shard_for(slot));
    auto& e = entries_[static_cast<std::size_t>(i)];
    const auto m = e.client->master();
    if (m && *m != target) e.client->master_suspect();  // its master handed the slot to another node of the shard
    e.serving = true;
    slot_entry_[static_cast<std::size_t>(slot)] = i;
  }

  // --- requests ---------------------------------------------------------------------

  int pick_any() {
    const std::size_t n = entries_.size();
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = (next_any_ + k) % n;
      if (entries_[i].serving && entries_[i].client && entries_[i].client->ready()) {
        next_any_ = i + 1;
        return static_cast<int>(i);
      }
    }
    for (std::size_t i = 0; i < n; ++i)
      if (entries_[i].serving && entries_[i].client) return static_cast<int>(i);
    return -1;
  }

  // Sends `p` if it can be routed now (and takes it), else leaves it.
  bool try_dispatch(pending_ptr& p) {
    if (closed_) {
      finish(std::move(p), error::client_closed, {}, false);
      return true;
    }
    if (p->ask) {
      const int i = entry_for(*p->ask, nullptr);
      send(i, std::move(p));
      return true;
    }
    switch (p->route.where) {
      case cluster_route::kind::slot: {
        const int i = slot_entry_[static_cast<std::size_t>(p->route.slot)];
        if (i < 0 || !entries_[static_cast<std::size_t>(i)].client) {
          signal_refresh();
          return false;
        }
        send(i, std::move(p));
        return true;
      }
      case cluster_route::kind::any: {
        const int i = pick_any();
        if (i < 0) return false;
        send(i, std::move(p));
        return true;
      }
      case cluster_route::kind::all_masters:
        if (map_.covered() == 0) return false;
        fan_out(std::move(p));
        return true;
      case cluster_route::kind::refused: break;
    }
    const auto ec = p->route.ec;
    finish(std::move(p), ec, {}, false);
    return true;
  }

  void send(int i, pending_ptr p) {
    auto& e = entries_[static_cast<std::size_t>(i)];
    const bool asking = p->ask.has_value();
    request r;
    if (asking) {
      r.push("ASKING");
      std::vector<argv_view> cmds;
      parse_commands(p->req.payload(), cmds);
      for (const auto& c : cmds) r.push_argv(c);
      r.options() = p->req.options();
      r.options().idempotent = p->req.idempotent();
    } else {
      r = p->req;
    }
    auto client = e.client;
    client->start_exec(std::move(r), [self = this->shared_from_this(), p = std::move(p), i, asking](
                                         std::error_code ec, response resp) mutable {
      self->on_result(std::move(p), i, asking, ec, std::move(resp));
    });
  }

  void on_result(pending_ptr p, int i, bool asking, std::error_code ec, response resp) {
    if (closed_) return finish(std::move(p), error::client_closed, {}, false);
    if (asking && !ec && !resp.empty()) resp.erase(resp.begin());  // ASKING's +OK
    p->ask.reset();
    if (ec) {
      if (ec == error::master_unavailable || ec == error::outcome_unknown) signal_refresh();
      return finish(std::move(p), ec, std::move(resp), false);
    }
    const auto& e = entries_[static_cast<std::size_t>(i)];
    address from = e.addrs.empty() ? address{"", 0} : e.addrs.front();
    if (e.client)
      if (auto m = e.client->master()) from = *m;
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - p->created);
    const auto v = judge(p->route, resp, p->req.idempotent(), from, p->redirects, p->retries, elapsed, pol_);
    if (v.refresh) signal_refresh();
    using a = cluster_verdict::action;
    switch (v.what) {
      case a::complete: return finish(std::move(p), v.ec, v.ec ? response{} : std::move(resp), false);
      case a::redirect:
        ++p->redirects;
        ++stats_.moved;
        apply_moved(v.slot, v.target);
        if (!try_dispatch(p)) enqueue(std::move(p), false);
        return;
      case a::ask:
        ++p->redirects;
        ++stats_.asked;
        p->ask = v.target;
        if (!try_dispatch(p)) enqueue(std::move(p), false);
        return;
      case a::retry_later: {
        ++p->retries;
        ++stats_.retried;
        auto t = std::make_shared<asio::steady_timer>(ex_, v.delay);
        t->async_wait([self = this->shared_from_this(), p = std::move(p), t](std::error_code) mutable {
          if (!self->try_dispatch(p)) self->enqueue(std::move(p), false);
        });
        return;
      }
    }
  }

  // Keyless fan-out (FLUSHALL, KEYS, DBSIZE, SCRIPT LOAD, ...): every serving
  // shard runs the request; replies are merged per command.
  void fan_out(pending_ptr p) {
    struct join {
      pending_ptr p;
      std::size_t left = 0;
      std::error_code ec;
      std::vector<response> parts;
    };
    std::vector<int> targets;
    for (std::size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].serving && entries_[i].client) targets.push_back(static_cast<int>(i));
    auto j = std::make_shared<join>();
    j->left = targets.size();
    j->parts.resize(targets.size());
    const request r = p->req;
    j->p = std::move(p);
    for (std::size_t k = 0; k < targets.size(); ++k) {
      entries_[static_cast<std::size_t>(targets[k])].client->start_exec(
          r, [self = this->shared_from_this(), j, k](std::error_code ec, response resp) {
            if (ec && !j->ec) j->ec = ec;
            j->parts[k] = std::move(resp);
            if (--j->left > 0) return;
            auto merged = j->ec ? response{} : merge(j->p->route, j->parts);
            self->finish(std::move(j->p), j->ec, std::move(merged), false);
          });
    }
  }

  static response merge(const cluster_route& route, std::vector<response>& parts) {
    response out;
    if (parts.empty()) return out;
    for (std::size_t c = 0; c < parts[0].size(); ++c) {
      const std::string& name = c < route.names.size() ? route.names[c] : std::string();
      const reply* err = nullptr;
      for (auto& p : parts)
        if (c < p.size() && p[c].is_error() && !err) err = &p[c];
      if (err) {
        out.push_back(*err);
      } else if (name == "keys") {
        std::vector<reply> all;
        for (auto& p : parts)
          if (c < p.size() && p[c].is_array())
            for (const auto& x : p[c].as_array()) all.push_back(x);
        out.push_back(reply::array(std::move(all)));
      } else if (name == "dbsize") {
        long long sum = 0;
        for (auto& p : parts)
          if (c < p.size() && p[c].is_integer()) sum += p[c].as_integer();
        out.push_back(reply::integer(sum));
      } else {
        out.push_back(parts[0][c]);
      }
    }
    return out;
  }

  void enqueue(pending_ptr p, bool from_initiation) {
    if (waiting_.full()) return finish(std::move(p), error::queue_full, {}, from_initiation);
    if (clock::now() >= p->deadline) return finish(std::move(p), error::master_unavailable, {}, from_initiation);
    const auto deadline = p->deadline;
    waiting_.push(std::move(p), deadline);
    arm_budget(deadline);
  }

  void flush() {
    if (closed_) return;
    waiting_.drain([this](pending_ptr& p) { return try_dispatch(p); });
  }

  void finish(pending_ptr p, std::error_code ec, response resp, bool post) {
    if (ec)
      ++stats_.failed;
    else
      ++stats_.succeeded;
    if (post)
      p->handler.post(ec, std::move(resp));
    else
      p->handler.dispatch(ec, std::move(resp));
  }

  void arm_budget(clock::time_point when) {
    if (when >= budget_armed_) return;
    budget_armed_ = when;
    budget_timer_.expires_at(when);
    budget_timer_.async_wait([self = this->shared_from_this(), when](std::error_code ec) {
      if (ec || self->closed_ || self->budget_armed_ != when) return;
      self->budget_armed_ = clock::time_point::max();
      for (auto& p : self->waiting_.expire(clock::now()))
        self->finish(std::move(p), error::master_unavailable, {}, false);
      const auto next = self->waiting_.next_deadline();
      if (next != clock::time_point::max()) self->arm_budget(next);
    });
  }

  // --- the slot map ------------------------------------------------------------------

  void signal_refresh() {
    if (closed_) return;
    on_gate(gate_.signal(clock::now()));
  }

  void on_gate(refresh_gate::out o) {
    if (o.what == refresh_gate::step::refresh) return refresh();
    if (o.what != refresh_gate::step::arm) return;
    gate_timer_.expires_after(o.after);
    gate_timer_.async_wait([weak = std::weak_ptr<cluster_impl>(this->shared_from_this())](std::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) return;
      self->on_gate(self->gate_.on_timer(clock::now()));
    });
  }

  // Nodes to ask, best first: verified masters, the map's other nodes, the seeds.
  std::vector<address> refresh_candidates() const {
    std::vector<address> v;
    auto add = [&](const address& a) {
      if (!a.host.empty() && std::find(v.begin(), v.end(), a) == v.end()) v.push_back(a);
    };
    for (const auto& e : entries_)
      if (e.serving && e.client)
        if (auto m = e.client->master()) add(*m);
    for (const auto& s : map_.shards())
      if (s.master.online()) add(s.master.addr);
    for (const auto& s : map_.shards())
      for (const auto& r : s.replicas)
        if (r.online()) add(r.addr);
    for (const auto& a : cfg_.seeds) add(a);
    if (v.size() > 16) v.resize(16);
    return v;
  }

  void refresh() {
    auto list = std::make_shared<std::vector<address>>(refresh_candidates());
    query(list, 0, std::string());
  }

  void query(std::shared_ptr<std::vector<address>> list, std::size_t i, std::string errors) {
    if (closed_) return;
    if (i >= list->size()) {
      last_detail_ = "no node answered with a slot map: " + errors;
      cfg_.connection.logger.log(log_level::warning, "redis_ha cluster: {}", last_detail_);
      return on_gate(gate_.done(false, clock::now()));
    }
    connection_config c = cfg_.connection;
    c.connect_timeout = cfg_.refresh_timeout;
    c.health_check_interval = std::chrono::milliseconds(0);
    c.request_timeout = cfg_.refresh_timeout;
    c.client_name = c.client_name.empty() ? "redis_ha-cluster-map" : c.client_name;
    auto conn = factory_(ex_, c, node_kind::data);
    const address node = (*list)[i];
    auto next = [self = this->shared_from_this(), list, i, errors, node, conn](const std::string& why) mutable {
      conn->close();
      self->query(list, i + 1, errors + (errors.empty() ? "" : "; ") + node.to_string() + ": " + why);
    };
    conn->async_connect(node, [self = this->shared_from_this(), conn, node, next](std::error_code ec) mutable {
      if (self->closed_) return conn->close();
      if (ec) return next(ec.message());
      request r;
      r.push("CLUSTER", "SHARDS");
      conn->async_exec(r, [self, conn, node, next](std::error_code ec, response resp) mutable {
        if (self->closed_) return conn->close();
        if (ec || resp.empty()) return next(ec ? ec.message() : "no reply");
        cluster_map m;
        std::string detail;
        if (resp[0].is_error() && resp[0].error_message().find("nknown subcommand") != std::string_view::npos) {
          request slots;
          slots.push("CLUSTER", "SLOTS");  // before Redis 7
          return conn->async_exec(slots, [self, conn, node, next](std::error_code ec, response resp) mutable {
            if (self->closed_) return conn->close();
            if (ec || resp.empty()) return next(ec ? ec.message() : "no reply");
            cluster_map m;
            std::string detail;
            if (auto e = parse_cluster_slots(resp[0], node, m, detail)) return next(detail);
            conn->close();
            self->map_read(std::move(m), node);
          });
        }
        if (auto e = parse_cluster_shards(resp[0], node, m, detail)) return next(detail);
        conn->close();
        self->map_read(std::move(m), node);
      });
    });
  }

  void map_read(cluster_map m, const address& from) {
    if (m.covered() == 0 && !map_.empty()) {  // a node that lost its view: keep ours
      return on_gate(gate_.done(false, clock::now()));
    }
    apply_map(std::move(m), from);
    on_gate(gate_.done(true, clock::now()));
    if (cfg_.refresh_interval.count() > 0) {
      interval_timer_.expires_after(cfg_.refresh_interval);
      interval_timer_.async_wait([weak = std::weak_ptr<cluster_impl>(this->shared_from_this())](std::error_code ec) {
        if (auto self = weak.lock(); self && !ec) self->signal_refresh();
      });
    }
  }

  executor_type ex_;
  cluster_config cfg_;
  connection_factory<Stream> factory_;
  cluster_policy pol_;
  refresh_gate gate_;
  asio::steady_timer gate_timer_;
  asio::steady_timer interval_timer_;
  asio::steady_timer budget_timer_;
  clock::time_point budget_armed_ = clock::time_point::max();
  wait_queue<pending_ptr> waiting_;
  cluster_map map_;
  std::vector<entry> entries_;
  std::vector<int> slot_entry_;
  std::size_t next_any_ = 0;
  bool closed_ = false;
  std::string last_detail_;
  mutable cluster_stats stats_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CLUSTER_IMPL_HPP
