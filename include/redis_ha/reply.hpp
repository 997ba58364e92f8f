#ifndef REDIS_HA_REPLY_HPP
#define REDIS_HA_REPLY_HPP

/// @file
/// `redis_ha::reply`: an owning RESP2 value (nil, simple string, error,
/// integer, bulk string, array) with accessors that report a type mismatch
/// as an error instead of invoking undefined behaviour. To convert a reply
/// (or a whole `response`) into standard types in one call
/// (`std::optional<std::string>`, `std::vector<T>`, `std::map<K, V>`, ...),
/// see `<redis_ha/typed.hpp>`.

#include <redis_ha/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redis_ha {

namespace detail {
struct reply_access;
}

/// The RESP2 type of a reply.
enum class reply_type : std::uint8_t {
  nil,            ///< `$-1` or `*-1`
  simple_string,  ///< `+OK`
  error,          ///< `-ERR message`
  integer,        ///< `:42`
  bulk_string,    ///< `$3\r\nfoo`
  array,          ///< `*2\r\n...`
};

/// Name of a reply type, for messages ("bulk_string", ...).
inline const char* to_string(reply_type t) noexcept {
  switch (t) {
    case reply_type::nil: return "nil";
    case reply_type::simple_string: return "simple_string";
    case reply_type::error: return "error";
    case reply_type::integer: return "integer";
    case reply_type::bulk_string: return "bulk_string";
    case reply_type::array: return "array";
  }
  return "unknown";
}

/// One reply from the server. A value type: copyable, movable, comparable.
///
/// Accessors come in pairs, as in Asio: `as_string(ec)` reports a mismatch
/// through `ec` (and returns an empty value), `as_string()` throws
/// `redis_ha::system_error`. Reading a string or integer from an error reply
/// reports `error::server_error`; any other mismatch reports
/// `error::wrong_reply_type`.
class reply {
 public:
  /// A nil reply.
  reply() noexcept = default;

  /// A nil reply.
  static reply nil() { return reply{}; }
  /// A simple string reply (`+text`).
  static reply simple_string(std::string text) { return reply{reply_type::simple_string, std::move(text)}; }
  /// An error reply (`-text`), e.g. `"READONLY You can't write against a read only replica."`.
  static reply error(std::string text) { return reply{reply_type::error, std::move(text)}; }
  /// A bulk string reply.
  static reply bulk_string(std::string data) { return reply{reply_type::bulk_string, std::move(data)}; }
  /// An integer reply.
  static reply integer(long long value) {
    reply r;
    r.type_ = reply_type::integer;
    r.integer_ = value;
    return r;
  }
  /// An array reply.
  static reply array(std::vector<reply> elements) {
    reply r;
    r.type_ = reply_type::array;
    r.elements_ = std::move(elements);
    return r;
  }

  /// The RESP type.
  reply_type type() const noexcept { return type_; }
  /// True for `$-1` and `*-1`.
  bool is_nil() const noexcept { return type_ == reply_type::nil; }
  /// True for an error reply.
  bool is_error() const noexcept { return type_ == reply_type::error; }
  /// True for a simple or bulk string.
  bool is_string() const noexcept {
    return type_ == reply_type::simple_string || type_ == reply_type::bulk_string;
  }
  /// True for an integer.
  bool is_integer() const noexcept { return type_ == reply_type::integer; }
  /// True for an array.
  bool is_array() const noexcept { return type_ == reply_type::array; }

  /// The text of a simple or bulk string.
  std::string_view as_string(std::error_code& ec) const noexcept {
    if (is_string()) {
      ec.clear();
      return str_;
    }
    ec = mismatch();
    return {};
  }
  /// The text of a simple or bulk string; throws on another type.
  std::string_view as_string() const {
    std::error_code ec;
    auto s = as_string(ec);
    throw_mismatch(ec, "string");
    return s;
  }

  /// The value of an integer reply.
  long long as_integer(std::error_code& ec) const noexcept {
    if (is_integer()) {
      ec.clear();
      return integer_;
    }
    ec = mismatch();
    return 0;
  }
  /// The value of an integer reply; throws on another type.
  long long as_integer() const {
    std::error_code ec;
    auto v = as_integer(ec);
    throw_mismatch(ec, "integer");
    return v;
  }

  /// The elements of an array reply.
  const std::vector<reply>& as_array(std::error_code& ec) const noexcept {
    ec = is_array() ? std::error_code{} : mismatch();
    return elements_;  // empty unless an array
  }
  /// The elements of an array reply; throws on another type.
  const std::vector<reply>& as_array() const {
    std::error_code ec;
    const auto& a = as_array(ec);
    throw_mismatch(ec, "array");
    return a;
  }

  /// The full message of an error reply (`"ERR unknown command ..."`), else empty.
  std::string_view error_message() const noexcept {
    return is_error() ? std::string_view{str_} : std::string_view{};
  }
  /// The first word of an error reply (`"READONLY"`, `"NOSCRIPT"`, `"WRONGPASS"`), else empty.
  std::string_view error_prefix() const noexcept {
    auto m = error_message();
    return m.substr(0, m.find(' '));
  }

  /// Number of elements of an array (0 for other types).
  std::size_t size() const noexcept { return elements_.size(); }
  /// Element `i` of an array. Precondition: `i < size()`.
  const reply& operator[](std::size_t i) const noexcept { return elements_[i]; }

  /// A readable rendering in the style of redis-cli, for logs and tests:
  /// `"OK"`, `(integer) 1`, `(nil)`, `(error) ERR ...`, `[a, b]`.
  std::string to_string() const {
    switch (type_) {
      case reply_type::nil: return "(nil)";
      case reply_type::integer: return "(integer) " + std::to_string(integer_);
      case reply_type::error: return "(error) " + str_;
      case reply_type::simple_string:
      case reply_type::bulk_string: return "\"" + str_ + "\"";
      case reply_type::array: {
        std::string out = "[";
        for (std::size_t i = 0; i < elements_.size(); ++i) {
          if (i) out += ", ";
          out += elements_[i].to_string();
        }
        return out + "]";
      }
    }
    return {};
  }

  /// Deep equality (type and value).
  friend bool operator==(const reply& a, const reply& b) noexcept {
    return a.type_ == b.type_ && a.integer_ == b.integer_ && a.str_ == b.str_ && a.elements_ == b.elements_;
  }
  /// Deep inequality.
  friend bool operator!=(const reply& a, const reply& b) noexcept { return !(a == b); }

 private:
  friend struct detail::reply_access;

  reply(reply_type t, std::string s) : type_{t}, str_{std::move(s)} {}

  std::error_code mismatch() const noexcept {
    return make_error_code(is_error() ? redis_ha::error::server_error : redis_ha::error::wrong_reply_type);
  }
  void throw_mismatch(const std::error_code& ec, const char* wanted) const {
    if (!ec) return;
    if (is_error()) throw system_error(ec, str_);
    throw system_error(ec, std::string("expected ") + wanted + ", got " + redis_ha::to_string(type_));
  }

  reply_type type_ = reply_type::nil;
  long long integer_ = 0;
  std::string str_;
  std::vector<reply> elements_;
};

/// The replies to one request, one per command, in order. A plain vector:
/// convert it with `redis_ha::as<T1, T2, ...>(resp)` (`typed.hpp`).
using response = std::vector<reply>;

}  // namespace redis_ha

#endif  // REDIS_HA_REPLY_HPP
