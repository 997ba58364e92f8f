#pragma once
/// @file
/// Gateway settings from command-line flags and environment variables (a flag wins over
/// its variable, a variable over the default).

#include <redis_ha/address.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "log.hpp"

namespace gateway {

struct config {
  std::vector<redis_ha::address> sentinels;  ///< Sentinel mode when not empty
  std::string master_name = "mymaster";
  std::vector<redis_ha::address> redis;      ///< direct mode
  std::string redis_password;
  std::string sentinel_password;
  redis_ha::address listen{"127.0.0.1", 8080};
  redis_ha::address probe_listen{"", 0};     ///< host empty: no probe listener
  long dedup_ttl = 300;          ///< s
  long storm_threshold = 10;     ///< alerts per window
  long storm_window = 60;        ///< s
  long storm_ttl = 300;          ///< s
  long stream_maxlen = 100000;   ///< XADD MAXLEN ~ N of the remediation stream, 0: unbounded
  long rate_burst = 2000;        ///< token bucket capacity per source address, 0: no rate limit
  long rate_per_s = 20;          ///< token refill per second
  long max_body = 102400;        ///< bytes
  long failover_budget_ms = 10000;
  long header_timeout_ms = 5000;   ///< head complete within (from accept / first byte)
  long body_timeout_ms = 10000;    ///< body within, after the head; also the answer's write
  long idle_timeout_ms = 30000;    ///< keep-alive idle limit
  long max_connections = 4096;     ///< open connections of the main listener
  long max_connections_per_ip = 256;
  long drain_timeout_ms = 20000;   ///< SIGTERM: bound on finishing the requests in progress
  std::string log_level = "info";
  // TLS towards Redis (data nodes and sentinels alike).
  bool tls = false;
  std::string tls_ca_file;      ///< empty: the system's CAs
  std::string tls_cert_file;    ///< client certificate (tls-auth-clients yes)
  std::string tls_key_file;
  std::string tls_server_name;  ///< SNI and name checked; empty: the host connected to
  bool tls_verify = true;
  bool help = false;
};

// "host:port"; "[v6]:port" accepted.
inline redis_ha::address parse_address(std::string_view s) {
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size())
    throw std::invalid_argument(fmt::format("'{}' is not host:port", s));
  std::string host(s.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port_text(s.substr(colon + 1));
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (*end != '\0' || port <= 0 || port > 65535) throw std::invalid_argument(fmt::format("bad port in '{}'", s));
  redis_ha::address a;
  a.host = host;
  a.port = static_cast<std::uint16_t>(port);
  return a;
}

inline std::vector<redis_ha::address> parse_address_list(std::string_view s) {
  std::vector<redis_ha::address> out;
  while (!s.empty()) {
    const auto comma = s.find(',');
    const auto item = s.substr(0, comma);
    if (!item.empty()) out.push_back(parse_address(item));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

namespace detail {

inline long parse_long(std::string_view name, const std::string& v, long min, long max) {
  char* end = nullptr;
  const long x = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || x < min || x > max)
    throw std::invalid_argument(fmt::format("{}: '{}' is not an integer in [{}, {}]", name, v, min, max));
  return x;
}

inline bool parse_bool(std::string_view name, const std::string& v) {
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  throw std::invalid_argument(fmt::format("{}: '{}' is not 1/0 (true/false, yes/no, on/off)", name, v));
}

struct option {
  const char* flag;
  const char* env;
  const char* def;
  const char* help;
  std::function<void(config&, const std::string&)> set;
};

inline const std::vector<option>& options() {
  auto num = [](const char* name, long config::*field, long min, long max) {
    return [=](config& c, const std::string& v) { c.*field = parse_long(name, v, min, max); };
  };
  static const std::vector<option> table = {
      {"--sentinels", "REDIS_HA_SENTINELS", "", "comma-separated sentinel host:port list (Sentinel mode)",
       [](config& c, const std::string& v) { c.sentinels = parse_address_list(v); }},
      {"--master-name", "REDIS_HA_MASTER_NAME", "mymaster", "master name monitored by the sentinels",
       [](config& c, const std::string& v) { c.master_name = v; }},
      {"--redis", "REDIS_HA_ADDRESS", "", "direct mode: comma-separated host:port list (no Sentinel)",
       [](config& c, const std::string& v) { c.redis = parse_address_list(v); }},
      {"--redis-password", "REDIS_HA_PASSWORD", "", "password of the data nodes",
       [](config& c, const std::string& v) { c.redis_password = v; }},
      {"--sentinel-password", "REDIS_HA_SENTINEL_PASSWORD", "", "password of the sentinels",
       [](config& c, const std::string& v) { c.sentinel_password = v; }},
      {"--listen", "GATEWAY_LISTEN", "127.0.0.1:8080", "HTTP listen address host:port (port 0: any free port)",
       [](config& c, const std::string& v) { c.listen = parse_address(v); }},
      {"--probe-listen", "GATEWAY_PROBE_LISTEN", "",
       "second listener for GET /healthz, /readyz, /metrics only, with its own connection limit (probes)",
       [](config& c, const std::string& v) { c.probe_listen = v.empty() ? redis_ha::address{"", 0} : parse_address(v); }},
      {"--dedup-ttl", "GATEWAY_DEDUP_TTL", "300", "seconds a fingerprint stays deduplicated (refreshed per duplicate)",
       num("--dedup-ttl", &config::dedup_ttl, 1, 86400 * 30)},
      {"--storm-threshold", "GATEWAY_STORM_THRESHOLD", "10", "new alerts per namespace:alertname and window that start a storm",
       num("--storm-threshold", &config::storm_threshold, 1, 1000000)},
      {"--storm-window", "GATEWAY_STORM_WINDOW", "60", "storm counting window (s)",
       num("--storm-window", &config::storm_window, 1, 86400)},
      {"--storm-ttl", "GATEWAY_STORM_TTL", "300", "how long a storm stays active (s)",
       num("--storm-ttl", &config::storm_ttl, 1, 86400)},
      {"--stream-maxlen", "GATEWAY_STREAM_MAXLEN", "100000",
       "remediation stream trimmed to about this many records (XADD MAXLEN ~); 0: never trimmed",
       num("--stream-maxlen", &config::stream_maxlen, 0, 1000000000)},
      {"--rate-limit-burst", "GATEWAY_RATE_LIMIT_BURST", "2000",
       "webhook requests a source address may send at once (token bucket capacity); 0: no rate limit",
       num("--rate-limit-burst", &config::rate_burst, 0, 1000000000)},
      {"--rate-limit-per-s", "GATEWAY_RATE_LIMIT_PER_S", "20", "sustained webhook requests per second and source address",
       num("--rate-limit-per-s", &config::rate_per_s, 1, 1000000)},
      {"--max-body", "GATEWAY_MAX_BODY", "102400", "largest accepted request body (bytes); larger: 413",
       num("--max-body", &config::max_body, 1, 64L << 20)},
      {"--failover-budget-ms", "REDIS_HA_FAILOVER_BUDGET_MS", "10000",
       "how long a request may wait for a verified master before 503",
       num("--failover-budget-ms", &config::failover_budget_ms, 1, 600000)},
      {"--header-timeout-ms", "GATEWAY_HEADER_TIMEOUT_MS", "5000",
       "request head complete within this (from the accept, or the request's first byte); else 408",
       num("--header-timeout-ms", &config::header_timeout_ms, 10, 600000)},
      {"--body-timeout-ms", "GATEWAY_BODY_TIMEOUT_MS", "10000",
       "request body received within this after its head (else 408); also bounds writing the answer",
       num("--body-timeout-ms", &config::body_timeout_ms, 10, 600000)},
      {"--idle-timeout-ms", "GATEWAY_IDLE_TIMEOUT_MS", "30000", "keep-alive connections idle longer are closed",
       num("--idle-timeout-ms", &config::idle_timeout_ms, 10, 3600000)},
      {"--max-connections", "GATEWAY_MAX_CONNECTIONS", "4096",
       "open connections of the main listener (lowered to fit RLIMIT_NOFILE)",
       num("--max-connections", &config::max_connections, 1, 1000000)},
      {"--max-connections-per-ip", "GATEWAY_MAX_CONNECTIONS_PER_IP", "256", "open connections of one client address",
       num("--max-connections-per-ip", &config::max_connections_per_ip, 1, 1000000)},
      {"--drain-timeout-ms", "GATEWAY_DRAIN_TIMEOUT_MS", "20000",
       "on SIGTERM: how long requests in progress may take to finish",
       num("--drain-timeout-ms", &config::drain_timeout_ms, 0, 600000)},
      {"--tls", "REDIS_HA_TLS", "0", "1: TLS to the data nodes and the sentinels (certificate and host name verified)",
       [](config& c, const std::string& v) { c.tls = parse_bool("--tls", v); }},
      {"--tls-ca-file", "REDIS_HA_TLS_CA_FILE", "", "PEM file of the CAs trusted for Redis (default: the system's)",
       [](config& c, const std::string& v) { c.tls_ca_file = v; }},
      {"--tls-cert-file", "REDIS_HA_TLS_CERT_FILE", "", "PEM client certificate (for tls-auth-clients yes)",
       [](config& c, const std::string& v) { c.tls_cert_file = v; }},
      {"--tls-key-file", "REDIS_HA_TLS_KEY_FILE", "", "PEM private key of --tls-cert-file",
       [](config& c, const std::string& v) { c.tls_key_file = v; }},
      {"--tls-server-name", "REDIS_HA_TLS_SERVER_NAME", "",
       "name sent as SNI and checked against the certificates (default: the host connected to)",
       [](config& c, const std::string& v) { c.tls_server_name = v; }},
      {"--tls-verify", "REDIS_HA_TLS_VERIFY", "1", "0: encrypt without verifying the servers (not recommended)",
       [](config& c, const std::string& v) { c.tls_verify = parse_bool("--tls-verify", v); }},
      {"--log-level", "GATEWAY_LOG_LEVEL", "info", "debug, info, warn or error",
       [](config& c, const std::string& v) {
         level l;
         if (!parse_level(v, l)) throw std::invalid_argument(fmt::format("--log-level: unknown level '{}'", v));
         c.log_level = v;
       }},
  };
  return table;
}

/// Settings of earlier versions, refused with what replaces them (a silent change of meaning
/// would be worse).
struct removed_option {
  const char* flag;
  const char* env;
  const char* replacement;
};
inline constexpr removed_option removed_options[] = {
    {"--rate-limit", "GATEWAY_RATE_LIMIT", "--rate-limit-burst and --rate-limit-per-s (token bucket)"},
    {"--rate-window", "GATEWAY_RATE_WINDOW", "--rate-limit-burst and --rate-limit-per-s (token bucket)"},
    {"--read-timeout-ms", "GATEWAY_READ_TIMEOUT_MS", "--header-timeout-ms, --body-timeout-ms and --idle-timeout-ms"},
};

}  // namespace detail

inline std::string usage() {
  std::string text =
      "redis_ha_gateway: Alertmanager webhook receiver storing alerts in Redis (via redis-ha)\n"
      "Routes: POST /api/v1/signals/prometheus (alias /webhook/prometheus), GET /healthz, /readyz, /metrics\n"
      "Options (flag wins over environment variable, which wins over the default):\n";
  for (const auto& o : detail::options())
    text += fmt::format("  {:<22} env {:<28} default '{}'\n      {}\n", std::string(o.flag) + " V", o.env, o.def, o.help);
  text += "  --help                 this text\n";
  text += "Either --sentinels or --redis is required.\n";
  text += "SIGTERM/SIGINT: stop accepting, /readyz answers 503, requests in progress finish (--drain-timeout-ms),\n"
          "the Redis client closes; exit 0 (1 if the drain timed out). A second signal stops at once.\n";
  return text;
}

// Throws std::invalid_argument on a bad flag or value.
inline config parse_config(int argc, char** argv) {
  config c;
  const auto& table = detail::options();
  for (const auto& o : table) {
    if (const char* v = std::getenv(o.env); v && *v) o.set(c, v);
  }
  for (const auto& r : detail::removed_options)
    if (const char* v = std::getenv(r.env); v && *v)
      throw std::invalid_argument(fmt::format("{} is no longer supported: use {}", r.env, r.replacement));
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      c.help = true;
      continue;
    }
    std::string value;
    bool has_value = false;
    if (const auto eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const detail::option* found = nullptr;
    for (const auto& o : table)
      if (arg == o.flag) found = &o;
    for (const auto& r : detail::removed_options)
      if (arg == r.flag) throw std::invalid_argument(fmt::format("{} is no longer supported: use {}", arg, r.replacement));
    if (!found) throw std::invalid_argument(fmt::format("unknown option '{}' (see --help)", arg));
    if (!has_value) {
      if (i + 1 >= argc) throw std::invalid_argument(fmt::format("{} needs a value", arg));
      value = argv[++i];
    }
    found->set(c, value);
  }
  if (c.help) return c;
  if (c.sentinels.empty() && c.redis.empty())
    throw std::invalid_argument("either --sentinels (REDIS_HA_SENTINELS) or --redis (REDIS_HA_ADDRESS) is required");
  if (c.header_timeout_ms >= c.body_timeout_ms)
    throw std::invalid_argument(fmt::format("--header-timeout-ms ({}) must be shorter than --body-timeout-ms ({})",
                                            c.header_timeout_ms, c.body_timeout_ms));
  return c;
}

}  // namespace gateway
