#ifndef REDIS_HA_DETAIL_CLUSTER_IMPL_HPP
#define REDIS_HA_DETAIL_CLUSTER_IMPL_HPP

/// @file
/// The I/O side of `basic_cluster_client`: it routes each request
/// (`cluster_keys.hpp`) to a shard client (`cluster_shards.hpp`: one HA
/// core per shard, a `client_impl` in direct mode over the shard's nodes),
/// follows redirections (`cluster_fsm.hpp`: `judge`), sends keyless
/// commands for every master to all of them (`cluster_fan_out.hpp`), keeps
/// the requests that wait for a slot map (`cluster_waiting.hpp`) and has
/// the map read again on failover signals (`cluster_map_reader.hpp`).

#include <redis_ha/address.hpp>
#include <redis_ha/client_event.hpp>
#include <redis_ha/cluster_config.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/cluster_fan_out.hpp>
#include <redis_ha/detail/cluster_fsm.hpp>
#include <redis_ha/detail/cluster_keys.hpp>
#include <redis_ha/detail/cluster_map.hpp>
#include <redis_ha/detail/cluster_map_reader.hpp>
#include <redis_ha/detail/cluster_shards.hpp>
#include <redis_ha/detail/cluster_slot.hpp>
#include <redis_ha/detail/cluster_waiting.hpp>
#include <redis_ha/detail/completion.hpp>
#include <redis_ha/detail/stream_traits.hpp>
#include <redis_ha/detail/retry_policy.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/logger.hpp>
#include <redis_ha/request.hpp>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

/// The cluster client's state and request path; see the file comment.
template <class Stream>
class cluster_impl : public std::enable_shared_from_this<cluster_impl<Stream>> {
 public:
  /// The executor type.
  using executor_type = stream_executor_t<Stream>;

  /// Throws `std::invalid_argument` without seeds or without a usable `factory`.
  cluster_impl(const executor_type& ex, cluster_config cfg, connection_factory<Stream> factory)
      : ex_(ex), cfg_(std::move(cfg)), factory_(std::move(factory)), shards_(ex, cfg_, factory_) {
    if (!factory_) throw std::invalid_argument("redis_ha: this stream type needs a connection factory (see tls.hpp)");
    if (cfg_.seeds.empty()) throw std::invalid_argument("redis_ha::cluster_config: no seed node");
    pol_.max_redirects = cfg_.max_redirects;
    pol_.failover_budget = cfg_.failover_budget;
  }
  ~cluster_impl() { close(); }

  /// The executor.
  const executor_type& executor() const noexcept { return ex_; }
  /// The slot map in use.
  const cluster_map& map() const noexcept { return map_; }
  /// Counters.
  const cluster_stats& stats() const noexcept {
    stats_.shards = map_.shards().size();
    return stats_;
  }
  /// Why the last slot map refresh failed.
  const std::string& last_error_detail() const noexcept {
    static const std::string none;
    return reader_ ? reader_->last_error_detail() : none;
  }
  /// True when every slot has a shard whose master is verified.
  bool ready() const noexcept { return !closed_ && map_.covered() == cluster_slots && shards_.serving_ready(); }
  /// The verified master serving `slot`, if any.
  std::optional<address> master_for(int slot) const { return shards_.master_for(slot); }

  /// The shard entry serving `slot`, -1 when none (what a cluster subscriber routes by).
  int entry_for_slot(int slot) const { return shards_.for_slot(slot); }
  /// The client of shard entry `i`; null when `i` is -1 or the entry is closed.
  std::shared_ptr<client_impl<Stream>> entry_client(int i) const { return i >= 0 ? shards_.client(i) : nullptr; }
  /// Asks for a new slot map (coalesced with the other signals of a burst, with backoff).
  void refresh() { signal_refresh(); }
  /// `f` runs after each change of which entry serves which slot (a map
  /// read, a `-MOVED`), on the executor; it returns false to be removed.
  void add_routing_listener(std::function<bool()> f) { listeners_.push_back(std::move(f)); }

  /// Makes the parts that call back into this object, then reads the first map.
  void start() {
    std::weak_ptr<cluster_impl> weak = this->shared_from_this();
    shards_.set_event_sink([weak](const client_event& ev) {
      auto self = weak.lock();
      if (!self || self->closed_) return;
      if (self->cfg_.on_event) self->cfg_.on_event(ev);
      using k = client_event::kind;
      if (ev.type == k::master_lost || ev.type == k::master_changed || ev.type == k::resolve_failed)
        self->signal_refresh();  // a failover signal: the map may have changed
    });
    reader_ = std::make_shared<cluster_map_reader<Stream>>(
        ex_, cfg_, factory_,
        [weak] {
          auto self = weak.lock();
          return self ? refresh_candidates(self->shards_.verified_masters(), self->map_, self->cfg_.seeds)
                      : std::vector<address>{};
        },
        [weak](cluster_map m, const address& from) {
          auto self = weak.lock();
          if (!self || self->closed_) return false;
          return self->map_read(std::move(m), from);
        });
    waiting_ = std::make_shared<cluster_waiting<executor_type>>(ex_, cfg_.max_queued, [weak](cluster_request_ptr p) {
      if (auto self = weak.lock()) self->finish(std::move(p), error::master_unavailable, {}, false);
    });
    asio::post(ex_, [self = this->shared_from_this()] { self->signal_refresh(); });
  }

  /// Routes and sends `req`; `handler(ec, response)` is called once.
  template <class Handler>
  void start_exec(request req, Handler&& handler) {
    auto p = std::make_unique<cluster_request>();
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

  /// Closes every connection; waiting requests complete with `client_closed` (posted).
  void close() {
    if (closed_) return;
    closed_ = true;
    if (reader_) reader_->close();
    shards_.close();
    if (waiting_)
      for (auto& p : waiting_->close()) finish(std::move(p), error::client_closed, {}, true);
  }

 private:
  using clock = std::chrono::steady_clock;
  using pending_ptr = cluster_request_ptr;

  // --- the slot map ------------------------------------------------------------------

  void signal_refresh() {
    if (!closed_ && reader_) reader_->signal();
  }

  // A map read by the reader: false declines it (a node that lost its view: keep ours).
  bool map_read(cluster_map m, const address& from) {
    if (m.covered() == 0 && !map_.empty()) return false;
    map_ = std::move(m);
    ++stats_.refreshes;
    shards_.assign(map_);
    if (cfg_.on_event) {
      client_event ev;
      ev.type = client_event::kind::resolved;
      ev.node = from;
      ev.detail = "slot map: " + std::to_string(map_.shards().size()) + " shards, " + std::to_string(map_.covered()) +
                  " slots covered";
      cfg_.on_event(ev);
    }
    flush();
    routing_changed();
    return true;
  }

  // -MOVED: the slot lives on `target` now (a migration, or a failover inside the shard).
  void apply_moved(int slot, const address& target) {
    map_.moved(slot, target);
    shards_.moved(map_, slot, target);
    routing_changed();
  }

  void routing_changed() {
    auto listeners = std::move(listeners_);
    listeners_.clear();
    for (auto& f : listeners)
      if (!closed_ && f()) listeners_.push_back(std::move(f));
  }

  // --- requests ---------------------------------------------------------------------

  // Sends `p` if it can be routed now (and takes it), else leaves it.
  bool try_dispatch(pending_ptr& p) {
    if (closed_) {
      finish(std::move(p), error::client_closed, {}, false);
      return true;
    }
    if (p->ask) {
      const int i = shards_.entry_for(*p->ask, nullptr);
      send(i, std::move(p));
      return true;
    }
    switch (p->route.where) {
      case cluster_route::kind::slot: {
        const int i = shards_.for_slot(p->route.slot);
        if (i < 0) {
          signal_refresh();
          return false;
        }
        send(i, std::move(p));
        return true;
      }
      case cluster_route::kind::any: {
        const int i = shards_.pick_any();
        if (i < 0) return false;
        send(i, std::move(p));
        return true;
      }
      case cluster_route::kind::all_masters: {
        if (map_.covered() == 0) return false;
        std::vector<std::shared_ptr<typename cluster_shards<Stream>::shard_client>> targets;
        for (int i : shards_.serving()) targets.push_back(shards_.client(i));
        const request r = p->req;
        const cluster_route route = p->route;
        fan_out(targets, r, route, [self = this->shared_from_this(), p = std::move(p)](std::error_code ec,
                                                                                        response merged) mutable {
          self->finish(std::move(p), ec, std::move(merged), false);
        });
        return true;
      }
      case cluster_route::kind::refused: break;
    }
    const auto ec = p->route.ec;
    finish(std::move(p), ec, {}, false);
    return true;
  }

  void send(int i, pending_ptr p) {
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
    auto client = shards_.client(i);
    const bool replica_ok = !p->master_only;
    const auto since = p->created;  // one failover_budget across redirections and shards
    client->start_exec(
        std::move(r),
        [self = this->shared_from_this(), p = std::move(p), i, asking](std::error_code ec, response resp) mutable {
          self->on_result(std::move(p), i, asking, ec, std::move(resp));
        },
        replica_ok, since);
  }

  void on_result(pending_ptr p, int i, bool asking, std::error_code ec, response resp) {
    if (closed_) return finish(std::move(p), error::client_closed, {}, false);
    if (asking && !ec && !resp.empty()) resp.erase(resp.begin());  // ASKING's +OK
    p->ask.reset();
    if (ec) {
      if (ec == error::master_unavailable || ec == error::outcome_unknown) signal_refresh();
      return finish(std::move(p), ec, std::move(resp), false);
    }
    const address from = shards_.node_of(i);
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - p->created);
    const auto v = judge(p->route, resp, p->req.idempotent(), from, p->redirects, p->retries, elapsed, pol_);
    if (v.refresh) signal_refresh();
    using a = cluster_verdict::action;
    switch (v.what) {
      case a::complete: return finish(std::move(p), v.ec, v.ec ? response{} : std::move(resp), false);
      case a::redirect:
        ++p->redirects;
        ++stats_.moved;
        p->master_only = true;  // from a replica too: resent to the master it names
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

  void enqueue(pending_ptr p, bool from_initiation) {
    if (auto ec = waiting_->push(p)) finish(std::move(p), ec, {}, from_initiation);
  }

  void flush() {
    if (closed_) return;
    waiting_->drain([this](pending_ptr& p) { return try_dispatch(p); });
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

  executor_type ex_;
  cluster_config cfg_;
  connection_factory<Stream> factory_;
  cluster_policy pol_;
  cluster_shards<Stream> shards_;
  std::shared_ptr<cluster_map_reader<Stream>> reader_;
  std::shared_ptr<cluster_waiting<executor_type>> waiting_;
  cluster_map map_;
  std::vector<std::function<bool()>> listeners_;  // routing listeners (cluster subscribers)
  bool closed_ = false;
  mutable cluster_stats stats_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CLUSTER_IMPL_HPP
