#pragma once
/// @file
/// Redis logic of the gateway: the per-sender token bucket and the atomic
/// dedup/storm/record script, both Lua run through `redis_ha::script` (EVALSHA, with the
/// library's NOSCRIPT fallback for a new master after a failover). Everything goes
/// through one redis_ha::client (use_awaitable).

#include <redis_ha/client.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>
#include <redis_ha/script.hpp>

#include <asio/awaitable.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "alerts.hpp"
#include "config.hpp"
#include "log.hpp"

namespace gateway {

/// A Redis request failed.
class redis_failure : public std::runtime_error {
 public:
  redis_failure(std::error_code ec, const std::string& what) : std::runtime_error(what), ec_(ec) {}
  std::error_code code() const noexcept { return ec_; }

  /// True when Redis cannot be used right now: no verified master within the failover
  /// budget, and configuration errors that prevent one (`master_name_unknown`,
  /// `auth_failed`, `no_sentinel_reachable`, ...), or a network error. Answered 503 (which
  /// Alertmanager retries). False only for what is truly unexpected: malformed replies,
  /// an error reply from a script (500).
  bool unavailable() const noexcept {
    if (ec_.category() != redis_ha::error_category()) return true;  // OS / Asio errors: refused, reset...
    using redis_ha::error;
    switch (static_cast<error>(ec_.value())) {
      case error::protocol_error:
      case error::reply_too_large:
      case error::nesting_too_deep:
      case error::unexpected_reply:
      case error::wrong_reply_type:
      case error::server_error:
      case error::empty_request:
      case error::unsupported_command: return false;
      default: return true;
    }
  }

 private:
  std::error_code ec_;
};

/// The token bucket of one sender. KEYS: 1 bucket hash. ARGV: 1 capacity, 2 refill per
/// second. Time from the master's clock (TIME), shared by every gateway replica.
/// Returns {allowed 0|1, milliseconds until a token is available, tokens left}.
inline constexpr const char* rate_script = R"lua(
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or cap
local ts = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate / 1000)
local allowed, wait = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - tokens) * 1000 / rate) + 1000)
return {allowed, wait, math.floor(tokens)}
)lua";

// KEYS: 1 dedup hash, 2 storm counter, 3 storm flag, 4 storm hash, 5 storm resources set,
//       6 remediation stream, 7 operation key (makes a resend after a failover idempotent)
// ARGV: 1 fingerprint, 2 alertname, 3 namespace, 4 resource "Kind/name", 5 now (ms),
//       6 dedup ttl, 7 storm threshold, 8 storm window, 9 storm ttl, 10 operation ttl,
//       11 stream MAXLEN (~, 0: unbounded), 12.. field/value pairs of the remediation record
// Returns {kind, id, count}: kind created (id = record id), duplicate (id = record id of
// the original), storm (id = storm id).
inline constexpr const char* record_script = R"lua(
local prev = redis.call('GET', KEYS[7])
if prev then
  local a = string.find(prev, '\n', 1, true)
  local b = string.find(prev, '\n', a + 1, true)
  return {string.sub(prev, 1, a - 1), string.sub(prev, a + 1, b - 1), tonumber(string.sub(prev, b + 1))}
end
local function done(kind, id, count)
  redis.call('SET', KEYS[7], kind .. '\n' .. id .. '\n' .. count, 'EX', ARGV[10])
  return {kind, id, count}
end
local now = ARGV[5]
local storm_id = redis.call('GET', KEYS[3])
if storm_id then
  local count = redis.call('HINCRBY', KEYS[4], 'count', 1)
  redis.call('HSET', KEYS[4], 'last_seen', now)
  redis.call('SADD', KEYS[5], ARGV[4])
  return done('storm', storm_id, count)
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
  redis.call('HSET', KEYS[1], 'last_seen', now)
  redis.call('EXPIRE', KEYS[1], ARGV[6])
  return done('duplicate', redis.call('HGET', KEYS[1], 'record_id') or '', count)
end
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('EXPIRE', KEYS[2], ARGV[8]) end
if n >= tonumber(ARGV[7]) then
  local id = ARGV[3] .. ':' .. ARGV[2] .. ':' .. now
  local keep = tonumber(ARGV[9]) + 3600
  redis.call('DEL', KEYS[2], KEYS[4], KEYS[5])
  redis.call('SET', KEYS[3], id, 'EX', ARGV[9])
  redis.call('HSET', KEYS[4], 'storm_id', id, 'namespace', ARGV[3], 'alertname', ARGV[2], 'count', 1,
             'started', now, 'last_seen', now, 'resources_key', KEYS[5])
  redis.call('SADD', KEYS[5], ARGV[4])
  redis.call('EXPIRE', KEYS[4], keep)
  redis.call('EXPIRE', KEYS[5], keep)
  return done('storm', id, 1)
end
local fields = {}
for i = 12, #ARGV do fields[#fields + 1] = ARGV[i] end
local id
if ARGV[11] ~= '0' then
  id = redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[11], '*', unpack(fields))
else
  id = redis.call('XADD', KEYS[6], '*', unpack(fields))
end
redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'alertname', ARGV[2], 'namespace', ARGV[3],
           'resource', ARGV[4], 'first_seen', now, 'last_seen', now, 'count', 1, 'record_id', id)
redis.call('EXPIRE', KEYS[1], ARGV[6])
return done('created', id, 1)
)lua";

/// The answer of the token bucket.
struct rate_result {
  bool allowed = true;
  long long tokens = 0;   ///< whole tokens left
  long retry_after = 0;   ///< seconds until the next request would be allowed (>= 1 when refused)
};

struct outcome {
  enum class kind { created, duplicate, storm } what = kind::created;
  std::string id;       // record id (created, duplicate) or storm id
  long long count = 1;  // duplicate / storm count
};

inline const char* to_string(outcome::kind k) {
  switch (k) {
    case outcome::kind::created: return "created";
    case outcome::kind::duplicate: return "duplicate";
    case outcome::kind::storm: return "storm";
  }
  return "?";
}

inline std::string iso8601_ms(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const std::time_t tt = system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count() % 1000;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

/// The gateway's Redis operations.
class store {
 public:
  store(redis_ha::client& client, const config& cfg) : client_(client), cfg_(cfg) {}

  static constexpr const char* stream_key = "remediation:requests";

  /// Takes one token from the bucket `ratelimit:<ip>` (always allowed when the limit is off).
  asio::awaitable<rate_result> rate_limit(const std::string& ip) {
    rate_result r;
    if (cfg_.rate_burst == 0) co_return r;
    redis_ha::request_options opts;
    opts.idempotent = true;  // a resend only takes one token more: harmless
    const redis_ha::script_args keys(std::vector<std::string>{"ratelimit:" + ip});
    const redis_ha::script_args args(std::vector<long>{cfg_.rate_burst, cfg_.rate_per_s});
    const redis_ha::reply rep = co_await run(rate_, keys, args, opts);
    if (!rep.is_array() || rep.size() != 3 || !rep[0].is_integer() || !rep[1].is_integer() || !rep[2].is_integer())
      throw redis_failure(redis_ha::error::server_error, "rate limit script: " + rep.to_string());
    r.allowed = rep[0].as_integer() == 1;
    r.tokens = rep[2].as_integer();
    r.retry_after = r.allowed ? 0 : static_cast<long>(std::max<long long>(1, (rep[1].as_integer() + 999) / 1000));
    co_return r;
  }

  /// The atomic check-and-record of one alert. `op_id` is unique per alert and request.
  asio::awaitable<outcome> record(const alert& a, const std::string& op_id, std::chrono::system_clock::time_point now) {
    const long long now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::string resource = a.kind + "/" + a.name;
    const std::string storm_base = fmt::format("{}:{}", a.ns, a.alertname);
    const std::vector<std::string> keys{
        "alert:dedup:" + a.fingerprint,
        "alert:stormcount:" + storm_base,
        "alert:stormflag:" + storm_base,
        "alert:storm:" + storm_base,
        "alert:storm:" + storm_base + ":resources",
        stream_key,
        "alert:op:" + op_id,
    };
    const std::vector<std::string> args{
        a.fingerprint, a.alertname, a.ns, resource, std::to_string(now_ms),
        std::to_string(cfg_.dedup_ttl), std::to_string(cfg_.storm_threshold), std::to_string(cfg_.storm_window),
        std::to_string(cfg_.storm_ttl), "600", std::to_string(cfg_.stream_maxlen),
        // the remediation record
        "fingerprint", a.fingerprint,
        "alertname", a.alertname,
        "severity", a.severity.empty() ? std::string("unknown") : a.severity,
        "namespace", a.ns,
        "resource_kind", a.kind,
        "resource_name", a.name,
        "environment", a.environment,
        "priority", a.priority,
        "status", a.status,
        "startsAt", a.starts_at,
        "receivedAt", iso8601_ms(now),
        "labels", a.labels.dump(-1, ' ', false, json::error_handler_t::replace),
        "annotations", a.annotations.dump(-1, ' ', false, json::error_handler_t::replace),
        "op_id", op_id,
    };
    redis_ha::request_options opts;
    opts.idempotent = true;  // the operation key makes a resend return the first answer
    const redis_ha::reply r = co_await run(record_, keys, args, opts);
    if (!r.is_array() || r.size() != 3 || !r[0].is_string() || !r[2].is_integer())
      throw redis_failure(redis_ha::error::server_error, "record script: " + r.to_string());
    outcome out;
    const auto kind = r[0].as_string();
    out.what = kind == "created" ? outcome::kind::created
               : kind == "duplicate" ? outcome::kind::duplicate
                                     : outcome::kind::storm;
    out.id = std::string(r[1].is_string() ? r[1].as_string() : std::string_view{});
    out.count = r[2].as_integer();
    co_return out;
  }

 private:
  // One script run; errors (and error replies) become redis_failure.
  asio::awaitable<redis_ha::reply> run(redis_ha::script& s, const redis_ha::script_args& keys,
                                       const redis_ha::script_args& args, const redis_ha::request_options& opts) {
    std::error_code ec;
    redis_ha::reply r;
    try {
      r = co_await redis_ha::async_run(client_, s, keys, args, opts, asio::use_awaitable);
    } catch (const std::system_error& e) {
      ec = e.code();
    }
    if (ec) throw redis_failure(ec, ec.message());
    if (r.is_error()) throw redis_failure(redis_ha::error::server_error, std::string(r.error_message()));
    co_return r;
  }

  redis_ha::client& client_;
  const config& cfg_;
  redis_ha::script record_{record_script};
  redis_ha::script rate_{rate_script};
};

}  // namespace gateway
