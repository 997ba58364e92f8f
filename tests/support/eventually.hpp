#pragma once
/// @file eventually.hpp
/// Bounded polling for conditions that become true asynchronously.

#include <chrono>
#include <functional>
#include <thread>

namespace redis_ha::test {

/// Polls `condition` every `interval` until it returns true (→ true) or `timeout` elapses
/// (→ false). Exceptions thrown by `condition` count as "not yet".
inline bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds interval = std::chrono::milliseconds(25)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    try {
      if (condition()) return true;
    } catch (...) {
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace redis_ha::test
