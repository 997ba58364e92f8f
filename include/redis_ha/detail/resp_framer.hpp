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
    // The state lives in locals while scanning: `data` may alias *this as
    // far as the compiler knows, so members would be reloaded at every byte.
    state st = state_;
    const char type = type_;
    char item_type = type;
    std::size_t line_length = line_length_;
    std::size_t number_length = number_length_;
    bool ends_with_cr = ends_with_cr_;
    std::uint64_t payload_left = payload_left_;
    std::size_t i = 0;
    std::size_t line_start = 0;  // where the current line's type byte is in this chunk,
    bool line_here = false;      // if it is in this chunk
    error violation{};
    const char* why = nullptr;
    while (i < size && violation == error{}) {
      if (st == state::payload) {
        const std::size_t left = size - i;
        if (payload_left > left) {
          payload_left -= left;
          i = size;
        } else {
          i += static_cast<std::size_t>(payload_left);
          payload_left = 0;
          st = state::type;
        }
        continue;
      }
      if (st == state::type) {
        // Most items are short and whole in the chunk: skip them in one go.
        const std::size_t next = whole_item(data, size, i, payload_left);
        if (next != npos) {
          i = next;
          if (payload_left) st = state::payload;
          continue;
        }
        const char c = data[i];
        item_type = c;
        if (c != '+' && c != '-' && c != ':' && c != '$' && c != '*') {
          violation = error::protocol_error;
          line_start = i;
          line_here = true;
          break;
        }
        line_start = i;
        line_here = true;
        line_length = 0;
        number_length = 0;
        ends_with_cr = false;
        st = state::line;
        ++i;
        continue;
      }
      if (item_type == '+' || item_type == '-') {
        const char* begin = data + i;
        const void* nl = std::memchr(begin, '\n', size - i);
        const std::size_t take = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - begin) : size - i;
        line_length += take;
        if (take) ends_with_cr = begin[take - 1] == '\r';
        i += take;
        // The content is line_length bytes, less a final '\r' that may turn out to be the terminator.
        if (line_length - (ends_with_cr ? 1 : 0) > limits_.max_line_length) {
          violation = error::line_too_long;
        } else if (nl) {
          ++i;  // the '\n'
          if (ends_with_cr) {
            line_here = false;
            st = state::type;
          } else if (++line_length > limits_.max_line_length) {
            violation = error::line_too_long;  // a bare '\n' belongs to the line: hiredis ends lines at "\r\n"
          }
        }
        continue;
      }
      // A number (`:`, `$`, `*`): short, so copied byte by byte; at most
      // max_number_length characters and the '\r'.
      while (i < size && data[i] != '\n') {
        const char c = data[i++];
        if (number_length == max_number_length + 1 || (number_length == max_number_length && c != '\r')) {
          violation = error::line_too_long;
          break;
        }
        number_[number_length++] = c;
      }
      if (violation != error{} || i == size) continue;
      ++i;  // the '\n'
      if (number_length == 0 || number_[number_length - 1] != '\r') {
        violation = error::protocol_error;
        why = "a line feed inside a number";
        continue;
      }
      st = state::type;
      if (item_type != '$') {
        line_here = false;
        continue;
      }
      long long n = 0;
      if (!parse_number(number_, number_length - 1, n) || n < -1) {
        violation = error::protocol_error;  // the offending item is this header
        why = "a bad bulk length";
        continue;
      }
      if (n >= 0 && static_cast<unsigned long long>(n) > limits_.max_bulk_length) {
        violation = error::reply_too_large;
        continue;
      }
      line_here = false;
      if (n >= 0) {
        payload_left = static_cast<std::uint64_t>(n) + 2;  // the payload and its CRLF
        st = state::payload;
      }
    }
    state_ = st;
    type_ = item_type;
    line_length_ = line_length;
    number_length_ = number_length;
    ends_with_cr_ = ends_with_cr;
    payload_left_ = payload_left;
    // The offending item, or an incomplete line, starts at line_start if it
    // started in this chunk, else before it.
    const std::size_t item = line_here ? line_start : 0;
    if (violation != error{}) return fail(out, item, violation, why);
    out.feedable = st == state::line ? item : size;
    return out;
  }

  /// Back to the start of a stream.
  void reset() noexcept { *this = resp_framer{limits_}; }

  /// What the violation was about, for logs (e.g. "bulk length 1099511627776 > max_bulk_length 33554432").
  const std::string& detail() const noexcept { return detail_; }

 private:
  enum class state : std::uint8_t { type, line, payload };

  static constexpr std::size_t npos = ~std::size_t{0};

  // The fast path: if the item at data[i] is well-formed, within the limits
  // and its line is whole in the chunk, returns where it ends (for a bulk
  // whose payload runs past the chunk: `size`, with payload_left set to
  // what is missing). Otherwise npos, and the state machine takes over.
  std::size_t whole_item(const char* data, std::size_t size, std::size_t i,
                         std::uint64_t& payload_left) const noexcept {
    const char c = data[i];
    std::size_t j = i + 1;
    if (c == '$') {
      // Up to 18 digits cannot overflow; longer lengths take the slow path.
      std::uint64_t n = 0;
      const std::size_t end = std::min(size, j + 18);
      const std::size_t first = j;
      while (j < end && data[j] >= '0' && data[j] <= '9') n = n * 10 + static_cast<unsigned>(data[j++] - '0');
      if (j == first || j + 1 >= size || data[j] != '\r' || data[j + 1] != '\n') return npos;
      if (data[first] == '0' && j - first > 1) return npos;  // leading zero: malformed
      if (n > limits_.max_bulk_length) return npos;
      j += 2;
      const std::uint64_t need = n + 2;
      if (need <= size - j) return j + static_cast<std::size_t>(need);
      payload_left = need - (size - j);
      return size;
    }
    if (c == '+' || c == '-') {
      if (j >= size) return npos;
      // The '\n' of a line within the cap is before j + max_line_length + 2 (no overflow: checked first).
      const std::size_t end = size - j - 1 > limits_.max_line_length ? j + limits_.max_line_length + 2 : size;
      const void* nl = std::memchr(data + j, '\n', end - j);
      if (!nl) return npos;
      const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(nl) - data);
      return at > j && data[at - 1] == '\r' ? at + 1 : npos;
    }
    if (c == ':' || c == '*') {
      const std::size_t end = std::min(size, j + max_number_length + 2);
      while (j < end && data[j] != '\n') ++j;
      return j < end && j > i + 1 && data[j - 1] == '\r' ? j + 1 : npos;
    }
    return npos;
  }

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
