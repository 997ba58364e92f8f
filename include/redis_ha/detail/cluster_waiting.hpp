#ifndef REDIS_HA_DETAIL_CLUSTER_WAITING_HPP
#define REDIS_HA_DETAIL_CLUSTER_WAITING_HPP

/// @file
/// The cluster client's requests (`cluster_request`) and those of them
/// that wait for a slot map (`cluster_waiting`): none yet, no entry for
/// their slot, no master for a keyless request, or a redirection whose
/// target is not known yet. They wait in arrival order, each until its
/// deadline (`failover_budget` after it was started); one timer expires
/// them. Requests waiting for a shard's master wait in that shard's client
/// instead (`client_impl`).

#include <redis_ha/address.hpp>
#include <redis_ha/detail/cluster_keys.hpp>
#include <redis_ha/detail/completion.hpp>
#include <redis_ha/detail/wait_queue.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

/// One request of the cluster client, from `async_exec` to its completion.
struct cluster_request {
  /// The clock of the deadlines.
  using clock = std::chrono::steady_clock;
  /// The request as the caller gave it.
  request req;
  /// Where it goes (`route_commands`).
  cluster_route route;
  /// When it was started.
  clock::time_point created = clock::now();
  /// When it fails with `master_unavailable` if it is still waiting.
  clock::time_point deadline = clock::time_point::max();
  /// The caller's completion handler.
  any_completion<std::error_code, response> handler;
  /// `-MOVED` and `-ASK` followed so far.
  int redirects = 0;
  /// `-TRYAGAIN` / `-CLUSTERDOWN` resends so far.
  int retries = 0;
  /// The next attempt goes there, after `ASKING`.
  std::optional<address> ask;
  /// After a `-MOVED` (which names a master), a read is resent to the
  /// master of its shard, not to a replica (whose view may still be behind).
  bool master_only = false;
};

/// Owns a `cluster_request` while it is routed, sent or waits.
using cluster_request_ptr = std::unique_ptr<cluster_request>;

/// The requests waiting for a slot map, with their deadlines.
template <class Executor>
class cluster_waiting : public std::enable_shared_from_this<cluster_waiting<Executor>> {
 public:
  /// Receives each request whose deadline passed while it waited.
  using expired_fn = std::function<void(cluster_request_ptr)>;

  /// At most `capacity` requests wait.
  cluster_waiting(const Executor& ex, std::size_t capacity, expired_fn expired)
      : timer_(ex), queue_(capacity), expired_(std::move(expired)) {}

  /// Queues `p` until its deadline and returns no error; or leaves it and
  /// returns why it cannot wait (`queue_full`, or `master_unavailable`
  /// when its deadline passed already).
  std::error_code push(cluster_request_ptr& p) {
    if (queue_.full()) return error::queue_full;
    if (cluster_request::clock::now() >= p->deadline) return error::master_unavailable;
    const auto deadline = p->deadline;
    queue_.push(std::move(p), deadline);
    arm(deadline);
    return {};
  }

  /// Offers every waiting request, oldest first, to `take(cluster_request_ptr&) -> bool`
  /// (see `wait_queue::drain`).
  template <class Take>
  void drain(Take&& take) {
    queue_.drain(std::forward<Take>(take));
  }

  /// Stops the timer and hands back every waiting request.
  std::vector<cluster_request_ptr> close() {
    closed_ = true;
    timer_.cancel();
    return queue_.take_all();
  }

 private:
  using clock = cluster_request::clock;

  void arm(clock::time_point when) {
    if (when >= armed_) return;
    armed_ = when;
    timer_.expires_at(when);
    timer_.async_wait([weak = std::weak_ptr<cluster_waiting>(this->shared_from_this()), when](std::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_ || self->armed_ != when) return;
      self->armed_ = clock::time_point::max();
      for (auto& p : self->queue_.expire(clock::now())) self->expired_(std::move(p));
      const auto next = self->queue_.next_deadline();
      if (next != clock::time_point::max()) self->arm(next);
    });
  }

  asio::steady_timer timer_;
  clock::time_point armed_ = clock::time_point::max();
  wait_queue<cluster_request_ptr> queue_;
  expired_fn expired_;
  bool closed_ = false;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CLUSTER_WAITING_HPP
