#ifndef REDIS_HA_CLIENT_EVENT_HPP
#define REDIS_HA_CLIENT_EVENT_HPP

/// @file
/// What the HA client reports through `client_config::on_event`, and its counters.

#include <redis_ha/address.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>

namespace redis_ha {

/// One observable step of the HA client.
struct client_event {
  /// What happened.
  enum class kind {
    resolved,          ///< Sentinel (or direct mode) named `node` as the master
    connected,         ///< a connection to `node` is up
    role_verified,     ///< `ROLE` on `node` said master: writes flow
    master_changed,    ///< the master moved from `previous` to `node`; `unavailable` is how long writes waited
    master_lost,       ///< the master connection was lost or demoted (`ec` says why)
    failover_hint,     ///< a Sentinel event announced a failover (`detail` names it)
    resolve_failed,    ///< a resolution or verification attempt failed (`ec`, `detail`)
    retry,             ///< a request is resent to the next master (`ec`: why)
    request_failed,    ///< a request failed with a failover-related error (`ec`)
    replica_added,     ///< `node` was verified as a replica and serves reads
    reconnecting,      ///< a reply from master `node` was rejected (`ec`: too large, too deep, malformed); not a failover: the client reconnects to `node` after the backoff
    hold,              ///< writes are held back (bounded by `promotion_hold`): a promotion of `node` is announced, or (direct mode) a replica left master `node` and the probes look for a promotion; `detail` "released" when they resume on the same master
    following,         ///< `node` is a replica whose ROLE names another master (`detail`), which is tried next
    sentinels_disagree,  ///< the sentinels named different masters (`detail` lists who said what)
    sentinel_learned,  ///< `node` was learned from `SENTINEL sentinels` and is used from now on
    masters_disagree,  ///< direct mode: another node with an unrelated replication history (`detail`: its replid) also claims master; the one in use is kept
  };
  kind type = kind::resolved;
  address node{"", 0};      ///< the node concerned (empty host when none)
  address previous{"", 0};  ///< master_changed: the former master
  std::chrono::milliseconds unavailable{0};
  std::error_code ec;
  std::string detail;
};

/// Name of an event kind ("resolved", "master_changed", ...).
inline const char* to_string(client_event::kind k) noexcept {
  switch (k) {
    case client_event::kind::resolved: return "resolved";
    case client_event::kind::connected: return "connected";
    case client_event::kind::role_verified: return "role_verified";
    case client_event::kind::master_changed: return "master_changed";
    case client_event::kind::master_lost: return "master_lost";
    case client_event::kind::failover_hint: return "failover_hint";
    case client_event::kind::resolve_failed: return "resolve_failed";
    case client_event::kind::retry: return "retry";
    case client_event::kind::request_failed: return "request_failed";
    case client_event::kind::replica_added: return "replica_added";
    case client_event::kind::reconnecting: return "reconnecting";
    case client_event::kind::hold: return "hold";
    case client_event::kind::following: return "following";
    case client_event::kind::sentinels_disagree: return "sentinels_disagree";
    case client_event::kind::sentinel_learned: return "sentinel_learned";
    case client_event::kind::masters_disagree: return "masters_disagree";
  }
  return "unknown";
}

/// Counters of the HA client.
struct client_stats {
  std::uint64_t requests = 0;           ///< requests accepted
  std::uint64_t succeeded = 0;          ///< completed without error code
  std::uint64_t failed = 0;             ///< completed with an error code
  std::uint64_t retries = 0;            ///< resends after a failover signal
  std::uint64_t refused_not_master = 0; ///< writes refused locally
  std::uint64_t master_changes = 0;     ///< master address changes
  std::uint64_t resolutions = 0;        ///< resolution attempts
  std::uint64_t connects = 0;           ///< data-node connections opened
  std::uint64_t replicas = 0;           ///< verified replicas serving reads now (`read_from`)
};

}  // namespace redis_ha

#endif  // REDIS_HA_CLIENT_EVENT_HPP
