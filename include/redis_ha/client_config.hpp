#ifndef REDIS_HA_CLIENT_CONFIG_HPP
#define REDIS_HA_CLIENT_CONFIG_HPP

/// @file
/// Configuration of the HA client and of Sentinel discovery.

#include <redis_ha/address.hpp>
#include <redis_ha/client_event.hpp>
#include <redis_ha/connection_config.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace redis_ha {

/// How to find the master through Sentinel.
struct sentinel_config {
  /// Sentinel addresses. Those learned from `SENTINEL sentinels` are added.
  std::vector<address> sentinels;
  /// The name given to the master in `sentinel monitor <name> ...`.
  std::string master_name = "mymaster";
  /// Credentials for the sentinels (not for the data nodes).
  std::string username;
  /// Password for the sentinels; empty: no AUTH.
  std::string password;
  /// Bound on connecting to one sentinel, and again on querying it. All
  /// sentinels are queried concurrently, so a dead or black-holed sentinel
  /// delays discovery by at most twice this, and only when no other
  /// sentinel answers sooner.
  std::chrono::milliseconds timeout{500};
  /// Subscribe to every sentinel's failover events (`+switch-master`,
  /// `+promoted-slave`, ...) to react within milliseconds. A hint only: the
  /// client also recovers through ROLE checks, `-READONLY`, connection loss
  /// and health checks when messages are lost.
  bool watch_events = true;
  /// Shortest and longest delay before an event subscription to a sentinel
  /// is tried again after it failed (exponential, jittered, per sentinel).
  std::chrono::milliseconds watch_backoff_min{100};
  /// Longest delay before a failed event subscription is tried again.
  std::chrono::milliseconds watch_backoff_max{2000};
  /// Health check of the event subscriptions: a `PING` after this long
  /// without traffic, which must be answered within the same time.
  std::chrono::milliseconds watch_health_check{1000};
  /// Most sentinels learned from `SENTINEL sentinels` that are kept beside
  /// the configured ones (which are always kept).
  std::size_t max_learned_sentinels = 16;
  /// A learned sentinel that stays unreachable this long is forgotten.
  std::chrono::milliseconds forget_unreachable_after{60000};
  /// TLS towards the sentinels (data nodes: `client_config::connection.tls`),
  /// e.g. another CA or client certificate than the data nodes'.
  redis_ha::tls_config tls;
};

/// Where read-only requests go.
enum class read_from {
  master,             ///< everything goes to the master (default)
  replica_preferred,  ///< read-only requests go to a verified replica when one is up, else to the master
  replica,            ///< read-only requests go only to verified replicas (they wait, bounded, for one)
};

/// Settings of `basic_client`.
struct client_config {
  /// Sentinel mode: used when `sentinel.sentinels` is not empty.
  redis_ha::sentinel_config sentinel;
  /// Direct mode (no Sentinel): addresses tried in turn, e.g. one
  /// Kubernetes Service that balances over every node.
  std::vector<address> addresses;
  /// Direct mode: when the node reached says it is a replica, connect to
  /// the master its `ROLE` names (after `address_map`). When false, the
  /// client stays on that replica: reads work, writes fail with `not_master`.
  bool follow_master = true;
  /// Direct mode: how often the client opens short connections through
  /// each address (three each, so that a load balancer spreads them over a
  /// master and two replicas) and asks ROLE, to notice a failover without
  /// Sentinel: a replica that follows another node than our master makes
  /// the client move to that node (verified by ROLE). Until then, writes may
  /// still reach an old master that calls itself master: at most this long
  /// (see docs/guarantees.md). 0 disables probing.
  std::chrono::milliseconds direct_probe_interval{500};
  /// Settings of every data-node connection: credentials, database,
  /// timeouts, health check, logger.
  connection_config connection;
  /// How long a request may wait for a verified master (during a failover
  /// or before the first connect) before failing with `master_unavailable`.
  std::chrono::milliseconds failover_budget{10000};
  /// Most requests that may wait for a master; beyond, `queue_full`.
  std::size_t max_queued = 100000;
  /// Shortest and longest delay between resolution attempts (exponential,
  /// jittered).
  std::chrono::milliseconds backoff_min{5};
  /// Longest delay between resolution attempts.
  std::chrono::milliseconds backoff_max{250};
  /// How long an announced promotion (`+failover-state-send-slaveof-noone`)
  /// may hold writes back before the client resolves again by itself.
  std::chrono::milliseconds promotion_hold{2000};
  /// Where read-only requests (every command `command_flags::readonly`)
  /// go. Replicas come from `SENTINEL replicas` (direct mode: the master's
  /// `ROLE`), skipping those flagged down or disconnected, and each is
  /// verified with `ROLE` (a replica whose link to the master is
  /// `connected`). Reads are spread round-robin. Writes always go to the master.
  redis_ha::read_from read_from = redis_ha::read_from::master;
  /// With `read_from` other than `master`: prefer replicas whose Valkey
  /// `availability-zone` (read from `INFO server` when the replica is
  /// verified) equals this; reads go round-robin over those, and to any
  /// other verified replica only when none of them is up. Empty (the
  /// default): no preference. Servers that report no zone (Redis, Valkey
  /// without the setting) never match.
  std::string read_from_zone;
  /// Valkey 8: send `CLIENT CAPA redirect` on the master connections, so
  /// that a demoted master answers `-REDIRECT host:port` naming the new
  /// primary: the client moves there at once (verified by `ROLE`) and
  /// resends the request, as for `-READONLY`. Servers without the
  /// capability (Redis) answer with an error, which is ignored. Never used
  /// on the replica-read connections, nor in direct mode without `follow_master`.
  bool use_redirect = true;
  /// When > 0, every request holding a write is followed (in the same
  /// write) by `WAIT <min_replicas_acked> <replication_timeout>`; the
  /// request succeeds only if that many replicas confirm, else it fails
  /// with `not_replicated` (resent first when idempotent, within the budget).
  int min_replicas_acked = 0;
  /// The timeout given to `WAIT`.
  std::chrono::milliseconds replication_timeout{100};
  /// Maps every address that Sentinel or ROLE returns before connecting
  /// (NAT, Docker, port-forwards). Identity when empty.
  std::function<address(const address&)> address_map;
  /// Receives state changes, failovers and retries (on the client's executor).
  std::function<void(const client_event&)> on_event;
};

}  // namespace redis_ha

#endif  // REDIS_HA_CLIENT_CONFIG_HPP
