#ifndef REDIS_HA_DETAIL_REPLICA_WATCH_HPP
#define REDIS_HA_DETAIL_REPLICA_WATCH_HPP

/// @file
/// What a durable write's `WAIT` count is trusted against (pure logic).
/// `min_replicas_acked` counts acknowledgements from the master's replicas;
/// if one of the replicas the master had when the write was sent has left
/// since, it may have been promoted (direct mode has no Sentinel to say so),
/// and then what the others acknowledged is lost. The trailing `ROLE` of
/// each durable write is compared with the replicas the write was sent
/// under.

#include <redis_ha/address.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/reply.hpp>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

class replica_watch {
 public:
  using snapshot_type = std::shared_ptr<const std::vector<address>>;

  /// A new master in use, with the replicas its verifying `ROLE` named.
  void reset(std::vector<address> replicas) {
    seen_ = std::make_shared<const std::vector<address>>(std::move(replicas));
    pending_.reset();
  }

  /// The reference a durable write is sent under (shared, not copied).
  const snapshot_type& snapshot() const noexcept { return seen_; }

  /// The result of `check`.
  struct verdict {
    bool intact = false;        ///< WAIT's count can be trusted
    bool replica_left = false;  ///< a replica of the master in use left: the core must hold and probe
  };

  /// A durable write's trailing `ROLE`, sent when the master had `before`.
  /// `current`: the reply came on the master in use (else only the verdict
  /// counts); `held`: writes are held, so joiners wait for `released`.
  verdict check(const std::vector<address>& before, const reply& role, bool current, bool held) {
    auto info = parse_role(role);
    if (info.role != role_info::kind::master) return {};
    const bool left = detail::replica_left(before, info.replicas);
    if (!current) return {!left, false};
    if (!left) {
      // Replicas that joined count from now on (not while held: the pending list decides then).
      if (!held && info.replicas.size() != seen_->size())
        seen_ = std::make_shared<const std::vector<address>>(std::move(info.replicas));
      return {true, false};
    }
    pending_ = std::move(info.replicas);
    return {false, true};
  }

  /// The hold ended on the same master: its replicas after the departure
  /// are the reference from now on.
  void released() {
    if (!pending_) return;
    seen_ = std::make_shared<const std::vector<address>>(std::move(*pending_));
    pending_.reset();
  }

 private:
  snapshot_type seen_ = std::make_shared<const std::vector<address>>();
  std::optional<std::vector<address>> pending_;  // after one left: the reference once released
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_REPLICA_WATCH_HPP
