#ifndef REDIS_HA_DETAIL_CLUSTER_MAP_READER_HPP
#define REDIS_HA_DETAIL_CLUSTER_MAP_READER_HPP

/// @file
/// `cluster_map_reader<Stream>`: reads the slot map from the cluster's
/// nodes. A failover signal (`signal`) asks for a refresh; the
/// `refresh_gate` (`cluster_fsm.hpp`) folds a burst of signals into one
/// refresh and backs off between refreshes. A refresh asks the candidates
/// in turn (`refresh_candidates`: verified masters, the map's other nodes,
/// the seeds), each on a short connection of its own bounded by
/// `refresh_timeout`: `CLUSTER SHARDS`, or `CLUSTER SLOTS` where the node
/// does not know it (before Redis 7). A malformed reply is refused
/// (`cluster_map.hpp`) and the next node asked. The map read goes to the
/// owner, which may decline it.

#include <redis_ha/address.hpp>
#include <redis_ha/cluster_config.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_config.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/cluster_fsm.hpp>
#include <redis_ha/detail/cluster_map.hpp>
#include <redis_ha/logger.hpp>
#include <redis_ha/request.hpp>

#include <asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

/// Nodes to ask for the slot map, best first, each once, at most 16: the
/// verified `masters`, the online masters of `map`, its online replicas,
/// then the `seeds`.
inline std::vector<address> refresh_candidates(const std::vector<address>& masters, const cluster_map& map,
                                               const std::vector<address>& seeds) {
  std::vector<address> v;
  auto add = [&](const address& a) {
    if (!a.host.empty() && std::find(v.begin(), v.end(), a) == v.end()) v.push_back(a);
  };
  for (const auto& m : masters) add(m);
  for (const auto& s : map.shards())
    if (s.master.online()) add(s.master.addr);
  for (const auto& s : map.shards())
    for (const auto& r : s.replicas)
      if (r.online()) add(r.addr);
  for (const auto& a : seeds) add(a);
  if (v.size() > 16) v.resize(16);
  return v;
}

/// Reads the slot map when signalled, paced by a `refresh_gate`.
template <class Stream>
class cluster_map_reader : public std::enable_shared_from_this<cluster_map_reader<Stream>> {
 public:
  /// The executor type.
  using executor_type = typename Stream::executor_type;
  /// The nodes to ask, best first (see `refresh_candidates`).
  using candidates_fn = std::function<std::vector<address>()>;
  /// A map read from `from`: true when the owner took it, false when it
  /// declined it (a node that lost its view), which counts as a failed refresh.
  using map_fn = std::function<bool(cluster_map m, const address& from)>;

  /// Settings from the cluster client's: `connection` (with
  /// `refresh_timeout` as its connect and request timeouts), the backoff
  /// of refreshes (`backoff_min`..max(`backoff_max`, 200 ms)) and
  /// `refresh_interval`.
  cluster_map_reader(const executor_type& ex, const cluster_config& cfg, connection_factory<Stream> factory,
                     candidates_fn candidates, map_fn on_map)
      : ex_(ex),
        conn_cfg_(cfg.connection),
        refresh_interval_(cfg.refresh_interval),
        factory_(std::move(factory)),
        candidates_(std::move(candidates)),
        on_map_(std::move(on_map)),
        // Map refreshes: quick in a burst, at most 5 a second while no node answers.
        gate_(cfg.backoff_min, std::max(cfg.backoff_max, std::chrono::milliseconds(200))),
        gate_timer_(ex),
        interval_timer_(ex) {
    conn_cfg_.connect_timeout = cfg.refresh_timeout;
    conn_cfg_.health_check_interval = std::chrono::milliseconds(0);
    conn_cfg_.request_timeout = cfg.refresh_timeout;
    if (conn_cfg_.client_name.empty()) conn_cfg_.client_name = "redis_ha-cluster-map";
  }

  /// Why the last refresh failed, with the nodes tried.
  const std::string& last_error_detail() const noexcept { return last_detail_; }

  /// A failover signal: the map may have changed.
  void signal() {
    if (closed_) return;
    on_gate(gate_.signal(clock::now()));
  }

  /// Stops: no refresh starts or completes after this.
  void close() {
    closed_ = true;
    gate_.reset();
    gate_timer_.cancel();
    interval_timer_.cancel();
  }

 private:
  using clock = std::chrono::steady_clock;

  void on_gate(refresh_gate::out o) {
    if (o.what == refresh_gate::step::refresh) return refresh();
    if (o.what != refresh_gate::step::arm) return;
    gate_timer_.expires_after(o.after);
    gate_timer_.async_wait([weak = std::weak_ptr<cluster_map_reader>(this->shared_from_this())](std::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) return;
      self->on_gate(self->gate_.on_timer(clock::now()));
    });
  }

  void refresh() {
    auto list = std::make_shared<std::vector<address>>(candidates_());
    query(list, 0, std::string());
  }

  void query(std::shared_ptr<std::vector<address>> list, std::size_t i, std::string errors) {
    if (closed_) return;
    if (i >= list->size()) {
      last_detail_ = "no node answered with a slot map: " + errors;
      conn_cfg_.logger.log(log_level::warning, "redis_ha cluster: {}", last_detail_);
      return on_gate(gate_.done(false, clock::now()));
    }
    auto conn = factory_(ex_, conn_cfg_, node_kind::data);
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
        if (auto e = parse_cluster_shards(resp[0], node, m, detail, self->conn_cfg_.tls.enabled))
          return next(detail);
        conn->close();
        self->map_read(std::move(m), node);
      });
    });
  }

  void map_read(cluster_map m, const address& from) {
    if (!on_map_(std::move(m), from)) return on_gate(gate_.done(false, clock::now()));
    on_gate(gate_.done(true, clock::now()));
    if (refresh_interval_.count() > 0) {
      interval_timer_.expires_after(refresh_interval_);
      interval_timer_.async_wait(
          [weak = std::weak_ptr<cluster_map_reader>(this->shared_from_this())](std::error_code ec) {
            if (auto self = weak.lock(); self && !ec) self->signal();
          });
    }
  }

  executor_type ex_;
  connection_config conn_cfg_;  // of the map queries
  std::chrono::milliseconds refresh_interval_;
  connection_factory<Stream> factory_;
  candidates_fn candidates_;
  map_fn on_map_;
  refresh_gate gate_;
  asio::steady_timer gate_timer_;
  asio::steady_timer interval_timer_;
  std::string last_detail_;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CLUSTER_MAP_READER_HPP
