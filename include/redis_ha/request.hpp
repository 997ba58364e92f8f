#ifndef REDIS_HA_REQUEST_HPP
#define REDIS_HA_REQUEST_HPP

/// @file
/// `redis_ha::request`: one or more commands, encoded once, sent in one
/// write and answered with one `response` (a reply per command).

#include <redis_ha/command_traits.hpp>
#include <redis_ha/detail/resp_encode.hpp>

#include <chrono>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace redis_ha {

/// True when a `T` can be an argument of `request::push` (and of
/// `push_range` / `push_argv` elements):
///
/// - anything convertible to `std::string_view` (sent as is, binary-safe);
/// - `char`: sent as a one-character string (`push("SET", "k", 'x')` sends
///   `"x"`, not `"120"`);
/// - integers (`signed char` and `unsigned char` included, as numbers: they
///   are `std::int8_t` / `std::uint8_t`) and floating-point numbers, sent in
///   their shortest exact decimal form.
///
/// Refused at compile time: `bool` (`1`/`0` or `"true"`? say which),
/// `wchar_t`, `char16_t`, `char32_t` (and C++20's `char8_t`): no encoding
/// is implied; pass a UTF-8 `std::string` instead.
template <class T>
inline constexpr bool is_request_argument_v =
    std::is_convertible_v<const T&, std::string_view> ||
    (std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, wchar_t> &&
     !std::is_same_v<T, char16_t> && !std::is_same_v<T, char32_t>
#if defined(__cpp_char8_t)
     && !std::is_same_v<T, char8_t>
#endif
    );

/// Per-request settings.
struct request_options {
  /// Timeout of this request; 0 uses `connection_config::request_timeout`.
  std::chrono::milliseconds timeout{0};
  /// Whether the HA client may resend this request after a connection loss
  /// that leaves its outcome unknown. Unset: decided by the commands'
  /// traits (`command_flags::idempotent`). `true`: the caller declares that
  /// running it twice is harmless. `false`: never resend (e.g. `SET k v NX`
  /// used as a lock, which the traits table, blind to arguments, would
  /// classify as a plain idempotent `SET`).
  std::optional<bool> idempotent;
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
  /// `std::string_view`, a `char` (a one-character string), or integers and
  /// floating-point numbers; see `is_request_argument_v`.
  template <class... Args>
  request& push(std::string_view command, const Args&... args) {
    detail::append_header(payload_, '*', 1 + sizeof...(Args));
    detail::append_bulk(payload_, command);
    (append_arg(args), ...);
    if constexpr (sizeof...(Args) > 0) {
      note(command, first_text(args...), sizeof...(Args));
    } else {
      note(command, {}, 0);
    }
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
    note(command, key, 1 + std::size(args));
    return *this;
  }

  /// Appends a command given as a whole argv range (the command name first).
  template <class Range>
  request& push_argv(const Range& argv) {
    detail::append_header(payload_, '*', std::size(argv));
    std::string_view name, first;
    std::size_t i = 0;
    for (const auto& a : argv) {
      append_arg(a);
      if (i == 0) name = std::string_view(a);
      if (i == 1) first = std::string_view(a);
      ++i;
    }
    note(name, first, i ? i - 1 : 0);
    return *this;
  }

  /// Number of commands.
  std::size_t size() const noexcept { return commands_; }
  /// Number of replies the server sends: one per command, except
  /// `SUBSCRIBE`-like commands, confirmed once per channel.
  std::size_t expected_replies() const noexcept { return replies_; }
  /// True when any command must run on a master (`command_flags::write`,
  /// which includes unknown commands).
  bool has_write() const noexcept { return has(flags_any_, command_flags::write); }
  /// True when resending the request after a connection loss is harmless:
  /// every command is idempotent by its traits, or the caller said so
  /// through `options().idempotent`.
  bool idempotent() const noexcept {
    return options_.idempotent ? *options_.idempotent : (commands_ > 0 && all_idempotent_);
  }
  /// True when every command only reads the data set
  /// (`command_flags::readonly`), so a replica may serve the request.
  bool read_only() const noexcept { return commands_ > 0 && all_readonly_; }
  /// The union of the flags of all commands.
  command_flags flags() const noexcept { return flags_any_; }
  /// True when a command is `PUBLISH` or `SPUBLISH` (a client holds these
  /// while a subscriber built on it re-subscribes after a failover).
  bool publishes() const noexcept { return publishes_; }
  /// True when no command was pushed.
  bool empty() const noexcept { return commands_ == 0; }
  /// The encoded RESP bytes.
  const std::string& payload() const noexcept { return payload_; }
  /// Removes every command (keeps the options and the buffer's capacity).
  void clear() noexcept {
    payload_.clear();
    commands_ = 0;
    replies_ = 0;
    flags_any_ = command_flags::none;
    all_idempotent_ = true;
    all_readonly_ = true;
    publishes_ = false;
  }

  /// Per-request settings (timeout, idempotency).
  request_options& options() noexcept { return options_; }
  /// Per-request settings (timeout, idempotency).
  const request_options& options() const noexcept { return options_; }

 private:
  template <class T, class... Rest>
  static std::string_view first_text(const T& first, const Rest&...) {
    if constexpr (std::is_convertible_v<const T&, std::string_view>)
      return std::string_view(first);
    else if constexpr (std::is_same_v<T, char>)
      return std::string_view(&first, 1);
    else
      return {};
  }

  // Records one command: its flags and how many replies it produces.
  void note(std::string_view command, std::string_view first_arg, std::size_t args) {
    command_flags f = command_traits(command, first_arg);
    flags_any_ |= f;
    all_idempotent_ = all_idempotent_ && has(f, command_flags::idempotent);
    all_readonly_ = all_readonly_ && has(f, command_flags::readonly);
    ++commands_;
    publishes_ = publishes_ || detail::compare_command_key("publish", command, {}) == 0 ||
                 detail::compare_command_key("spublish", command, {}) == 0;
    replies_ += has(f, command_flags::pubsub) && args > 0 ? args : 1;
  }

  template <class T>
  void append_arg(const T& value) {
    static_assert(is_request_argument_v<T>,
                  "request arguments must be strings, char or numbers (not bool, wchar_t, char16_t, char32_t, "
                  "char8_t): see redis_ha::is_request_argument_v");
    if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      detail::append_bulk(payload_, std::string_view(value));
    } else if constexpr (std::is_same_v<T, char>) {
      detail::append_bulk(payload_, std::string_view(&value, 1));
    } else if constexpr (is_request_argument_v<T>) {
      detail::append_bulk(payload_, value);
    }
  }

  std::string payload_;
  std::size_t commands_ = 0;
  std::size_t replies_ = 0;
  command_flags flags_any_ = command_flags::none;
  bool all_idempotent_ = true;
  bool all_readonly_ = true;
  bool publishes_ = false;
  request_options options_;
};

}  // namespace redis_ha

#endif  // REDIS_HA_REQUEST_HPP
