#ifndef REDIS_HA_TYPED_HPP
#define REDIS_HA_TYPED_HPP

/// @file
/// Typed replies: `redis_ha::as<T>(reply)` converts one reply into a
/// standard or user type, `redis_ha::as<T1, T2, ...>(response)` a whole
/// response into a `std::tuple`. A reply that does not fit is an error
/// (`error::wrong_reply_type`, or `error::server_error` for a Redis error
/// reply) that says what was expected, what came, and where; never
/// undefined behaviour.
///
/// @code
/// auto fields = redis_ha::as<std::map<std::string, std::string>>(r);          // HGETALL
/// auto [v, n, l] = redis_ha::as<std::optional<std::string>, long long,
///                               std::vector<std::string>>(resp);              // GET; INCR; LRANGE
/// @endcode
///
/// The rules, by target type (anything else: specialize `reply_converter`):
///
/// | target | accepts |
/// | --- | --- |
/// | `redis_ha::reply` | anything (a copy), error replies included |
/// | `redis_ha::ignore_t` | anything but an error reply |
/// | `std::string` | a simple or bulk string; an integer (its decimal text) |
/// | `std::string_view` | a simple or bulk string (a view into the reply: keep the reply alive) |
/// | integers (`long long`, `int`, `std::size_t`, ...) | an integer, or a string holding exactly a decimal integer; out of the type's range: error |
/// | `bool` | an integer (or such a string) that is 0 or 1 (`EXISTS`, `SISMEMBER`, `EXPIRE`) |
/// | `double`, `float` | an integer, or a string holding a number (`ZSCORE`, `INCRBYFLOAT`, `inf`) |
/// | `std::optional<T>` | nil (empty), or whatever `T` accepts |
/// | `std::vector<T>`, `std::deque<T>`, `std::list<T>` | an array, each element as `T` |
/// | `std::set<T>`, `std::unordered_set<T>` | an array, each element as `T` |
/// | `std::map<K, V>`, `std::unordered_map<K, V>` | a flat array `k1, v1, k2, v2, ...` (`HGETALL`, `CONFIG GET`), or an array of 2-element arrays |
/// | a container of `std::pair<K, V>` | the same two shapes as a map (`ZRANGE ... WITHSCORES`), in order |
/// | `std::tuple<Ts...>`, `std::pair<A, B>`, `std::array<T, N>` | an array of exactly that many elements |
///
/// Nil is accepted only by `std::optional`, `reply` and `ignore_t`; plain
/// `char` is refused at compile time (use `std::string`). Targets must be
/// default-constructible (a default value is returned on a mismatch).

#include <redis_ha/detail/sync_typed.hpp>
#include <redis_ha/reply_converter.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>

#include <cstddef>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

namespace redis_ha {

/// Converts `r` into `out`; on a mismatch sets `err` (code, expected, got,
/// where) and returns false, leaving `out` partly assigned. The building
/// block of user converters (see `reply_converter`).
template <class T>
bool convert(const reply& r, T& out, conversion_error& err) {
  static_assert(!std::is_const_v<T>, "redis_ha::convert: the target must be modifiable");
  err = conversion_error{};
  reply_converter<T>::convert(r, out, err);
  return !err;
}

/// Converts one reply; on a mismatch returns a default `T` and sets `err`,
/// whose `message()` reads e.g.
/// `reply[2]: expected integer, got bulk_string "abc"`.
template <class T>
T as(const reply& r, conversion_error& err) {
  T out{};
  if (!convert(r, out, err)) {
    err.where.insert(0, "reply");
    return T{};
  }
  return out;
}

/// Converts one reply; on a mismatch returns a default `T` and sets `ec`
/// (`error::wrong_reply_type`, or `error::server_error` for an error reply).
template <class T>
T as(const reply& r, std::error_code& ec) {
  conversion_error err;
  T out = as<T>(r, err);
  ec = err.code;
  return out;
}

/// Converts one reply; throws `redis_ha::system_error` (a `std::system_error`)
/// on a mismatch, with `conversion_error::message()` in `what()`.
template <class T>
T as(const reply& r) {
  conversion_error err;
  T out = as<T>(r, err);
  if (err) throw system_error(err.code, err.message());
  return out;
}

/// Refused: a view into a temporary reply would dangle. Keep the reply in a
/// variable, or convert to `std::string`.
template <class T, class... Rest>
std::enable_if_t<holds_view_v<T>, T> as(const reply&& r, Rest&...) = delete;

/// Converts a whole response, reply `i` into the `i`-th type:
/// `auto [ok, n] = as<redis_ha::ignore_t, long long>(resp);`. The response
/// must hold exactly as many replies as types. On a mismatch returns
/// default values and sets `err` (`where` starts with `response[i]`).
template <class T0, class... Ts>
std::tuple<T0, Ts...> as(const response& resp, conversion_error& err) {
  err = conversion_error{};
  std::tuple<T0, Ts...> out{};
  constexpr std::size_t n = 1 + sizeof...(Ts);
  if (resp.size() != n) {
    err.code = make_error_code(error::wrong_reply_type);
    err.expected = "a response of " + std::to_string(n) + (n == 1 ? " reply" : " replies");
    err.got = std::to_string(resp.size()) + (resp.size() == 1 ? " reply" : " replies");
    err.where = "response";
    return {};
  }
  detail::convert_tuple(resp, out, err, std::make_index_sequence<n>{});
  if (err) {
    err.where.insert(0, "response");
    return {};
  }
  return out;
}

/// Converts a whole response; errors through `ec`.
template <class T0, class... Ts>
std::tuple<T0, Ts...> as(const response& resp, std::error_code& ec) {
  conversion_error err;
  auto out = as<T0, Ts...>(resp, err);
  ec = err.code;
  return out;
}

/// Converts a whole response; throws `redis_ha::system_error` on a mismatch.
template <class T0, class... Ts>
std::tuple<T0, Ts...> as(const response& resp) {
  conversion_error err;
  auto out = as<T0, Ts...>(resp, err);
  if (err) throw system_error(err.code, err.message());
  return out;
}

/// Refused: views into a temporary response would dangle.
template <class T0, class... Ts, class... Rest>
std::enable_if_t<(holds_view_v<T0> || ... || holds_view_v<Ts>), std::tuple<T0, Ts...>> as(const response&& resp,
                                                                                          Rest&...) = delete;

namespace detail {

/// The conversions behind `sync_client::exec<Ts...>` and `command<T>`.
template <class... Ts>
struct sync_typed<std::tuple<Ts...>> {
  /// True when a target type would view into a reply that is gone.
  static constexpr bool has_view = (holds_view_v<Ts> || ...);
  /// A whole response, one type per reply; throws on a mismatch.
  static std::tuple<Ts...> convert(const response& resp) { return as<Ts...>(resp); }
  /// A whole response; errors through `ec`.
  static std::tuple<Ts...> convert(const response& resp, std::error_code& ec) { return as<Ts...>(resp, ec); }
  /// One reply (a one-type tuple); throws on a mismatch.
  static auto convert_one(const reply& r) { return as<Ts...>(r); }
  /// One reply; errors through `ec`.
  static auto convert_one(const reply& r, std::error_code& ec) { return as<Ts...>(r, ec); }
};

}  // namespace detail

}  // namespace redis_ha

#endif  // REDIS_HA_TYPED_HPP
