#ifndef REDIS_HA_DETAIL_RESP_FRAMER_HPP
#define REDIS_HA_DETAIL_RESP_FRAMER_HPP

/// @file
/// A linear, incremental pre-scan of RESP2 framing, run on received bytes
/// before hiredis sees them. It knows where each line ends and how long each
/// bulk payload is, so limits are enforced as soon as the bytes that break
/// them arrive: a line longer than its cap fails while it is still arriving,
/// a `$<length>` header above the bulk limit fails when its line ends, before
/// any payload is buffered. It also tells the caller which bytes belong to a
/// line that is not complete yet, so hiredis 0.14 (which rescans its whole
/// buffer for CRLF each time it is asked for a reply) is only ever handed
/// complete lines and decodes in linear time. Sans-I/O, no allocation.

#include <redis_ha/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace redis_ha {
namespace detail {

/// Limits the framer enforces.
struct framer_limits {
  /// Longest simple-string or error line (bytes before CRLF).
  std::size_t max_line_length = std::size_t{64} << 10;
  /// Longest bulk string payload.
  std::size_t max_bulk_length = std::size_t{32} << 20;
};

/// The outcome of scanning one chunk.
struct frame_scan {
  /// Bytes of the chunk, from its start, that may be handed to the decoder
  /// now. The rest belong to a line that is not complete yet, or (after a
  /// violation) to the offending item.
  std::size_t feedable = 0;
  /// The first limit or framing rule the chunk broke (`error{}`: none).
  error violation{};
};

/// Incremental RESP2 framing: item type bytes, lines, bulk payloads. Array
/// headers are lines like any other; nesting is the decoder's business.
class resp_framer {
 public:
  /// Numeric lines (`:`, `$`, `*`) are capped here: the longest valid one is
  /// `-9223372036854775808`.
  static constexpr std::size_t max_number_length = 20;

  /// A framer at the start of a stream.
  explicit resp_framer(framer_limits limits = {}) noexcept : limits_{limits} {}

  /// Scans the next `size` bytes of the stream. After a violation the framer
  /// stays failed (every later chunk reports it again, `feedable` 0).
  frame_scan scan(const char* data, std::size_t size) noexcept {
    frame_scan out;
    if (failed_ != error{}) {
      out.violation = failed_;
      return out;
    }
    std::size_t i = 0;
    std::size_t line_start = 0;  // where the current line's type byte is in this chunk,
    bool line_here = false;      // if it is in this chunk
    while (i < size) {
      switch (state_) {
        case state::payload: {
          const std::size_t left = size - i;
          if (payload_left_ > left) {
            payload_left_ -= left;
            i = size;
          } else {
            i += static_cast<std::size_t>(payload_left_);
            payload_left_ = 0;
            state_ = state::type;
          }
          break;
        }
        case state::type: {
          const char c = data[i];
          type_ = c;
          if (c != '+' && c != '-' && c != ':' && c != '$' && c != '*') return fail(out, i, error::protocol_error);
          line_start = i;
          line_here = true;
          line_length_ = 0;
          number_length_ = 0;
          ends_with_cr_ = false;
          state_ = state::line;
          ++i;
          break;
        }
        case state::line: {
          // The offending item, if this line breaks a rule, starts here.
          const std::size_t item = line_here ? line_start : 0;
          const char* begin = data + i;
          const void* nl = std::memchr(begin, '\n', size - i);
          const std::size_t take = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - begin) : size - i;
          const bool numeric = type_ != '+' && type_ != '-';
          const std::size_t cap = numeric ? max_number_length : limits_.max_line_length;
          if (numeric) {
            // The longest number and its '\r' fit in number_.
            if (number_length_ + take > max_number_length + 1) return fail(out, item, error::line_too_long);
            std::memcpy(number_ + number_length_, begin, take);
            number_length_ += take;
          }
          line_length_ += take;
          if (take) ends_with_cr_ = begin[take - 1] == '\r';
          // The content is line_length_ bytes, less a final '\r' that may turn out to be the terminator.
          if (line_length_ - (ends_with_cr_ ? 1 : 0) > cap) return fail(out, item, error::line_too_long);
          i += take;
          if (!nl) break;
          ++i;  // the '\n'
          if (!ends_with_cr_) {
            // A bare '\n' belongs to the line: hiredis ends lines at "\r\n" only.
            if (numeric) return fail(out, item, error::protocol_error, "a line feed inside a number");
            if (++line_length_ > cap) return fail(out, item, error::line_too_long);
            break;
          }
          line_here = false;
          state_ = state::type;
          if (type_ != '$') break;
          long long n = 0;
          if (!parse_number(number_, number_length_ - 1, n) || n < -1) return fail(out, item, error::protocol_error, "a bad bulk length");
          if (n == -1) break;  // nil
          if (static_cast<unsigned long long>(n) > limits_.max_bulk_length)
            return fail(out, item, error::reply_too_large);
          payload_left_ = static_cast<std::uint64_t>(n) + 2;  // the payload and its CRLF
          state_ = state::payload;
          break;
        }
      }
    }
    out.feedable = state_ == state::line ? (line_here ? line_start : 0) : size;
    return out;
  }

  /// Back to the start of a stream.
  void reset() noexcept { *this = resp_framer{limits_}; }

  /// What the violation was about, for logs (e.g. "bulk length 1099511627776 > max_bulk_length 33554432").
  const std::string& detail() const noexcept { return detail_; }

 private:
  enum class state : std::uint8_t { type, line, payload };

  // Strict decimal, as hiredis's string2ll: no sign but '-', no leading
  // zeros, no spaces, no overflow.
  static bool parse_number(const char* s, std::size_t len, long long& out) noexcept {
    if (len == 0) return false;
    if (len == 1 && s[0] == '0') {
      out = 0;
      return true;
    }
    const bool negative = s[0] == '-';
    std::size_t i = negative ? 1 : 0;
    if (i >= len || s[i] < '1' || s[i] > '9') return false;
    unsigned long long v = 0;
    for (; i < len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      const unsigned d = static_cast<unsigned>(s[i] - '0');
      if (v > (~0ULL - d) / 10) return false;
      v = v * 10 + d;
    }
    const unsigned long long max = negative ? 9223372036854775808ULL : 9223372036854775807ULL;
    if (v > max) return false;
    out = negative ? static_cast<long long>(0 - v) : static_cast<long long>(v);
    return true;
  }

  frame_scan& fail(frame_scan& out, std::size_t feedable, error e, const char* why = nullptr) noexcept {
    failed_ = e;
    out.feedable = feedable;
    out.violation = e;
    try {
      const std::string type(1, type_);
      if (why) {
        detail_ = why;
      } else if (e == error::protocol_error) {
        static const char hex[] = "0123456789abcdef";
        const auto b = static_cast<unsigned char>(type_);
        detail_ = std::string("got byte 0x") + hex[b >> 4] + hex[b & 15] + " where a reply type was expected";
      }
      else if (e == error::reply_too_large)
        detail_ = "bulk length " + std::string(number_, number_length_ - 1) + " > max_bulk_length " +
                  std::to_string(limits_.max_bulk_length);
      else if (type_ == '+' || type_ == '-')
        detail_ = "a '" + type + "' line longer than max_line_length " + std::to_string(limits_.max_line_length);
      else
        detail_ = "a '" + type + "' line longer than " + std::to_string(max_number_length) + " characters";
    } catch (...) {  // then without a text
    }
    return out;
  }

  framer_limits limits_;
  state state_ = state::type;
  error failed_{};
  char type_ = 0;
  bool ends_with_cr_ = false;
  std::size_t line_length_ = 0;
  std::size_t number_length_ = 0;
  char number_[max_number_length + 2] = {};
  std::uint64_t payload_left_ = 0;
  std::string detail_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_RESP_FRAMER_HPP
