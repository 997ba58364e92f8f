#ifndef REDIS_HA_DETAIL_MASTER_FSM_TYPES_HPP
#define REDIS_HA_DETAIL_MASTER_FSM_TYPES_HPP

/// @file
/// The vocabulary of `master_fsm`: its configuration, its states, the
/// timers it arms and the actions it asks its driver to carry out.

#include <redis_ha/address.hpp>
#include <redis_ha/client_event.hpp>
#include <redis_ha/detail/sentinel_set.hpp>
#include <redis_ha/logger.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

/// Settings of the machine (derived from `client_config` by its users).
struct master_fsm_config {
  std::vector<address> sentinels;  ///< Sentinel mode when not empty
  std::string master_name = "mymaster";
  std::vector<address> addresses;  ///< direct mode
  bool follow_master = true;       ///< direct mode: follow a replica's ROLE to its master
  bool watch_events = true;        ///< subscribe to every sentinel's failover events
  bool want_replicas = false;      ///< keep the list of replicas fresh (read_from)
  std::chrono::milliseconds backoff_min{5};
  std::chrono::milliseconds backoff_max{250};
  std::chrono::milliseconds promotion_hold{2000};
  std::chrono::milliseconds verify_timeout{2000};   ///< connect plus ROLE of one candidate
  std::chrono::milliseconds round_timeout{1100};    ///< one round of sentinel queries
  std::chrono::milliseconds stable_after{1000};     ///< a master connection up this long has proved healthy
  std::chrono::milliseconds replica_refresh{5000};  ///< fallback poll of the replica list
  int max_hops = 3;                                 ///< replicas followed to their master in one cycle
  /// Direct mode: how often new connections through each configured
  /// address check, by ROLE, that the replicas still follow our master (0: never).
  std::chrono::milliseconds probe_interval{500};
  int probes_per_address = 3;  ///< connections per address and probe (a load balancer spreads them over its nodes)
  sentinel_set::limits sentinel_limits;
  std::function<address(const address&)> address_map;
  std::uint64_t seed = 0;  ///< backoff jitter; 0 = random
};

/// Where the machine is.
enum class master_state {
  idle,         ///< not started
  resolving,    ///< asking the sentinels (or walking the direct addresses)
  connecting,   ///< connecting to a candidate and checking its ROLE
  ready,        ///< a verified master (or, direct mode without follow_master, a replica) is in use
  backing_off,  ///< the last cycle failed; the next starts when the retry timer fires
  closed,       ///< closed: no action will ever be asked again
};

/// Name of a state.
inline const char* to_string(master_state s) noexcept {
  switch (s) {
    case master_state::idle: return "idle";
    case master_state::resolving: return "resolving";
    case master_state::connecting: return "connecting";
    case master_state::ready: return "ready";
    case master_state::backing_off: return "backing_off";
    case master_state::closed: return "closed";
  }
  return "unknown";
}

/// A timer of the machine: its kind and, for per-connection and
/// per-sentinel timers, the id it belongs to.
struct fsm_timer {
  enum class kind {
    retry,    ///< the next cycle after a failure
    verify,   ///< deadline of one candidate (index: connection id)
    hold,     ///< how long an announced promotion may hold writes
    stable,   ///< the master connection proved healthy (index: connection id)
    round,    ///< deadline of a sentinel query round (index: round id)
    refresh,  ///< next refresh of the replica list
    watch,    ///< reconnect one sentinel subscription (index: slot id)
    probe,    ///< direct mode: the next probe through the configured addresses
  };
  kind what = kind::retry;
  std::uint64_t index = 0;
  friend bool operator==(const fsm_timer& a, const fsm_timer& b) noexcept {
    return a.what == b.what && a.index == b.index;
  }
  friend bool operator<(const fsm_timer& a, const fsm_timer& b) noexcept {
    return std::tie(a.what, a.index) < std::tie(b.what, b.index);
  }
};

/// One thing the driver must do.
struct fsm_action {
  enum class type {
    query,         ///< ask `targets` (slot id, address) for the master; round `id`
    connect,       ///< open data connection `id` to `addr`
    send_role,     ///< send ROLE on connection `id`
    ready,         ///< connection `id` to `addr` serves requests; `flag`: verified master
    unready,       ///< connection `id` no longer takes new requests
    hold,          ///< `flag`: hold writes back (a promotion is announced) / release them
    retire,        ///< close connection `id` once its requests in flight had a moment
    drop,          ///< close connection `id` now
    arm,           ///< start `timer` for `after` (replacing an armed one)
    cancel,        ///< stop `timer`
    watch,         ///< subscribe to the events of sentinel slot `id` at `addr`
    unwatch,       ///< stop watching sentinel slot `id`
    replicas,      ///< the healthy replicas known now: `addrs`
    fail_waiting,  ///< requests waiting for a master cannot succeed: fail them with `ec`
    emit,          ///< report `event`; log `text` at `level` unless it is `off`
    shutdown,      ///< close everything: connections, queries, watches, timers
    probe,         ///< direct mode: open a short connection `id` to `addr`, send ROLE, report, close
  };
  type what = type::emit;
  std::uint64_t id = 0;
  address addr{"", 0};
  std::vector<std::pair<std::uint64_t, address>> targets;
  std::vector<address> addrs;
  fsm_timer timer;
  std::chrono::milliseconds after{0};
  bool flag = false;
  std::error_code ec;
  client_event event;
  log_level level = log_level::off;
  std::string text;
};

/// The actions of one step, in order.
using fsm_actions = std::vector<fsm_action>;

/// Counters of the machine.
struct master_fsm_stats {
  std::uint64_t resolutions = 0;     ///< cycles started (sentinel rounds, or passes over the direct addresses)
  std::uint64_t connects = 0;        ///< data connections asked for
  std::uint64_t master_changes = 0;  ///< the verified master moved to another address
  std::uint64_t failed_cycles = 0;   ///< cycles that ended without a master
  std::uint64_t probes = 0;          ///< direct-mode probes sent
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_MASTER_FSM_TYPES_HPP
