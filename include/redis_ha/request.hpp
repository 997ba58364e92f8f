#ifndef REDIS_HA_REQUEST_HPP
#define REDIS_HA_REQUEST_HPP

/// @file
/// `redis_ha::request`: one or more commands, encoded once, sent in one
/// write and answered with one `response` (a reply per command).

#include <redis_ha/detail/resp_encode.hpp>

#include <chrono>
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>

namespace redis_ha {

/// Per-request settings.
struct request_options {
  /// Timeout of this request; 0 uses `connection_config::request_timeout`.
  std::chrono::milliseconds timeout{0};
  /// The caller declares that running this request twice is harmless, so
  /// the HA client may resend it after a connection loss even when its
  /// commands are not idempotent by themselves.
  bool idempotent = false;
};

/// A pipeline of commands. Arguments are encoded as RESP when pushed, so a
/// request can be executed many times without encoding again, and the
/// connection copies the bytes when `async_exec` starts: the request need
/// not outlive that call.
///
/// @code
/// redis_ha::request req;
/// req.push("SET", "key", "value").push("INCR", "counter").push("EXPIRE", "key", 60);
/// @endcode
class request {
 public:
  /// An empty request.
  request() = default;

  /// Appends a command. Arguments may be anything convertible to
  /// `std::string_view`, or integers and floating-point numbers.
  template <class... Args>
  request& push(std::string_view command, const Args&... args) {
    detail::append_header(payload_, '*', 1 + sizeof...(Args));
    detail::append_bulk(payload_, command);
    (append_arg(args), ...);
    ++commands_;
    return *this;
  }

  /// Appends a command whose trailing arguments come from a range, e.g.
  /// `push_range("RPUSH", "list", values)` or `push_range("MSET", pairs_as_flat_vector)`.
  template <class Range>
  request& push_range(std::string_view command, std::string_view key, const Range& args) {
    detail::append_header(payload_, '*', 2 + std::size(args));
    detail::append_bulk(payload_, command);
    detail::append_bulk(payload_, key);
    for (const auto& a : args) append_arg(a);
    ++commands_;
    return *this;
  }

  /// Appends a command given as a whole argv range (the command name first).
  template <class Range>
  request& push_argv(const Range& argv) {
    detail::append_header(payload_, '*', std::size(argv));
    for (const auto& a : argv) append_arg(a);
    ++commands_;
    return *this;
  }

  /// Number of commands (= number of replies the response will hold).
  std::size_t size() const noexcept { return commands_; }
  /// True when no command was pushed.
  bool empty() const noexcept { return commands_ == 0; }
  /// The encoded RESP bytes.
  const std::string& payload() const noexcept { return payload_; }
  /// Removes every command (keeps the options and the buffer's capacity).
  void clear() noexcept {
    payload_.clear();
    commands_ = 0;
  }

  /// Per-request settings (timeout, idempotency).
  request_options& options() noexcept { return options_; }
  /// Per-request settings (timeout, idempotency).
  const request_options& options() const noexcept { return options_; }

 private:
  template <class T>
  void append_arg(const T& value) {
    if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      detail::append_bulk(payload_, std::string_view(value));
    } else {
      static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>,
                    "request arguments must be strings or numbers");
      detail::append_bulk(payload_, value);
    }
  }

  std::string payload_;
  std::size_t commands_ = 0;
  request_options options_;
};

}  // namespace redis_ha

#endif  // REDIS_HA_REQUEST_HPP
