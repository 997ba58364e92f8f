#ifndef REDIS_HA_DETAIL_REPLY_SHAPE_HPP
#define REDIS_HA_DETAIL_REPLY_SHAPE_HPP

/// @file
/// Which shape of reply a C++ type takes (`reply_converter`'s dispatch):
/// maps, sets and sequences by their member types, pairs, character types.

#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

namespace redis_ha {
namespace detail {

/// True for maps (`key_type` and `mapped_type`).
template <class T, class = void>
struct is_map_like : std::false_type {};
template <class T>
struct is_map_like<T, std::void_t<typename T::key_type, typename T::mapped_type>> : std::true_type {};

/// True for sets (`key_type` and `insert`, not a map).
template <class T, class = void>
struct is_set_like : std::false_type {};
template <class T>
struct is_set_like<T, std::void_t<typename T::key_type, decltype(std::declval<T&>().insert(
                                                                std::declval<typename T::key_type>()))>>
    : std::bool_constant<!is_map_like<T>::value> {};

/// True for sequences (`value_type` and `push_back`), strings excepted.
template <class T, class = void>
struct is_sequence : std::false_type {};
template <class T>
struct is_sequence<T, std::void_t<typename T::value_type,
                                  decltype(std::declval<T&>().push_back(std::declval<typename T::value_type>()))>>
    : std::bool_constant<!std::is_convertible_v<const T&, std::string_view>> {};

/// True for `std::pair`.
template <class T>
struct is_pair : std::false_type {};
template <class A, class B>
struct is_pair<std::pair<A, B>> : std::true_type {};

/// True when the container can `reserve`.
template <class T, class = void>
struct has_reserve : std::false_type {};
template <class T>
struct has_reserve<T, std::void_t<decltype(std::declval<T&>().reserve(std::size_t{}))>> : std::true_type {};

/// Character types (converted as text, never as integers).
template <class T>
constexpr bool is_char_type_v = std::is_same_v<T, char> || std::is_same_v<T, wchar_t> ||
                                std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>
#if defined(__cpp_char8_t)
                                || std::is_same_v<T, char8_t>
#endif
    ;

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_REPLY_SHAPE_HPP
