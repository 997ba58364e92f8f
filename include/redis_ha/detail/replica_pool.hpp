#ifndef REDIS_HA_DETAIL_REPLICA_POOL_HPP
#define REDIS_HA_DETAIL_REPLICA_POOL_HPP

/// @file
/// `replica_pool<Stream>`: the verified replicas that serve reads
/// (`read_from`). `update` is given the healthy replicas the HA core knows
/// (from Sentinel, or the master's ROLE in direct mode); each new one is
/// connected and checked with ROLE (a replica whose link is `connected`).
/// Reads are spread round-robin.

#include <redis_ha/address.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_config.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/log_format.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/logger.hpp>
#include <redis_ha/request.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

namespace redis_ha {
namespace detail {

template <class Stream>
class replica_pool : public std::enable_shared_from_this<replica_pool<Stream>> {
 public:
  using executor_type = typename Stream::executor_type;
  using connection_type = basic_connection<Stream>;

  /// What the pool tells its owner.
  struct handlers {
    std::function<void(const address&)> added;      ///< a replica now serves reads
    std::function<void(const address&)> lost;       ///< a replica left (connection lost, or not usable)
  };

  replica_pool(const executor_type& ex, connection_config cfg, connection_factory<Stream> factory, handlers h)
      : ex_(ex), cfg_(std::move(cfg)), factory_(std::move(factory)), h_(std::move(h)) {}

  std::size_t size() const noexcept { return nodes_.size(); }

  /// The next open replica (round-robin), never `master`; nullptr when none.
  std::shared_ptr<connection_type> pick(const address& master) {
    for (std::size_t n = 0; n < nodes_.size(); ++n) {
      auto& r = nodes_[next_++ % nodes_.size()];
      if (r.conn->is_open() && r.addr != master) return r.conn;
    }
    return nullptr;
  }

  /// Keeps the replicas in `candidates` (except `master`), drops the others
  /// and verifies the new ones.
  void update(const std::vector<address>& candidates, const address& master) {
    if (closed_) return;
    std::vector<std::shared_ptr<connection_type>> dropped;
    nodes_.erase(std::remove_if(nodes_.begin(), nodes_.end(),
                                [&](const node& r) {
                                  const bool listed =
                                      std::find(candidates.begin(), candidates.end(), r.addr) != candidates.end();
                                  if (listed && r.addr != master && r.conn->is_open()) return false;
                                  dropped.push_back(r.conn);
                                  return true;
                                }),
                 nodes_.end());
    for (auto& c : dropped) c->close();  // after the erase: closing runs handlers that edit nodes_
    for (const auto& a : candidates) {
      if (a == master || known(a) || verifying(a)) continue;
      verify(a);
    }
  }

  /// Closes every replica connection.
  void close() {
    closed_ = true;
    auto nodes = std::move(nodes_);
    nodes_.clear();
    for (auto& r : nodes) r.conn->close();
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& p : pending) p.conn->close();
  }

 private:
  struct node {
    address addr;
    std::shared_ptr<connection_type> conn;
  };

  bool known(const address& a) const {
    return std::any_of(nodes_.begin(), nodes_.end(), [&](const node& n) { return n.addr == a; });
  }
  bool verifying(const address& a) const {
    return std::any_of(pending_.begin(), pending_.end(), [&](const node& n) { return n.addr == a; });
  }
  void forget_pending(const std::shared_ptr<connection_type>& c) {
    pending_.erase(std::remove_if(pending_.begin(), pending_.end(), [&](const node& n) { return n.conn == c; }),
                   pending_.end());
  }

  void verify(const address& a) {
    auto conn = factory_(ex_, cfg_, node_kind::data);
    pending_.push_back({a, conn});
    std::weak_ptr<replica_pool> weak = this->shared_from_this();
    conn->async_connect(a, [weak, conn, a](std::error_code ec) {
      auto self = weak.lock();
      if (!self || self->closed_) return conn->close();
      if (ec) return self->rejected(conn, a, "connect: " + ec.message());
      request role;
      role.push("ROLE");
      conn->async_exec(role, [weak, conn, a](std::error_code ec, response r) {
        auto self = weak.lock();
        if (!self || self->closed_) return conn->close();
        if (ec || r.empty()) return self->rejected(conn, a, "ROLE: " + ec.message());
        auto info = parse_role(r[0]);
        if (info.role != role_info::kind::replica || info.link_state != "connected")
          return self->rejected(conn, a, "ROLE " + r[0].to_string());
        self->forget_pending(conn);
        self->nodes_.push_back({a, conn});
        conn->async_wait_closed([weak, conn, a](std::error_code) {
          auto s = weak.lock();
          if (!s || s->closed_) return;
          auto& v = s->nodes_;
          v.erase(std::remove_if(v.begin(), v.end(), [&](const node& n) { return n.conn == conn; }), v.end());
          if (s->h_.lost) s->h_.lost(a);
        });
        if (self->h_.added) self->h_.added(a);
      });
    });
  }

  void rejected(const std::shared_ptr<connection_type>& conn, const address& a, const std::string& why) {
    conn->close();
    forget_pending(conn);
    cfg_.logger.log(log_level::info, "redis_ha: {} not used for reads yet ({})", a.to_string(), why);
    if (h_.lost) h_.lost(a);
  }

  executor_type ex_;
  connection_config cfg_;
  connection_factory<Stream> factory_;
  handlers h_;
  std::vector<node> nodes_;
  std::vector<node> pending_;
  std::size_t next_ = 0;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_REPLICA_POOL_HPP
