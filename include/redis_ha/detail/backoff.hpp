#ifndef REDIS_HA_DETAIL_BACKOFF_HPP
#define REDIS_HA_DETAIL_BACKOFF_HPP

/// @file
/// Exponential backoff with full jitter between reconnection attempts (sans-I/O).

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace redis_ha {
namespace detail {

/// Delays grow from `min` doubling up to `max`; each delay is drawn
/// uniformly from [delay/2, delay] so that many clients do not retry in step.
class backoff {
 public:
  /// `seed` 0 draws a seed from the clock and this object's address (two
  /// clients started at once differ); tests pass a fixed one to get fixed delays.
  backoff(std::chrono::milliseconds min, std::chrono::milliseconds max, std::uint64_t seed = 0)
      : min_(std::max(min, std::chrono::milliseconds(1))), max_(std::max(max, min_)), next_(min_),
        state_(seed ? seed
                    : static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                          static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(this))) {}

  /// The delay before the next attempt.
  std::chrono::milliseconds next() {
    auto d = next_;
    next_ = std::min(next_ * 2, max_);
    const auto lo = static_cast<std::uint64_t>(d.count() / 2);
    const auto span = static_cast<std::uint64_t>(d.count()) - lo + 1;
    return std::chrono::milliseconds(static_cast<long long>(lo + draw() % span));  // bias < span / 2^64
  }
  /// Back to the shortest delay (after a success).
  void reset() { next_ = min_; }
  /// True when the next delay is the shortest one (nothing failed since `reset`).
  bool fresh() const noexcept { return next_ == min_; }
  /// The longest delay.
  std::chrono::milliseconds max() const noexcept { return max_; }

 private:
  // splitmix64: jitter needs spread, not cryptographic quality, and
  // <random> would cost every file that includes the client.
  std::uint64_t draw() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::chrono::milliseconds min_, max_, next_;
  std::uint64_t state_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_BACKOFF_HPP
