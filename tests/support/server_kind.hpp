#pragma once
/// @file server_kind.hpp
/// Which server the integration tests run against: Redis (the default) or Valkey, chosen by
/// the environment or the CMake cache (REDIS_HA_TEST_SERVER), with explicit binary paths as
/// overrides. Standard library only: catch_main.cpp includes it to skip a whole test program
/// (ctest's SKIP_RETURN_CODE) when the chosen binaries are missing.

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <unistd.h>

// Set by tests/support/CMakeLists.txt from the cache variables of the same names.
#ifndef REDIS_HA_TEST_DEFAULT_SERVER
#define REDIS_HA_TEST_DEFAULT_SERVER "redis"
#endif
#ifndef REDIS_HA_TEST_REDIS_SERVER
#define REDIS_HA_TEST_REDIS_SERVER "/usr/bin/redis-server"
#endif
#ifndef REDIS_HA_TEST_REDIS_SENTINEL
#define REDIS_HA_TEST_REDIS_SENTINEL "/usr/bin/redis-sentinel"
#endif
#ifndef REDIS_HA_TEST_VALKEY_SERVER
#define REDIS_HA_TEST_VALKEY_SERVER "/usr/bin/valkey-server"
#endif
#ifndef REDIS_HA_TEST_VALKEY_SENTINEL
#define REDIS_HA_TEST_VALKEY_SENTINEL "/usr/bin/valkey-sentinel"
#endif

namespace redis_ha::test {

/// The server family under test.
enum class server_family { redis, valkey };

/// The binaries the harness starts.
struct server_binaries {
  server_family family = server_family::redis;
  std::string server;    ///< data node (redis-server / valkey-server)
  std::string sentinel;  ///< sentinel (redis-sentinel / valkey-sentinel)
};

/// The environment variable, or `fallback` when unset or empty.
inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::string(fallback);
}

/// `REDIS_HA_TEST_SERVER` (`redis` or `valkey`, default: the CMake cache variable of the same
/// name), overridden binary by binary by `REDIS_HA_TEST_SERVER_BIN` / `REDIS_HA_TEST_SENTINEL_BIN`.
inline server_binaries test_server_binaries() {
  const std::string kind = env_or("REDIS_HA_TEST_SERVER", REDIS_HA_TEST_DEFAULT_SERVER);
  server_binaries b;
  if (kind == "valkey") {
    b = {server_family::valkey, REDIS_HA_TEST_VALKEY_SERVER, REDIS_HA_TEST_VALKEY_SENTINEL};
  } else if (kind == "redis") {
    b = {server_family::redis, REDIS_HA_TEST_REDIS_SERVER, REDIS_HA_TEST_REDIS_SENTINEL};
  } else {
    throw std::invalid_argument("REDIS_HA_TEST_SERVER must be 'redis' or 'valkey', not '" + kind + "'");
  }
  b.server = env_or("REDIS_HA_TEST_SERVER_BIN", b.server.c_str());
  b.sentinel = env_or("REDIS_HA_TEST_SENTINEL_BIN", b.sentinel.c_str());
  return b;
}

/// The family under test (cached: the environment does not change during a run).
inline server_family test_server_family() {
  static const server_family f = test_server_binaries().family;
  return f;
}

/// True when the tests run against Valkey.
inline bool testing_valkey() { return test_server_family() == server_family::valkey; }

/// "redis" or "valkey".
inline const char* to_string(server_family f) { return f == server_family::valkey ? "valkey" : "redis"; }

/// Why the chosen server cannot run (a binary is missing or not executable), if so.
inline std::optional<std::string> server_unavailable_reason() {
  server_binaries b;
  try {
    b = test_server_binaries();
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
  for (const auto& path : {b.server, b.sentinel})
    if (::access(path.c_str(), X_OK) != 0)
      return std::string(to_string(b.family)) + " binary " + path +
             " is missing or not executable (install valkey-server and valkey-sentinel, e.g. from "
             "bookworm-backports, or set REDIS_HA_TEST_SERVER_BIN / REDIS_HA_TEST_SENTINEL_BIN)";
  return std::nullopt;
}

}  // namespace redis_ha::test
