#ifndef REDIS_HA_DETAIL_CLUSTER_MAP_HPP
#define REDIS_HA_DETAIL_CLUSTER_MAP_HPP

/// @file
/// The slot map of a Redis Cluster (sans-I/O): which shard (a master and
/// its replicas, with their health) serves each of the 16384 slots, parsed
/// from `CLUSTER SHARDS` (Redis 7) or `CLUSTER SLOTS` (the fallback), and
/// the `-MOVED` / `-ASK` redirections. A malformed, out-of-range or huge
/// reply is refused with `error::cluster_map_invalid` and a detail text;
/// the limits bound what a hostile node can make the client keep.

#include <redis_ha/address.hpp>
#include <redis_ha/detail/cluster_slot.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

/// Bounds on a slot map reply.
struct cluster_map_limits {
  std::size_t max_shards = 1024;
  std::size_t max_nodes_per_shard = 64;
  std::size_t max_ranges = cluster_slots;
  std::size_t max_text = 512;  ///< node id, host name, health, role
};

/// One node of the map.
struct cluster_node {
  enum class health_state { online, failed, loading };
  std::string id;
  address addr{"", 0};
  health_state health = health_state::online;
  bool online() const noexcept { return health == health_state::online; }
};

/// One shard: a master, its replicas and its slot ranges (inclusive).
struct cluster_shard {
  cluster_node master;
  std::vector<cluster_node> replicas;
  std::vector<std::pair<int, int>> ranges;
  /// Every address of the shard, master first.
  std::vector<address> addresses() const {
    std::vector<address> v;
    if (!master.addr.host.empty()) v.push_back(master.addr);
    for (const auto& r : replicas) v.push_back(r.addr);
    return v;
  }
  /// True when `a` is the master or one of the replicas.
  bool holds(const address& a) const {
    if (master.addr == a) return true;
    return std::any_of(replicas.begin(), replicas.end(), [&](const cluster_node& n) { return n.addr == a; });
  }
};

/// slot -> shard.
class cluster_map {
 public:
  cluster_map() : owner_(cluster_slots, -1) {}

  const std::vector<cluster_shard>& shards() const noexcept { return shards_; }
  bool empty() const noexcept { return shards_.empty(); }
  /// The shard serving `slot`, or nullptr.
  const cluster_shard* shard_for(int slot) const noexcept {
    if (slot < 0 || slot >= cluster_slots) return nullptr;
    const int s = owner_[static_cast<std::size_t>(slot)];
    return s < 0 ? nullptr : &shards_[static_cast<std::size_t>(s)];
  }
  /// The master serving `slot` (empty host when none).
  address master_for(int slot) const {
    const auto* s = shard_for(slot);
    return s ? s->master.addr : address{"", 0};
  }
  /// Number of slots with a shard.
  int covered() const noexcept {
    return static_cast<int>(std::count_if(owner_.begin(), owner_.end(), [](int o) { return o >= 0; }));
  }
  /// Adds a shard; returns false when a range overlaps one already taken or is out of range.
  bool add(cluster_shard s) {
    const int index = static_cast<int>(shards_.size());
    for (std::size_t r = 0; r < s.ranges.size(); ++r) {
      const auto [a, b] = s.ranges[r];
      bool ok = a >= 0 && b < cluster_slots && a <= b;
      for (int i = a; ok && i <= b; ++i) ok = owner_[static_cast<std::size_t>(i)] < 0;
      if (!ok) {  // undo the ranges taken so far
        for (std::size_t u = 0; u < r; ++u)
          for (int i = s.ranges[u].first; i <= s.ranges[u].second; ++i) owner_[static_cast<std::size_t>(i)] = -1;
        return false;
      }
      for (int i = a; i <= b; ++i) owner_[static_cast<std::size_t>(i)] = index;
    }
    shards_.push_back(std::move(s));
    return true;
  }
  /// `-MOVED slot addr`: the slot is served by `addr` now. The shard whose
  /// master is `addr` takes it; when `addr` is a replica of a shard it
  /// becomes that shard's master (a failover); otherwise a shard is added.
  void moved(int slot, const address& addr) {
    if (slot < 0 || slot >= cluster_slots || addr.host.empty()) return;
    int index = -1;
    for (std::size_t i = 0; i < shards_.size() && index < 0; ++i)
      if (shards_[i].master.addr == addr) index = static_cast<int>(i);
    for (std::size_t i = 0; i < shards_.size() && index < 0; ++i) {
      auto& sh = shards_[i];
      auto it = std::find_if(sh.replicas.begin(), sh.replicas.end(),
                             [&](const cluster_node& n) { return n.addr == addr; });
      if (it == sh.replicas.end()) continue;
      std::swap(sh.master, *it);  // promoted: the old master is listed as a replica
      index = static_cast<int>(i);
    }
    if (index < 0) {
      cluster_shard s;
      s.master.addr = addr;
      index = static_cast<int>(shards_.size());
      shards_.push_back(std::move(s));
    }
    owner_[static_cast<std::size_t>(slot)] = index;
  }

 private:
  std::vector<cluster_shard> shards_;
  std::vector<int> owner_;
};

/// A redirection reply.
struct cluster_redirect {
  enum class kind { none, moved, ask };
  kind what = kind::none;
  int slot = -1;
  address addr{"", 0};
};

/// Splits `host:port` at the last colon (IPv6 literals, bracketed or not).
inline bool parse_host_port(std::string_view text, address& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::uint16_t port = 0;
  if (!parse_port(text.substr(colon + 1), port)) return false;
  out = address{std::string(host), port};
  return true;
}

/// Parses `-MOVED <slot> <host>:<port>` and `-ASK <slot> <host>:<port>`.
/// An empty host (the node does not know its endpoint) means the host of
/// `from`, the node that answered.
inline cluster_redirect parse_redirect(const reply& r, const address& from) {
  cluster_redirect out;
  if (!r.is_error()) return out;
  std::string_view m = r.error_message();
  cluster_redirect::kind k;
  if (m.substr(0, 6) == "MOVED ")
    k = cluster_redirect::kind::moved, m.remove_prefix(6);
  else if (m.substr(0, 4) == "ASK ")
    k = cluster_redirect::kind::ask, m.remove_prefix(4);
  else
    return out;
  const auto sp = m.find(' ');
  if (sp == std::string_view::npos) return out;
  int slot = -1;
  auto res = std::from_chars(m.data(), m.data() + sp, slot);
  if (res.ec != std::errc{} || res.ptr != m.data() + sp || slot < 0 || slot >= cluster_slots) return out;
  address a;
  if (!parse_host_port(m.substr(sp + 1), a)) return out;
  if (a.host.empty()) a.host = from.host;
  if (a.host.empty()) return out;
  out.what = k;
  out.slot = slot;
  out.addr = std::move(a);
  return out;
}

/// Parses the reply of `CLUSTER SHARDS` into `map`. `from`: the node asked
/// (its host stands for an empty or unknown endpoint). A node may list a
/// `port`, a `tls-port` or both: with `tls` the client connects with TLS
/// and takes `tls-port`, else `port` (a node with only the other kind is
/// an error that says so).
inline std::error_code parse_cluster_shards(const reply& r, const address& from, cluster_map& map, std::string& detail,
                                            bool tls = false, const cluster_map_limits& lim = {}) {
  auto bad = [&](std::string why) {
    detail = "CLUSTER SHARDS: " + std::move(why);
    return make_error_code(error::cluster_map_invalid);
  };
  if (r.is_error()) return bad("error reply: " + std::string(r.error_message()));
  if (!r.is_array()) return bad("not an array");
  if (r.size() > lim.max_shards) return bad(std::to_string(r.size()) + " shards (limit " + std::to_string(lim.max_shards) + ")");
  cluster_map out;
  std::size_t ranges = 0;
  for (const auto& sh : r.as_array()) {
    if (!sh.is_array() || sh.size() % 2 != 0) return bad("a shard is not a field/value array");
    cluster_shard shard;
    bool has_master = false;
    for (std::size_t i = 0; i + 1 < sh.size(); i += 2) {
      if (!sh[i].is_string()) return bad("a shard field name is not a string");
      const auto field = sh[i].as_string();
      const auto& v = sh[i + 1];
      if (field == "slots") {
        if (!v.is_array() || v.size() % 2 != 0) return bad("slots is not a list of pairs");
        ranges += v.size() / 2;
        if (ranges > lim.max_ranges) return bad("too many slot ranges");
        for (std::size_t j = 0; j + 1 < v.size(); j += 2) {
          if (!v[j].is_integer() || !v[j + 1].is_integer()) return bad("a slot is not an integer");
          const long long a = v[j].as_integer(), b = v[j + 1].as_integer();
          if (a < 0 || b >= cluster_slots || a > b) return bad("slot range " + std::to_string(a) + "-" + std::to_string(b) + " out of range");
          shard.ranges.emplace_back(static_cast<int>(a), static_cast<int>(b));
        }
      } else if (field == "nodes") {
        if (!v.is_array()) return bad("nodes is not an array");
        if (v.size() > lim.max_nodes_per_shard) return bad("too many nodes in a shard");
        for (const auto& n : v.as_array()) {
          if (!n.is_array() || n.size() % 2 != 0) return bad("a node is not a field/value array");
          cluster_node node;
          std::string ip, endpoint, role;
          long long port = -1, tls_port = -1;
          for (std::size_t k = 0; k + 1 < n.size(); k += 2) {
            if (!n[k].is_string()) return bad("a node field name is not a string");
            const auto f = n[k].as_string();
            const auto& x = n[k + 1];
            if (x.is_string() && x.as_string().size() > lim.max_text) return bad("node field " + std::string(f) + " too long");
            if (f == "port" && x.is_integer()) port = x.as_integer();
            else if (f == "tls-port" && x.is_integer()) tls_port = x.as_integer();
            else if (f == "id" && x.is_string()) node.id = std::string(x.as_string());
            else if (f == "ip" && x.is_string()) ip = std::string(x.as_string());
            else if (f == "endpoint" && x.is_string()) endpoint = std::string(x.as_string());
            else if (f == "role" && x.is_string()) role = std::string(x.as_string());
            else if (f == "health" && x.is_string()) {
              const auto h = x.as_string();
              node.health = h == "online" ? cluster_node::health_state::online
                            : h == "loading" ? cluster_node::health_state::loading
                                             : cluster_node::health_state::failed;
            }
          }
          if (tls) std::swap(port, tls_port);
          if (port <= 0 || port > 65535) {
            const bool other = tls_port > 0 && tls_port <= 65535;
            return bad("node " + node.id + " has no valid " + (tls ? "tls-port" : "port") +
                       (other ? std::string(tls ? " (only a plaintext port: TLS is on in connection.tls)"
                                                : " (only a tls-port: set connection.tls)")
                              : std::string()));
          }
          std::string host = (!endpoint.empty() && endpoint != "?") ? endpoint : ip;
          if (host.empty() || host == "?") host = from.host;
          node.addr = address{host, static_cast<std::uint16_t>(port)};
          if (role == "master" && (!has_master || (!shard.master.online() && node.online()))) {
            if (has_master) shard.replicas.push_back(std::move(shard.master));
            shard.master = std::move(node);
            has_master = true;
          } else {
            shard.replicas.push_back(std::move(node));
          }
        }
      }
    }
    if (!has_master) {
      if (!shard.ranges.empty()) return bad("a shard with slots has no master");
      continue;  // a shard of failed nodes only
    }
    if (!out.add(std::move(shard))) return bad("slot ranges overlap");
  }
  map = std::move(out);
  return {};
}

/// Parses the reply of `CLUSTER SLOTS` (before Redis 7) into `map`.
inline std::error_code parse_cluster_slots(const reply& r, const address& from, cluster_map& map, std::string& detail,
                                           const cluster_map_limits& lim = {}) {
  auto bad = [&](std::string why) {
    detail = "CLUSTER SLOTS: " + std::move(why);
    return make_error_code(error::cluster_map_invalid);
  };
  if (r.is_error()) return bad("error reply: " + std::string(r.error_message()));
  if (!r.is_array()) return bad("not an array");
  if (r.size() > lim.max_ranges) return bad("too many slot ranges");
  auto node_of = [&](const reply& n, cluster_node& out) {
    if (!n.is_array() || n.size() < 2 || !n[0].is_string() || !n[1].is_integer()) return false;
    const long long port = n[1].as_integer();
    if (port <= 0 || port > 65535 || n[0].as_string().size() > lim.max_text) return false;
    std::string host(n[0].as_string());
    if (host.empty() || host == "?") host = from.host;
    out.addr = address{host, static_cast<std::uint16_t>(port)};
    if (n.size() > 2 && n[2].is_string() && n[2].as_string().size() <= lim.max_text) out.id = std::string(n[2].as_string());
    return true;
  };
  std::vector<cluster_shard> shards;
  for (const auto& e : r.as_array()) {
    if (!e.is_array() || e.size() < 3 || !e[0].is_integer() || !e[1].is_integer()) return bad("an entry is not [start, end, master, ...]");
    if (e.size() - 2 > lim.max_nodes_per_shard) return bad("too many nodes for a range");
    const long long a = e[0].as_integer(), b = e[1].as_integer();
    if (a < 0 || b >= cluster_slots || a > b) return bad("slot range " + std::to_string(a) + "-" + std::to_string(b) + " out of range");
    cluster_node master;
    if (!node_of(e[2], master)) return bad("a master is not [host, port, id]");
    auto it = std::find_if(shards.begin(), shards.end(), [&](const cluster_shard& s) { return s.master.addr == master.addr; });
    if (it == shards.end()) {
      if (shards.size() >= lim.max_shards) return bad("too many shards");
      shards.emplace_back();
      it = shards.end() - 1;
      it->master = master;
      for (std::size_t i = 3; i < e.size(); ++i) {
        cluster_node rep;
        if (!node_of(e[i], rep)) return bad("a replica is not [host, port, id]");
        it->replicas.push_back(std::move(rep));
      }
    }
    it->ranges.emplace_back(static_cast<int>(a), static_cast<int>(b));
  }
  cluster_map out;
  for (auto& s : shards)
    if (!out.add(std::move(s))) return bad("slot ranges overlap");
  map = std::move(out);
  return {};
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CLUSTER_MAP_HPP
