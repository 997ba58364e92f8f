#ifndef REDIS_HA_DETAIL_REPLICA_POOL_HPP
#define REDIS_HA_DETAIL_REPLICA_POOL_HPP

/// @file
/// `replica_pool<Stream>`: the verified replicas that serve reads
/// (`read_from`). `update` is given the healthy replicas the HA core knows
/// (from Sentinel, or the master's ROLE in direct mode); each new one is
/// connected and checked with ROLE (a replica whose link is `connected`).
/// Reads are spread round-robin, over the replicas in the preferred zone
/// (Valkey's `availability-zone`, read from `INFO server`) when one is
/// configured and any of them is up, else over all of them.

#include <redis_ha/address.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_config.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/log_format.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/logger.hpp>
#include <redis_ha/request.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace redis_ha {
namespace detail {

/// The `availability_zone` field of an `INFO server` reply (Valkey 8), or
/// empty when the reply is an error, has no such field (Redis) or the
/// setting is empty.
inline std::string parse_availability_zone(const reply& info) {
  if (!info.is_string()) return {};
  std::string_view text = info.as_string();
  constexpr std::string_view key = "availability_zone:";
  for (std::size_t pos = 0; pos < text.size();) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, key.size()) == key) return std::string(line.substr(key.size()));
    pos = end + 1;
  }
  return {};
}

/// What `choose_replica` needs to know of one replica.
struct replica_candidate {
  bool usable = false;  ///< open and not the master
  bool in_zone = false;  ///< its zone is the preferred one
};

/// The index of the replica for the next read, round-robin from `next`
/// (advanced past the choice): the usable ones in the zone first, any
/// usable one when none of those is. `npos` when none is usable.
inline std::size_t choose_replica(const std::vector<replica_candidate>& c, std::size_t& next) {
  const std::size_t n = c.size();
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = (next + k) % n;
      if (c[i].usable && (pass == 1 || c[i].in_zone)) {
        next = i + 1;
        return i;
      }
    }
  }
  return static_cast<std::size_t>(-1);
}

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

  /// `zone`: the preferred availability zone (empty: none).
  replica_pool(const executor_type& ex, connection_config cfg, connection_factory<Stream> factory, std::string zone,
               handlers h)
      : ex_(ex), cfg_(std::move(cfg)), factory_(std::move(factory)), zone_(std::move(zone)), h_(std::move(h)) {}

  std::size_t size() const noexcept { return nodes_.size(); }
  /// The verified replicas in the preferred zone.
  std::size_t in_zone() const noexcept {
    return static_cast<std::size_t>(std::count_if(nodes_.begin(), nodes_.end(), [](const node& n) { return n.in_zone; }));
  }

  /// The next open replica (round-robin, the preferred zone first), never
  /// `master`; nullptr when none.
  std::shared_ptr<connection_type> pick(const address& master) {
    scratch_.resize(nodes_.size());
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      scratch_[i] = {nodes_[i].conn->is_open() && nodes_[i].addr != master, nodes_[i].in_zone};
    const auto i = choose_replica(scratch_, next_);
    return i < nodes_.size() ? nodes_[i].conn : nullptr;
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
    bool in_zone = false;
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
      if (!self->zone_.empty()) role.push("INFO", "server");  // availability_zone (Valkey 8)
      conn->async_exec(role, [weak, conn, a](std::error_code ec, response r) {
        auto self = weak.lock();
        if (!self || self->closed_) return conn->close();
        if (ec || r.empty()) return self->rejected(conn, a, "ROLE: " + ec.message());
        auto info = parse_role(r[0]);
        if (info.role != role_info::kind::replica || info.link_state != "connected")
          return self->rejected(conn, a, "ROLE " + r[0].to_string());
        bool in_zone = false;
        if (!self->zone_.empty()) {
          const auto zone = r.size() > 1 ? parse_availability_zone(r[1]) : std::string();
          in_zone = zone == self->zone_;
          self->cfg_.logger.log(log_level::debug, "redis_ha: replica {} is in zone '{}'{}", a.to_string(), zone,
                                in_zone ? " (preferred)" : "");
        }
        self->forget_pending(conn);
        self->nodes_.push_back({a, conn, in_zone});
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
  std::string zone_;
  handlers h_;
  std::vector<node> nodes_;
  std::vector<replica_candidate> scratch_;
  std::vector<node> pending_;
  std::size_t next_ = 0;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_REPLICA_POOL_HPP
