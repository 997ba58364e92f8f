#ifndef REDIS_HA_DETAIL_SYNC_TYPED_HPP
#define REDIS_HA_DETAIL_SYNC_TYPED_HPP

/// @file
/// How `sync_client`'s typed templates (`exec<Ts...>`, `command<T>`) reach
/// the conversions of `typed.hpp` without including it: `typed.hpp`
/// specializes `sync_typed` for `std::tuple<Ts...>`. Header-only,
/// `sync_client.hpp` includes `typed.hpp`; with separate compilation a file
/// using the typed forms includes it itself (else the static_assert below).

namespace redis_ha {
namespace detail {

/// Conversions of replies to `Tuple`'s types; defined by `typed.hpp`.
template <class Tuple>
struct sync_typed {
  static_assert(sizeof(Tuple) == 0,
                "sync_client's typed exec<...> / command<T> need <redis_ha/typed.hpp> (with "
                "REDIS_HA_SEPARATE_COMPILATION, sync_client.hpp does not include it)");
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_SYNC_TYPED_HPP
