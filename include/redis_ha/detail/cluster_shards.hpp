#ifndef REDIS_HA_DETAIL_CLUSTER_SHARDS_HPP
#define REDIS_HA_DETAIL_CLUSTER_SHARDS_HPP

/// @file
/// `cluster_shards<Stream>`: the per-shard clients of the cluster client and
/// their lookup. Each shard is followed by the HA core exactly as a
/// Sentinel-less deployment is: a `client_impl` in direct mode over the
/// shard's nodes (its `master_fsm` walks them, verifies the master by ROLE,
/// follows a replica's ROLE to its master, backs off, and applies the retry
/// rule, the failover budget and `WAIT`). This file keeps those clients
/// (one entry per shard, by the nodes it walks) and which entry serves each
/// slot; the cluster client routes through it.
///
/// With `read_from` other than `master`, each shard client also keeps a
/// pool of the shard's verified replicas for read-only requests
/// (`replica_pool`): the replicas its master's `ROLE` lists and those the
/// slot map lists for the shard (`client_impl::replica_hint`). Each replica
/// connection sends `READONLY` and must be, by `ROLE`, a replica of the
/// shard's verified master (`replica_of_problem`); one that answers
/// `-MOVED` naming that master leaves the pool (`moved_to`).

#include <redis_ha/address.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/client_event.hpp>
#include <redis_ha/cluster_config.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/client_impl.hpp>
#include <redis_ha/detail/cluster_fsm.hpp>
#include <redis_ha/detail/cluster_map.hpp>
#include <redis_ha/detail/cluster_slot.hpp>
#include <redis_ha/detail/replica_pool.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/request.hpp>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

/// The shard clients of one cluster client, and which one serves each slot.
/// Entries are referred to by index (stable: entries are never erased, a
/// closed one keeps its index with a null client).
template <class Stream>
class cluster_shards {
 public:
  /// The executor type.
  using executor_type = typename Stream::executor_type;
  /// The client that follows one shard.
  using shard_client = client_impl<Stream>;
  /// Receives the events of every shard client.
  using event_sink = std::function<void(const client_event&)>;

  /// `cfg` must outlive this object (it is the cluster client's own).
  cluster_shards(const executor_type& ex, const cluster_config& cfg, connection_factory<Stream> factory)
      : ex_(ex), cfg_(cfg), factory_(std::move(factory)), slot_entry_(cluster_slots, -1) {}

  /// Where the shard clients' events go (set before the first entry is made).
  void set_event_sink(event_sink sink) { sink_ = std::move(sink); }

  /// The client of entry `i`; null once closed.
  const std::shared_ptr<shard_client>& client(int i) const { return entries_[static_cast<std::size_t>(i)].client; }

  /// The entry serving `slot`, or -1 when none (or when it is closed).
  int for_slot(int slot) const {
    const int i = slot_entry_[static_cast<std::size_t>(slot)];
    return i >= 0 && client(i) ? i : -1;
  }

  /// The node entry `i` is talking to: its verified master, else the first
  /// node it walks.
  address node_of(int i) const {
    const auto& e = entries_[static_cast<std::size_t>(i)];
    address from = e.addrs.empty() ? address{"", 0} : e.addrs.front();
    if (e.client)
      if (auto m = e.client->master()) from = *m;
    return from;
  }

  /// True when every entry that holds slots has a verified master.
  bool serving_ready() const noexcept {
    for (const auto& e : entries_)
      if (e.serving && !(e.client && e.client->ready())) return false;
    return true;
  }

  /// The verified master serving `slot`, if any.
  std::optional<address> master_for(int slot) const {
    if (slot < 0 || slot >= cluster_slots) return std::nullopt;
    const int i = slot_entry_[static_cast<std::size_t>(slot)];
    if (i < 0 || !client(i)) return std::nullopt;
    return client(i)->master();
  }

  /// The verified masters of the entries that hold slots.
  std::vector<address> verified_masters() const {
    std::vector<address> v;
    for (const auto& e : entries_)
      if (e.serving && e.client)
        if (auto m = e.client->master()) v.push_back(*m);
    return v;
  }

  /// The open entries that hold slots (a fan-out's targets).
  std::vector<int> serving() const {
    std::vector<int> v;
    for (std::size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].serving && entries_[i].client) v.push_back(static_cast<int>(i));
    return v;
  }

  /// An entry for a keyless request: round-robin over the serving entries
  /// with a verified master, else any serving one; -1 when none.
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

  /// The entry for node `a` (an ASK or MOVED target), created when unknown:
  /// over `shard`'s nodes when `a` is one of them, else over `a` alone.
  int entry_for(const address& a, const cluster_shard* shard) {
    int i = entry_holding(a);
    if (i >= 0) return i;
    return make_entry(shard && shard->holds(a) ? shard->addresses() : std::vector<address>{a});
  }

  /// A new slot map: every shard gets an entry (the one already walking its
  /// master or one of its nodes, else a new one), every slot its shard's
  /// entry; entries of nodes that left the cluster are closed.
  void assign(const cluster_map& map) {
    std::vector<int> shard_entry;
    for (const auto& s : map.shards()) {
      int i = entry_holding(s.master.addr);
      if (i < 0)
        for (const auto& a : s.addresses())
          if ((i = entry_holding(a)) >= 0) break;
      if (i < 0) i = make_entry(s.addresses());
      shard_entry.push_back(i);
    }
    if (cfg_.read_from != read_from::master)
      for (std::size_t k = 0; k < shard_entry.size(); ++k) {
        std::vector<address> replicas;
        for (const auto& r : map.shards()[k].replicas)
          if (r.online()) replicas.push_back(r.addr);
        entries_[static_cast<std::size_t>(shard_entry[k])].client->replica_hint(std::move(replicas));
      }
    for (auto& e : entries_) e.serving = false;
    for (int slot = 0; slot < cluster_slots; ++slot) {
      const auto* s = map.shard_for(slot);
      int i = -1;
      if (s) {
        i = shard_entry[static_cast<std::size_t>(s - map.shards().data())];
        entries_[static_cast<std::size_t>(i)].serving = true;
      }
      slot_entry_[static_cast<std::size_t>(slot)] = i;
    }
    // Nodes that left the cluster: nothing to follow there any more.
    for (auto& e : entries_) {
      if (!e.client || e.serving) continue;
      bool known = false;
      for (const auto& s : map.shards())
        for (const auto& a : e.addrs) known = known || s.holds(a);
      if (!known) {
        e.client->close();
        e.client.reset();
      }
    }
  }

  /// -MOVED (already applied to `map`): `slot` lives on `target` now (a
  /// migration, or a failover inside the shard). When `target` is another
  /// node than the master its entry uses, that entry's HA core verifies again.
  void moved(const cluster_map& map, int slot, const address& target) {
    const int i = entry_for(target, map.shard_for(slot));
    auto& e = entries_[static_cast<std::size_t>(i)];
    const auto m = e.client->master();
    if (m && *m != target) e.client->master_suspect();  // its master handed the slot to another node of the shard
    e.serving = true;
    slot_entry_[static_cast<std::size_t>(slot)] = i;
  }

  /// Closes every shard client.
  void close() {
    for (auto& e : entries_)
      if (e.client) e.client->close();
  }

 private:
  struct entry {
    std::shared_ptr<shard_client> client;  // null once closed
    std::vector<address> addrs;           // the nodes its HA core walks
    bool serving = false;                 // holds slots in the current map
  };

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
    c.read_from = cfg_.read_from;
    c.read_from_zone = cfg_.read_from_zone;
    c.on_event = sink_;
    replica_rules rules;
    if (cfg_.read_from != read_from::master) {
      rules.prepare = [](request& r) { r.push("READONLY"); };
      rules.check = [](const role_info& info, const address& master) { return replica_of_problem(info, master); };
      rules.stale = [](const response& resp, const address& master) { return moved_to(resp, master); };
    }
    entry e;
    e.client = std::make_shared<shard_client>(ex_, std::move(c), factory_, std::move(rules));
    e.addrs = std::move(addrs);
    e.client->start();
    entries_.push_back(std::move(e));
    return static_cast<int>(entries_.size() - 1);
  }

  executor_type ex_;
  const cluster_config& cfg_;
  connection_factory<Stream> factory_;
  event_sink sink_;
  std::vector<entry> entries_;
  std::vector<int> slot_entry_;
  std::size_t next_any_ = 0;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CLUSTER_SHARDS_HPP
