#ifndef REDIS_HA_DETAIL_MASTER_OBSERVERS_HPP
#define REDIS_HA_DETAIL_MASTER_OBSERVERS_HPP

/// @file
/// Who listens to `master_driver`: its owner (`master_owner`: the HA client
/// or a subscriber, told which connection to use) and the followers
/// (`master_follower`: other users of the same master in the process), and
/// the machine's settings taken from the client's configuration.

#include <redis_ha/address.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/client_event.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/detail/master_fsm_types.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

namespace redis_ha {
namespace detail {

/// What the driver tells its owner. Every call runs on the executor.
template <class Stream>
struct master_owner {
  using connection_type = basic_connection<Stream>;
  virtual ~master_owner() = default;
  /// A new data connection, before it connects (e.g. to set a push handler).
  virtual void prepare(connection_type&) {}
  /// Appends to the verification request after the driver's own commands
  /// (`ROLE`, and `INFO replication` when the machine tracks histories; see
  /// `master_driver::own_commands`), in the same write, about to be sent on `conn`.
  virtual void verify_request(const std::shared_ptr<connection_type>& /*conn*/, request&) {}
  /// Connection `id` to `node` now serves: a verified master, or (direct
  /// mode without `follow_master`) a replica. `verify`: the whole reply of
  /// the verification request (the owner's replies from index `own_commands()`).
  virtual void on_ready(std::uint64_t id, const std::shared_ptr<connection_type>& conn, const address& node,
                        bool verified, const response& verify) = 0;
  /// Connection `id` takes no new requests any more.
  virtual void on_unready(std::uint64_t id) = 0;
  /// Writes held back (a promotion is announced) or released.
  virtual void on_hold(bool) {}
  /// The healthy replicas known now.
  virtual void on_replicas(const std::vector<address>&) {}
  /// Requests waiting for a master cannot succeed (a configuration error).
  virtual void on_fail_waiting(std::error_code) {}
  /// An event for the user (already logged by the driver).
  virtual void on_event(const client_event&) {}
  /// Every follower that was settling (see `master_follower::settling`) is settled.
  virtual void on_followers_settled() {}
};

/// Another user of the same master in the same process (a subscriber built
/// on a client): it opens its own connections, but to the node the HA core
/// verified, and it needs no sentinel subscriptions of its own. Calls run
/// on the executor.
struct master_follower {
  virtual ~master_follower() = default;
  /// `node` serves now (`verified`: as master; false only in direct mode
  /// without `follow_master`).
  virtual void on_master(const address& node, bool verified) = 0;
  /// No node serves now (a failover or a loss is being handled).
  virtual void on_master_lost() = 0;
  /// A promotion of another node was announced (`true`: writes are held,
  /// the node in use may stop being the master any moment) or called off
  /// (`false`: the node in use stays).
  virtual void on_hold(bool) {}
  /// The driver stopped for good.
  virtual void on_driver_closed() = 0;
  /// True while the follower is catching up with a new master (a subscriber
  /// re-subscribing): the owner holds its `PUBLISH`es meanwhile, so that
  /// they reach a node this process is subscribed on.
  virtual bool settling() const { return false; }
};

/// The settings of the connection to the master: the client's, with
/// Valkey's `CLIENT CAPA redirect` where a redirect can be followed (when
/// the client finds the master through sentinels or follows ROLE).
inline connection_config master_connection_config(const client_config& c) {
  auto d = c.connection;
  d.redirect_capability = c.use_redirect && (!c.sentinel.sentinels.empty() || c.follow_master);
  return d;
}

/// The machine's settings from the client's configuration.
inline master_fsm_config make_fsm_config(const client_config& cfg) {
  master_fsm_config f;
  f.sentinels = cfg.sentinel.sentinels;
  f.master_name = cfg.sentinel.master_name;
  f.addresses = cfg.addresses;
  f.follow_master = cfg.follow_master;
  f.watch_events = cfg.sentinel.watch_events;
  f.want_replicas = cfg.read_from != read_from::master;
  f.backoff_min = cfg.backoff_min;
  f.backoff_max = cfg.backoff_max;
  f.promotion_hold = cfg.promotion_hold;
  const auto& c = cfg.connection;
  // Connecting (bounded by connect_timeout) plus ROLE (instant on a live node).
  f.verify_timeout = c.connect_timeout + std::min(c.connect_timeout, std::chrono::milliseconds(1000));
  f.round_timeout = 2 * cfg.sentinel.timeout + std::chrono::milliseconds(100);
  f.stable_after = std::max(std::chrono::milliseconds(1000), 2 * cfg.backoff_max);
  f.sentinel_limits.max_learned = cfg.sentinel.max_learned_sentinels;
  f.sentinel_limits.forget_after = cfg.sentinel.forget_unreachable_after;
  f.sentinel_limits.watch_backoff_min = cfg.sentinel.watch_backoff_min;
  f.sentinel_limits.watch_backoff_max = cfg.sentinel.watch_backoff_max;
  f.address_map = cfg.address_map;
  f.probe_interval = cfg.direct_probe_interval;
  return f;
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_MASTER_OBSERVERS_HPP
