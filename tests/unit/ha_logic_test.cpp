// Sans-I/O logic of the HA client: reading ROLE and Sentinel replies,
// parsing Sentinel's Pub/Sub events, the retry rule, what a request knows
// about its commands, and the reconnection backoff. No sockets.
#include <redis_ha/detail/backoff.hpp>
#include <redis_ha/detail/replica_watch.hpp>
#include <redis_ha/detail/retry_policy.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/detail/sentinel_parse.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <asio/error.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

using redis_ha::address;
using redis_ha::error;
using redis_ha::reply;
using redis_ha::request;
using redis_ha::response;
using redis_ha::detail::retry_decision;
using redis_ha::detail::role_info;
using redis_ha::detail::sentinel_event;
using namespace std::chrono_literals;

namespace Catch {
template <>
struct StringMaker<redis_ha::address> {
  static std::string convert(const redis_ha::address& a) { return a.to_string(); }
};
template <>
struct StringMaker<redis_ha::reply> {
  static std::string convert(const redis_ha::reply& r) { return r.to_string(); }
};
}  // namespace Catch

namespace {

reply bulk(std::string s) { return reply::bulk_string(std::move(s)); }
reply simple(std::string s) { return reply::simple_string(std::move(s)); }
reply integer(long long v) { return reply::integer(v); }
reply err(std::string s) { return reply::error(std::move(s)); }
reply arr(std::initializer_list<reply> elements) { return reply::array(std::vector<reply>(elements)); }

address addr(std::string host, std::uint16_t port) {
  address a;
  a.host = std::move(host);
  a.port = port;
  return a;
}

// A flat key/value entry, as in `SENTINEL replicas` / `SENTINEL sentinels`.
reply kv(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  std::vector<reply> out;
  for (const auto& [k, v] : pairs) {
    out.push_back(bulk(k));
    out.push_back(bulk(v));
  }
  return reply::array(std::move(out));
}

std::optional<sentinel_event> event(std::string_view channel, std::string_view payload) {
  return redis_ha::detail::parse_sentinel_event(channel, payload, "mymaster");
}

template <class... Args>
request make(std::string_view command, const Args&... args) {
  request r;
  r.push(command, args...);
  return r;
}

const std::error_code ok{};

}  // namespace

// --- ROLE ----------------------------------------------------------------------

TEST_CASE("parse_role: a master", "[ha][role]") {
  // ROLE on a master: ["master", offset, [[ip, port, offset], ...]]
  auto info = redis_ha::detail::parse_role(
      arr({bulk("master"), integer(3129659), arr({arr({bulk("10.0.0.2"), bulk("6380"), bulk("3129242")})})}));
  CHECK(info.role == role_info::kind::master);
  CHECK(info.link_state.empty());

  // Without replicas, and as a simple string.
  CHECK(redis_ha::detail::parse_role(arr({bulk("master"), integer(0), arr({})})).role == role_info::kind::master);
  CHECK(redis_ha::detail::parse_role(arr({simple("master")})).role == role_info::kind::master);
}

TEST_CASE("parse_role: a replica names its master and link state", "[ha][role]") {
  // ROLE on a replica: ["slave", master-ip, master-port, state, offset]
  auto info = redis_ha::detail::parse_role(
      arr({bulk("slave"), bulk("10.0.0.1"), integer(6379), bulk("connected"), integer(3167038)}));
  CHECK(info.role == role_info::kind::replica);
  CHECK(info.master == addr("10.0.0.1", 6379));
  CHECK(info.link_state == "connected");

  for (const char* state : {"connect", "connecting", "sync"}) {
    INFO(state);
    auto i = redis_ha::detail::parse_role(arr({bulk("slave"), bulk("::1"), integer(7000), bulk(state), integer(-1)}));
    CHECK(i.role == role_info::kind::replica);
    CHECK(i.master == addr("::1", 7000));
    CHECK(i.link_state == state);
  }

  // A link state of another type is left empty; the replica is still a replica.
  auto odd = redis_ha::detail::parse_role(arr({bulk("slave"), bulk("h"), integer(6379), integer(1)}));
  CHECK(odd.role == role_info::kind::replica);
  CHECK(odd.master == addr("h", 6379));
  CHECK(odd.link_state.empty());
}

TEST_CASE("parse_role: a sentinel", "[ha][role]") {
  auto info = redis_ha::detail::parse_role(arr({bulk("sentinel"), arr({bulk("mymaster"), bulk("other")})}));
  CHECK(info.role == role_info::kind::sentinel);
}

TEST_CASE("parse_role: an error reply is unknown", "[ha][role]") {
  CHECK(redis_ha::detail::parse_role(err("NOPERM this user has no permissions to run the 'role' command")).role ==
        role_info::kind::unknown);
  CHECK(redis_ha::detail::parse_role(err("ERR unknown command 'ROLE'")).role == role_info::kind::unknown);
}

TEST_CASE("parse_role: malformed shapes are unknown", "[ha][role]") {
  const std::vector<reply> shapes{
      reply::nil(),
      integer(1),
      bulk("master"),                              // not an array
      arr({}),                                     // empty
      arr({integer(1), bulk("master")}),           // role is not a string
      arr({reply::nil()}),                         //
      arr({bulk("MASTER")}),                       // ROLE answers in lower case
      arr({bulk("replica")}),                      // ROLE says "slave"
      arr({bulk("leader"), integer(0)}),           // unknown role
      arr({bulk("slave")}),                        // too short
      arr({bulk("slave"), bulk("10.0.0.1"), integer(6379)}),                       // no state
      arr({bulk("slave"), bulk("10.0.0.1"), bulk("6379"), bulk("connected")}),     // port as a string
      arr({bulk("slave"), integer(10), integer(6379), bulk("connected")}),         // host not a string
      arr({bulk("slave"), reply::nil(), integer(6379), bulk("connected")}),        //
  };
  for (const auto& r : shapes) {
    INFO(r.to_string());
    auto info = redis_ha::detail::parse_role(r);
    CHECK(info.role == role_info::kind::unknown);
    CHECK(info.link_state.empty());
  }
}

// --- what a durable write's WAIT count is trusted against --------------------------

namespace {
reply master_role(std::initializer_list<const char*> ports) {
  std::vector<reply> rs;
  for (auto p : ports) rs.push_back(arr({bulk("127.0.0.1"), bulk(p), bulk("0")}));
  return arr({bulk("master"), integer(0), reply::array(std::move(rs))});
}
std::vector<address> at(std::initializer_list<std::uint16_t> ports) {
  std::vector<address> v;
  for (auto p : ports) v.push_back(address{"127.0.0.1", p});
  return v;
}
}  // namespace

TEST_CASE("replica_watch: the replicas a write was sent under decide whether WAIT counts",
          "[ha][durable][replica_watch]") {
  redis_ha::detail::replica_watch w;
  w.reset(at({7001, 7002}));
  const auto sent = w.snapshot();
  REQUIRE(*sent == at({7001, 7002}));

  SECTION("all still there, and a joiner: intact, and the joiner counts from now on") {
    auto v = w.check(*sent, master_role({"7001", "7002", "7003"}), true, false);
    CHECK(v.intact);
    CHECK_FALSE(v.replica_left);
    CHECK(*w.snapshot() == at({7001, 7002, 7003}));
    CHECK(*sent == at({7001, 7002}));  // a write in flight keeps its own reference
  }
  SECTION("a joiner while writes are held does not change the reference") {
    CHECK(w.check(*sent, master_role({"7001", "7002", "7003"}), true, true).intact);
    CHECK(*w.snapshot() == at({7001, 7002}));
  }
  SECTION("one left on the master in use: not intact, the core is told, the reference waits for the release") {
    auto v = w.check(*sent, master_role({"7002"}), true, false);
    CHECK_FALSE(v.intact);
    CHECK(v.replica_left);
    CHECK(*w.snapshot() == at({7001, 7002}));
    w.released();
    CHECK(*w.snapshot() == at({7002}));
    w.released();  // nothing pending: no change
    CHECK(*w.snapshot() == at({7002}));
  }
  SECTION("one left, seen on an older master connection: not intact, nothing to tell") {
    auto v = w.check(*sent, master_role({"7002"}), false, false);
    CHECK_FALSE(v.intact);
    CHECK_FALSE(v.replica_left);
    w.released();
    CHECK(*w.snapshot() == at({7001, 7002}));
  }
  SECTION("the node is no longer a master: never intact") {
    auto role = arr({bulk("slave"), bulk("127.0.0.1"), integer(7001), bulk("connected"), integer(0)});
    auto v = w.check(*sent, role, true, false);
    CHECK_FALSE(v.intact);
    CHECK_FALSE(v.replica_left);
  }
  SECTION("a new master resets the reference and forgets a pending one") {
    w.check(*sent, master_role({"7002"}), true, false);
    w.reset(at({7005}));
    w.released();
    CHECK(*w.snapshot() == at({7005}));
  }
}

// --- SENTINEL get-master-addr-by-name ---------------------------------------------

TEST_CASE("parse_master_addr: an address", "[ha][sentinel]") {
  auto a = redis_ha::detail::parse_master_addr(arr({bulk("10.0.0.1"), bulk("6379")}));
  REQUIRE(a);
  CHECK(*a == addr("10.0.0.1", 6379));

  auto v6 = redis_ha::detail::parse_master_addr(arr({simple("::1"), simple("65535")}));
  REQUIRE(v6);
  CHECK(*v6 == addr("::1", 65535));

  auto name = redis_ha::detail::parse_master_addr(arr({bulk("redis-0.redis.svc"), bulk("1")}));
  REQUIRE(name);
  CHECK(*name == addr("redis-0.redis.svc", 1));
}

TEST_CASE("parse_master_addr: nil means the sentinel does not know the name", "[ha][sentinel]") {
  CHECK_FALSE(redis_ha::detail::parse_master_addr(reply::nil()));
}

TEST_CASE("parse_master_addr: malformed replies give nothing", "[ha][sentinel]") {
  const std::vector<reply> shapes{
      err("ERR unknown command"),
      bulk("10.0.0.1:6379"),
      integer(6379),
      arr({}),
      arr({bulk("10.0.0.1")}),
      arr({bulk("10.0.0.1"), bulk("6379"), bulk("extra")}),
      arr({bulk("10.0.0.1"), integer(6379)}),  // the port is a string in Sentinel's reply
      arr({reply::nil(), bulk("6379")}),
      arr({arr({bulk("10.0.0.1")}), bulk("6379")}),
  };
  for (const auto& r : shapes) {
    INFO(r.to_string());
    CHECK_FALSE(redis_ha::detail::parse_master_addr(r));
  }
}

TEST_CASE("parse_master_addr: a bad port gives nothing", "[ha][sentinel]") {
  for (const char* port : {"", "0", "65536", "99999999999", "-1", "+6379", "6379x", " 6379", "6379 ", "0x18eb",
                           "abc", "63.79"}) {
    INFO('"' << port << '"');
    CHECK_FALSE(redis_ha::detail::parse_master_addr(arr({bulk("10.0.0.1"), bulk(port)})));
  }
}

// --- SENTINEL replicas / sentinels ---------------------------------------------------

TEST_CASE("field: the value of a key in a flat key/value array", "[ha][sentinel]") {
  const reply entry = kv({{"name", "10.0.0.9:26379"}, {"ip", "10.0.0.9"}, {"port", "26379"}, {"flags", "sentinel"}});
  CHECK(redis_ha::detail::field(entry, "ip") == "10.0.0.9");
  CHECK(redis_ha::detail::field(entry, "port") == "26379");
  CHECK(redis_ha::detail::field(entry, "flags") == "sentinel");
  CHECK(redis_ha::detail::field(entry, "name") == "10.0.0.9:26379");
  CHECK(redis_ha::detail::field(entry, "missing").empty());
  CHECK(redis_ha::detail::field(entry, "IP").empty());  // keys are case-sensitive

  // Only even positions are keys: a value equal to the key is not a key.
  const reply tricky = arr({bulk("a"), bulk("ip"), bulk("ip"), bulk("10.0.0.1")});
  CHECK(redis_ha::detail::field(tricky, "ip") == "10.0.0.1");
  CHECK(redis_ha::detail::field(tricky, "a") == "ip");

  // Not an array, a dangling key, a value of another type, a key of another type.
  CHECK(redis_ha::detail::field(bulk("ip"), "ip").empty());
  CHECK(redis_ha::detail::field(reply::nil(), "ip").empty());
  CHECK(redis_ha::detail::field(arr({}), "ip").empty());
  CHECK(redis_ha::detail::field(arr({bulk("ip")}), "ip").empty());
  CHECK(redis_ha::detail::field(arr({bulk("port"), integer(6379)}), "port").empty());
  CHECK(redis_ha::detail::field(arr({integer(1), bulk("x"), bulk("ip"), bulk("h")}), "ip") == "h");
}

TEST_CASE("parse_node_list: replicas with their flags and link status", "[ha][sentinel]") {
  const reply replicas = arr({
      kv({{"name", "10.0.0.2:6379"}, {"ip", "10.0.0.2"}, {"port", "6379"}, {"flags", "slave"},
          {"master-link-status", "ok"}}),
      kv({{"ip", "10.0.0.3"}, {"port", "6380"}, {"flags", "s_down,slave"}, {"master-link-status", "err"}}),
      kv({{"ip", "10.0.0.4"}, {"port", "6381"}, {"flags", "o_down,slave"}}),
      kv({{"ip", "10.0.0.5"}, {"port", "6382"}, {"flags", "slave,disconnected"}}),
      kv({{"ip", "10.0.0.6"}, {"port", "6383"}}),  // no flags at all
  });
  auto nodes = redis_ha::detail::parse_node_list(replicas);
  REQUIRE(nodes.size() == 5);

  CHECK(nodes[0].addr == addr("10.0.0.2", 6379));
  CHECK(nodes[0].flags == "slave");
  CHECK(nodes[0].link_status == "ok");
  CHECK(nodes[0].healthy());

  CHECK(nodes[1].addr == addr("10.0.0.3", 6380));
  CHECK(nodes[1].link_status == "err");
  CHECK_FALSE(nodes[1].healthy());  // s_down

  CHECK(nodes[2].addr == addr("10.0.0.4", 6381));
  CHECK(nodes[2].link_status.empty());
  CHECK_FALSE(nodes[2].healthy());  // o_down

  CHECK(nodes[3].addr == addr("10.0.0.5", 6382));
  CHECK_FALSE(nodes[3].healthy());  // disconnected

  CHECK(nodes[4].flags.empty());
  CHECK(nodes[4].healthy());
}

TEST_CASE("listed_node::healthy looks at each flag wherever it stands", "[ha][sentinel]") {
  redis_ha::detail::listed_node n;
  for (const char* flags : {"", "slave", "sentinel", "master", "slave,promoted"}) {
    INFO(flags);
    n.flags = flags;
    CHECK(n.healthy());
  }
  for (const char* flags : {"s_down", "o_down", "disconnected", "s_down,slave", "slave,s_down", "master,s_down,o_down",
                            "sentinel,disconnected", "slave,s_down,disconnected"}) {
    INFO(flags);
    n.flags = flags;
    CHECK_FALSE(n.healthy());
  }
}

TEST_CASE("parse_node_list: entries without a usable address are skipped", "[ha][sentinel]") {
  const reply list = arr({
      kv({{"ip", "10.0.0.1"}, {"port", "26379"}, {"flags", "sentinel"}}),
      kv({{"port", "26380"}, {"flags", "sentinel"}}),                  // no ip
      kv({{"ip", ""}, {"port", "26381"}}),                             // empty ip
      kv({{"ip", "10.0.0.2"}, {"flags", "sentinel"}}),                 // no port
      kv({{"ip", "10.0.0.3"}, {"port", "0"}}),                         // bad port
      kv({{"ip", "10.0.0.4"}, {"port", "70000"}}),                     // bad port
      kv({{"ip", "10.0.0.5"}, {"port", "x"}}),                         // bad port
      bulk("not a map"),                                               //
      reply::nil(),                                                    //
      arr({bulk("ip"), integer(1), bulk("port"), bulk("26382")}),      // ip of another type
      kv({{"ip", "10.0.0.6"}, {"port", "26383"}, {"flags", "sentinel"}}),
  });
  auto nodes = redis_ha::detail::parse_node_list(list);
  REQUIRE(nodes.size() == 2);
  CHECK(nodes[0].addr == addr("10.0.0.1", 26379));
  CHECK(nodes[1].addr == addr("10.0.0.6", 26383));

  CHECK(redis_ha::detail::parse_node_list(arr({})).empty());
  CHECK(redis_ha::detail::parse_node_list(reply::nil()).empty());
  CHECK(redis_ha::detail::parse_node_list(err("ERR No such master with that name")).empty());
  CHECK(redis_ha::detail::parse_node_list(bulk("x")).empty());
}

// --- Sentinel Pub/Sub events ----------------------------------------------------------

TEST_CASE("parse_sentinel_event: +switch-master names the new master", "[ha][sentinel][event]") {
  auto ev = event("+switch-master", "mymaster 10.0.0.1 6379 10.0.0.2 6380");
  REQUIRE(ev);
  CHECK(ev->type == sentinel_event::kind::switch_master);
  CHECK(ev->channel == "+switch-master");
  CHECK(ev->node == addr("10.0.0.2", 6380));
}

TEST_CASE("parse_sentinel_event: +promoted-slave names the promoted replica", "[ha][sentinel][event]") {
  auto ev = event("+promoted-slave", "slave 10.0.0.2:6380 10.0.0.2 6380 @ mymaster 10.0.0.1 6379");
  REQUIRE(ev);
  CHECK(ev->type == sentinel_event::kind::promoted);
  CHECK(ev->channel == "+promoted-slave");
  CHECK(ev->node == addr("10.0.0.2", 6380));
}

TEST_CASE("parse_sentinel_event: +failover-state-send-slaveof-noone announces a promotion",
          "[ha][sentinel][event]") {
  auto ev = event("+failover-state-send-slaveof-noone", "slave 10.0.0.3:6381 10.0.0.3 6381 @ mymaster 10.0.0.1 6379");
  REQUIRE(ev);
  CHECK(ev->type == sentinel_event::kind::promoting);
  CHECK(ev->node == addr("10.0.0.3", 6381));  // the replica being promoted
}

TEST_CASE("parse_sentinel_event: -failover-abort-* abandons a failover", "[ha][sentinel][event]") {
  for (const char* channel : {"-failover-abort-not-elected", "-failover-abort-no-good-slave",
                              "-failover-abort-slave-timeout", "-failover-abort-master-down"}) {
    INFO(channel);
    auto ev = event(channel, "master mymaster 10.0.0.1 6379");
    REQUIRE(ev);
    CHECK(ev->type == sentinel_event::kind::aborted);
    CHECK(ev->channel == channel);
    CHECK(ev->node == addr("10.0.0.1", 6379));
  }
  // The instance form, too.
  auto ev = event("-failover-abort-x-sdown", "slave 10.0.0.2:6380 10.0.0.2 6380 @ mymaster 10.0.0.1 6379");
  REQUIRE(ev);
  CHECK(ev->type == sentinel_event::kind::aborted);
}

TEST_CASE("parse_sentinel_event: +odown of the master", "[ha][sentinel][event]") {
  auto ev = event("+odown", "master mymaster 10.0.0.1 6379 #quorum 2/2");
  REQUIRE(ev);
  CHECK(ev->type == sentinel_event::kind::master_down);
  CHECK(ev->node == addr("10.0.0.1", 6379));

  auto bare = event("+odown", "master mymaster 10.0.0.1 6379");
  REQUIRE(bare);
  CHECK(bare->type == sentinel_event::kind::master_down);

  // An +odown about a replica of this master is not the master going down.
  auto replica = event("+odown", "slave 10.0.0.2:6380 10.0.0.2 6380 @ mymaster 10.0.0.1 6379");
  REQUIRE(replica);
  CHECK(replica->type == sentinel_event::kind::other);
}

TEST_CASE("parse_sentinel_event: replicas coming and going", "[ha][sentinel][event]") {
  for (const char* ch : {"+slave", "+slave-reconf-done", "-sdown"}) {
    auto up = event(ch, "slave 10.0.0.2:6380 10.0.0.2 6380 @ mymaster 10.0.0.1 6379");
    REQUIRE(up);
    CHECK(up->type == sentinel_event::kind::replica_up);
    CHECK(up->node == addr("10.0.0.2", 6380));
  }
  auto down = event("+sdown", "slave 10.0.0.2:6380 10.0.0.2 6380 @ mymaster 10.0.0.1 6379");
  REQUIRE(down);
  CHECK(down->type == sentinel_event::kind::replica_down);
  auto master_sdown = event("-sdown", "master mymaster 10.0.0.1 6379");
  REQUIRE(master_sdown);
  CHECK(master_sdown->type == sentinel_event::kind::other);
}

TEST_CASE("parse_sentinel_event: other events about this master are kind::other", "[ha][sentinel][event]") {
  auto sdown = event("+sdown", "sentinel 10.0.0.9:26379 10.0.0.9 26379 @ mymaster 10.0.0.1 6379");
  REQUIRE(sdown);
  CHECK(sdown->type == sentinel_event::kind::other);
  CHECK(sdown->node == addr("10.0.0.9", 26379));

  auto epoch = event("+new-epoch", "master mymaster 10.0.0.1 6379 3");
  REQUIRE(epoch);
  CHECK(epoch->type == sentinel_event::kind::other);

  // +failover-abort is not a "-failover-abort-" channel.
  auto plus = event("+failover-abort-not-elected", "master mymaster 10.0.0.1 6379");
  REQUIRE(plus);
  CHECK(plus->type == sentinel_event::kind::other);
}

TEST_CASE("parse_sentinel_event: events for another master name are ignored", "[ha][sentinel][event]") {
  CHECK_FALSE(event("+switch-master", "othermaster 10.0.0.1 6379 10.0.0.2 6380"));
  CHECK_FALSE(event("+switch-master", "mymaster2 10.0.0.1 6379 10.0.0.2 6380"));
  CHECK_FALSE(event("+switch-master", "MYMASTER 10.0.0.1 6379 10.0.0.2 6380"));
  CHECK_FALSE(event("+promoted-slave", "slave 10.0.0.2:6380 10.0.0.2 6380 @ othermaster 10.0.0.1 6379"));
  CHECK_FALSE(event("+failover-state-send-slaveof-noone", "slave 10.0.0.2:6380 10.0.0.2 6380 @ other 10.0.0.1 6379"));
  CHECK_FALSE(event("-failover-abort-not-elected", "master othermaster 10.0.0.1 6379"));
  CHECK_FALSE(event("+odown", "master othermaster 10.0.0.1 6379 #quorum 2/2"));
  // The name of the replica (its ip:port) is not the master name.
  CHECK_FALSE(redis_ha::detail::parse_sentinel_event(
      "+promoted-slave", "slave 10.0.0.2:6380 10.0.0.2 6380 @ mymaster 10.0.0.1 6379", "10.0.0.2:6380"));
}

TEST_CASE("parse_sentinel_event: malformed +switch-master gives nothing", "[ha][sentinel][event]") {
  CHECK_FALSE(event("+switch-master", ""));
  CHECK_FALSE(event("+switch-master", "mymaster"));
  CHECK_FALSE(event("+switch-master", "mymaster 10.0.0.1 6379 10.0.0.2"));             // 4 words
  CHECK_FALSE(event("+switch-master", "mymaster 10.0.0.1 6379 10.0.0.2 6380 extra"));  // 6 words
  CHECK_FALSE(event("+switch-master", "mymaster 10.0.0.1 6379 10.0.0.2 port"));
  CHECK_FALSE(event("+switch-master", "mymaster 10.0.0.1 6379 10.0.0.2 0"));
  CHECK_FALSE(event("+switch-master", "mymaster 10.0.0.1 6379 10.0.0.2 65536"));
  // Extra spaces are not words.
  auto spaced = event("+switch-master", "  mymaster  10.0.0.1 6379   10.0.0.2 6380 ");
  REQUIRE(spaced);
  CHECK(spaced->node == addr("10.0.0.2", 6380));
}

TEST_CASE("parse_sentinel_event: garbage never crashes and never announces a failover", "[ha][sentinel][event]") {
  const std::vector<std::string_view> channels{
      "+switch-master", "+promoted-slave", "+failover-state-send-slaveof-noone", "-failover-abort-not-elected",
      "+odown", "+sdown", "", "-failover-abort-", "x"};
  std::vector<std::string> payloads{
      "", " ", "          ", "@", "@ @ @ @ @ @ @ @", "master", "master mymaster", "master mymaster 10.0.0.1",
      "slave 10.0.0.2:6380 10.0.0.2 6380 @", "slave 10.0.0.2:6380 10.0.0.2 6380 @ @", "mymaster mymaster mymaster",
      "slave a b c d mymaster", "\r\n", std::string("master\0mymaster 1 2", 19), std::string(100000, ' '),
      std::string(100000, 'x'), "slave x y z # mymaster 1 2"};
  // Deterministic random words over a small alphabet, spaces and '@' included.
  std::mt19937 rng(20240601);
  const std::string alphabet = "  @@aemrst0123456789:.,#-+\r\n\x01\xff";
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1), length(0, 64);
  for (int i = 0; i < 500; ++i) {
    std::string p;
    for (std::size_t n = length(rng); n > 0; --n) p += alphabet[pick(rng)];
    payloads.push_back(std::move(p));
  }
  for (auto channel : channels) {
    for (const auto& payload : payloads) {
      auto ev = event(channel, payload);
      if (ev && ev->type != sentinel_event::kind::other) {
        // Only payloads that really name "mymaster" may get here, never these.
        FAIL_CHECK("channel '" << channel << "' payload '" << payload << "' gave an event");
      }
    }
  }
}

// client_impl ignores events without a usable node; a malformed port must
// never turn into some default address the client would then connect to.
TEST_CASE("parse_sentinel_event: an instance event with a bad port is dropped", "[ha][sentinel][event]") {
  CHECK_FALSE(event("+promoted-slave", "slave 10.0.0.2:x 10.0.0.2 notaport @ mymaster 10.0.0.1 6379"));
  CHECK_FALSE(event("+switch-master", "mymaster 10.0.0.1 6379 10.0.0.2 notaport"));
}

// --- the retry rule ----------------------------------------------------------------------

TEST_CASE("decide: success completes as is", "[ha][retry]") {
  auto d = redis_ha::detail::decide(make("SET", "k", "v"), ok, {simple("OK")});
  CHECK(d.what == retry_decision::action::complete);
  CHECK_FALSE(d.ec);
  CHECK_FALSE(d.failover_signal);

  // Ordinary Redis error replies are replies, not failover signals.
  request pipeline;
  pipeline.push("GET", "k").push("INCR", "k").push("EVAL", "return 1", 0);
  for (const char* text : {"ERR value is not an integer or out of range",
                           "WRONGTYPE Operation against a key holding the wrong kind of value",
                           "NOSCRIPT No matching script", "ERR READONLY is mentioned but not the prefix",
                           "READONLYX not the same prefix", "NOREPLICAS Not enough good replicas to write.",
                           "LOADING Redis is loading the dataset in memory"}) {
    INFO(text);
    auto e = redis_ha::detail::decide(pipeline, ok, {bulk("1"), err(text), integer(1)});
    CHECK(e.what == retry_decision::action::complete);
    CHECK_FALSE(e.ec);
    CHECK_FALSE(e.failover_signal);
  }

  // A nested error (e.g. inside an array) is not looked at.
  auto nested = redis_ha::detail::decide(make("EXEC"), ok, {arr({err("READONLY You can't write")})});
  CHECK(nested.what == retry_decision::action::complete);
}

TEST_CASE("decide: READONLY or MASTERDOWN anywhere in the response means resend and fail over", "[ha][retry]") {
  const reply readonly = err("READONLY You can't write against a read only replica.");
  const reply masterdown =
      err("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
  request pipeline;
  pipeline.push("GET", "a").push("SET", "b", "1").push("INCR", "c");
  REQUIRE(pipeline.size() == 3);

  for (const reply& refusal : {readonly, masterdown}) {
    INFO(refusal.to_string());
    const std::vector<response> responses{
        {refusal, simple("OK"), integer(1)},
        {bulk("x"), refusal, integer(1)},
        {bulk("x"), simple("OK"), refusal},
        {bulk("x"), refusal, refusal},
    };
    for (const auto& resp : responses) {
      auto d = redis_ha::detail::decide(pipeline, ok, resp);
      CHECK(d.what == retry_decision::action::resend);
      CHECK(d.failover_signal);
      CHECK_FALSE(d.ec);
    }
    // A non-idempotent single command too: READONLY means it did not run.
    auto single = redis_ha::detail::decide(make("INCR", "k"), ok, {refusal});
    CHECK(single.what == retry_decision::action::resend);
    CHECK(single.failover_signal);
  }

  // Even when the caller forbade resends after a connection loss: a refused
  // write was not executed.
  request no_resend = make("SET", "lock", "me", "NX");
  no_resend.options().idempotent = false;
  auto d = redis_ha::detail::decide(no_resend, ok, {readonly});
  CHECK(d.what == retry_decision::action::resend);
}

TEST_CASE("decide: a request that never reached the server is resent", "[ha][retry]") {
  for (error e : {error::connection_closed, error::not_connected}) {
    INFO(make_error_code(e).message());
    for (const request& req : {make("SET", "k", "v"), make("INCR", "k"), make("EVAL", "return 1", 0)}) {
      auto d = redis_ha::detail::decide(req, e, {});
      CHECK(d.what == retry_decision::action::resend);
      CHECK_FALSE(d.ec);
      CHECK(d.failover_signal);
    }
    request forbidden = make("INCR", "k");
    forbidden.options().idempotent = false;
    CHECK(redis_ha::detail::decide(forbidden, e, {}).what == retry_decision::action::resend);
  }
}

TEST_CASE("decide: connection_lost resends only idempotent requests", "[ha][retry]") {
  const std::error_code lost = error::connection_lost;

  SECTION("idempotent by traits: SET") {
    auto d = redis_ha::detail::decide(make("SET", "k", "v"), lost, {});
    CHECK(d.what == retry_decision::action::resend);
    CHECK_FALSE(d.ec);
    CHECK(d.failover_signal);
  }
  SECTION("a pipeline of idempotent commands") {
    request r;
    r.push("SET", "k", "v").push("GET", "k").push("DEL", "j").push("EXPIRE", "k", 60).push("HSET", "h", "f", "v");
    auto d = redis_ha::detail::decide(r, lost, {});
    CHECK(d.what == retry_decision::action::resend);
  }
  SECTION("not idempotent: INCR gives outcome_unknown") {
    auto d = redis_ha::detail::decide(make("INCR", "k"), lost, {});
    CHECK(d.what == retry_decision::action::complete);
    CHECK(d.ec == error::outcome_unknown);
    CHECK(d.failover_signal);
  }
  SECTION("one non-idempotent command taints the pipeline") {
    request r;
    r.push("SET", "k", "v").push("LPUSH", "l", "x").push("GET", "k");
    auto d = redis_ha::detail::decide(r, lost, {});
    CHECK(d.what == retry_decision::action::complete);
    CHECK(d.ec == error::outcome_unknown);
  }
  SECTION("EVAL and unknown commands are not resent") {
    CHECK(redis_ha::detail::decide(make("EVAL", "return 1", 0), lost, {}).ec == error::outcome_unknown);
    CHECK(redis_ha::detail::decide(make("MODULE.CMD", "x"), lost, {}).ec == error::outcome_unknown);
  }
  SECTION("options().idempotent = true overrides the traits") {
    request r = make("INCR", "k");
    r.options().idempotent = true;
    auto d = redis_ha::detail::decide(r, lost, {});
    CHECK(d.what == retry_decision::action::resend);
    CHECK(d.failover_signal);
  }
  SECTION("options().idempotent = false overrides the traits") {
    request r = make("SET", "lock", "owner", "NX");  // the table sees a plain SET
    REQUIRE(r.idempotent());
    r.options().idempotent = false;
    auto d = redis_ha::detail::decide(r, lost, {});
    CHECK(d.what == retry_decision::action::complete);
    CHECK(d.ec == error::outcome_unknown);
    CHECK(d.failover_signal);
  }
  SECTION("an empty request is never idempotent by traits") {
    CHECK(redis_ha::detail::decide(request{}, lost, {}).ec == error::outcome_unknown);
  }
}

TEST_CASE("decide: timeouts, cancellation and other errors complete with their code", "[ha][retry]") {
  const std::vector<std::error_code> codes{
      error::request_timeout,
      asio::error::operation_aborted,
      error::queue_full,
      error::empty_request,
      error::protocol_error,
      std::make_error_code(std::errc::connection_reset),
  };
  for (const auto& ec : codes) {
    INFO(ec.message());
    for (const request& req : {make("SET", "k", "v"), make("INCR", "k"), make("GET", "k")}) {
      auto d = redis_ha::detail::decide(req, ec, {});
      CHECK(d.what == retry_decision::action::complete);
      CHECK(d.ec == ec);
      CHECK_FALSE(d.failover_signal);
    }
  }
  // A timed-out idempotent request is not resent either.
  request r = make("GET", "k");
  r.options().idempotent = true;
  CHECK(redis_ha::detail::decide(r, error::request_timeout, {}).ec == error::request_timeout);
}

// --- what a request knows about its commands --------------------------------------------------

TEST_CASE("request: has_write routes to the master", "[ha][request]") {
  CHECK(make("SET", "k", "v").has_write());
  CHECK(make("set", "k", "v").has_write());
  CHECK(make("INCR", "k").has_write());
  CHECK(make("EVAL", "return 1", 0).has_write());
  CHECK_FALSE(make("GET", "k").has_write());
  CHECK_FALSE(make("PING").has_write());
  CHECK_FALSE(make("CLIENT", "SETNAME", "x").has_write());
  CHECK_FALSE(make("EVAL_RO", "return 1", 0).has_write());

  request mixed;
  mixed.push("GET", "a").push("MGET", "a", "b");
  CHECK_FALSE(mixed.has_write());
  mixed.push("DEL", "a");
  CHECK(mixed.has_write());
  mixed.clear();
  CHECK_FALSE(mixed.has_write());
  CHECK(mixed.flags() == redis_ha::command_flags::none);
}

TEST_CASE("request: idempotent by traits or by options", "[ha][request]") {
  CHECK(make("SET", "k", "v").idempotent());
  CHECK(make("GET", "k").idempotent());
  CHECK_FALSE(make("INCR", "k").idempotent());
  CHECK_FALSE(make("LPUSH", "l", "x").idempotent());
  CHECK_FALSE(make("EVAL", "return 1", 0).idempotent());

  request r;
  CHECK_FALSE(r.idempotent());  // empty
  r.push("SET", "k", "v").push("GET", "k");
  CHECK(r.idempotent());
  r.push("INCR", "n");
  CHECK_FALSE(r.idempotent());
  r.options().idempotent = true;
  CHECK(r.idempotent());
  r.options().idempotent = false;
  CHECK_FALSE(r.idempotent());
  r.options().idempotent.reset();
  CHECK_FALSE(r.idempotent());
  r.clear();  // keeps the options, forgets the commands
  r.push("GET", "k");
  CHECK(r.idempotent());
}

TEST_CASE("request: expected_replies counts one confirmation per channel", "[ha][request]") {
  request sub = make("SUBSCRIBE", "a", "b", "c");
  CHECK(sub.size() == 1);
  CHECK(sub.expected_replies() == 3);

  CHECK(make("PSUBSCRIBE", "p").expected_replies() == 1);
  CHECK(make("PSUBSCRIBE", "p*", "q*").expected_replies() == 2);
  CHECK(make("SSUBSCRIBE", "s1", "s2").expected_replies() == 2);
  CHECK(make("UNSUBSCRIBE", "a", "b").expected_replies() == 2);
  CHECK(make("subscribe", "a", "b").expected_replies() == 2);
  CHECK(make("GET", "k").expected_replies() == 1);
  CHECK(make("MSET", "a", "1", "b", "2").expected_replies() == 1);
  CHECK(make("PUBLISH", "ch", "msg").expected_replies() == 1);  // not a subscribe command

  request mixed;
  mixed.push("SET", "k", "v").push("SUBSCRIBE", "a", "b").push("PSUBSCRIBE", "p").push("PING");
  CHECK(mixed.size() == 4);
  CHECK(mixed.expected_replies() == 1 + 2 + 1 + 1);

  request ranged;
  ranged.push_range("SUBSCRIBE", "a", std::vector<std::string>{"b", "c"});
  CHECK(ranged.expected_replies() == 3);
  request argv;
  argv.push_argv(std::vector<std::string>{"PSUBSCRIBE", "x*", "y*", "z*"});
  CHECK(argv.expected_replies() == 3);

  mixed.clear();
  CHECK(mixed.expected_replies() == 0);
  CHECK(mixed.empty());
}

TEST_CASE("request: unknown commands are writes that are never resent", "[ha][request]") {
  using redis_ha::command_flags;
  request r = make("MYMODULE.DOSOMETHING", "k");
  CHECK(r.flags() == command_flags::write);
  CHECK(r.has_write());
  CHECK_FALSE(r.idempotent());
  CHECK(r.expected_replies() == 1);

  // An unknown subcommand of a known container, too.
  request c = make("CONFIG", "NOSUCHTHING", "x");
  CHECK(c.flags() == command_flags::write);
  CHECK_FALSE(c.idempotent());

  // Unknown plus known: the union of the flags.
  request both;
  both.push("GET", "k").push("FOO");
  CHECK(both.has_write());
  CHECK_FALSE(both.idempotent());
  CHECK(redis_ha::has(both.flags(), command_flags::readonly | command_flags::write));

  // The caller may still declare it idempotent.
  r.options().idempotent = true;
  CHECK(r.idempotent());
}

// --- backoff ---------------------------------------------------------------------------------

TEST_CASE("backoff: each delay lies in [d/2, d], d doubling up to max", "[ha][backoff]") {
  const std::vector<long long> expected_d{10, 20, 40, 80, 80, 80};
  std::set<long long> seen_at_max;
  for (int trial = 0; trial < 200; ++trial) {
    redis_ha::detail::backoff b(10ms, 80ms);
    for (std::size_t i = 0; i < expected_d.size(); ++i) {
      const auto d = expected_d[i];
      const auto delay = b.next().count();
      INFO("trial " << trial << " attempt " << i << " delay " << delay);
      CHECK(delay >= d / 2);
      CHECK(delay <= d);
      if (i == expected_d.size() - 1) seen_at_max.insert(delay);
    }
  }
  // Jitter: 200 draws from [40, 80] are not all the same.
  CHECK(seen_at_max.size() > 1);
}

TEST_CASE("backoff: reset goes back to the shortest delay", "[ha][backoff]") {
  redis_ha::detail::backoff b(100ms, 1000ms);
  for (int i = 0; i < 10; ++i) (void)b.next();
  auto late = b.next().count();
  CHECK(late >= 500);
  CHECK(late <= 1000);
  b.reset();
  auto first = b.next().count();
  CHECK(first >= 50);
  CHECK(first <= 100);
  auto second = b.next().count();
  CHECK(second >= 100);
  CHECK(second <= 200);
}

TEST_CASE("backoff: degenerate bounds", "[ha][backoff]") {
  // A zero minimum is raised to 1 ms; the maximum is never below the minimum.
  redis_ha::detail::backoff zero(0ms, 0ms);
  for (int i = 0; i < 20; ++i) {
    auto d = zero.next().count();
    CHECK(d >= 0);
    CHECK(d <= 1);
  }
  redis_ha::detail::backoff inverted(100ms, 10ms);
  for (int i = 0; i < 20; ++i) {
    auto d = inverted.next().count();
    CHECK(d >= 50);
    CHECK(d <= 100);
  }
  // The client's defaults: 5 ms doubling up to 250 ms.
  redis_ha::detail::backoff defaults(5ms, 250ms);
  const std::vector<long long> expected_d{5, 10, 20, 40, 80, 160, 250, 250};
  for (auto d : expected_d) {
    auto delay = defaults.next().count();
    CHECK(delay >= d / 2);
    CHECK(delay <= d);
  }
}
