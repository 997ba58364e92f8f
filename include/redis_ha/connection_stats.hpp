#ifndef REDIS_HA_CONNECTION_STATS_HPP
#define REDIS_HA_CONNECTION_STATS_HPP

/// @file
/// `redis_ha::connection_stats`: counters of one connection.

#include <cstdint>

namespace redis_ha {

/// Counters kept by a connection. `requests / writes` is the average
/// number of requests coalesced into one write by automatic pipelining.
struct connection_stats {
  std::uint64_t requests = 0;         ///< requests accepted by `async_exec`
  std::uint64_t replies = 0;          ///< replies read
  std::uint64_t writes = 0;           ///< write operations (batches)
  std::uint64_t bytes_written = 0;    ///< bytes written
  std::uint64_t bytes_read = 0;       ///< bytes read
  std::uint64_t timeouts = 0;         ///< requests completed with `request_timeout`
  std::uint64_t health_pings = 0;     ///< health-check PINGs sent
};

}  // namespace redis_ha

#endif  // REDIS_HA_CONNECTION_STATS_HPP
