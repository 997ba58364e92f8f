// Sans-I/O parts of the subscriber and of durable writes: the wanted set of
// channels and patterns, the commands that change it, the decoding of pushed
// messages (hostile shapes included), and the replies WAIT/ROLE add to a
// durable write. No sockets.
#include <redis_ha/detail/retry_policy.hpp>
#include <redis_ha/detail/subscription_set.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

using redis_ha::reply;
using redis_ha::request;
using redis_ha::response;
using redis_ha::detail::parse_message;
using redis_ha::detail::subscription_set;
using namespace std::chrono_literals;

namespace {

reply bulk(std::string s) { return reply::bulk_string(std::move(s)); }
reply arr(std::initializer_list<reply> elements) { return reply::array(std::vector<reply>(elements)); }

// The RESP a request would send, for comparing requests.
std::string wire(std::initializer_list<std::vector<std::string>> commands) {
  request r;
  for (const auto& c : commands) r.push_argv(c);
  return r.payload();
}

}  // namespace

TEST_CASE("subscription_set: a change yields one command per name that changed", "[pubsub][subscription_set]") {
  subscription_set s;
  CHECK(s.empty());
  auto r = s.change(false, true, {"a", "b", "a"});
  CHECK(r.payload() == wire({{"SUBSCRIBE", "a"}, {"SUBSCRIBE", "b"}}));
  CHECK(s.change(false, true, {"a"}).empty());  // already wanted: nothing to send
  CHECK(s.change(true, true, {"n.*"}).payload() == wire({{"PSUBSCRIBE", "n.*"}}));
  CHECK(s.change(false, false, {"zzz"}).empty());  // never wanted
  CHECK(s.change(false, false, {"b"}).payload() == wire({{"UNSUBSCRIBE", "b"}}));
  CHECK(s.change(true, false, {"n.*"}).payload() == wire({{"PUNSUBSCRIBE", "n.*"}}));
  CHECK(s.channels() == std::set<std::string>{"a"});
  CHECK(s.patterns().empty());
  CHECK_FALSE(s.empty());
}

TEST_CASE("subscription_set: a new connection gets the whole set, channels then patterns", "[pubsub][subscription_set]") {
  subscription_set s;
  s.change(true, true, {"p1"});
  s.change(false, true, {"c2", "c1"});
  request r;
  r.push("ROLE");
  s.push_all(r);
  CHECK(r.payload() == wire({{"ROLE"}, {"SUBSCRIBE", "c1"}, {"SUBSCRIBE", "c2"}, {"PSUBSCRIBE", "p1"}}));
  CHECK(r.expected_replies() == 4);
}

TEST_CASE("parse_message: message, pmessage and smessage", "[pubsub][parse_message]") {
  auto m = parse_message(arr({bulk("message"), bulk("ch"), bulk("hello")}));
  REQUIRE(m);
  CHECK(m->channel == "ch");
  CHECK(m->payload == "hello");
  CHECK(m->pattern.empty());

  m = parse_message(arr({bulk("pmessage"), bulk("c*"), bulk("ch"), bulk("x")}));
  REQUIRE(m);
  CHECK(m->pattern == "c*");
  CHECK(m->channel == "ch");
  CHECK(m->payload == "x");

  m = parse_message(arr({bulk("smessage"), bulk("{s}"), bulk("y")}));
  REQUIRE(m);
  CHECK(m->channel == "{s}");
  CHECK(m->payload == "y");
}

TEST_CASE("parse_message: other pushes and malformed ones are not messages", "[pubsub][parse_message][hostile]") {
  CHECK_FALSE(parse_message(reply{}));
  CHECK_FALSE(parse_message(arr({})));
  CHECK_FALSE(parse_message(arr({reply::integer(1), bulk("ch"), bulk("x")})));
  CHECK_FALSE(parse_message(arr({bulk("subscribe"), bulk("ch"), reply::integer(1)})));
  CHECK_FALSE(parse_message(arr({bulk("pong"), bulk("")})));
  CHECK_FALSE(parse_message(arr({bulk("invalidate"), arr({bulk("k")})})));
  CHECK_FALSE(parse_message(arr({bulk("message"), bulk("ch")})));                       // too short
  CHECK_FALSE(parse_message(arr({bulk("pmessage"), bulk("p"), bulk("ch")})));           // too short
  CHECK_FALSE(parse_message(arr({bulk("message"), reply::integer(3), bulk("x")})));      // channel not a string
  CHECK_FALSE(parse_message(arr({bulk("message"), bulk("ch"), arr({bulk("x")})})));      // payload not a string
  CHECK_FALSE(parse_message(arr({bulk("pmessage"), bulk("p"), bulk("ch"), reply::nil()})));
}

TEST_CASE("durable writes: WAIT, then ROLE when histories are tracked, in the same request",
          "[ha][durable]") {
  request req;
  req.push("SET", "k", "v");
  auto plain = redis_ha::detail::durable_request(req, 1, 100ms, false);
  CHECK(plain.payload() == wire({{"SET", "k", "v"}, {"WAIT", "1", "100"}}));
  auto with_role = redis_ha::detail::durable_request(req, 2, 50ms, true);
  CHECK(with_role.payload() == wire({{"SET", "k", "v"}, {"WAIT", "2", "50"}, {"ROLE"}}));
  CHECK(req.size() == 1);  // the caller's request is left as it was
}

TEST_CASE("durable writes: the trailing replies are taken off the response", "[ha][durable]") {
  using redis_ha::detail::take_durable_replies;
  response resp{reply::simple_string("OK"), reply::integer(1)};
  auto t = take_durable_replies(resp, false);
  CHECK(t.acked == 1);
  CHECK_FALSE(t.role);
  REQUIRE(resp.size() == 1);
  CHECK(resp[0].as_string() == "OK");

  resp = {reply::simple_string("OK"), reply::integer(2), arr({bulk("master"), reply::integer(7), arr({})})};
  t = take_durable_replies(resp, true);
  CHECK(t.acked == 2);
  REQUIRE(t.role);
  CHECK((*t.role)[0].as_string() == "master");
  CHECK(resp.size() == 1);

  // WAIT answered an error (e.g. a replica that was promoted mid-request): not acknowledged.
  resp = {reply::simple_string("OK"), reply::error("ERR WAIT cannot be used with replica instances")};
  t = take_durable_replies(resp, false);
  CHECK(t.acked == -1);
  CHECK(resp.size() == 1);

  resp = {};
  t = take_durable_replies(resp, true);
  CHECK(t.acked == -1);
  CHECK_FALSE(t.role);
}

TEST_CASE("budget_error: the resolution error when it explains the wait", "[ha][budget]") {
  using redis_ha::error;
  using redis_ha::detail::budget_error;
  CHECK(budget_error(make_error_code(error::master_name_unknown)) == error::master_name_unknown);
  CHECK(budget_error(make_error_code(error::no_sentinel_reachable)) == error::no_sentinel_reachable);
  CHECK(budget_error(make_error_code(error::auth_failed)) == error::auth_failed);
  CHECK(budget_error(make_error_code(error::connection_lost)) == error::master_unavailable);
  CHECK(budget_error({}) == error::master_unavailable);
}
