#ifndef REDIS_HA_DETAIL_CLUSTER_SLOT_HPP
#define REDIS_HA_DETAIL_CLUSTER_SLOT_HPP

/// @file
/// Hash slots of Redis Cluster (sans-I/O): CRC16 as the cluster
/// specification defines it (CRC-16/XMODEM: polynomial 0x1021, initial value
/// 0, no reflection, no final XOR), hash tags, and `key_slot`.

#include <array>
#include <cstdint>
#include <string_view>

namespace redis_ha {
namespace detail {

/// Number of hash slots of a Redis Cluster.
inline constexpr int cluster_slots = 16384;

/// The 256-entry table of CRC-16/XMODEM, built at compile time.
constexpr std::array<std::uint16_t, 256> make_crc16_table() noexcept {
  std::array<std::uint16_t, 256> t{};
  for (int i = 0; i < 256; ++i) {
    std::uint16_t c = static_cast<std::uint16_t>(i << 8);
    for (int b = 0; b < 8; ++b)
      c = static_cast<std::uint16_t>((c & 0x8000) ? (c << 1) ^ 0x1021 : (c << 1));
    t[static_cast<std::size_t>(i)] = c;
  }
  return t;
}

/// The CRC16 table.
inline constexpr std::array<std::uint16_t, 256> crc16_table = make_crc16_table();

/// CRC-16/XMODEM of `data` (`crc16("123456789") == 0x31C3`).
constexpr std::uint16_t crc16(std::string_view data) noexcept {
  std::uint16_t crc = 0;
  for (char ch : data) {
    const auto byte = static_cast<unsigned char>(ch);
    crc = static_cast<std::uint16_t>((crc << 8) ^ crc16_table[((crc >> 8) ^ byte) & 0xff]);
  }
  return crc;
}

/// The part of `key` that is hashed: the text between the first `{` and
/// the first `}` after it when that text is not empty, else the whole key
/// (`"{user1}.a"` -> `"user1"`, `"{}x"` -> `"{}x"`, `"a{b}{c}"` -> `"b"`,
/// `"{{x}}"` -> `"{x"`).
constexpr std::string_view hash_tag(std::string_view key) noexcept {
  const auto open = key.find('{');
  if (open == std::string_view::npos) return key;
  const auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

/// The hash slot of `key` (0..16383).
constexpr int key_slot(std::string_view key) noexcept { return crc16(hash_tag(key)) & (cluster_slots - 1); }

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CLUSTER_SLOT_HPP
