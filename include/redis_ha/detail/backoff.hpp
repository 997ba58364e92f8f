#ifndef REDIS_HA_DETAIL_BACKOFF_HPP
#define REDIS_HA_DETAIL_BACKOFF_HPP

/// @file
/// Exponential backoff with full jitter between reconnection attempts (sans-I/O).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace redis_ha {
namespace detail {

/// Delays grow from `min` doubling up to `max`; each delay is drawn
/// uniformly from [delay/2, delay] so that many clients do not retry in step.
class backoff {
 public:
  /// `seed` 0 draws a random seed; tests pass a fixed one to get fixed delays.
  backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, std::uint64_t seed = 0)
      : min_(std::max(min, std::chrono::milliseconds(1))), max_(std::max(max, min_)), next_(min_),
        rng_(seed ? static_cast<std::mt19937::result_type>(seed) : std::random_device{}()) {}

  /// The delay before the next attempt.
  std::chrono::milliseconds next() {
    auto d = next_;
    next_ = std::min(next_ * 2, max_);
    std::uniform_int_distribution<long long> pick(d.count() / 2, d.count());
    return std::chrono::milliseconds(pick(rng_));
  }
  /// Back to the shortest delay (after a success).
  void reset() { next_ = min_; }
  /// True when the next delay is the shortest one (nothing failed since `reset`).
  bool fresh() const noexcept { return next_ == min_; }
  /// The longest delay.
  std::chrono::milliseconds max() const noexcept { return max_; }

 private:
  std::chrono::milliseconds min_, max_, next_;
  std::mt19937 rng_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_BACKOFF_HPP
