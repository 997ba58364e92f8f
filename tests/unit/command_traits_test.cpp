// Command classification: routing (write/readonly), retry safety
// (idempotent) and the other flags of redis_ha::command_traits.
#include <redis_ha/command_traits.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <string_view>

using redis_ha::command_flags;
using redis_ha::command_traits;
using redis_ha::has;

namespace {

bool is_write(std::string_view name, std::string_view sub = {}) {
  return has(command_traits(name, sub), command_flags::write);
}
bool is_readonly(std::string_view name, std::string_view sub = {}) {
  return has(command_traits(name, sub), command_flags::readonly);
}
bool is_idempotent(std::string_view name, std::string_view sub = {}) {
  return has(command_traits(name, sub), command_flags::idempotent);
}

constexpr std::size_t table_size = sizeof(redis_ha::detail::command_table) /
                                   sizeof(redis_ha::detail::command_table[0]);

}  // namespace

TEST_CASE("command_flags combine and test as a bit set", "[traits]") {
  constexpr auto f = command_flags::write | command_flags::idempotent;
  STATIC_REQUIRE(has(f, command_flags::write));
  STATIC_REQUIRE(has(f, command_flags::idempotent));
  STATIC_REQUIRE(has(f, command_flags::write | command_flags::idempotent));
  STATIC_REQUIRE_FALSE(has(f, command_flags::readonly));
  STATIC_REQUIRE_FALSE(has(f, command_flags::write | command_flags::readonly));
  STATIC_REQUIRE(has(f, command_flags::none));
  STATIC_REQUIRE((f & command_flags::write) == command_flags::write);
  STATIC_REQUIRE((f & command_flags::blocking) == command_flags::none);
  auto g = command_flags::none;
  g |= command_flags::admin;
  g |= command_flags::noscript;
  g &= command_flags::admin;
  CHECK(g == command_flags::admin);
}

TEST_CASE("data writes go to the master, absolute ones are idempotent", "[traits]") {
  for (auto name : {"SET", "DEL", "HSET", "HDEL", "SADD", "SREM", "ZADD", "ZREM", "MSET",
                    "UNLINK", "PERSIST", "EXPIREAT", "PEXPIREAT", "SETRANGE", "LSET"}) {
    INFO(name);
    CHECK(command_traits(name) == (command_flags::write | command_flags::idempotent));
  }
}

TEST_CASE("relative TTLs count as idempotent", "[traits]") {
  // A resend moves the start of the TTL by the retry delay, like latency.
  for (auto name : {"EXPIRE", "PEXPIRE", "SETEX", "PSETEX", "GETEX"}) {
    INFO(name);
    CHECK(is_write(name));
    CHECK(is_idempotent(name));
  }
}

TEST_CASE("relative, consuming and conditional writes are not idempotent", "[traits]") {
  for (auto name : {// relative to the current value
                    "INCR", "INCRBY", "DECR", "INCRBYFLOAT", "APPEND", "LPUSH", "RPUSH", "LINSERT",
                    "HINCRBY", "ZINCRBY", "XADD", "BITFIELD",
                    // consuming, or returning what they overwrite
                    "LPOP", "RPOP", "SPOP", "GETDEL", "GETSET", "SETBIT", "RPOPLPUSH", "LMOVE",
                    "ZPOPMIN", "XCLAIM", "XAUTOCLAIM",
                    // conditional: the resend would report "not done"
                    "SETNX", "HSETNX", "MSETNX", "RENAME", "RENAMENX", "COPY", "MOVE", "SMOVE",
                    "RESTORE",
                    // position-relative or accumulating in common forms
                    "LREM", "LTRIM", "ZREMRANGEBYRANK", "ZUNIONSTORE", "ZINTERSTORE", "BITOP"}) {
    INFO(name);
    CHECK(command_traits(name) == command_flags::write);
  }
  CHECK(command_traits("XREADGROUP") == (command_flags::write | command_flags::blocking));
  CHECK_FALSE(is_idempotent("XGROUP", "CREATE"));
  CHECK(is_idempotent("XGROUP", "CREATECONSUMER"));
  CHECK_FALSE(is_idempotent("FUNCTION", "LOAD"));
  CHECK(is_write("FUNCTION", "LOAD"));
}

TEST_CASE("reads may go to a replica and are idempotent", "[traits]") {
  for (auto name : {"GET", "MGET", "HGET", "HGETALL", "EXISTS", "TTL", "SMEMBERS", "SRANDMEMBER",
                    "ZRANGE", "LRANGE", "XRANGE", "SCAN", "DBSIZE", "SORT_RO", "GEORADIUS_RO",
                    "BITFIELD_RO"}) {
    INFO(name);
    CHECK(command_traits(name) == (command_flags::readonly | command_flags::idempotent));
  }
  for (auto name : {"EVAL_RO", "EVALSHA_RO", "FCALL_RO"}) {
    INFO(name);
    CHECK(command_traits(name) ==
          (command_flags::readonly | command_flags::idempotent | command_flags::noscript));
  }
  CHECK(command_traits("XINFO", "STREAM") == (command_flags::readonly | command_flags::idempotent));
  CHECK(command_traits("OBJECT", "ENCODING") ==
        (command_flags::readonly | command_flags::idempotent));
  CHECK(command_traits("MEMORY", "USAGE") ==
        (command_flags::readonly | command_flags::idempotent));
}

TEST_CASE("scripts and functions go to the master and are never resent", "[traits]") {
  for (auto name : {"EVAL", "EVALSHA", "FCALL"}) {
    INFO(name);
    CHECK(is_write(name));
    CHECK_FALSE(is_readonly(name));
    CHECK_FALSE(is_idempotent(name));
    CHECK(has(command_traits(name), command_flags::noscript));
  }
}

TEST_CASE("blocking commands", "[traits]") {
  for (auto name : {"BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP", "BZPOPMIN", "BZPOPMAX",
                    "BZMPOP"}) {
    INFO(name);
    CHECK(is_write(name));
    CHECK(has(command_traits(name), command_flags::blocking));
    CHECK_FALSE(is_idempotent(name));
  }
  CHECK(command_traits("BLPOP") ==
        (command_flags::write | command_flags::blocking | command_flags::noscript));
  // XREAD blocks only with BLOCK: flagged as may-block.
  CHECK(command_traits("XREAD") ==
        (command_flags::readonly | command_flags::idempotent | command_flags::blocking));
  CHECK(command_traits("XREADGROUP") == (command_flags::write | command_flags::blocking));
  CHECK(command_traits("WAIT") ==
        (command_flags::write | command_flags::idempotent | command_flags::blocking |
         command_flags::noscript));
  CHECK_FALSE(has(command_traits("LPOP"), command_flags::blocking));
  CHECK_FALSE(has(command_traits("GET"), command_flags::blocking));
}

TEST_CASE("subscribe commands switch the connection to subscriber mode", "[traits]") {
  for (auto name : {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE",
                    "SUNSUBSCRIBE"}) {
    INFO(name);
    CHECK(command_traits(name) == (command_flags::idempotent | command_flags::pubsub |
                                   command_flags::noscript | command_flags::connection_state));
  }
  // PUBLISH is request/reply, must reach the master, and delivers again if resent.
  CHECK(command_traits("PUBLISH") == command_flags::write);
  CHECK(command_traits("SPUBLISH") == command_flags::write);
  CHECK(command_traits("PUBSUB", "CHANNELS") == command_flags::idempotent);
  CHECK(command_traits("PUBSUB", "NUMSUB") == command_flags::idempotent);
}

TEST_CASE("server and connection commands run anywhere", "[traits]") {
  CHECK(command_traits("PING") == command_flags::idempotent);
  CHECK(command_traits("ECHO") == command_flags::idempotent);
  CHECK(command_traits("INFO") == command_flags::idempotent);
  CHECK(command_traits("TIME") == command_flags::idempotent);
  CHECK(command_traits("ROLE") == (command_flags::idempotent | command_flags::noscript));
  CHECK(command_traits("SELECT") == (command_flags::idempotent | command_flags::connection_state));
  CHECK(command_traits("AUTH") ==
        (command_flags::idempotent | command_flags::noscript | command_flags::connection_state));
  CHECK(command_traits("HELLO") ==
        (command_flags::idempotent | command_flags::noscript | command_flags::connection_state));
  CHECK(command_traits("MULTI") == (command_flags::idempotent | command_flags::noscript));
  CHECK(command_traits("EXEC") == (command_flags::idempotent | command_flags::noscript));
  CHECK(command_traits("SHUTDOWN") == (command_flags::admin | command_flags::noscript));
  CHECK(has(command_traits("REPLICAOF"), command_flags::admin));
  CHECK_FALSE(is_write("REPLICAOF"));
}

TEST_CASE("container commands are classified per subcommand", "[traits]") {
  SECTION("CLIENT") {
    CHECK(command_traits("CLIENT", "SETNAME") ==
          (command_flags::idempotent | command_flags::noscript | command_flags::connection_state));
    CHECK(command_traits("CLIENT", "GETNAME") ==
          (command_flags::idempotent | command_flags::noscript));
    CHECK(command_traits("CLIENT", "KILL") == (command_flags::admin | command_flags::noscript));
    CHECK(command_traits("CLIENT", "LIST") ==
          (command_flags::idempotent | command_flags::admin | command_flags::noscript));
    CHECK(has(command_traits("CLIENT", "TRACKING"), command_flags::connection_state));
    CHECK(has(command_traits("CLIENT", "REPLY"), command_flags::connection_state));
  }
  SECTION("CONFIG") {
    // Node configuration, not data: neither goes to the master by necessity,
    // and setting the same value twice is harmless.
    const auto get = command_traits("CONFIG", "GET");
    const auto set = command_traits("CONFIG", "SET");
    CHECK(get == (command_flags::idempotent | command_flags::admin | command_flags::noscript));
    CHECK(set == (command_flags::idempotent | command_flags::admin | command_flags::noscript));
    CHECK_FALSE(has(set, command_flags::write));
    CHECK_FALSE(has(get, command_flags::readonly));
    // Both are real rows: an unknown CONFIG subcommand gets the default.
    CHECK(command_traits("CONFIG", "FROBNICATE") == command_flags::write);
  }
  SECTION("SCRIPT") {
    CHECK(command_traits("SCRIPT", "LOAD") == (command_flags::idempotent | command_flags::noscript));
    CHECK(command_traits("SCRIPT", "EXISTS") ==
          (command_flags::idempotent | command_flags::noscript));
    CHECK(command_traits("SCRIPT", "KILL") == command_flags::noscript);
  }
  SECTION("others") {
    CHECK(command_traits("XINFO", "GROUPS") ==
          (command_flags::readonly | command_flags::idempotent));
    CHECK(command_traits("XGROUP", "SETID") == (command_flags::write | command_flags::idempotent));
    CHECK(command_traits("FUNCTION", "FLUSH") ==
          (command_flags::write | command_flags::idempotent | command_flags::noscript));
    CHECK(command_traits("ACL", "WHOAMI") == (command_flags::idempotent | command_flags::noscript));
    CHECK(command_traits("COMMAND", "COUNT") == command_flags::idempotent);
    CHECK(is_idempotent("CLUSTER", "NODES"));
    CHECK_FALSE(is_idempotent("CLUSTER", "ADDSLOTS"));
    CHECK(is_idempotent("MEMORY", "STATS"));
    CHECK(is_idempotent("SLOWLOG", "GET"));
    CHECK(is_idempotent("LATENCY", "LATEST"));
  }
  SECTION("bare container and Redis notation") {
    // Only COMMAND is valid without a subcommand; the bare rows carry
    // Redis's (empty) flags.
    CHECK(command_traits("COMMAND") == command_flags::idempotent);
    CHECK_FALSE(is_write("CONFIG"));
    CHECK(command_traits("client|setname") == command_traits("CLIENT", "SETNAME"));
    CHECK(command_traits("CONFIG|set") == command_traits("config", "set"));
    CHECK(command_traits("client|setname", "x") == command_traits("CLIENT", "SETNAME"));
  }
}

TEST_CASE("the subcommand of an ordinary command is ignored", "[traits]") {
  // Callers may always pass the first argument.
  CHECK(command_traits("SET", "key") == command_traits("SET"));
  CHECK(command_traits("GET", "SETNAME") == command_traits("GET"));
  CHECK(command_traits("EXPIRE", "") == command_traits("EXPIRE"));
}

TEST_CASE("unknown commands are writes and never resent", "[traits]") {
  for (auto name : {"FROBNICATE", "SE", "SETT", "SET ", " SET", "GETX", "ZZZZ", "A", "SENTINEL",
                    "CLIENT|", "|SET", "SET|KEY"}) {
    INFO(name);
    CHECK(command_traits(name) == command_flags::write);
  }
  CHECK(command_traits("CLIENT", "NO-SUCH-THING") == command_flags::write);
  CHECK(command_traits("XINFO", "STREAMS") == command_flags::write);
  CHECK(command_traits("XINFO", "STREA") == command_flags::write);
  CHECK(command_traits(std::string_view("GET\0", 4)) == command_flags::write);
  CHECK(command_traits("G\xC3\x89T") == command_flags::write);
}

TEST_CASE("the empty name is unknown", "[traits]") {
  CHECK(command_traits("") == command_flags::write);
  CHECK(command_traits({}) == command_flags::write);
  CHECK(command_traits("", "SET") == command_flags::write);
}

TEST_CASE("lookups are ASCII case-insensitive", "[traits]") {
  for (auto name : {"set", "SET", "Set", "sEt"}) {
    INFO(name);
    CHECK(command_traits(name) == (command_flags::write | command_flags::idempotent));
  }
  for (auto sub : {"setname", "SETNAME", "SetName"}) {
    INFO(sub);
    CHECK(command_traits("client", sub) == command_traits("CLIENT", "SETNAME"));
    CHECK(command_traits("Client", sub) == command_traits("CLIENT", "SETNAME"));
  }
  CHECK(command_traits("RESTORE-ASKING") == command_traits("restore-asking"));
  CHECK(command_traits("georadius_ro") == command_traits("GEORADIUS_RO"));
  CHECK(command_traits("CLIENT", "NO-EVICT") == command_traits("client", "no-evict"));
  // Names are looked up in the caller's buffer: a non-terminated view works.
  const std::string buffer = "GETDELX";
  CHECK(command_traits(std::string_view(buffer).substr(0, 6)) == command_traits("GETDEL"));
  CHECK(command_traits(std::string_view(buffer).substr(0, 3)) == command_traits("GET"));
}

TEST_CASE("command_traits is usable in constant expressions", "[traits]") {
  STATIC_REQUIRE(command_traits("GET") == (command_flags::readonly | command_flags::idempotent));
  STATIC_REQUIRE(has(command_traits("INCR"), command_flags::write));
  STATIC_REQUIRE_FALSE(has(command_traits("INCR"), command_flags::idempotent));
  STATIC_REQUIRE(has(command_traits("config", "set"), command_flags::admin));
}

TEST_CASE("every row of the table is found and consistent", "[traits]") {
  using redis_ha::detail::command_table;
  CHECK(table_size > 300);  // Redis 7.0: 240 commands + 126 subcommands
  STATIC_REQUIRE(redis_ha::detail::command_table_valid());
  std::size_t containers = 0;
  for (const auto& row : command_table) {
    const std::string name(row.name);
    INFO(name);
    CHECK_FALSE(name.empty());
    // Readers are idempotent, never both write and readonly.
    if (has(row.flags, command_flags::readonly)) CHECK(has(row.flags, command_flags::idempotent));
    CHECK_FALSE(has(row.flags, command_flags::write | command_flags::readonly));
    if (has(row.flags, command_flags::pubsub)) {
      CHECK(has(row.flags, command_flags::connection_state));
    }
    std::string upper = name;
    for (auto& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    const auto bar = name.find('|');
    if (bar == std::string::npos) {
      CHECK(command_traits(upper) == row.flags);
      if (row.container) ++containers;
    } else {
      CHECK_FALSE(row.container);
      const std::string_view view(upper);
      CHECK(command_traits(view.substr(0, bar), view.substr(bar + 1)) == row.flags);
      CHECK(command_traits(upper) == row.flags);
      const auto* container = redis_ha::detail::find_command(view.substr(0, bar), {});
      REQUIRE(container != nullptr);
      CHECK(container->container);
    }
  }
  CHECK(containers >= 14);
}
