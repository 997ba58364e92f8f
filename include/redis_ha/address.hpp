#ifndef REDIS_HA_ADDRESS_HPP
#define REDIS_HA_ADDRESS_HPP

/// @file
/// `redis_ha::address`: a host name or IP address plus a TCP port, or a
/// UNIX-domain socket path (`host` = `"unix:/path"`).

#include <cstdint>
#include <string>
#include <utility>

namespace redis_ha {

/// Where a Redis server or Sentinel listens. `host` may be a host name
/// (resolved on every connect), an IPv4/IPv6 literal, or `"unix:/path"` for
/// a UNIX-domain socket (redis.conf `unixsocket`; `port` is then ignored).
///
/// Not an aggregate on purpose: GCC 12 destroys a brace-initialised
/// aggregate temporary twice when it appears inside a `co_await`
/// expression, and a constructor avoids that, so
/// `co_await conn.async_connect({"10.0.0.5", 6379}, asio::use_awaitable)`
/// is safe.
struct address {
  /// No address (empty host, port 6379).
  address() = default;
  /// `host` and `port` (default 6379).
  address(std::string host_name, std::uint16_t port_number = 6379) : host(std::move(host_name)), port(port_number) {}

  std::string host;           ///< host name, IP literal or `unix:` path (empty: no address)
  std::uint16_t port = 6379;  ///< TCP port

  /// True for a `unix:/path` address.
  bool is_unix() const noexcept { return host.compare(0, 5, "unix:") == 0; }
  /// The socket path of a `unix:` address (empty otherwise).
  std::string unix_path() const { return is_unix() ? host.substr(5) : std::string(); }

  /// `"host:port"` (IPv6 literals in brackets: `"[::1]:6379"`), or
  /// `"unix:/path"`.
  std::string to_string() const {
    if (is_unix()) return host;
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
  }

  /// Equal when host and port are equal.
  friend bool operator==(const address& a, const address& b) noexcept {
    return a.port == b.port && a.host == b.host;
  }
  /// Not equal.
  friend bool operator!=(const address& a, const address& b) noexcept { return !(a == b); }
};

}  // namespace redis_ha

#endif  // REDIS_HA_ADDRESS_HPP
