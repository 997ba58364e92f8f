#ifndef REDIS_HA_DETAIL_ROLE_HPP
#define REDIS_HA_DETAIL_ROLE_HPP

/// @file
/// Reading the reply of `ROLE` (sans-I/O).

#include <redis_ha/address.hpp>
#include <redis_ha/reply.hpp>

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>
#include <vector>

namespace redis_ha {
namespace detail {

/// What `ROLE` said about a node.
struct role_info {
  enum class kind { unknown, master, replica, sentinel };
  kind role = kind::unknown;
  /// For a replica: the master it replicates from.
  address master;
  /// For a replica: the link state (`connect`, `connecting`, `sync`, `connected`).
  std::string link_state;
  /// For a master: its connected replicas.
  std::vector<address> replicas;
  /// `master_replid` of `INFO replication` when it was asked (empty
  /// otherwise): a master's replication history, shared by its replicas.
  std::string replid;
  /// `master_replid2`: the history this node continued when it was
  /// promoted (empty, or all zeros, when none).
  std::string replid2;
  /// `master_link_status:up` of a replica (false when not asked or down).
  bool link_up = false;
};

/// Parses a decimal port; returns false when it is not one.
inline bool parse_port(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

/// Parses `ROLE`'s reply; an error reply or an unexpected shape gives `kind::unknown`.
inline role_info parse_role(const reply& r) {
  role_info info;
  if (!r.is_array() || r.size() == 0 || !r[0].is_string()) return info;
  auto name = r[0].as_string();
  if (name == "master") {
    info.role = role_info::kind::master;
    // ["master", offset, [[ip, port, offset], ...]]
    if (r.size() >= 3 && r[2].is_array()) {
      for (std::size_t i = 0; i < r[2].size(); ++i) {
        const reply& e = r[2][i];
        address a;
        if (e.size() >= 2 && e[0].is_string() && e[1].is_string() && parse_port(e[1].as_string(), a.port)) {
          a.host = std::string(e[0].as_string());
          if (!a.host.empty()) info.replicas.push_back(std::move(a));
        }
      }
    }
  } else if (name == "slave" && r.size() >= 4 && r[1].is_string() && r[2].is_integer() &&
             r[2].as_integer() > 0 && r[2].as_integer() <= 65535 && !r[1].as_string().empty()) {
    info.role = role_info::kind::replica;
    info.master = address{std::string(r[1].as_string()), static_cast<std::uint16_t>(r[2].as_integer())};
    if (r[3].is_string()) info.link_state = std::string(r[3].as_string());
  } else if (name == "sentinel") {
    info.role = role_info::kind::sentinel;
  }
  return info;
}

/// Adds the replication ids of an `INFO replication` reply to `info`
/// (`master_replid`, `master_replid2`, `master_link_status`). A reply that is
/// not such a text leaves `info` as it is; a replid2 of zeros means "none".
inline void parse_replication(const reply& r, role_info& info) {
  if (!r.is_string() || r.is_error()) return;
  std::string_view text = r.as_string();
  auto value = [&](std::string_view key) -> std::string_view {
    std::size_t at = 0;
    while (at < text.size()) {
      std::size_t end = text.find('\n', at);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(at, end - at);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ':')
        return line.substr(key.size() + 1);
      at = end + 1;
    }
    return {};
  };
  auto id = [](std::string_view v) {
    // 40 hex digits; anything else (or zeros) is no id.
    if (v.size() != 40 || v.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) return std::string();
    if (v.find_first_not_of('0') == std::string_view::npos) return std::string();
    return std::string(v);
  };
  info.replid = id(value("master_replid"));
  info.replid2 = id(value("master_replid2"));
  info.link_up = value("master_link_status") == "up";
}

/// True when a replica of `before` is missing from `now` (two `ROLE`
/// replica lists of one master, addresses as that master reports them).
inline bool replica_left(const std::vector<address>& before, const std::vector<address>& now) {
  for (const auto& a : before)
    if (std::find(now.begin(), now.end(), a) == now.end()) return true;
  return false;
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_ROLE_HPP
