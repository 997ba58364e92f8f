#ifndef REDIS_HA_REPLY_CONVERTER_HPP
#define REDIS_HA_REPLY_CONVERTER_HPP

/// @file
/// The customization point of typed replies, `redis_ha::reply_converter<T>`,
/// its conversions for standard types, and `redis_ha::conversion_error`.
/// Use it through `<redis_ha/typed.hpp>` (`redis_ha::as<T>(reply)`), which
/// lists the rules.

#include <redis_ha/detail/reply_shape.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>

#include <array>
#include <charconv>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace redis_ha {

/// Why a reply could not be converted: an error code plus text.
struct conversion_error {
  /// `error::wrong_reply_type`, or `error::server_error` when the reply (or
  /// the element) is a Redis error reply. Empty: no error.
  std::error_code code;
  /// What the target type accepts, e.g. `"integer"`, `"array of 2"`.
  std::string expected;
  /// What came, e.g. `"bulk_string \"abc\""`, `"nil"`, `"error \"WRONGTYPE ...\""`.
  std::string got;
  /// Where, e.g. `"reply[2][0]"` (element 0 of element 2) or `"response[1]"`.
  std::string where;

  /// True when there is an error.
  explicit operator bool() const noexcept { return static_cast<bool>(code); }

  /// One line: `reply[2]: expected integer, got bulk_string "abc"`.
  std::string message() const {
    std::string m = (where.empty() ? std::string("reply") : where) + ": expected " + expected + ", got " + got;
    if (got == "nil") m += " (use std::optional<T> where nil can come)";
    return m;
  }

  /// Sets a mismatch between `r` and what `wanted` describes (for converters).
  void mismatch(const reply& r, std::string wanted) {
    code = make_error_code(r.is_error() ? error::server_error : error::wrong_reply_type);
    expected = std::move(wanted);
    got = describe(r);
  }

  /// A short rendering of a reply for `got`: its type and (the start of) its value.
  static std::string describe(const reply& r) {
    switch (r.type()) {
      case reply_type::nil: return "nil";
      case reply_type::array: return "array of " + std::to_string(r.size());
      case reply_type::integer: return "integer " + std::to_string(r.as_integer());
      default: break;
    }
    // Error replies in full: they explain themselves. Data: its start.
    std::string_view text = r.is_error() ? r.error_message() : r.as_string();
    const std::size_t limit = r.is_error() ? 500 : 60;
    std::string shown(text.substr(0, limit));
    if (text.size() > limit) shown += "...";
    return std::string(to_string(r.type())) + " \"" + shown + "\"";
  }
};

/// A target that accepts any reply except an error reply, e.g. for the
/// `OK` of a `SET` in `as<redis_ha::ignore_t, long long>(resp)`.
struct ignore_t {};
/// The value of `ignore_t`.
inline constexpr ignore_t ignore{};

/// How a reply becomes a `T`: the customization point. Specialize it for
/// your own types, with one static member function that sets `err` on a
/// mismatch (through `err.mismatch(r, "...")`, or by a nested
/// `redis_ha::convert`):
///
/// @code
/// template <>
/// struct redis_ha::reply_converter<point> {
///   static void convert(const redis_ha::reply& r, point& out, redis_ha::conversion_error& err) {
///     std::pair<double, double> xy;
///     if (redis_ha::convert(r, xy, err)) out = point{xy.first, xy.second};
///   }
/// };
/// @endcode
///
/// The second parameter is for partial specializations with
/// `std::enable_if_t<...>`. Without a specialization, `as<T>` does not compile.
template <class T, class Enable = void>
struct reply_converter {
  static_assert(sizeof(T) == 0,
                "redis_ha: no conversion from a reply to this type; specialize redis_ha::reply_converter<T> "
                "(see <redis_ha/reply_converter.hpp>)");
};

namespace detail {

// Converts element `i` of an array (or reply `i` of a response); on failure
// prepends "[i]" to the path.
template <class T>
void convert_element(const reply& elem, T& out, conversion_error& err, std::size_t i) {
  reply_converter<T>::convert(elem, out, err);
  if (err) err.where.insert(0, "[" + std::to_string(i) + "]");
}

// True when `r` is an array of `n` elements; else sets the mismatch.
inline bool expect_array(const reply& r, conversion_error& err, std::size_t n, const char* what) {
  if (r.is_array() && r.size() == n) return true;
  err.mismatch(r, std::string(what) + " of " + std::to_string(n));
  return false;
}

template <class Tuple, std::size_t... I>
void convert_tuple(const std::vector<reply>& elems, Tuple& out, conversion_error& err, std::index_sequence<I...>) {
  // Stops at the first failing element.
  (void)((convert_element(elems[I], std::get<I>(out), err, I), !err) && ...);
}

// Parses a whole decimal string as an integer of type T.
template <class T>
bool parse_integer(std::string_view s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
}

// Key/value pairs from a flat array (k1, v1, ...) or an array of 2-element arrays.
template <class K, class V, class Sink>
void convert_pairs(const reply& r, conversion_error& err, const char* what, Sink&& sink) {
  if (!r.is_array()) return err.mismatch(r, what);
  const auto& elems = r.as_array();
  const bool nested = !elems.empty() && elems[0].is_array();
  if (!nested && elems.size() % 2 != 0) {
    err.mismatch(r, std::string(what) + " (an even number of elements)");
    return;
  }
  const std::size_t step = nested ? 1 : 2;
  for (std::size_t i = 0; i < elems.size(); i += step) {
    K k{};
    V v{};
    if (nested) {
      if (expect_array(elems[i], err, 2, "array")) {
        convert_element(elems[i][0], k, err, 0);
        if (!err) convert_element(elems[i][1], v, err, 1);
      }
      if (err) {
        err.where.insert(0, "[" + std::to_string(i) + "]");
        return;
      }
    } else {
      convert_element(elems[i], k, err, i);
      if (!err) convert_element(elems[i + 1], v, err, i + 1);
      if (err) return;
    }
    sink(std::move(k), std::move(v));
  }
}

}  // namespace detail

/// True when `T` is or holds a `std::string_view` (into the reply): such a
/// conversion is refused on a temporary reply, whose text would be gone.
template <class T, class = void>
inline constexpr bool holds_view_v = std::is_same_v<T, std::string_view>;
/// `std::optional<T>`.
template <class T>
inline constexpr bool holds_view_v<std::optional<T>> = holds_view_v<T>;
/// `std::pair<A, B>`.
template <class A, class B>
inline constexpr bool holds_view_v<std::pair<A, B>> = holds_view_v<A> || holds_view_v<B>;
/// `std::tuple<Ts...>`.
template <class... Ts>
inline constexpr bool holds_view_v<std::tuple<Ts...>> = (false || ... || holds_view_v<Ts>);
/// `std::array<T, N>`.
template <class T, std::size_t N>
inline constexpr bool holds_view_v<std::array<T, N>> = holds_view_v<T>;
/// Containers: their elements (map keys and values).
template <class T>
inline constexpr bool holds_view_v<T, std::enable_if_t<detail::is_sequence<T>::value || detail::is_set_like<T>::value>> =
    holds_view_v<typename T::value_type>;
/// Maps: their keys and values.
template <class T>
inline constexpr bool holds_view_v<T, std::enable_if_t<detail::is_map_like<T>::value>> =
    holds_view_v<typename T::key_type> || holds_view_v<typename T::mapped_type>;

/// The reply itself (a copy); error replies included.
template <>
struct reply_converter<reply> {
  /// Copies.
  static void convert(const reply& r, reply& out, conversion_error&) { out = r; }
};

/// Anything but an error reply.
template <>
struct reply_converter<ignore_t> {
  /// Checks that `r` is not an error reply.
  static void convert(const reply& r, ignore_t&, conversion_error& err) {
    if (r.is_error()) err.mismatch(r, "any reply but an error");
  }
};

/// A simple or bulk string, or an integer's decimal text.
template <>
struct reply_converter<std::string> {
  /// Converts.
  static void convert(const reply& r, std::string& out, conversion_error& err) {
    if (r.is_string()) out = std::string(r.as_string());
    else if (r.is_integer()) out = std::to_string(r.as_integer());
    else err.mismatch(r, "string");
  }
};

/// A simple or bulk string, viewed in place: the reply must outlive the view.
template <>
struct reply_converter<std::string_view> {
  /// Converts.
  static void convert(const reply& r, std::string_view& out, conversion_error& err) {
    if (r.is_string()) out = r.as_string();
    else err.mismatch(r, "string");
  }
};

/// `bool`: an integer (or decimal string) that is 0 or 1.
template <>
struct reply_converter<bool> {
  /// Converts.
  static void convert(const reply& r, bool& out, conversion_error& err) {
    long long v = -1;
    if (r.is_integer()) v = r.as_integer();
    else if (r.is_string() && !detail::parse_integer(r.as_string(), v)) v = -1;
    if (v != 0 && v != 1) return err.mismatch(r, "integer 0 or 1");
    out = v == 1;
  }
};

/// Integers: an integer reply, or a string holding exactly a decimal
/// integer, within the range of `T`. Plain `char` is refused.
template <class T>
struct reply_converter<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  static_assert(!detail::is_char_type_v<T>,
                "redis_ha: a reply does not convert to a character type; use std::string (or signed/unsigned char "
                "for a small number)");
  /// Converts.
  static void convert(const reply& r, T& out, conversion_error& err) {
    if (r.is_integer()) {
      const long long v = r.as_integer();
      const bool fits = std::is_signed_v<T>
                            ? v >= static_cast<long long>(std::numeric_limits<T>::min()) &&
                                  v <= static_cast<long long>(std::numeric_limits<T>::max())
                            : v >= 0 && static_cast<unsigned long long>(v) <= std::numeric_limits<T>::max();
      if (fits) {
        out = static_cast<T>(v);
        return;
      }
    } else if (r.is_string() && detail::parse_integer(r.as_string(), out)) {
      return;
    }
    if constexpr (std::is_same_v<T, long long> || (std::is_signed_v<T> && sizeof(T) >= sizeof(long long)))
      err.mismatch(r, "integer");
    else
      err.mismatch(r, "integer in [" + std::to_string(std::numeric_limits<T>::min()) + ", " +
                          std::to_string(std::numeric_limits<T>::max()) + "]");
  }
};

/// Floating point: an integer, or a string holding a number (`inf`, `-inf` included).
template <class T>
struct reply_converter<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  /// Converts.
  static void convert(const reply& r, T& out, conversion_error& err) {
    if (r.is_integer()) {
      out = static_cast<T>(r.as_integer());
      return;
    }
    if (r.is_string()) {
      std::string_view s = r.as_string();
      if (s.size() > 1 && s[0] == '+') s.remove_prefix(1);  // "+inf"
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (ec == std::errc{} && end == s.data() + s.size() && !s.empty()) return;
    }
    err.mismatch(r, "number");
  }
};

/// Nil becomes an empty optional; anything else converts as `T`.
template <class T>
struct reply_converter<std::optional<T>> {
  /// Converts.
  static void convert(const reply& r, std::optional<T>& out, conversion_error& err) {
    if (r.is_nil()) {
      out.reset();
      return;
    }
    T v{};
    reply_converter<T>::convert(r, v, err);
    if (!err) out = std::move(v);
  }
};

/// An array of exactly `sizeof...(Ts)` elements.
template <class... Ts>
struct reply_converter<std::tuple<Ts...>> {
  /// Converts.
  static void convert(const reply& r, std::tuple<Ts...>& out, conversion_error& err) {
    if (detail::expect_array(r, err, sizeof...(Ts), "array"))
      detail::convert_tuple(r.as_array(), out, err, std::index_sequence_for<Ts...>{});
  }
};

/// An array of exactly 2 elements.
template <class A, class B>
struct reply_converter<std::pair<A, B>> {
  /// Converts.
  static void convert(const reply& r, std::pair<A, B>& out, conversion_error& err) {
    if (!detail::expect_array(r, err, 2, "array")) return;
    detail::convert_element(r[0], out.first, err, 0);
    if (!err) detail::convert_element(r[1], out.second, err, 1);
  }
};

/// An array of exactly `N` elements.
template <class T, std::size_t N>
struct reply_converter<std::array<T, N>> {
  /// Converts.
  static void convert(const reply& r, std::array<T, N>& out, conversion_error& err) {
    if (!detail::expect_array(r, err, N, "array")) return;
    for (std::size_t i = 0; i < N && !err; ++i) detail::convert_element(r[i], out[i], err, i);
  }
};

/// Sequences (`std::vector`, `std::deque`, `std::list`, ...): an array.
/// Of `std::pair`s: a flat array `k1, v1, ...` or an array of 2-element arrays.
template <class C>
struct reply_converter<C, std::enable_if_t<detail::is_sequence<C>::value>> {
  /// Converts.
  static void convert(const reply& r, C& out, conversion_error& err) {
    using V = typename C::value_type;
    out.clear();
    if constexpr (detail::is_pair<V>::value) {
      detail::convert_pairs<typename V::first_type, typename V::second_type>(
          r, err, "array of pairs", [&](auto&& k, auto&& v) { out.emplace_back(std::move(k), std::move(v)); });
    } else {
      if (!r.is_array()) return err.mismatch(r, "array");
      if constexpr (detail::has_reserve<C>::value) out.reserve(r.size());
      for (std::size_t i = 0; i < r.size(); ++i) {
        V v{};
        detail::convert_element(r[i], v, err, i);
        if (err) return;
        out.push_back(std::move(v));
      }
    }
  }
};

/// Sets (`std::set`, `std::unordered_set`, ...): an array.
template <class C>
struct reply_converter<C, std::enable_if_t<detail::is_set_like<C>::value>> {
  /// Converts.
  static void convert(const reply& r, C& out, conversion_error& err) {
    out.clear();
    if (!r.is_array()) return err.mismatch(r, "array");
    for (std::size_t i = 0; i < r.size(); ++i) {
      typename C::key_type k{};
      detail::convert_element(r[i], k, err, i);
      if (err) return;
      out.insert(std::move(k));
    }
  }
};

/// Maps (`std::map`, `std::unordered_map`, ...): a flat array `k1, v1, ...`
/// (`HGETALL`, `CONFIG GET`) or an array of 2-element arrays. A repeated key
/// keeps its first value.
template <class C>
struct reply_converter<C, std::enable_if_t<detail::is_map_like<C>::value>> {
  /// Converts.
  static void convert(const reply& r, C& out, conversion_error& err) {
    out.clear();
    detail::convert_pairs<typename C::key_type, typename C::mapped_type>(
        r, err, "array of field/value pairs", [&](auto&& k, auto&& v) { out.emplace(std::move(k), std::move(v)); });
  }
};

}  // namespace redis_ha

#endif  // REDIS_HA_REPLY_CONVERTER_HPP
