// Typed replies through sync_client against a real redis-server: the
// conversions of typed.hpp on real replies (LRANGE, HGETALL, CONFIG GET,
// MGET, ZRANGE WITHSCORES, EXEC), char arguments, and the exception rule
// (everything thrown is a std::system_error).
#include <redis_ha/sync_client.hpp>
#include <redis_ha/typed.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "support/redis_server.hpp"
#include "support/sync_client.hpp"

using redis_ha::error;
using redis_ha::test::redis_node;

namespace {

redis_ha::client_config direct(std::uint16_t port) {
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", port}};
  return cfg;
}

}  // namespace

TEST_CASE("sync_client::command<T> converts real replies", "[client][typed]") {
  redis_node server;
  redis_ha::sync_client redis{direct(server.port())};

  CHECK(redis.command<long long>("RPUSH", "l", "a", "b", "c") == 3);
  CHECK(redis.command<std::vector<std::string>>("LRANGE", "l", 0, -1) == std::vector<std::string>{"a", "b", "c"});
  CHECK(redis.command<std::vector<std::string>>("LRANGE", "missing", 0, -1).empty());

  redis.command("HSET", "user:1", "name", "ada", "age", 36);
  auto user = redis.command<std::map<std::string, std::string>>("HGETALL", "user:1");
  CHECK(user == std::map<std::string, std::string>{{"name", "ada"}, {"age", "36"}});
  CHECK(redis.command<std::map<std::string, int>>("HGETALL", "missing").empty());

  auto config = redis.command<std::map<std::string, std::string>>("CONFIG", "GET", "maxmemory-policy");
  CHECK(config.count("maxmemory-policy") == 1);

  redis.set("k1", "v1");
  auto values = redis.command<std::vector<std::optional<std::string>>>("MGET", "k1", "nope");
  CHECK(values == std::vector<std::optional<std::string>>{"v1", std::nullopt});

  redis.command("ZADD", "z", 1.5, "b", 2, "a");
  auto ranked = redis.command<std::vector<std::pair<std::string, double>>>("ZRANGE", "z", 0, -1, "WITHSCORES");
  CHECK(ranked == std::vector<std::pair<std::string, double>>{{"b", 1.5}, {"a", 2.0}});
  CHECK(redis.command<std::optional<double>>("ZSCORE", "z", "a") == 2.0);
  CHECK(redis.command<std::optional<double>>("ZSCORE", "z", "nobody") == std::nullopt);
  CHECK(redis.command<bool>("EXISTS", "k1"));
  CHECK(redis.command<std::set<std::string>>("SMEMBERS", "none").empty());
}

TEST_CASE("sync_client::exec<Ts...> converts a pipeline, errors as values or exceptions", "[client][typed]") {
  redis_node server;
  redis_ha::sync_client redis{direct(server.port())};

  redis_ha::request req;
  req.push("SET", "n", 10).push("INCRBY", "n", 5).push("GET", "n").push("GET", "absent");
  auto [ok, after, text, absent] =
      redis.exec<redis_ha::ignore_t, long long, long long, std::optional<std::string>>(req);
  (void)ok;
  CHECK(after == 15);
  CHECK(text == 15);  // a bulk string "15" read as an integer
  CHECK(absent == std::nullopt);

  // A reply of the wrong type: error::wrong_reply_type, with what and where.
  std::error_code ec;
  redis_ha::request lr;
  lr.push("RPUSH", "list", "x").push("LRANGE", "list", 0, -1);
  auto [count, bad] = redis.exec<long long, std::vector<long long>>(lr, ec);
  CHECK(ec == error::wrong_reply_type);
  CHECK(count == 0);  // default values on an error
  CHECK(bad.empty());
  try {
    redis.command<long long>("LRANGE", "list", 0, -1);
    FAIL("no throw");
  } catch (const std::system_error& e) {  // redis_ha::system_error is a std::system_error
    CHECK(e.code() == error::wrong_reply_type);
    CHECK(std::string(e.what()).find("reply: expected integer, got array of 1") == 0);
  }

  // A Redis error reply: a reply untyped, server_error typed.
  redis_ha::reply r = redis.command(ec, "INCR", "list");
  CHECK_FALSE(ec);
  CHECK(r.error_prefix() == "WRONGTYPE");
  CHECK(redis.command<long long>(ec, "INCR", "list") == 0);
  CHECK(ec == error::server_error);
  CHECK_THROWS_AS(redis.command<long long>("INCR", "list"), redis_ha::system_error);
  CHECK(redis.command<long long>(ec, "INCR", "fresh") == 1);
  CHECK_FALSE(ec);
}

TEST_CASE("a char argument reaches the server as a one-character string", "[client][typed]") {
  redis_node server;
  redis_ha::sync_client redis{direct(server.port())};
  redis.command("SET", "c", 'x');
  CHECK(redis_ha::test::command(server.port(), {"GET", "c"}).str == "x");
  CHECK(redis.command<std::string>("GET", "c") == "x");
}
