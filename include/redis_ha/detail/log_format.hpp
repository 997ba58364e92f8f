#ifndef REDIS_HA_DETAIL_LOG_FORMAT_HPP
#define REDIS_HA_DETAIL_LOG_FORMAT_HPP

/// @file
/// The fmt side of `logger::log`: include it where `log` is called.

#include <redis_ha/logger.hpp>

#include <fmt/core.h>

#include <string>
#include <utility>

namespace redis_ha {
namespace detail {

template <class... Args>
struct log_format<void, Args...> {
  using type = fmt::format_string<Args...>;
  template <class... A>
  static std::string format(type f, A&&... args) {
    return fmt::format(f, std::forward<A>(args)...);
  }
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_LOG_FORMAT_HPP
