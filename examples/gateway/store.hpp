#pragma once
// Redis logic of the gateway: rate limiting and the atomic dedup/storm/record script.
// Everything goes through one redis_ha::client (async_exec + use_awaitable).

#include <redis_ha/client.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <asio/awaitable.hpp>
#include <asio/use_awaitable.hpp>

#include <fmt/format.h>

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

// A Redis request failed. `unavailable()`: no verified master within the failover
// budget (answer 503); anything else is unexpected (500).
class redis_failure : public std::runtime_error {
 public:
  redis_failure(std::error_code ec, const std::string& what) : std::runtime_error(what), ec_(ec) {}
  std::error_code code() const noexcept { return ec_; }
  bool unavailable() const noexcept {
    return ec_ == redis_ha::error::master_unavailable || ec_ == redis_ha::error::no_sentinel_reachable;
  }

 private:
  std::error_code ec_;
};

// KEYS: 1 dedup hash, 2 storm counter, 3 storm flag, 4 storm hash, 5 storm resources set,
//       6 remediation stream, 7 operation key (makes a resend after a failover idempotent)
// ARGV: 1 fingerprint, 2 alertname, 3 namespace, 4 resource "Kind/name", 5 now (ms),
//       6 dedup ttl, 7 storm threshold, 8 storm window, 9 storm ttl, 10 operation ttl,
//       11.. field/value pairs of the remediation record
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
for i = 11, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[6], '*', unpack(fields))
redis.call('HSET', KEYS[1], 'fingerprint', ARGV[1], 'alertname', ARGV[2], 'namespace', ARGV[3],
           'resource', ARGV[4], 'first_seen', now, 'last_seen', now, 'count', 1, 'record_id', id)
redis.call('EXPIRE', KEYS[1], ARGV[6])
return done('created', id, 1)
)lua";

struct rate_result {
  bool allowed = true;
  long long count = 0;
  long retry_after = 0;  // seconds until the window ends
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

class store {
 public:
  store(redis_ha::client& client, const config& cfg)
      : client_(client), cfg_(cfg), record_sha_(sha1_hex(record_script)) {}

  static constexpr const char* stream_key = "remediation:requests";

  // INCR + EXPIRE on ratelimit:<ip>:<window>.
  asio::awaitable<rate_result> rate_limit(const std::string& ip) {
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    const long long window = now_s / cfg_.rate_window;
    const std::string key = fmt::format("ratelimit:{}:{}", ip, window);
    redis_ha::request req;
    req.push("INCR", key).push("EXPIRE", key, cfg_.rate_window);
    req.options().idempotent = true;  // a resend only over-counts by one: harmless
    const redis_ha::response resp = co_await exec(req);
    rate_result r;
    std::error_code ec;
    r.count = resp.at(0).as_integer(ec);
    if (ec) throw redis_failure(ec, "rate limit INCR: " + resp.at(0).to_string());
    r.allowed = r.count <= cfg_.rate_limit;
    r.retry_after = static_cast<long>((window + 1) * cfg_.rate_window - now_s);
    if (r.retry_after < 1) r.retry_after = 1;
    co_return r;
  }

  // The atomic check-and-record of one alert. `op_id` is unique per alert and request.
  asio::awaitable<outcome> record(const alert& a, const std::string& op_id, std::chrono::system_clock::time_point now) {
    const long long now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::string resource = a.kind + "/" + a.name;
    const std::string storm_base = fmt::format("{}:{}", a.ns, a.alertname);
    std::vector<std::string> argv{
        "EVALSHA", record_sha_, "7",
        "alert:dedup:" + a.fingerprint,
        "alert:stormcount:" + storm_base,
        "alert:stormflag:" + storm_base,
        "alert:storm:" + storm_base,
        "alert:storm:" + storm_base + ":resources",
        stream_key,
        "alert:op:" + op_id,
        a.fingerprint, a.alertname, a.ns, resource, std::to_string(now_ms),
        std::to_string(cfg_.dedup_ttl), std::to_string(cfg_.storm_threshold), std::to_string(cfg_.storm_window),
        std::to_string(cfg_.storm_ttl), "600",
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
    redis_ha::request req;
    req.push_argv(argv);
    req.options().idempotent = true;  // the operation key makes a resend return the first answer
    redis_ha::response resp = co_await exec(req);
    if (resp.at(0).is_error() && resp.at(0).error_prefix() == "NOSCRIPT") {
      // A master without the script (new master after a failover, restart, SCRIPT FLUSH).
      log(level::info, "store: NOSCRIPT on the master, sending the script with EVAL");
      argv[0] = "EVAL";
      argv[1] = record_script;
      redis_ha::request again;
      again.push_argv(argv);
      again.options().idempotent = true;
      resp = co_await exec(again);
    }
    const redis_ha::reply& r = resp.at(0);
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
  asio::awaitable<redis_ha::response> exec(const redis_ha::request& req) {
    std::error_code ec;
    redis_ha::response resp;
    try {
      resp = co_await client_.async_exec(req, asio::use_awaitable);
    } catch (const std::system_error& e) {
      ec = e.code();
    }
    if (ec) throw redis_failure(ec, ec.message());
    co_return resp;
  }

  redis_ha::client& client_;
  const config& cfg_;
  std::string record_sha_;
};

}  // namespace gateway
