#ifndef REDIS_HA_DETAIL_REPLICA_POOL_HPP
#define REDIS_HA_DETAIL_REPLICA_POOL_HPP

/// @file
/// `replica_pool<Stream>`: the verified replicas that serve reads
/// (`read_from`). `update` is given the healthy replicas the HA core knows
/// (from Sentinel, or the master's ROLE in direct mode); each new one is
/// connected and checked with ROLE (a replica whose link is `connected`).
/// Reads are spread round-robin, over the replicas in the preferred zone
/// (Valkey's `availability-zone`, read from `INFO server`) when one is
/// configured and any of them is up, else over all of them. The owner may
/// add commands before the ROLE (`handlers::prepare`: Redis Cluster's
/// `READONLY`) and a check of its own (`handlers::check`: the replica
/// follows the shard's master).

#include <redis_ha/address.hpp>
#include <redis_ha/client_config.hpp>
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

/// Where one request goes under `read_from`.
enum class read_target {
  master,   ///< the master
  replica,  ///< the verified replica picked
  wait,     ///< nothing yet: wait (bounded by the failover budget) for a replica
};

/// Where a request goes: writes and mixed requests (`read_only` false) and
/// everything under `read_from::master` go to the master; a read goes to a
/// replica when one is verified and open (`replica_up`), else to the master
/// under `replica_preferred` and nowhere yet under `replica` (it waits).
inline read_target route_read(read_from rf, bool read_only, bool replica_up) noexcept {
  if (rf == read_from::master || !read_only) return read_target::master;
  if (replica_up) return read_target::replica;
  return rf == read_from::replica ? read_target::wait : read_target::master;
}

/// Why a node whose `ROLE` is `info` does not serve reads for `master`
/// (empty when it does): it must be a replica of exactly that address (the
/// cluster's check: a replica that moved to another shard, or follows a
/// node that is no longer the shard's master, must not answer for it).
inline std::string replica_of_problem(const role_info& info, const address& master) {
  if (info.role != role_info::kind::replica) return "not a replica";
  if (master.host.empty()) return "no verified master to compare with";
  if (info.master != master) return "replica of " + info.master.to_string() + ", not of " + master.to_string();
  return {};
}

/// How the replicas of a Redis Cluster shard differ for reads; given by
/// `cluster_shards` to each shard's client (empty for the Sentinel client).
struct replica_rules {
  /// Sent before `ROLE` on each new replica connection (`READONLY`).
  std::function<void(request&)> prepare;
  /// Why a replica whose `ROLE` is given must not serve reads for the
  /// verified `master` (empty: it may), e.g. `replica_of_problem`.
  std::function<std::string(const role_info&, const address& master)> check;
  /// True when a replica's replies show that it no longer serves `master`'s
  /// slots (a `-MOVED` naming `master`): its connection leaves the pool.
  std::function<bool(const response&, const address& master)> stale;
};

template <class Stream>
class replica_pool : public std::enable_shared_from_this<replica_pool<Stream>> {
 public:
  using executor_type = typename Stream::executor_type;
  using connection_type = basic_connection<Stream>;

  /// What the pool tells its owner.
  struct handlers {
    std::function<void(const address&)> added;      ///< a replica now serves reads
    std::function<void(const address&)> lost;       ///< a replica left (connection lost, or not usable)
    /// Optional: commands sent before `ROLE` on each new replica connection
    /// (Redis Cluster: `READONLY`); an error reply to any of them rejects the replica.
    std::function<void(request&)> prepare;
    /// Optional: a check beyond "replica with its link `connected`": why
    /// the replica whose `ROLE` is given must not serve reads, empty when it may.
    std::function<std::string(const role_info&)> check;
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

  /// Keeps the replicas in `replicas` and the hinted ones (except
  /// `master`), drops the others and verifies the new ones.
  void update(const std::vector<address>& replicas, const address& master) {
    if (closed_) return;
    known_ = replicas;
    auto candidates = known_;
    for (const auto& a : hinted_)
      if (std::find(candidates.begin(), candidates.end(), a) == candidates.end()) candidates.push_back(a);
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

  /// Replicas known besides the HA core's (a cluster shard's, from the
  /// slot map): candidates too from now on, verified as the others.
  void hint(std::vector<address> replicas, const address& master) {
    if (closed_ || replicas == hinted_) return;
    hinted_ = std::move(replicas);
    update(std::vector<address>(known_), master);
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
      if (self->h_.prepare) self->h_.prepare(role);
      const std::size_t first = role.expected_replies();  // the ROLE reply's index
      role.push("ROLE");
      if (!self->zone_.empty()) role.push("INFO", "server");  // availability_zone (Valkey 8)
      conn->async_exec(role, [weak, conn, a, first](std::error_code ec, response r) {
        auto self = weak.lock();
        if (!self || self->closed_) return conn->close();
        if (ec || r.size() <= first) return self->rejected(conn, a, "ROLE: " + ec.message());
        for (std::size_t i = 0; i < first; ++i)
          if (r[i].is_error()) return self->rejected(conn, a, r[i].to_string());
        auto info = parse_role(r[first]);
        if (info.role != role_info::kind::replica || info.link_state != "connected")
          return self->rejected(conn, a, "ROLE " + r[first].to_string());
        if (self->h_.check)
          if (auto why = self->h_.check(info); !why.empty()) return self->rejected(conn, a, why);
        bool in_zone = false;
        if (!self->zone_.empty()) {
          const auto zone = r.size() > first + 1 ? parse_availability_zone(r[first + 1]) : std::string();
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
  std::vector<address> known_;   // the HA core's replicas (last update)
  std::vector<address> hinted_;  // hint: the cluster map's replicas of this shard
  std::vector<replica_candidate> scratch_;
  std::vector<node> pending_;
  std::size_t next_ = 0;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_REPLICA_POOL_HPP
