// Sans-I/O side of the Valkey features: -REDIRECT in the retry rule, the optional
// CLIENT CAPA redirect of the handshake, the fallback from SENTINEL GET-PRIMARY-ADDR-BY-NAME
// to GET-MASTER-ADDR-BY-NAME, and the zone preference of replica reads. No sockets.
#include <redis_ha/detail/handshake.hpp>
#include <redis_ha/detail/replica_pool.hpp>
#include <redis_ha/detail/retry_policy.hpp>
#include <redis_ha/detail/sentinel_io.hpp>
#include <redis_ha/detail/sentinel_parse.hpp>
#include <redis_ha/detail/sentinel_set.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using redis_ha::address;
using redis_ha::error;
using redis_ha::reply;
using redis_ha::request;
using redis_ha::response;
using redis_ha::detail::retry_decision;

namespace {

reply err(std::string s) { return reply::error(std::move(s)); }
reply bulk(std::string s) { return reply::bulk_string(std::move(s)); }
reply simple(std::string s) { return reply::simple_string(std::move(s)); }

template <class... Args>
request make(std::string_view command, const Args&... args) {
  request r;
  r.push(command, args...);
  return r;
}

}  // namespace

// --- -REDIRECT -------------------------------------------------------------------------------

TEST_CASE("parse_redirect: the primary named by -REDIRECT host:port", "[valkey][redirect]") {
  using redis_ha::detail::parse_redirect;
  auto a = parse_redirect(err("REDIRECT 127.0.0.1:6380"));
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 6380);
  auto named = parse_redirect(err("REDIRECT redis-1.example:7000"));
  REQUIRE(named);
  CHECK(named->host == "redis-1.example");
  auto v6 = parse_redirect(err("REDIRECT ::1:6379"));  // split at the last colon
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 6379);
  auto bracketed = parse_redirect(err("REDIRECT [fe80::1]:6379"));
  REQUIRE(bracketed);
  CHECK(bracketed->host == "fe80::1");
  for (const char* bad : {"REDIRECT", "REDIRECT ", "REDIRECT host", "REDIRECT :6379", "REDIRECT host:0",
                          "REDIRECT host:65536", "REDIRECT host:x", "REDIRECTX 1.2.3.4:5", "READONLY 1.2.3.4:5"}) {
    INFO(bad);
    CHECK_FALSE(parse_redirect(err(bad)));
  }
  CHECK_FALSE(parse_redirect(bulk("REDIRECT 127.0.0.1:6380")));  // not an error reply
}

TEST_CASE("decide: -REDIRECT is resent like -READONLY and carries the named primary", "[valkey][redirect][retry]") {
  const reply redirect = err("REDIRECT 10.0.0.2:6379");
  request pipeline;
  pipeline.push("SET", "a", "1").push("INCR", "b");
  for (const auto& resp : {response{redirect, redirect}, response{simple("OK"), redirect}}) {
    auto d = redis_ha::detail::decide(pipeline, {}, resp);
    CHECK(d.what == retry_decision::action::resend);
    CHECK(d.failover_signal);
    CHECK_FALSE(d.ec);
    CHECK(d.redirect == address{"10.0.0.2", 6379});
  }
  // Not idempotent, and resends after a loss forbidden: a redirected write did not run.
  request no_resend = make("SET", "lock", "me", "NX");
  no_resend.options().idempotent = false;
  auto d = redis_ha::detail::decide(no_resend, {}, {redirect});
  CHECK(d.what == retry_decision::action::resend);
  // -READONLY gives no address; a malformed -REDIRECT still means "not the master".
  auto ro = redis_ha::detail::decide(make("SET", "k", "v"), {}, {err("READONLY You can't write")});
  CHECK(ro.redirect.host.empty());
  auto bad = redis_ha::detail::decide(make("SET", "k", "v"), {}, {err("REDIRECT nonsense")});
  CHECK(bad.what == retry_decision::action::resend);
  CHECK(bad.failover_signal);
  CHECK(bad.redirect.host.empty());
  // A nested one (inside EXEC's array) is not looked at, as for -READONLY.
  auto nested = redis_ha::detail::decide(make("EXEC"), {}, {reply::array({redirect})});
  CHECK(nested.what == retry_decision::action::complete);
}

// --- CLIENT CAPA redirect in the handshake ---------------------------------------------------

TEST_CASE("handshake: CLIENT CAPA redirect is sent last and an error reply only means unsupported",
          "[valkey][redirect][handshake]") {
  redis_ha::connection_config cfg;
  cfg.password = "pw";
  cfg.client_name = "app";
  auto without = redis_ha::detail::make_handshake(cfg);
  CHECK(without.req.size() == 2);
  CHECK(without.capa_index == static_cast<std::size_t>(-1));

  cfg.redirect_capability = true;
  auto plan = redis_ha::detail::make_handshake(cfg);
  REQUIRE(plan.req.size() == 3);
  CHECK(plan.capa_index == 2);
  CHECK(plan.req.payload().find("CAPA") != std::string::npos);
  std::string message;
  // Valkey 8: +OK.
  const response valkey{simple("OK"), simple("OK"), simple("OK")};
  CHECK_FALSE(redis_ha::detail::check_handshake(plan, valkey, message));
  CHECK(redis_ha::detail::redirect_accepted(plan, valkey));
  // Redis: unknown subcommand; an ACL without client|capa: NOPERM. Neither fails the handshake.
  for (const char* refusal : {"ERR unknown subcommand 'CAPA'. Try CLIENT HELP.",
                              "NOPERM User app has no permissions to run the 'client|capa' command"}) {
    INFO(refusal);
    const response redis{simple("OK"), simple("OK"), err(refusal)};
    CHECK_FALSE(redis_ha::detail::check_handshake(plan, redis, message));
    CHECK_FALSE(redis_ha::detail::redirect_accepted(plan, redis));
  }
  // A refused AUTH still fails it.
  const response bad_auth{err("WRONGPASS invalid username-password pair"), simple("OK"), simple("OK")};
  CHECK(redis_ha::detail::check_handshake(plan, bad_auth, message) == error::auth_failed);
}

// --- SENTINEL GET-PRIMARY-ADDR-BY-NAME with fallback -----------------------------------------

TEST_CASE("needs_master_names: which answers make a sentinel be asked with the old names",
          "[valkey][sentinel]") {
  using redis_ha::detail::needs_master_names;
  CHECK(needs_master_names(err("ERR unknown subcommand 'get-primary-addr-by-name'. Try SENTINEL HELP.")));
  CHECK(needs_master_names(err("ERR Unknown sentinel subcommand 'get-primary-addr-by-name'")));
  CHECK(needs_master_names(err("NOPERM User haclient has no permissions to run the "
                               "'sentinel|get-primary-addr-by-name' command")));
  // Real answers, and other errors, are read as they are.
  CHECK_FALSE(needs_master_names(reply::array({bulk("127.0.0.1"), bulk("6379")})));
  CHECK_FALSE(needs_master_names(reply::nil()));
  CHECK_FALSE(needs_master_names(err("NOAUTH Authentication required.")));
  CHECK_FALSE(needs_master_names(err("WRONGPASS invalid username-password pair")));
  CHECK_FALSE(needs_master_names(err("ERR No such master with that name")));
  CHECK_FALSE(needs_master_names(bulk("ERR unknown subcommand")));
}

TEST_CASE("sentinel_query and sentinel_dialects: new names first, old names for the sentinels that need them",
          "[valkey][sentinel]") {
  const auto primary = redis_ha::detail::sentinel_query("mymaster", false);
  const auto legacy = redis_ha::detail::sentinel_query("mymaster", true);
  CHECK(primary.size() == 3);
  CHECK(legacy.size() == 3);
  CHECK(primary.payload().find("get-primary-addr-by-name") != std::string::npos);
  CHECK(legacy.payload().find("get-master-addr-by-name") != std::string::npos);
  for (const auto* q : {&primary, &legacy}) {
    CHECK(q->payload().find("sentinels") != std::string::npos);
    CHECK(q->payload().find("replicas") != std::string::npos);
  }

  std::vector<std::string> lines;
  redis_ha::logger log;
  log.sink = [&](redis_ha::log_level, std::string_view line) { lines.emplace_back(line); };
  redis_ha::detail::sentinel_dialects d(log);
  const address redis{"10.0.0.1", 26379}, valkey{"10.0.0.2", 26379};
  CHECK_FALSE(d.master_names(redis));
  d.use_master_names(redis, "ERR unknown subcommand");
  d.use_master_names(redis, "ERR unknown subcommand");  // logged once
  CHECK(d.master_names(redis));
  CHECK_FALSE(d.master_names(valkey));
  CHECK(lines.size() == 1);
  // Bounded: the oldest are forgotten (and asked with the new names again, falling back again).
  for (std::uint16_t p = 1; p <= 64; ++p) d.use_master_names({"10.1.0.1", p}, "x");
  CHECK_FALSE(d.master_names(redis));
  CHECK(d.master_names({"10.1.0.1", 64}));
}

TEST_CASE("parse_sentinel_answer: the old-name reply spliced in after a fallback reads as usual",
          "[valkey][sentinel]") {
  // What sentinel_round does after `needs_master_names`: replace the first reply, keep the others.
  response r{err("ERR unknown subcommand 'get-primary-addr-by-name'. Try SENTINEL HELP."), reply::array({}),
             reply::array({})};
  REQUIRE(redis_ha::detail::needs_master_names(r[0]));
  r[0] = reply::array({bulk("10.0.1.1"), bulk("6379")});
  auto a = redis_ha::detail::parse_sentinel_answer(r);
  CHECK(a.what == redis_ha::detail::sentinel_answer::kind::master);
  CHECK(a.master == address{"10.0.1.1", 6379});
}

// --- zone preference ---------------------------------------------------------------------------

TEST_CASE("parse_availability_zone: the field of INFO server, or empty", "[valkey][zone]") {
  using redis_ha::detail::parse_availability_zone;
  CHECK(parse_availability_zone(bulk("# Server\r\nvalkey_version:8.0.1\r\navailability_zone:us-east-1a\r\n"
                                     "tcp_port:6379\r\n")) == "us-east-1a");
  CHECK(parse_availability_zone(bulk("# Server\r\navailability_zone:\r\n")).empty());
  CHECK(parse_availability_zone(bulk("# Server\r\nredis_version:7.0.15\r\n")).empty());  // Redis
  CHECK(parse_availability_zone(bulk("availability_zone:z1")) == "z1");                // no final CRLF
  CHECK(parse_availability_zone(bulk("x_availability_zone:z1\r\n")).empty());
  CHECK(parse_availability_zone(err("NOPERM no INFO for you")).empty());
}

TEST_CASE("choose_replica: round-robin in the zone, any usable replica when none there", "[valkey][zone]") {
  using redis_ha::detail::choose_replica;
  using redis_ha::detail::replica_candidate;
  constexpr auto none = static_cast<std::size_t>(-1);
  std::size_t next = 0;
  // 0: other zone, 1: in zone, 2: in zone, 3: in zone but closed.
  std::vector<replica_candidate> c{{true, false}, {true, true}, {true, true}, {false, true}};
  std::vector<std::size_t> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(choose_replica(c, next));
  CHECK(picks == std::vector<std::size_t>{1, 2, 1, 2, 1, 2});
  // The zone's replicas go away: the others serve.
  c[1].usable = c[2].usable = false;
  CHECK(choose_replica(c, next) == 0);
  CHECK(choose_replica(c, next) == 0);
  // No zone preference (nobody in zone): plain round-robin over the usable ones.
  std::vector<replica_candidate> plain{{true, false}, {false, false}, {true, false}};
  next = 0;
  picks.clear();
  for (int i = 0; i < 4; ++i) picks.push_back(choose_replica(plain, next));
  CHECK(picks == std::vector<std::size_t>{0, 2, 0, 2});
  CHECK(choose_replica({}, next) == none);
  CHECK(choose_replica({{false, true}}, next) == none);
}
