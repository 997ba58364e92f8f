#ifndef REDIS_HA_DETAIL_WAIT_QUEUE_HPP
#define REDIS_HA_DETAIL_WAIT_QUEUE_HPP

/// @file
/// `wait_queue<T>`: what waits for a master (requests, `async_wait_ready`
/// callers), in arrival order, each with its deadline (sans-I/O). The
/// owner arms one timer for `next_deadline()` and calls `expire`.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

template <class T>
class wait_queue {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// At most `capacity` items wait.
  explicit wait_queue(std::size_t capacity) : capacity_(capacity) {}

  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }
  bool full() const noexcept { return items_.size() >= capacity_; }

  /// Appends `item`, due at `deadline`. The caller checks `full()` first.
  void push(T item, time_point deadline) { items_.push_back({std::move(item), deadline}); }

  /// Offers every item, oldest first, to `take(T&) -> bool`; the items it
  /// takes (returns true for) leave the queue, the others keep their order.
  /// Items pushed while it runs stay behind, unoffered.
  template <class Take>
  void drain(Take&& take) {
    auto all = std::move(items_);
    items_.clear();
    std::deque<entry> kept;
    for (auto& e : all)
      if (!take(e.item)) kept.push_back(std::move(e));
    for (auto& e : items_) kept.push_back(std::move(e));
    items_.swap(kept);
  }

  /// Removes and returns the items due at or before `now`.
  std::vector<T> expire(time_point now) {
    std::vector<T> out;
    if (next_deadline() > now) return out;
    std::deque<entry> kept;
    for (auto& e : items_) {
      if (e.deadline <= now)
        out.push_back(std::move(e.item));
      else
        kept.push_back(std::move(e));
    }
    items_.swap(kept);
    return out;
  }

  /// Removes and returns everything.
  std::vector<T> take_all() {
    std::vector<T> out;
    for (auto& e : items_) out.push_back(std::move(e.item));
    items_.clear();
    return out;
  }

  /// The earliest deadline (`time_point::max()` when empty).
  time_point next_deadline() const {
    time_point t = time_point::max();
    for (const auto& e : items_) t = std::min(t, e.deadline);
    return t;
  }

 private:
  struct entry {
    T item;
    time_point deadline;
  };
  std::size_t capacity_;
  std::deque<entry> items_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_WAIT_QUEUE_HPP
