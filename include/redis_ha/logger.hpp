#ifndef REDIS_HA_LOGGER_HPP
#define REDIS_HA_LOGGER_HPP

/// @file
/// `redis_ha::logger`: a leveled log callback. Nothing is formatted unless
/// a sink is set and the level is enabled.

#include <functional>
#include <string_view>
#include <utility>

namespace redis_ha {
namespace detail {
/// The format-string type of `logger::log` (fmt's, checked at compile
/// time). Defined in `detail/log_format.hpp`, which includes fmt: only code
/// that logs pays for fmt, not every file naming a config.
template <class Void, class... Args>
struct log_format;
}  // namespace detail

/// Severity of a log line.
enum class log_level { debug, info, warning, error, off };

/// Name of a level: "debug", "info", "warning", "error", "off".
inline const char* to_string(log_level l) noexcept {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
    case log_level::off: return "off";
  }
  return "unknown";
}

/// A log callback plus a minimum level. Default-constructed: logs nothing.
struct logger {
  /// Receives every line at or above `min_level`.
  std::function<void(log_level, std::string_view)> sink;
  /// Lines below this level are dropped before formatting.
  log_level min_level = log_level::info;

  /// True when a line at `level` would reach the sink.
  bool enabled(log_level level) const noexcept { return sink && level >= min_level && level != log_level::off; }

  /// Formats with fmt and forwards to the sink if `level` is enabled.
  /// Needs `<redis_ha/detail/log_format.hpp>` (fmt) where it is called.
  template <class... Args>
  void log(log_level level, typename detail::log_format<void, Args...>::type format, Args&&... args) const {
    if (!enabled(level)) return;
    sink(level, detail::log_format<void, Args...>::format(format, std::forward<Args>(args)...));
  }
};

}  // namespace redis_ha

#endif  // REDIS_HA_LOGGER_HPP
