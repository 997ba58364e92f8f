#ifndef REDIS_HA_CLUSTER_CONFIG_HPP
#define REDIS_HA_CLUSTER_CONFIG_HPP

/// @file
/// `redis_ha::cluster_config`: the settings of `basic_cluster_client`.

#include <redis_ha/address.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/client_event.hpp>
#include <redis_ha/connection_config.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace redis_ha {

/// Settings of `basic_cluster_client`. Every field but `seeds` has a usable default.
struct cluster_config {
  /// Some nodes of the cluster (any role); the slot map is read from the
  /// first that answers `CLUSTER SHARDS` (or `CLUSTER SLOTS`).
  std::vector<address> seeds;
  /// Settings of every node connection (credentials, timeouts, health check, logger).
  connection_config connection;
  /// How long a request may wait for its slot's master (during a failover,
  /// before the first slot map, while the cluster is down) before failing
  /// with `master_unavailable`. Requests for other shards do not wait.
  std::chrono::milliseconds failover_budget{10000};
  /// Most requests that may wait, per shard and for the slot map; beyond, `queue_full`.
  std::size_t max_queued = 100000;
  /// Delays between attempts to find a shard's master after it was lost
  /// (the shard's HA core, exponential and jittered), and between slot map
  /// refreshes of one burst of failover signals.
  std::chrono::milliseconds backoff_min{2};
  /// Longest such delay: bounds how late a promoted replica is noticed.
  std::chrono::milliseconds backoff_max{25};
  /// Bound on one `CLUSTER SHARDS` query to one node (connect included).
  std::chrono::milliseconds refresh_timeout{500};
  /// The slot map is also read again this often when nothing signalled a change (0: never).
  std::chrono::milliseconds refresh_interval{0};
  /// Most `MOVED` + `ASK` redirections followed by one request (`too_many_redirects`).
  int max_redirects = 16;
  /// When > 0, every request holding a write is followed by `WAIT` on its
  /// shard's master (as in `client_config::min_replicas_acked`).
  int min_replicas_acked = 0;
  /// The timeout given to `WAIT`.
  std::chrono::milliseconds replication_timeout{100};
  /// Where read-only requests (every command `command_flags::readonly`) go,
  /// as in `client_config::read_from`: under `replica_preferred` and
  /// `replica`, to a verified replica of their slot's shard (round-robin);
  /// writes and mixed requests always go to the master. A shard's replicas
  /// come from its master's `ROLE` and from the slot map; each connection
  /// sends `READONLY` and is verified with `ROLE`: a replica, its link
  /// `connected`, of the shard's verified master. `replica_preferred` uses
  /// the master while no replica is verified; `replica` waits for one
  /// (within `failover_budget`). Reads from a replica may lag the master's writes.
  redis_ha::read_from read_from = redis_ha::read_from::master;
  /// With `read_from` other than `master`: prefer replicas in this Valkey
  /// `availability-zone` (as `client_config::read_from_zone`).
  std::string read_from_zone;
  /// Receives the shards' HA events (`node`: the shard's node) and the
  /// cluster's own (`resolved` after each new slot map), on the client's executor.
  std::function<void(const client_event&)> on_event;
};

/// Counters of a `basic_cluster_client`.
struct cluster_stats {
  std::uint64_t requests = 0;      ///< requests started
  std::uint64_t succeeded = 0;     ///< completed without error
  std::uint64_t failed = 0;        ///< completed with an error
  std::uint64_t refused = 0;       ///< refused locally (`cross_slot`, `unroutable_command`)
  std::uint64_t moved = 0;         ///< `-MOVED` followed
  std::uint64_t asked = 0;         ///< `-ASK` followed
  std::uint64_t retried = 0;       ///< resent after `-TRYAGAIN` / `-CLUSTERDOWN`
  std::uint64_t refreshes = 0;     ///< slot maps read
  std::uint64_t shards = 0;        ///< shards in the current map
};

}  // namespace redis_ha

#endif  // REDIS_HA_CLUSTER_CONFIG_HPP
