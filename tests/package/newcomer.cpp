// A consumer program written from the docs only (README.md, docs/replies.md,
// docs/pubsub.md, docs/scripts.md, docs/errors.md, docs/quickstart.md), built
// by the package tests in all three ways next to app.cpp, and run against
// the redis-server that redis_ha_with_server started (REDIS_HA_TEST_PORT).
// C++17, blocking API plus one asio::use_future call from another thread.
#include <redis_ha.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_future.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#ifndef REDIS_HA_PACKAGE_WAY
#define REDIS_HA_PACKAGE_WAY "unknown"
#endif

namespace app {
struct user {
  std::string name;
  int age = 0;
};
}  // namespace app

// docs/replies.md, "Your own types".
template <>
struct redis_ha::reply_converter<app::user> {
  static void convert(const redis_ha::reply& r, app::user& out, redis_ha::conversion_error& err) {
    std::map<std::string, std::string> fields;
    if (!redis_ha::convert(r, fields, err)) return;
    if (!fields.count("name") || !fields.count("age")) return err.mismatch(r, "a hash with name and age");
    out.name = fields["name"];
    if (!redis_ha::convert(redis_ha::reply::bulk_string(fields["age"]), out.age, err)) err.where = "[age]";
  }
};

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("  %s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

// docs/scripts.md
redis_ha::script capped_incr{R"lua(
  local v = redis.call('INCRBY', KEYS[1], ARGV[1])
  if v > tonumber(ARGV[2]) then
    redis.call('SET', KEYS[1], ARGV[2])
    return tonumber(ARGV[2])
  end
  return v
)lua"};

void typed_replies(redis_ha::sync_client& redis) {
  std::printf("typed replies\n");
  redis.command("DEL", "nc:list", "nc:user", "nc:n");
  redis.command("RPUSH", "nc:list", "a", "b", 'c');  // a char is a one-character string
  auto items = redis.command<std::vector<std::string>>("LRANGE", "nc:list", 0, -1);
  check(items == std::vector<std::string>{"a", "b", "c"}, "LRANGE as std::vector<std::string>");

  redis.command("HSET", "nc:user", "name", "ada", "age", 36);
  auto fields = redis.command<std::map<std::string, std::string>>("HGETALL", "nc:user");
  check(fields.size() == 2 && fields["name"] == "ada", "HGETALL as std::map");
  app::user ada = redis.command<app::user>("HGETALL", "nc:user");
  check(ada.name == "ada" && ada.age == 36, "HGETALL as a user type (reply_converter)");

  auto values = redis.command<std::vector<std::optional<std::string>>>("MGET", "nc:user", "nc:missing");
  check(values.size() == 2 && !values[1], "MGET with a missing key as std::optional");

  redis_ha::request pipeline;
  pipeline.push("SET", "nc:n", 10).push("INCRBY", "nc:n", 5).push("GET", "nc:missing");
  auto [ok, n, missing] = redis.exec<redis_ha::ignore_t, long long, std::optional<std::string>>(pipeline);
  (void)ok;
  check(n == 15 && !missing, "exec<ignore_t, long long, std::optional<std::string>>");

  redis_ha::reply r = redis.command("LRANGE", "nc:list", 0, -1);
  redis_ha::conversion_error err;
  (void)redis_ha::as<std::vector<long long>>(r, err);
  check(err && err.message() == "reply[0]: expected integer, got bulk_string \"a\"",
        "a mismatch says where and what: " + err.message());
  try {
    redis.command<long long>("LRANGE", "nc:list", 0, -1);
    check(false, "a mismatch throws");
  } catch (const std::system_error& e) {  // docs/errors.md: catch std::system_error
    check(e.code() == redis_ha::error::wrong_reply_type, std::string("caught as std::system_error: ") + e.what());
  }
  std::error_code ec;
  (void)redis.command<long long>(ec, "INCR", "nc:list");
  check(ec == redis_ha::error::server_error, "a Redis error reply converted: server_error");
}

void scripts(redis_ha::sync_client& redis) {
  std::printf("scripts\n");
  redis.command("DEL", "nc:quota");
  redis_ha::reply first = redis_ha::run(redis, capped_incr, {"nc:quota"}, {"60", "100"});
  check(first.as_integer() == 60, "run with braced keys and arguments");
  std::vector<std::string> keys{"nc:quota"};
  std::vector<int> args{60, 100};
  long long capped = redis_ha::as<long long>(redis_ha::run(redis, capped_incr, keys, args));
  check(capped == 100, "run with ranges, typed result");
  check(capped_incr.sha().size() == 40, "the digest is known after the first run");

  redis.command("SCRIPT", "FLUSH");  // as after a failover: the server lost the script
  check(redis_ha::as<long long>(redis_ha::run(redis, capped_incr, {"nc:quota"}, {"1", "100"})) == 100,
        "runs again after SCRIPT FLUSH (NOSCRIPT fallback)");

  std::error_code ec;
  redis_ha::reply bad = redis_ha::run(redis, capped_incr, {"nc:quota"}, {"not a number", "1"}, ec);
  check(!ec && bad.is_error(), "a script error is an error reply: " + std::string(bad.error_message()));
}

void pubsub(const redis_ha::client_config& cfg, redis_ha::sync_client& redis) {
  std::printf("pub/sub\n");
  redis_ha::sync_subscriber sub{cfg};
  sub.subscribe({"nc:orders", "nc:alerts"});
  sub.psubscribe("nc:metrics.*");
  check(sub.wait_subscribed(std::chrono::seconds(10)), "wait_subscribed");
  check(redis.command<long long>("PUBLISH", "nc:orders", "order 1") == 1, "PUBLISH reaches one subscriber");
  redis.command("PUBLISH", "nc:metrics.cpu", "42");
  std::optional<redis_ha::message> m = sub.next(std::chrono::seconds(5));
  check(m && m->channel == "nc:orders" && m->payload == "order 1", "next() returns the message");
  std::optional<redis_ha::message> pm = sub.next(std::chrono::seconds(5));
  check(pm && pm->pattern == "nc:metrics.*" && pm->payload == "42", "a pattern message");
  check(!sub.next(std::chrono::milliseconds(100)), "next() times out when nothing comes");
}

void use_future(const redis_ha::client_config& cfg) {
  std::printf("use_future from another thread\n");
  asio::io_context ioc;
  auto work = asio::make_work_guard(ioc);
  std::thread io([&] { ioc.run(); });
  std::optional<redis_ha::client> client;
  client.emplace(ioc.get_executor(), cfg);  // construction: any thread

  redis_ha::request req;
  req.push("INCR", "nc:visits");
  std::future<redis_ha::response> pending =
      asio::post(ioc, asio::use_future([&] { return client->async_exec(req, asio::use_future); })).get();
  redis_ha::response resp = pending.get();
  check(resp.size() == 1 && resp[0].is_integer(), "async_exec through asio::post + use_future");

  asio::post(ioc, asio::use_future([&] { client.reset(); })).get();  // destroyed on the executor
  work.reset();
  io.join();
}

}  // namespace

int main() try {
  const char* port_env = std::getenv("REDIS_HA_TEST_PORT");
  if (port_env == nullptr || *port_env == '\0') {
    std::fprintf(stderr, "REDIS_HA_TEST_PORT is not set (run me under redis_ha_with_server)\n");
    return 1;
  }
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", static_cast<std::uint16_t>(std::strtoul(port_env, nullptr, 10))}};
  cfg.failover_budget = std::chrono::seconds(10);

  redis_ha::sync_client redis{cfg};
  typed_replies(redis);
  scripts(redis);
  pubsub(cfg, redis);
  use_future(cfg);

  std::printf("newcomer (%s): %s\n", REDIS_HA_PACKAGE_WAY, failures == 0 ? "all checks passed" : "FAILED");
  return failures == 0 ? 0 : 1;
} catch (const std::system_error& e) {
  std::fprintf(stderr, "newcomer (%s): FAILED: %s\n", REDIS_HA_PACKAGE_WAY, e.what());
  return 1;
}
