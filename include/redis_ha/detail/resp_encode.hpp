#ifndef REDIS_HA_DETAIL_RESP_ENCODE_HPP
#define REDIS_HA_DETAIL_RESP_ENCODE_HPP

/// @file
/// RESP2 command encoding: appends `*<n>\r\n$<len>\r\n<arg>\r\n...` to a
/// buffer. Written here rather than through hiredis's
/// `redisFormatCommandArgv` because that call needs argv/length arrays and
/// returns a fresh malloc'd buffer per command that would then be copied
/// again; appending in place costs no allocation once the buffer has grown.

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace redis_ha {
namespace detail {

/// Appends `<prefix><n>\r\n`.
inline void append_header(std::string& out, char prefix, std::size_t n) {
  char buf[24];
  buf[0] = prefix;
  auto [end, ec] = std::to_chars(buf + 1, buf + sizeof buf - 2, n);
  (void)ec;  // 20 digits always fit
  end[0] = '\r';
  end[1] = '\n';
  out.append(buf, static_cast<std::size_t>(end + 2 - buf));
}

/// Appends one bulk string argument.
inline void append_bulk(std::string& out, std::string_view arg) {
  append_header(out, '$', arg.size());
  out.append(arg.data(), arg.size());
  out.append("\r\n", 2);
}

/// Appends an integral or floating-point argument in its shortest exact
/// decimal form (`std::to_chars`), as Redis expects.
template <class T, std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, int> = 0>
void append_bulk(std::string& out, T value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;  // 64 chars hold any integer or shortest double
  append_bulk(out, std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_RESP_ENCODE_HPP
