#ifndef REDIS_HA_DETAIL_SENTINEL_PARSE_HPP
#define REDIS_HA_DETAIL_SENTINEL_PARSE_HPP

/// @file
/// Reading Sentinel's replies and Pub/Sub events (sans-I/O).

#include <redis_ha/address.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/reply.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redis_ha {
namespace detail {

/// The reply of `SENTINEL get-master-addr-by-name`: an address, or nothing
/// when the sentinel does not know the name (nil) or answered oddly.
inline std::optional<address> parse_master_addr(const reply& r) {
  if (!r.is_array() || r.size() != 2 || !r[0].is_string() || !r[1].is_string()) return std::nullopt;
  address a;
  a.host = std::string(r[0].as_string());
  if (a.host.empty() || !parse_port(r[1].as_string(), a.port)) return std::nullopt;
  return a;
}

/// True when the reply to `SENTINEL GET-PRIMARY-ADDR-BY-NAME` (Valkey 8)
/// says the sentinel has only the master-named commands: `-ERR unknown
/// subcommand` (Redis, Valkey before 8.0), or `-NOPERM` (an ACL that grants
/// only the old names). Then the same sentinel is asked with
/// `GET-MASTER-ADDR-BY-NAME`. Any other reply is read as it is.
inline bool needs_master_names(const reply& r) {
  if (!r.is_error()) return false;
  const auto prefix = r.error_prefix();
  if (prefix == "NOPERM") return true;
  if (prefix != "ERR") return false;
  std::string text(r.error_message());
  for (auto& c : text) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return text.find("unknown subcommand") != std::string::npos ||
         text.find("unknown sentinel subcommand") != std::string::npos;
}

/// The value of `key` in a flat key/value array (one entry of `SENTINEL
/// sentinels` or `SENTINEL replicas`).
inline std::string_view field(const reply& entry, std::string_view key) {
  if (!entry.is_array()) return {};
  for (std::size_t i = 0; i + 1 < entry.size(); i += 2)
    if (entry[i].is_string() && entry[i].as_string() == key && entry[i + 1].is_string())
      return entry[i + 1].as_string();
  return {};
}

/// A node listed by `SENTINEL replicas` / `SENTINEL sentinels`.
struct listed_node {
  address addr;
  std::string flags;        ///< e.g. "slave", "s_down,slave", "disconnected"
  std::string link_status;  ///< replicas: "ok" or "err"
  /// True unless flagged down or disconnected.
  bool healthy() const {
    return flags.find("s_down") == std::string::npos && flags.find("o_down") == std::string::npos &&
           flags.find("disconnected") == std::string::npos;
  }
};

/// Parses the array of maps of `SENTINEL replicas|sentinels <name>`.
inline std::vector<listed_node> parse_node_list(const reply& r) {
  std::vector<listed_node> out;
  if (!r.is_array()) return out;
  for (std::size_t i = 0; i < r.size(); ++i) {
    listed_node n;
    n.addr.host = std::string(field(r[i], "ip"));
    if (n.addr.host.empty() || !parse_port(field(r[i], "port"), n.addr.port)) continue;
    n.flags = std::string(field(r[i], "flags"));
    n.link_status = std::string(field(r[i], "master-link-status"));
    out.push_back(std::move(n));
  }
  return out;
}

/// A Sentinel event relevant to one master name.
struct sentinel_event {
  enum class kind {
    other,
    switch_master,     ///< `+switch-master`: the failover is complete
    promoted,          ///< `+promoted-slave`: the chosen replica now reports role master
    promoting,         ///< `+failover-state-send-slaveof-noone`: promotion imminent
    aborted,           ///< `-failover-abort-*`: the failover was abandoned
    master_down,       ///< `+odown` of the master
    replica_up,        ///< a replica appeared or came back (`+slave`, `+slave-reconf-done`, `-sdown` of a replica)
    replica_down,      ///< a replica is subjectively down (`+sdown` of a replica)
  };
  kind type = kind::other;
  std::string channel;
  /// The new master (switch_master, promoted) or the replica being promoted (promoting).
  address node;
};

namespace sentinel_detail {
inline std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    auto sp = s.find(' ');
    if (sp != 0) out.push_back(s.substr(0, sp));
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return out;
}
}  // namespace sentinel_detail

/// Parses a Sentinel Pub/Sub message for `master_name`. Messages about
/// other masters give `std::nullopt`.
///
/// Formats: `+switch-master <name> <old-ip> <old-port> <new-ip> <new-port>`;
/// instance events `<type> <name> <ip> <port> @ <master-name> <master-ip> <master-port>`
/// (for the master itself: `master <name> <ip> <port>`).
inline std::optional<sentinel_event> parse_sentinel_event(std::string_view channel, std::string_view payload,
                                                          std::string_view master_name) {
  using sentinel_detail::split;
  auto w = split(payload);
  sentinel_event ev;
  ev.channel = std::string(channel);
  if (channel == "+switch-master") {
    if (w.size() != 5 || w[0] != master_name) return std::nullopt;
    ev.type = sentinel_event::kind::switch_master;
    ev.node.host = std::string(w[3]);
    if (!parse_port(w[4], ev.node.port)) return std::nullopt;
    return ev;
  }
  // Instance events.
  std::string_view about;
  if (w.size() >= 8 && w[4] == "@")
    about = w[5];
  else if (w.size() >= 4 && w[0] == "master")
    about = w[1];
  else
    return std::nullopt;
  if (about != master_name) return std::nullopt;
  ev.node.host = std::string(w[2]);
  if (!parse_port(w[3], ev.node.port)) return std::nullopt;  // a malformed event is ignored
  if (channel == "+promoted-slave")
    ev.type = sentinel_event::kind::promoted;
  else if (channel == "+failover-state-send-slaveof-noone")
    ev.type = sentinel_event::kind::promoting;
  else if (channel.substr(0, 16) == "-failover-abort-")
    ev.type = sentinel_event::kind::aborted;
  else if (channel == "+odown" && w[0] == "master")
    ev.type = sentinel_event::kind::master_down;
  else if (w[0] == "slave" && (channel == "+slave" || channel == "+slave-reconf-done" || channel == "-sdown"))
    ev.type = sentinel_event::kind::replica_up;
  else if (w[0] == "slave" && channel == "+sdown")
    ev.type = sentinel_event::kind::replica_down;
  return ev;
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_SENTINEL_PARSE_HPP
