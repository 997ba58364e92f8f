// Sans-I/O parts of the subscriber and of durable writes: the wanted set of
// channels, patterns and sharded channels, the commands that change it, a
// server's own sunsubscribe told from replies, the deaf time, the decoding of pushed
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
using redis_ha::detail::subscription_name;
using redis_ha::detail::subscription_set;
using kind = redis_ha::subscription_kind;
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
  std::vector<subscription_name> changed;
  auto r = s.change(kind::channel, true, {"a", "b", "a"}, &changed);
  CHECK(r.payload() == wire({{"SUBSCRIBE", "a"}, {"SUBSCRIBE", "b"}}));
  REQUIRE(changed.size() == 2);  // in the order of the replies
  CHECK(changed[0].name == "a");
  CHECK(changed[1].name == "b");
  CHECK(s.change(kind::channel, true, {"a"}).empty());  // already wanted: nothing to send
  CHECK(s.change(kind::pattern, true, {"n.*"}).payload() == wire({{"PSUBSCRIBE", "n.*"}}));
  CHECK(s.change(kind::shard_channel, true, {"{u}1"}).payload() == wire({{"SSUBSCRIBE", "{u}1"}}));
  CHECK(s.change(kind::shard_channel, true, {"a"}).payload() == wire({{"SSUBSCRIBE", "a"}}));  // a namespace of its own
  CHECK(s.change(kind::channel, false, {"zzz"}).empty());  // never wanted
  CHECK(s.change(kind::channel, false, {"b"}).payload() == wire({{"UNSUBSCRIBE", "b"}}));
  CHECK(s.change(kind::pattern, false, {"n.*"}).payload() == wire({{"PUNSUBSCRIBE", "n.*"}}));
  CHECK(s.change(kind::shard_channel, false, {"a"}).payload() == wire({{"SUNSUBSCRIBE", "a"}}));
  CHECK(s.channels() == std::set<std::string>{"a"});
  CHECK(s.patterns().empty());
  CHECK(s.shard_channels() == std::set<std::string>{"{u}1"});
  CHECK(s.size() == 2);
  CHECK(s.forget(kind::shard_channel, "{u}1"));
  CHECK_FALSE(s.forget(kind::shard_channel, "{u}1"));
  CHECK(s.size() == 1);
  CHECK_FALSE(s.empty());
}

TEST_CASE("subscription_set: a new connection gets the whole set, in reply order", "[pubsub][subscription_set]") {
  subscription_set s;
  s.change(kind::pattern, true, {"p1"});
  s.change(kind::shard_channel, true, {"s1"});
  s.change(kind::channel, true, {"c2", "c1"});
  request r;
  r.push("ROLE");
  const auto order = s.push_all(r);
  CHECK(r.payload() ==
        wire({{"ROLE"}, {"SUBSCRIBE", "c1"}, {"SUBSCRIBE", "c2"}, {"PSUBSCRIBE", "p1"}, {"SSUBSCRIBE", "s1"}}));
  CHECK(r.expected_replies() == 5);
  REQUIRE(order.size() == 4);
  CHECK(order[0].name == "c1");
  CHECK(order[2].kind == kind::pattern);
  CHECK(order[3].kind == kind::shard_channel);
  CHECK(order[3].name == "s1");
}

TEST_CASE("sunsubscribe_tracker: the replies to the client's SUNSUBSCRIBEs, and the server's own", "[pubsub][hostile]") {
  using redis_ha::detail::ended_shard_channel;
  redis_ha::detail::sunsubscribe_tracker t;
  const auto sun = [](const char* ch, long long n) { return arr({bulk("sunsubscribe"), bulk(ch), reply::integer(n)}); };
  // Nothing asked: a cluster node's own sunsubscribe (the slot moved) is a push.
  CHECK(t.unasked(sun("a", 0)));
  CHECK(ended_shard_channel(sun("a", 0)) == std::string("a"));
  // Asked twice for "a", once for "b": exactly that many replies are taken as replies.
  t.sent("a");
  t.sent("b");
  t.sent("a");
  CHECK(t.awaited() == 3);
  CHECK_FALSE(t.unasked(sun("b", 2)));
  CHECK(t.unasked(sun("b", 1)));  // a second one for b: the server's
  CHECK_FALSE(t.unasked(sun("a", 1)));
  CHECK_FALSE(t.unasked(sun("a", 0)));
  CHECK(t.unasked(sun("a", 0)));
  CHECK(t.awaited() == 0);
  // An error reply to SUNSUBSCRIBE stops the wait for that channel.
  t.sent("c");
  t.refused("c");
  t.refused("never-sent");
  CHECK(t.awaited() == 0);
  CHECK(t.unasked(sun("c", 0)));
  // Anything else is left to the request queue (replies, other pushes, hostile shapes).
  CHECK_FALSE(t.unasked(arr({bulk("unsubscribe"), bulk("a"), reply::integer(0)})));
  CHECK_FALSE(t.unasked(arr({bulk("sunsubscribe"), reply::nil(), reply::integer(0)})));  // "none left": a reply
  CHECK_FALSE(t.unasked(arr({bulk("sunsubscribe")})));
  CHECK_FALSE(t.unasked(arr({reply::integer(1), bulk("a")})));
  CHECK_FALSE(t.unasked(bulk("sunsubscribe")));
  CHECK_FALSE(ended_shard_channel(arr({bulk("sunsubscribe"), reply::nil(), reply::integer(0)})));
  CHECK_FALSE(ended_shard_channel(arr({bulk("smessage"), bulk("a"), bulk("x")})));
}

TEST_CASE("sunsubscribe_trackers: one per connection in use, the others forgotten", "[pubsub]") {
  redis_ha::detail::sunsubscribe_trackers ts;
  int c1 = 0, c2 = 0, c3 = 0;
  auto t1 = ts.make(&c1, nullptr, nullptr);
  CHECK(ts.of(&c1) == t1);
  auto t2 = ts.make(&c2, &c1, nullptr);  // c1 is still subscribed
  CHECK(ts.of(&c1) == t1);
  CHECK(ts.of(&c2) == t2);
  ts.make(&c3, &c2, nullptr);  // c1 is gone
  CHECK(ts.of(&c1) == nullptr);
  CHECK(ts.of(&c2) == t2);
  CHECK(ts.of(&c3) != nullptr);
}

TEST_CASE("deaf_clock: the deaf time runs from the first loss to the confirmation", "[pubsub]") {
  redis_ha::detail::deaf_clock d;
  redis_ha::subscriber_stats st;
  CHECK_FALSE(d.confirmed(st));  // a first subscription is not a reconnection
  CHECK(st.connects == 1);
  CHECK(st.reconnects == 0);
  const auto t0 = std::chrono::steady_clock::now() - 300ms;
  d.lost(t0);
  d.lost();  // a later report of the same loss keeps the start
  const auto deaf = d.confirmed(st);
  REQUIRE(deaf);
  CHECK(*deaf >= 300ms);
  CHECK(st.reconnects == 1);
  CHECK(st.max_deaf_ms == *deaf);
  CHECK(st.total_deaf_ms == *deaf);
  CHECK_FALSE(d.confirmed(st));
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

  CHECK_FALSE(m->sharded);
  m = parse_message(arr({bulk("smessage"), bulk("{s}"), bulk("y")}));
  REQUIRE(m);
  CHECK(m->sharded);
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
