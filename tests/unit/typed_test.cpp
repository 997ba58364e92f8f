// Typed replies: redis_ha::as<T>(reply), redis_ha::as<Ts...>(response),
// the reply_converter customization point and conversion_error.
#include <redis_ha/typed.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

using redis_ha::as;
using redis_ha::conversion_error;
using redis_ha::error;
using redis_ha::reply;
using redis_ha::response;

namespace {

reply bulk(std::string s) { return reply::bulk_string(std::move(s)); }
reply integer(long long v) { return reply::integer(v); }
reply arr(std::vector<reply> v) { return reply::array(std::move(v)); }

// The error of converting `r` to T (the value must not matter).
template <class T>
conversion_error error_of(const reply& r) {
  conversion_error err;
  (void)as<T>(r, err);
  return err;
}

// Detection: which calls of as<> compile.
template <class T>
constexpr bool converts_lvalue = requires(const reply& r) { as<T>(r); };
template <class T>
constexpr bool converts_temporary = requires { as<T>(reply{}); };
template <class T>
constexpr bool converts_temporary_with_error = requires(conversion_error& e) { as<T>(reply{}, e); };
template <class... Ts>
constexpr bool converts_temporary_response = requires { as<Ts...>(response{}); };

}  // namespace

TEST_CASE("strings: simple, bulk and integer text, and nil, arrays and errors refused", "[typed]") {
  CHECK(as<std::string>(reply::simple_string("OK")) == "OK");
  CHECK(as<std::string>(bulk(std::string("a\0b", 3))) == std::string("a\0b", 3));
  CHECK(as<std::string>(integer(-42)) == "-42");

  auto nil = error_of<std::string>(reply{});
  CHECK(nil.code == error::wrong_reply_type);
  CHECK(nil.expected == "string");
  CHECK(nil.got == "nil");
  CHECK(nil.where == "reply");
  CHECK(nil.message() == "reply: expected string, got nil (use std::optional<T> where nil can come)");

  auto a = error_of<std::string>(arr({bulk("x")}));
  CHECK(a.code == error::wrong_reply_type);
  CHECK(a.got == "array of 1");

  auto e = error_of<std::string>(reply::error("WRONGTYPE Operation against a key holding the wrong kind of value"));
  CHECK(e.code == error::server_error);
  CHECK(e.got == "error \"WRONGTYPE Operation against a key holding the wrong kind of value\"");
}

TEST_CASE("string views point into the reply and refuse what has no text", "[typed]") {
  reply r = bulk("hello");
  std::string_view v = as<std::string_view>(r);
  CHECK(v == "hello");
  CHECK(v.data() == r.as_string().data());  // no copy
  CHECK(error_of<std::string_view>(integer(1)).code == error::wrong_reply_type);
  // A view of a temporary would dangle: those overloads are deleted.
  STATIC_REQUIRE(converts_lvalue<std::string_view>);
  STATIC_REQUIRE_FALSE(converts_temporary<std::string_view>);
  STATIC_REQUIRE_FALSE(converts_temporary_with_error<std::vector<std::string_view>>);
  STATIC_REQUIRE_FALSE(converts_temporary_response<long long, std::string_view>);
  STATIC_REQUIRE(converts_temporary<std::string>);
  STATIC_REQUIRE(converts_temporary_with_error<std::vector<std::string>>);
  STATIC_REQUIRE(converts_temporary_response<long long, std::string>);
  STATIC_REQUIRE(redis_ha::holds_view_v<std::map<std::string, std::optional<std::string_view>>>);
  STATIC_REQUIRE(redis_ha::holds_view_v<std::tuple<int, std::pair<int, std::string_view>>>);
  STATIC_REQUIRE_FALSE(redis_ha::holds_view_v<std::vector<std::string>>);
}

TEST_CASE("integers: integer replies and decimal strings within the type's range", "[typed]") {
  CHECK(as<long long>(integer(std::numeric_limits<long long>::min())) == std::numeric_limits<long long>::min());
  CHECK(as<int>(integer(7)) == 7);
  CHECK(as<std::size_t>(integer(7)) == 7u);
  CHECK(as<long long>(bulk("-12")) == -12);  // GET of a counter
  CHECK(as<unsigned long long>(bulk("18446744073709551615")) == std::numeric_limits<unsigned long long>::max());
  CHECK(as<std::uint8_t>(integer(255)) == 255);
  CHECK(as<std::int8_t>(integer(-128)) == -128);

  CHECK(error_of<std::uint8_t>(integer(256)).expected == "integer in [0, 255]");
  CHECK(error_of<std::uint8_t>(integer(256)).code == error::wrong_reply_type);
  CHECK(error_of<unsigned>(integer(-1)).code == error::wrong_reply_type);
  CHECK(error_of<unsigned>(bulk("-1")).code == error::wrong_reply_type);
  CHECK(error_of<int>(integer(1LL << 40)).code == error::wrong_reply_type);
  CHECK(error_of<long long>(bulk("99999999999999999999")).code == error::wrong_reply_type);
  for (const char* bad : {"", " 1", "1 ", "1x", "0x10", "1.0", "+1"}) {
    INFO(bad);
    auto err = error_of<long long>(bulk(bad));
    CHECK(err.code == error::wrong_reply_type);
    CHECK(err.expected == "integer");
  }
  CHECK(error_of<long long>(reply{}).code == error::wrong_reply_type);
  CHECK(error_of<long long>(reply::error("ERR value is not an integer")).code == error::server_error);
}

TEST_CASE("bool: 0 or 1 only", "[typed]") {
  CHECK(as<bool>(integer(1)));
  CHECK_FALSE(as<bool>(integer(0)));
  CHECK(as<bool>(bulk("1")));
  CHECK_FALSE(as<bool>(bulk("0")));
  CHECK(error_of<bool>(integer(2)).expected == "integer 0 or 1");
  CHECK(error_of<bool>(bulk("true")).code == error::wrong_reply_type);
  CHECK(error_of<bool>(reply::simple_string("OK")).code == error::wrong_reply_type);
  CHECK(error_of<bool>(reply{}).code == error::wrong_reply_type);
}

TEST_CASE("floating point: numbers in strings, integers, infinities", "[typed]") {
  CHECK(as<double>(bulk("3.5")) == 3.5);
  CHECK(as<double>(bulk("-1e3")) == -1000.0);
  CHECK(as<double>(integer(4)) == 4.0);
  CHECK(as<float>(bulk("0.25")) == 0.25f);
  CHECK(std::isinf(as<double>(bulk("inf"))));
  CHECK(as<double>(bulk("-inf")) < 0);
  CHECK(std::isinf(as<double>(bulk("+inf"))));
  for (const char* bad : {"", "abc", "1.5x", " 1", "+"}) {
    INFO(bad);
    CHECK(error_of<double>(bulk(bad)).expected == "number");
  }
  CHECK(error_of<double>(reply{}).code == error::wrong_reply_type);
}

TEST_CASE("optional: nil is empty, anything else converts as the value type", "[typed]") {
  CHECK(as<std::optional<std::string>>(reply{}) == std::nullopt);
  CHECK(as<std::optional<std::string>>(bulk("v")) == "v");
  CHECK(as<std::optional<long long>>(integer(3)) == 3);
  CHECK(error_of<std::optional<long long>>(bulk("x")).code == error::wrong_reply_type);
  CHECK(error_of<std::optional<std::string>>(reply::error("ERR x")).code == error::server_error);
  // MGET: some keys missing.
  auto values = as<std::vector<std::optional<std::string>>>(arr({bulk("a"), reply{}, bulk("c")}));
  REQUIRE(values.size() == 3);
  CHECK(values[0] == "a");
  CHECK(values[1] == std::nullopt);
  CHECK(values[2] == "c");
}

TEST_CASE("sequences and sets from arrays, with the failing element's path", "[typed]") {
  reply r = arr({bulk("b"), bulk("a"), bulk("b")});
  CHECK(as<std::vector<std::string>>(r) == std::vector<std::string>{"b", "a", "b"});
  CHECK(as<std::deque<std::string>>(r) == std::deque<std::string>{"b", "a", "b"});
  CHECK(as<std::list<std::string>>(r) == std::list<std::string>{"b", "a", "b"});
  CHECK(as<std::set<std::string>>(r) == std::set<std::string>{"a", "b"});
  CHECK(as<std::unordered_set<std::string>>(r) == std::unordered_set<std::string>{"a", "b"});
  CHECK(as<std::vector<bool>>(arr({integer(1), integer(0)})) == std::vector<bool>{true, false});
  CHECK(as<std::vector<int>>(arr({})).empty());
  CHECK(as<std::vector<std::vector<int>>>(arr({arr({integer(1)}), arr({})})) ==
        std::vector<std::vector<int>>{{1}, {}});

  auto bad = error_of<std::vector<long long>>(arr({integer(1), integer(2), bulk("x")}));
  CHECK(bad.code == error::wrong_reply_type);
  CHECK(bad.where == "reply[2]");
  CHECK(bad.message() == "reply[2]: expected integer, got bulk_string \"x\"");
  auto deep = error_of<std::vector<std::vector<int>>>(arr({arr({integer(1)}), arr({integer(2), reply{}})}));
  CHECK(deep.where == "reply[1][1]");
  CHECK(error_of<std::vector<std::string>>(bulk("x")).expected == "array");
  CHECK(error_of<std::vector<std::string>>(reply{}).code == error::wrong_reply_type);  // nil array: use optional
  CHECK(as<std::optional<std::vector<std::string>>>(reply{}) == std::nullopt);
  CHECK(error_of<std::set<int>>(arr({bulk("1"), bulk("z")})).where == "reply[1]");
  // EXEC: an error reply inside the array is a server_error at its position.
  auto exec = error_of<std::vector<long long>>(arr({integer(1), reply::error("WRONGTYPE wrong kind")}));
  CHECK(exec.code == error::server_error);
  CHECK(exec.where == "reply[1]");
}

TEST_CASE("maps from flat field/value arrays (HGETALL, CONFIG GET) and from pairs of arrays", "[typed]") {
  reply flat = arr({bulk("name"), bulk("ada"), bulk("age"), bulk("36")});
  auto m = as<std::map<std::string, std::string>>(flat);
  CHECK(m == std::map<std::string, std::string>{{"name", "ada"}, {"age", "36"}});
  auto um = as<std::unordered_map<std::string, std::string>>(flat);
  CHECK(um.size() == 2);
  CHECK(um.at("age") == "36");
  CHECK(as<std::map<std::string, std::string>>(arr({})).empty());  // HGETALL of a missing key

  auto typed = error_of<std::map<std::string, int>>(flat);  // "ada" is not an int
  CHECK(typed.where == "reply[1]");
  CHECK(typed.code == error::wrong_reply_type);
  auto odd = error_of<std::map<std::string, std::string>>(arr({bulk("k")}));
  CHECK(odd.expected == "array of field/value pairs (an even number of elements)");
  CHECK(error_of<std::map<std::string, std::string>>(bulk("x")).code == error::wrong_reply_type);

  // A repeated field keeps its first value.
  CHECK(as<std::map<std::string, int>>(arr({bulk("k"), integer(1), bulk("k"), integer(2)})).at("k") == 1);

  // The nested shape: [[k, v], [k, v]].
  reply nested = arr({arr({bulk("a"), integer(1)}), arr({bulk("b"), integer(2)})});
  CHECK(as<std::map<std::string, long long>>(nested) == std::map<std::string, long long>{{"a", 1}, {"b", 2}});
  auto short_pair = error_of<std::map<std::string, long long>>(arr({arr({bulk("a"), integer(1)}), arr({bulk("b")})}));
  CHECK(short_pair.where == "reply[1]");
  CHECK(short_pair.expected == "array of 2");
  auto bad_value = error_of<std::map<std::string, long long>>(arr({arr({bulk("a"), bulk("x")})}));
  CHECK(bad_value.where == "reply[0][1]");
}

TEST_CASE("containers of pairs keep the order (ZRANGE ... WITHSCORES)", "[typed]") {
  reply withscores = arr({bulk("b"), bulk("1.5"), bulk("a"), bulk("2")});
  auto v = as<std::vector<std::pair<std::string, double>>>(withscores);
  REQUIRE(v.size() == 2);
  CHECK(v[0] == std::pair<std::string, double>{"b", 1.5});
  CHECK(v[1] == std::pair<std::string, double>{"a", 2.0});
  auto nested = as<std::vector<std::pair<std::string, long long>>>(arr({arr({bulk("x"), integer(1)})}));
  REQUIRE(nested.size() == 1);
  CHECK(nested[0].second == 1);
  CHECK(error_of<std::vector<std::pair<std::string, double>>>(arr({bulk("a")})).code == error::wrong_reply_type);
}

TEST_CASE("tuples, pairs and arrays need exactly as many elements", "[typed]") {
  reply r = arr({bulk("k"), integer(3), reply{}});
  auto [k, n, missing] = as<std::tuple<std::string, int, std::optional<std::string>>>(r);
  CHECK(k == "k");
  CHECK(n == 3);
  CHECK(missing == std::nullopt);
  CHECK(as<std::pair<std::string, long long>>(arr({bulk("x"), integer(1)})).second == 1);
  CHECK(as<std::array<long long, 2>>(arr({integer(1), integer(2)})) == std::array<long long, 2>{1, 2});

  CHECK(error_of<std::tuple<std::string, int>>(r).expected == "array of 2");
  CHECK(error_of<std::tuple<std::string, int>>(r).got == "array of 3");
  CHECK(error_of<std::pair<int, int>>(integer(1)).expected == "array of 2");
  CHECK(error_of<std::array<int, 3>>(arr({integer(1)})).expected == "array of 3");
  CHECK(error_of<std::tuple<std::string, std::string_view, int>>(r).where == "reply[1]");  // stops there
  CHECK(error_of<std::tuple<std::string, int, int>>(r).where == "reply[2]");
}

TEST_CASE("reply and ignore_t", "[typed]") {
  reply e = reply::error("ERR x");
  CHECK(as<reply>(e) == e);  // a copy, error replies included
  CHECK_FALSE(error_of<redis_ha::ignore_t>(reply::simple_string("OK")));
  CHECK_FALSE(error_of<redis_ha::ignore_t>(reply{}));
  CHECK(error_of<redis_ha::ignore_t>(e).code == error::server_error);
}

TEST_CASE("a whole response into a tuple", "[typed]") {
  response resp{reply::simple_string("OK"), integer(2), reply{}, arr({bulk("a"), bulk("b")})};
  auto [ok, n, v, l] = as<redis_ha::ignore_t, long long, std::optional<std::string>, std::vector<std::string>>(resp);
  (void)ok;
  CHECK(n == 2);
  CHECK(v == std::nullopt);
  CHECK(l == std::vector<std::string>{"a", "b"});

  conversion_error err;
  (void)as<redis_ha::ignore_t, long long>(resp, err);
  CHECK(err.code == error::wrong_reply_type);
  CHECK(err.message() == "response: expected a response of 2 replies, got 4 replies");
  (void)as<redis_ha::ignore_t, long long, std::string, std::vector<std::string>>(resp, err);
  CHECK(err.where == "response[2]");
  (void)as<redis_ha::ignore_t, long long, std::optional<int>, std::vector<int>>(resp, err);
  CHECK(err.where == "response[3][0]");
  (void)as<long long, long long, reply, reply>(resp, err);
  CHECK(err.where == "response[0]");
  CHECK(err.got == "simple_string \"OK\"");

  std::error_code ec;
  auto [x] = as<long long>(response{integer(9)}, ec);
  CHECK_FALSE(ec);
  CHECK(x == 9);
  (void)as<long long>(response{bulk("?")}, ec);
  CHECK(ec == error::wrong_reply_type);
  (void)as<long long>(response{reply::error("ERR")}, ec);
  CHECK(ec == error::server_error);
}

TEST_CASE("the throwing forms throw redis_ha::system_error, a std::system_error, with the message", "[typed]") {
  try {
    (void)as<std::map<std::string, int>>(arr({bulk("k"), bulk("v")}));
    FAIL("no throw");
  } catch (const std::system_error& e) {  // the one rule: catch std::system_error
    CHECK(e.code() == error::wrong_reply_type);
    CHECK(std::string(e.what()).find("reply[1]: expected integer in [") == 0);
    CHECK(dynamic_cast<const redis_ha::system_error*>(&e) != nullptr);
  }
  CHECK_THROWS_AS(as<long long>(response{}), redis_ha::system_error);
  CHECK_THROWS_WITH(as<int>(reply::error("NOPERM no")), Catch::Contains("error \"NOPERM no\""));
  std::error_code ec;
  CHECK(as<int>(bulk("5"), ec) == 5);
  CHECK_FALSE(ec);
  CHECK(as<int>(bulk("x"), ec) == 0);  // a default value on error
  CHECK(ec == error::wrong_reply_type);
}

TEST_CASE("conversion_error describes long strings briefly", "[typed]") {
  auto err = error_of<long long>(bulk(std::string(100, 'z')));
  CHECK(err.got == "bulk_string \"" + std::string(60, 'z') + "...\"");
}

// --- the customization point -------------------------------------------------

namespace app {
struct point {
  double x = 0, y = 0;
};
struct user {
  std::string name;
  int age = 0;
};
}  // namespace app

template <>
struct redis_ha::reply_converter<app::point> {
  static void convert(const redis_ha::reply& r, app::point& out, redis_ha::conversion_error& err) {
    std::pair<double, double> xy;
    if (redis_ha::convert(r, xy, err)) out = app::point{xy.first, xy.second};
  }
};

namespace redis_ha {
template <>
struct reply_converter<app::user> {
  static void convert(const reply& r, app::user& out, conversion_error& err) {
    std::map<std::string, std::string> fields;
    if (!redis_ha::convert(r, fields, err)) return;
    auto name = fields.find("name");
    auto age = fields.find("age");
    if (name == fields.end() || age == fields.end()) return err.mismatch(r, "a hash with name and age");
    out.name = name->second;
    if (!redis_ha::convert(reply::bulk_string(age->second), out.age, err)) err.where = "[age]";
  }
};
}  // namespace redis_ha

TEST_CASE("user types through reply_converter, nested in standard ones", "[typed]") {
  // GEOPOS: an array of [longitude, latitude] pairs, nil for a missing member.
  reply geopos = arr({arr({bulk("13.36"), bulk("38.11")}), reply{}});
  auto points = as<std::vector<std::optional<app::point>>>(geopos);
  REQUIRE(points.size() == 2);
  REQUIRE(points[0]);
  CHECK(points[0]->x == Approx(13.36));
  CHECK(points[0]->y == Approx(38.11));
  CHECK_FALSE(points[1]);
  CHECK(error_of<app::point>(arr({bulk("1")})).expected == "array of 2");

  auto u = as<app::user>(arr({bulk("name"), bulk("ada"), bulk("age"), bulk("36")}));
  CHECK(u.name == "ada");
  CHECK(u.age == 36);
  CHECK(error_of<app::user>(arr({bulk("name"), bulk("ada")})).expected == "a hash with name and age");
  auto bad_age = error_of<app::user>(arr({bulk("name"), bulk("ada"), bulk("age"), bulk("old")}));
  CHECK(bad_age.where == "reply[age]");
  auto [p, n] = as<app::point, long long>(response{arr({integer(1), integer(2)}), integer(3)});
  CHECK(p.y == 2.0);
  CHECK(n == 3);
}
