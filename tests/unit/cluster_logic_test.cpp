// Sans-I/O parts of the cluster client: slots, keys, routing, the slot map,
// redirections, the refresh gate, fan-out merges and replica reads. No network.
#include <redis_ha/detail/cluster_fan_out.hpp>
#include <redis_ha/detail/cluster_fsm.hpp>
#include <redis_ha/detail/cluster_keys.hpp>
#include <redis_ha/detail/cluster_map.hpp>
#include <redis_ha/detail/cluster_map_reader.hpp>
#include <redis_ha/detail/cluster_slot.hpp>
#include <redis_ha/detail/replica_pool.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/request.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace redis_ha;
using namespace redis_ha::detail;
using namespace std::chrono_literals;

TEST_CASE("crc16 is CRC-16/XMODEM as the cluster spec defines it", "[cluster]") {
  STATIC_REQUIRE(crc16("123456789") == 0x31C3);  // the spec's check value
  STATIC_REQUIRE(crc16("") == 0);
  // Values from CLUSTER KEYSLOT of Redis 7.0.
  CHECK(key_slot("foo") == 12182);
  CHECK(key_slot("bar") == 5061);
  CHECK(key_slot("hello") == 866);
  CHECK(key_slot("user:1000") == 1649);
  CHECK(key_slot(std::string("\x00\xff", 2)) == (crc16(std::string("\x00\xff", 2)) & 16383));
  for (int i = 0; i < 1000; ++i) {
    const int s = key_slot("key:" + std::to_string(i));
    CHECK(s >= 0);
    CHECK(s < cluster_slots);
  }
}

TEST_CASE("hash tags follow the spec's rules", "[cluster]") {
  CHECK(hash_tag("{user1000}.following") == "user1000");
  CHECK(hash_tag("{user1000}.followers") == "user1000");
  CHECK(hash_tag("foo{}{bar}") == "foo{}{bar}");  // first { } is empty: whole key
  CHECK(hash_tag("foo{{bar}}zap") == "{bar");     // between the first { and the first } after it
  CHECK(hash_tag("foo{bar}{zap}") == "bar");      // only the first tag
  CHECK(hash_tag("{}") == "{}");
  CHECK(hash_tag("{") == "{");
  CHECK(hash_tag("}{") == "}{");
  CHECK(hash_tag("}{x}") == "x");
  CHECK(hash_tag("plain") == "plain");
  CHECK(key_slot("{user1000}.following") == key_slot("{user1000}.followers"));
  CHECK(key_slot("{user1000}.a") == key_slot("user1000"));
}

namespace {
std::vector<std::string> keys_of(std::initializer_list<std::string_view> args) {
  argv_view argv(args);
  std::vector<std::string_view> keys;
  command_keys(argv, keys);
  return {keys.begin(), keys.end()};
}
using strings = std::vector<std::string>;
}  // namespace

TEST_CASE("keys per command: COMMAND's first/last/step", "[cluster]") {
  CHECK(keys_of({"GET", "a"}) == strings{"a"});
  CHECK(keys_of({"set", "a", "1", "EX", "10"}) == strings{"a"});
  CHECK(keys_of({"MGET", "a", "b", "c"}) == strings{"a", "b", "c"});
  CHECK(keys_of({"MSET", "a", "1", "b", "2"}) == strings{"a", "b"});
  CHECK(keys_of({"DEL", "a", "b"}) == strings{"a", "b"});
  CHECK(keys_of({"BLPOP", "a", "b", "0"}) == strings{"a", "b"});  // last key -2
  CHECK(keys_of({"BITOP", "AND", "dst", "s1", "s2"}) == strings{"dst", "s1", "s2"});
  CHECK(keys_of({"RENAME", "a", "b"}) == strings{"a", "b"});
  CHECK(keys_of({"OBJECT", "ENCODING", "k"}) == strings{"k"});  // a subcommand with a key
  CHECK(keys_of({"XINFO", "STREAM", "s"}) == strings{"s"});
  CHECK(keys_of({"SPUBLISH", "ch", "msg"}) == strings{"ch"});
  CHECK(keys_of({"PING"}).empty());
  CHECK(keys_of({"CONFIG", "GET", "maxmemory"}).empty());
  CHECK(keys_of({"GET"}).empty());  // missing argument: the server answers
}

TEST_CASE("keys per command: movable keys found by parsing", "[cluster]") {
  CHECK(keys_of({"EVAL", "return 1", "2", "a", "b", "x"}) == strings{"a", "b"});
  CHECK(keys_of({"EVALSHA", "abc", "0", "x"}).empty());
  CHECK(keys_of({"FCALL", "f", "1", "k", "arg"}) == strings{"k"});
  CHECK(keys_of({"EVAL", "s", "notanumber", "a"}).empty());
  CHECK(keys_of({"EVAL", "s", "99", "a"}) == strings{"a"});  // numkeys beyond argv: what is there
  CHECK(keys_of({"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"}) == strings{"d", "a", "b"});
  CHECK(keys_of({"ZINTER", "2", "a", "b"}) == strings{"a", "b"});
  CHECK(keys_of({"LMPOP", "2", "a", "b", "LEFT"}) == strings{"a", "b"});
  CHECK(keys_of({"BLMPOP", "0", "1", "a", "LEFT"}) == strings{"a"});
  CHECK(keys_of({"XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"}) == strings{"s1", "s2"});
  CHECK(keys_of({"XREADGROUP", "GROUP", "g", "c", "streams", "s1", ">"}) == strings{"s1"});
  CHECK(keys_of({"SORT", "l", "LIMIT", "0", "1", "STORE", "dst"}) == strings{"l", "dst"});
  CHECK(keys_of({"SORT_RO", "l"}) == strings{"l"});
  CHECK(keys_of({"GEORADIUS", "g", "0", "0", "1", "km", "STOREDIST", "d"}) == strings{"g", "d"});
  CHECK(keys_of({"MIGRATE", "h", "1", "", "0", "5", "KEYS", "a", "b"}) == strings{"a", "b"});
  CHECK(keys_of({"MIGRATE", "h", "1", "k", "0", "5"}) == strings{"k"});
}

TEST_CASE("unknown commands: the first argument is the key", "[cluster]") {
  CHECK(keys_of({"JSON.SET", "doc", "$", "{}"}) == strings{"doc"});
  CHECK(keys_of({"MYMODULE.STATS"}).empty());
}

TEST_CASE("the key table is sorted, and every entry has sane positions", "[cluster]") {
  const std::size_t n = sizeof(key_table) / sizeof(key_table[0]);
  for (std::size_t i = 0; i < n; ++i) {
    INFO(key_table[i].name);
    if (i > 0) CHECK(compare_command_key(key_table[i - 1].name, key_table[i].name, {}) < 0);
    CHECK((key_table[i].movable || key_table[i].first > 0));
    CHECK(key_table[i].step >= 0);
    // Every command with keys is one the traits table knows.
    const auto bar = key_table[i].name.find('|');
    const auto name = key_table[i].name.substr(0, bar);
    CHECK(find_command(name, {}) != nullptr);
  }
}

namespace {
cluster_route route(std::initializer_list<std::initializer_list<std::string_view>> cmds) {
  request r;
  for (auto c : cmds) r.push_argv(std::vector<std::string_view>(c));
  return route_commands(r.payload());
}
}  // namespace

TEST_CASE("routing: one slot per request, refused locally when keys span slots", "[cluster]") {
  auto r = route({{"SET", "{u1}.a", "1"}, {"SET", "{u1}.b", "2"}, {"GET", "{u1}.c"}});
  CHECK(r.where == cluster_route::kind::slot);
  CHECK(r.slot == key_slot("u1"));
  CHECK(r.idempotent == std::vector<bool>{true, true, true});

  r = route({{"MGET", "foo", "bar"}});
  CHECK(r.where == cluster_route::kind::refused);
  CHECK(r.ec == error::cross_slot);
  CHECK(r.detail.find("foo") != std::string::npos);
  CHECK(r.detail.find("12182") != std::string::npos);

  r = route({{"SET", "foo", "1"}, {"SET", "bar", "1"}});  // two commands, two slots
  CHECK(r.ec == error::cross_slot);

  r = route({{"MULTI"}, {"INCR", "{x}1"}, {"INCR", "{x}2"}, {"EXEC"}});
  CHECK(r.where == cluster_route::kind::slot);
  CHECK(r.idempotent == std::vector<bool>{true, false, false, true});  // MULTI and EXEC alone are harmless
  CHECK(r.keyed == std::vector<bool>{false, true, true, false});

  r = route({{"SET", "k", "v"}, {"WAIT", "1", "100"}});  // keyless commands ride along
  CHECK(r.where == cluster_route::kind::slot);
}

TEST_CASE("routing of keyless commands", "[cluster]") {
  CHECK(route({{"PING"}}).where == cluster_route::kind::any);
  CHECK(route({{"EVAL", "return 1", "0"}}).where == cluster_route::kind::any);
  CHECK(route({{"CLUSTER", "INFO"}}).where == cluster_route::kind::any);
  CHECK(route({{"FLUSHALL"}}).where == cluster_route::kind::all_masters);
  CHECK(route({{"script", "load", "return 1"}}).where == cluster_route::kind::all_masters);
  CHECK(route({{"KEYS", "*"}}).where == cluster_route::kind::all_masters);
  CHECK(route({{"DBSIZE"}}).where == cluster_route::kind::all_masters);
  CHECK(route({{"SCRIPT", "EXISTS", "abc"}}).where == cluster_route::kind::any);
  for (auto c : {"SCAN", "SELECT", "SWAPDB", "READONLY", "READWRITE", "ASKING", "MONITOR"}) {
    INFO(c);
    auto r = route({{c, "0"}});
    CHECK(r.where == cluster_route::kind::refused);
    CHECK(r.ec == error::unroutable_command);
  }
  auto r = route({{"FLUSHALL"}, {"SET", "k", "v"}});
  CHECK(r.ec == error::unroutable_command);
  CHECK(route({{"MYMODULE.STATS"}}).where == cluster_route::kind::any);
}

TEST_CASE("parse_commands reads back what request encodes", "[cluster]") {
  request r;
  r.push("SET", "k", std::string("a\r\nb", 4)).push("INCRBY", "n", 42).push("PING");
  std::vector<argv_view> cmds;
  REQUIRE(parse_commands(r.payload(), cmds));
  REQUIRE(cmds.size() == 3);
  CHECK(cmds[0] == argv_view{"SET", "k", std::string_view("a\r\nb", 4)});
  CHECK(cmds[1] == argv_view{"INCRBY", "n", "42"});
  CHECK(cmds[2] == argv_view{"PING"});
  cmds.clear();
  CHECK_FALSE(parse_commands("*1\r\n$5\r\nab", cmds));
  CHECK_FALSE(parse_commands("+OK\r\n", cmds));
}

namespace {
reply str(std::string s) { return reply::bulk_string(std::move(s)); }
reply num(long long n) { return reply::integer(n); }
reply arr(std::vector<reply> v) { return reply::array(std::move(v)); }
reply node(std::string id, int port, std::string role, std::string health, std::string endpoint = "127.0.0.1") {
  return arr({str("id"), str(id), str("port"), num(port), str("ip"), str("127.0.0.1"), str("endpoint"), str(endpoint),
              str("role"), str(role), str("replication-offset"), num(100), str("health"), str(health)});
}
reply shard(std::vector<reply> slots, std::vector<reply> nodes) {
  return arr({str("slots"), arr(std::move(slots)), str("nodes"), arr(std::move(nodes))});
}
reply three_shards() {
  return arr({shard({num(0), num(5460)}, {node("a", 7000, "master", "online"), node("d", 7003, "replica", "online")}),
              shard({num(5461), num(10922)}, {node("b", 7001, "master", "online"), node("e", 7004, "replica", "loading")}),
              shard({num(10923), num(16383)}, {node("f", 7005, "replica", "failed"), node("c", 7002, "master", "online")})});
}
const address from{"127.0.0.1", 7000};
}  // namespace

TEST_CASE("CLUSTER SHARDS gives a slot -> shard table with masters, replicas and health", "[cluster]") {
  cluster_map m;
  std::string detail;
  REQUIRE_FALSE(parse_cluster_shards(three_shards(), from, m, detail));
  CHECK(m.shards().size() == 3);
  CHECK(m.covered() == cluster_slots);
  CHECK(m.master_for(0) == address{"127.0.0.1", 7000});
  CHECK(m.master_for(5461) == address{"127.0.0.1", 7001});
  CHECK(m.master_for(16383) == address{"127.0.0.1", 7002});
  const auto* s = m.shard_for(12000);
  REQUIRE(s);
  REQUIRE(s->replicas.size() == 1);
  CHECK(s->replicas[0].addr.port == 7005);
  CHECK_FALSE(s->replicas[0].online());
  CHECK(m.shard_for(6000)->replicas[0].health == cluster_node::health_state::loading);
  CHECK(s->holds(address{"127.0.0.1", 7005}));
  CHECK(s->addresses().size() == 2);
}

TEST_CASE("CLUSTER SHARDS: unknown endpoint, empty shards, several ranges", "[cluster]") {
  cluster_map m;
  std::string detail;
  auto r = arr({shard({num(0), num(99), num(200), num(16383)}, {node("a", 7000, "master", "online", "?")}),
                shard({num(100), num(199)}, {node("b", 7001, "master", "online", "")}),
                shard({}, {node("n", 7009, "master", "online")})});  // a new master without slots
  REQUIRE_FALSE(parse_cluster_shards(r, address{"10.9.9.9", 1}, m, detail));
  CHECK(m.master_for(150) == address{"127.0.0.1", 7001});  // empty endpoint: the ip
  CHECK(m.shards().size() == 3);
  CHECK(m.covered() == cluster_slots);
  auto only_ip_unknown = arr({shard({num(0), num(16383)},
                                    {arr({str("id"), str("a"), str("port"), num(7000), str("endpoint"), str("?"),
                                          str("role"), str("master")})})});
  REQUIRE_FALSE(parse_cluster_shards(only_ip_unknown, address{"10.9.9.9", 1}, m, detail));
  CHECK(m.master_for(1).host == "10.9.9.9");  // the node asked stands for an unknown endpoint
}

TEST_CASE("CLUSTER SHARDS: a TLS client takes tls-port, a plaintext one port", "[cluster][tls]") {
  const auto both = [](std::string id, int port, int tls_port, std::string role) {
    return arr({str("id"), str(id), str("port"), num(port), str("tls-port"), num(tls_port), str("ip"),
                str("127.0.0.1"), str("endpoint"), str("127.0.0.1"), str("role"), str(role), str("health"),
                str("online")});
  };
  const auto tls_only = arr({shard({num(0), num(16383)},
                                   {arr({str("id"), str("a"), str("tls-port"), num(8000), str("endpoint"),
                                         str("127.0.0.1"), str("role"), str("master")})})});
  const auto dual = arr({shard({num(0), num(16383)}, {both("a", 7000, 8000, "master"), both("b", 7001, 8001, "replica")})});
  cluster_map m;
  std::string detail;
  REQUIRE_FALSE(parse_cluster_shards(dual, from, m, detail, false));
  CHECK(m.master_for(0) == address{"127.0.0.1", 7000});
  REQUIRE_FALSE(parse_cluster_shards(dual, from, m, detail, true));
  CHECK(m.master_for(0) == address{"127.0.0.1", 8000});
  CHECK(m.shard_for(0)->replicas.at(0).addr.port == 8001);
  REQUIRE_FALSE(parse_cluster_shards(tls_only, from, m, detail, true));
  CHECK(m.master_for(0) == address{"127.0.0.1", 8000});
  // The other kind of port only: refused, saying what to set.
  CHECK(parse_cluster_shards(tls_only, from, m, detail, false) == error::cluster_map_invalid);
  CHECK_THAT(detail, Catch::Matchers::Contains("only a tls-port: set connection.tls"));
  CHECK(parse_cluster_shards(three_shards(), from, m, detail, true) == error::cluster_map_invalid);
  CHECK_THAT(detail, Catch::Matchers::Contains("no valid tls-port"));
}

TEST_CASE("hostile or malformed slot maps are refused with a reason", "[cluster]") {
  cluster_map m;
  std::string detail;
  auto refused = [&](const reply& r) {
    detail.clear();
    auto ec = parse_cluster_shards(r, from, m, detail);
    INFO(detail);
    return ec == error::cluster_map_invalid && !detail.empty();
  };
  CHECK(refused(reply::error("ERR unknown subcommand 'shards'")));
  CHECK(refused(str("x")));
  CHECK(refused(arr({str("slots")})));
  CHECK(refused(arr({shard({num(0), num(16384)}, {node("a", 7000, "master", "online")})})));
  CHECK(refused(arr({shard({num(10), num(5)}, {node("a", 7000, "master", "online")})})));
  CHECK(refused(arr({shard({num(-1), num(5)}, {node("a", 7000, "master", "online")})})));
  CHECK(refused(arr({shard({num(0)}, {node("a", 7000, "master", "online")})})));
  CHECK(refused(arr({shard({str("0"), str("5")}, {node("a", 7000, "master", "online")})})));
  CHECK(refused(arr({shard({num(0), num(5)}, {node("a", 0, "master", "online")})})));
  CHECK(refused(arr({shard({num(0), num(5)}, {node("a", 70000, "master", "online")})})));
  CHECK(refused(arr({shard({num(0), num(5)}, {node("a", 7000, "replica", "online")})})));  // slots, no master
  CHECK(refused(arr({shard({num(0), num(10)}, {node("a", 7000, "master", "online")}),
                     shard({num(5), num(20)}, {node("b", 7001, "master", "online")})})));  // overlap
  CHECK(refused(arr({shard({num(0), num(5)}, {node(std::string(10000, 'x'), 7000, "master", "online")})})));
  std::vector<reply> many(2000, shard({}, {node("a", 7000, "master", "online")}));
  CHECK(refused(arr(many)));
  std::vector<reply> nodes(100, node("a", 7000, "replica", "online"));
  CHECK(refused(arr({shard({}, nodes)})));
  // The map is left as it was by a refusal.
  REQUIRE_FALSE(parse_cluster_shards(three_shards(), from, m, detail));
  CHECK(refused(str("x")));
  CHECK(m.covered() == cluster_slots);
}

TEST_CASE("CLUSTER SLOTS is the fallback", "[cluster]") {
  auto n = [](int port, std::string id) { return arr({str("127.0.0.1"), num(port), str(id), arr({})}); };
  auto r = arr({arr({num(0), num(5460), n(7000, "a"), n(7003, "d")}),
                arr({num(5461), num(10922), n(7001, "b"), n(7004, "e")}),
                arr({num(10923), num(16383), n(7002, "c")}),
                arr({num(16000), num(16000), n(7002, "c")})});  // a second range, same master: overlap
  cluster_map m;
  std::string detail;
  CHECK(parse_cluster_slots(r, from, m, detail) == error::cluster_map_invalid);
  r = arr({arr({num(0), num(5460), n(7000, "a"), n(7003, "d")}), arr({num(5461), num(10922), n(7001, "b"), n(7004, "e")}),
           arr({num(10923), num(16000), n(7002, "c")}), arr({num(16001), num(16383), n(7002, "c")})});
  REQUIRE_FALSE(parse_cluster_slots(r, from, m, detail));
  CHECK(m.shards().size() == 3);
  CHECK(m.covered() == cluster_slots);
  CHECK(m.master_for(16383).port == 7002);
  CHECK(m.shard_for(0)->replicas.at(0).addr.port == 7003);
  CHECK(parse_cluster_slots(arr({arr({num(0), num(5)})}), from, m, detail) == error::cluster_map_invalid);
  CHECK(parse_cluster_slots(arr({arr({num(0), num(5), arr({str("h")})})}), from, m, detail) == error::cluster_map_invalid);
  CHECK(parse_cluster_slots(reply::error("ERR x"), from, m, detail) == error::cluster_map_invalid);
}

TEST_CASE("MOVED and ASK replies", "[cluster]") {
  auto rd = parse_redirect(reply::error("MOVED 3999 127.0.0.1:6381"), from);
  CHECK(rd.what == cluster_redirect::kind::moved);
  CHECK(rd.slot == 3999);
  CHECK(rd.addr == address{"127.0.0.1", 6381});
  rd = parse_redirect(reply::error("ASK 1 ::1:7000"), from);
  CHECK(rd.what == cluster_redirect::kind::ask);
  CHECK(rd.addr == address{"::1", 7000});
  rd = parse_redirect(reply::error("MOVED 2 :7001"), from);  // unknown endpoint: the host asked
  CHECK(rd.addr == address{"127.0.0.1", 7001});
  for (auto bad : {"MOVED", "MOVED x 1.2.3.4:5", "MOVED 16384 h:1", "MOVED 1 h:0", "MOVED 1 h", "ERR MOVED 1 h:1",
                   "ASK -1 h:1"}) {
    INFO(bad);
    CHECK(parse_redirect(reply::error(bad), from).what == cluster_redirect::kind::none);
  }
  CHECK(parse_redirect(str("MOVED 1 h:1"), from).what == cluster_redirect::kind::none);
}

TEST_CASE("the map follows MOVED: a slot moves, a replica is promoted, a new node appears", "[cluster]") {
  cluster_map m;
  std::string detail;
  REQUIRE_FALSE(parse_cluster_shards(three_shards(), from, m, detail));
  m.moved(100, address{"127.0.0.1", 7001});  // migrated to another shard
  CHECK(m.master_for(100).port == 7001);
  CHECK(m.master_for(101).port == 7000);
  m.moved(101, address{"127.0.0.1", 7003});  // a replica of shard 0: it was promoted
  CHECK(m.master_for(101).port == 7003);
  CHECK(m.master_for(0).port == 7003);
  CHECK(m.shard_for(0)->holds(address{"127.0.0.1", 7000}));
  m.moved(200, address{"127.0.0.1", 7100});  // unknown node
  CHECK(m.master_for(200).port == 7100);
  CHECK(m.shards().size() == 4);
  m.moved(20000, address{"127.0.0.1", 7100});  // ignored
  m.moved(5, address{"", 0});
  CHECK(m.master_for(5).port == 7003);
}

namespace {
response replies(std::vector<reply> v) { return v; }
}  // namespace

TEST_CASE("judge: redirections are followed, bounded", "[cluster]") {
  cluster_policy pol;
  auto r = route({{"INCR", "k"}});
  auto v = judge(r, replies({reply::error("MOVED 12 127.0.0.1:7001")}), false, from, 0, 0, 0ms, pol);
  CHECK(v.what == cluster_verdict::action::redirect);  // not run: safe even though INCR is not idempotent
  CHECK(v.refresh);
  CHECK(v.slot == 12);
  CHECK(v.target.port == 7001);
  v = judge(r, replies({reply::error("ASK 12 127.0.0.1:7002")}), false, from, 0, 0, 0ms, pol);
  CHECK(v.what == cluster_verdict::action::ask);
  CHECK_FALSE(v.refresh);
  v = judge(r, replies({reply::error("MOVED 12 127.0.0.1:7001")}), false, from, pol.max_redirects, 0, 0ms, pol);
  CHECK(v.what == cluster_verdict::action::complete);
  CHECK(v.ec == error::too_many_redirects);
  v = judge(r, replies({num(1)}), false, from, 0, 0, 0ms, pol);
  CHECK(v.what == cluster_verdict::action::complete);
  CHECK_FALSE(v.ec);
  v = judge(r, replies({reply::error("ERR wrong type")}), false, from, 0, 0, 0ms, pol);
  CHECK(v.what == cluster_verdict::action::complete);
  v = judge(r, replies({reply::error("MOVED garbage")}), false, from, 0, 0, 0ms, pol);
  CHECK(v.what == cluster_verdict::action::complete);  // unreadable: the caller sees the reply
}

TEST_CASE("judge: a partly run request is resent only when what ran is idempotent", "[cluster]") {
  cluster_policy pol;
  auto ping_incr = route({{"PING"}, {"INCR", "k"}});
  auto v = judge(ping_incr, replies({reply::simple_string("PONG"), reply::error("MOVED 1 h:1")}), false, from, 0, 0,
                 0ms, pol);
  CHECK(v.what == cluster_verdict::action::redirect);  // PING is idempotent
  auto incr_get = route({{"INCR", "{k}a"}, {"GET", "{k}b"}});
  v = judge(incr_get, replies({num(5), reply::error("ASK 1 h:1")}), false, from, 0, 0, 0ms, pol);
  CHECK(v.what == cluster_verdict::action::complete);  // INCR ran: not resent
  CHECK_FALSE(v.ec);
  v = judge(incr_get, replies({num(5), reply::error("ASK 1 h:1")}), true, from, 0, 0, 0ms, pol);
  CHECK(v.what == cluster_verdict::action::ask);  // the caller declared it idempotent
  auto tx = route({{"MULTI"}, {"INCR", "{k}a"}, {"INCR", "{k}b"}, {"EXEC"}});
  v = judge(tx,
            replies({reply::simple_string("OK"), reply::error("MOVED 1 h:1"), reply::error("MOVED 1 h:1"),
                     reply::error("EXECABORT Transaction discarded")}),
            false, from, 0, 0, 0ms, pol);
  CHECK(v.what == cluster_verdict::action::redirect);  // the transaction did not run
}

TEST_CASE("judge: TRYAGAIN and CLUSTERDOWN wait, with growing delays, within the budget", "[cluster]") {
  cluster_policy pol;
  pol.failover_budget = 1000ms;
  auto r = route({{"MGET", "{t}a", "{t}b"}});
  auto v = judge(r, replies({reply::error("TRYAGAIN Multiple keys request during rehashing of slot")}), false, from, 0,
                 0, 0ms, pol);
  CHECK(v.what == cluster_verdict::action::retry_later);
  CHECK(v.delay == pol.retry_min);
  CHECK_FALSE(v.refresh);
  v = judge(r, replies({reply::error("CLUSTERDOWN The cluster is down")}), false, from, 0, 3, 0ms, pol);
  CHECK(v.what == cluster_verdict::action::retry_later);
  CHECK(v.delay == 40ms);
  CHECK(v.refresh);
  v = judge(r, replies({reply::error("CLUSTERDOWN x")}), false, from, 0, 30, 0ms, pol);
  CHECK(v.delay == pol.retry_max);
  v = judge(r, replies({reply::error("CLUSTERDOWN x")}), false, from, 0, 0, 999ms, pol);
  CHECK(v.what == cluster_verdict::action::complete);
  CHECK(v.ec == error::master_unavailable);
}

TEST_CASE("refresh gate: one refresh per burst, backoff between bursts", "[cluster]") {
  using clk = refresh_gate::clock;
  refresh_gate g(10ms, 80ms, 1);
  auto t = clk::now();
  auto o = g.signal(t);
  CHECK(o.what == refresh_gate::step::refresh);
  for (int i = 0; i < 100; ++i) CHECK(g.signal(t).what == refresh_gate::step::none);  // the same burst
  o = g.done(true, t + 1ms);  // signals came during it: one more, after the backoff
  CHECK(o.what == refresh_gate::step::arm);
  CHECK(o.after >= 5ms);
  CHECK(g.signal(t + 2ms).what == refresh_gate::step::none);  // joins the armed one
  CHECK(g.on_timer(t + 20ms).what == refresh_gate::step::refresh);
  CHECK(g.on_timer(t + 20ms).what == refresh_gate::step::none);  // a stale timer does nothing
  o = g.done(true, t + 21ms);  // quiet: nothing more
  CHECK(o.what == refresh_gate::step::none);
  CHECK_FALSE(g.armed());
  // A signal right after a refresh waits for the pace; much later it goes at once.
  o = g.signal(t + 22ms);
  CHECK((o.what == refresh_gate::step::arm || o.what == refresh_gate::step::refresh));
  if (o.what == refresh_gate::step::arm) CHECK(g.on_timer(t + 40ms).what == refresh_gate::step::refresh);
  g.done(true, t + 41ms);
  CHECK(g.signal(t + 1000ms).what == refresh_gate::step::refresh);
}

TEST_CASE("refresh gate: failed refreshes back off up to the maximum", "[cluster]") {
  using clk = refresh_gate::clock;
  refresh_gate g(10ms, 80ms, 7);
  auto t = clk::now();
  REQUIRE(g.signal(t).what == refresh_gate::step::refresh);
  std::chrono::milliseconds last{0};
  for (int i = 0; i < 10; ++i) {
    auto o = g.done(false, t);
    REQUIRE(o.what == refresh_gate::step::arm);
    CHECK(o.after <= 80ms);
    last = o.after;
    t += o.after;
    REQUIRE(g.on_timer(t).what == refresh_gate::step::refresh);
  }
  CHECK(last >= 40ms);  // grew to [max/2, max]
  g.reset();
  CHECK_FALSE(g.in_flight());
}

namespace {

reply role_replica_of(const std::string& host, long long port, const std::string& link = "connected") {
  return reply::array({reply::bulk_string("slave"), reply::bulk_string(host), reply::integer(port),
                       reply::bulk_string(link), reply::integer(14)});
}

template <class... Args>
request one(Args&&... args) {
  request r;
  r.push(std::forward<Args>(args)...);
  return r;
}

}  // namespace

TEST_CASE("read_from: reads go to a verified replica, writes and mixed requests to the master", "[cluster][read_from]") {
  using rf = redis_ha::read_from;
  const auto get = one("GET", "k");
  const auto set = one("SET", "k", "v");
  request mixed;
  mixed.push("GET", "{k}a").push("SET", "{k}b", "v");
  request reads;
  reads.push("GET", "{k}a").push("HGETALL", "{k}b").push("EVAL_RO", "return 1", 1, "{k}c");
  CHECK(get.read_only());
  CHECK(reads.read_only());
  CHECK_FALSE(set.read_only());
  CHECK_FALSE(mixed.read_only());
  CHECK_FALSE(one("EVAL", "return 1", 1, "k").read_only());  // a script may write

  for (bool up : {false, true}) {
    // read_from::master: everything to the master.
    CHECK(route_read(rf::master, get.read_only(), up) == read_target::master);
    CHECK(route_read(rf::master, set.read_only(), up) == read_target::master);
    // Writes and mixed requests: always the master, whatever the setting.
    for (auto mode : {rf::replica_preferred, rf::replica}) {
      CHECK(route_read(mode, set.read_only(), up) == read_target::master);
      CHECK(route_read(mode, mixed.read_only(), up) == read_target::master);
    }
  }
  // A verified replica up: reads go there.
  CHECK(route_read(rf::replica_preferred, get.read_only(), true) == read_target::replica);
  CHECK(route_read(rf::replica, reads.read_only(), true) == read_target::replica);
  // None verified: replica_preferred falls back to the master, replica waits (within the budget).
  CHECK(route_read(rf::replica_preferred, get.read_only(), false) == read_target::master);
  CHECK(route_read(rf::replica, get.read_only(), false) == read_target::wait);
}

TEST_CASE("read_from: a replica serves a shard only while ROLE names the shard's master", "[cluster][read_from]") {
  const address master{"127.0.0.1", 7000};
  CHECK(replica_of_problem(parse_role(role_replica_of("127.0.0.1", 7000)), master).empty());
  // A replica of another shard's master (moved, or a stale map).
  CHECK(replica_of_problem(parse_role(role_replica_of("127.0.0.1", 7001)), master).find("replica of 127.0.0.1:7001") !=
        std::string::npos);
  CHECK_FALSE(replica_of_problem(parse_role(role_replica_of("10.0.0.1", 7000)), master).empty());
  // A master (the promoted replica itself) is no replica.
  const auto as_master = reply::array({reply::bulk_string("master"), reply::integer(1), reply::array({})});
  CHECK(replica_of_problem(parse_role(as_master), master) == "not a replica");
  // No verified master yet: nothing to compare with, not used.
  CHECK_FALSE(replica_of_problem(parse_role(role_replica_of("127.0.0.1", 7000)), address{"", 0}).empty());
}

TEST_CASE("read_from: a -MOVED naming the shard's own master marks the replica stale", "[cluster][read_from]") {
  const address master{"127.0.0.1", 7000};
  CHECK(moved_to({reply::error("MOVED 3999 127.0.0.1:7000")}, master));
  CHECK(moved_to({reply::bulk_string("x"), reply::error("MOVED 3999 :7000")}, master));  // empty host: the node's
  // A MOVED to another shard (a migration) is followed, and the replica kept.
  CHECK_FALSE(moved_to({reply::error("MOVED 3999 127.0.0.1:7001")}, master));
  CHECK_FALSE(moved_to({reply::error("ASK 3999 127.0.0.1:7000")}, master));
  CHECK_FALSE(moved_to({reply::bulk_string("MOVED 3999 127.0.0.1:7000")}, master));
  CHECK_FALSE(moved_to({}, master));
}

TEST_CASE("fan-out: replies merged per command", "[cluster]") {
  const auto route = route_commands(one("KEYS", "*").payload());
  std::vector<response> parts = {{reply::array({reply::bulk_string("a")})},
                                 {reply::array({reply::bulk_string("b"), reply::bulk_string("c")})}};
  auto merged = merge_fan_out(route, parts);
  REQUIRE(merged.size() == 1);
  CHECK(merged[0].as_array().size() == 3);
  const auto dbsize = route_commands(one("DBSIZE").payload());
  CHECK(merge_fan_out(dbsize, {{reply::integer(2)}, {reply::integer(5)}})[0].as_integer() == 7);
  const auto flush = route_commands(one("FLUSHALL").payload());
  auto err = merge_fan_out(flush, {{reply::simple_string("OK")}, {reply::error("ERR busy")}});
  CHECK(err[0].is_error());
  CHECK(merge_fan_out(flush, {}).empty());
}

TEST_CASE("map refresh candidates: verified masters, the map's nodes, then the seeds, once each", "[cluster]") {
  const address m1{"127.0.0.1", 7000}, seed{"10.0.0.9", 6379};
  auto v = refresh_candidates({m1}, cluster_map{}, {seed, m1, {"", 1}});
  CHECK(v == std::vector<address>{m1, seed});
}
