// Client settings for the harness' Sentinel topologies, shared by the tests
// and the benchmarks.
#pragma once

#include <redis_ha/client_config.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace redis_ha::test {

/// Sentinel mode over `sentinel_ports` on `host`, for `master_name`; every
/// other setting at the library's default.
inline client_config sentinel_client_config(const std::vector<std::uint16_t>& sentinel_ports,
                                            const std::string& master_name, const std::string& host = "127.0.0.1") {
  client_config cfg;
  for (auto p : sentinel_ports) cfg.sentinel.sentinels.push_back({host, p});
  cfg.sentinel.master_name = master_name;
  return cfg;
}

/// The same for a topology (anything with `sentinel_ports()` and `master_name()`).
template <class Topology>
client_config sentinel_client_config(const Topology& topo, const std::string& host = "127.0.0.1") {
  return sentinel_client_config(topo.sentinel_ports(), topo.master_name(), host);
}

/// A 250 ms health check (interval and timeout), so that failover tests
/// notice a hung master quickly.
inline void fast_health_check(connection_config& c) {
  c.health_check_interval = std::chrono::milliseconds(250);
  c.health_check_timeout = std::chrono::milliseconds(250);
}

}  // namespace redis_ha::test
