// reply accessors and error category.
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>

using redis_ha::error;
using redis_ha::reply;

TEST_CASE("reply accessors return values for the right type", "[reply]") {
  std::error_code ec;
  CHECK(reply::bulk_string("x").as_string(ec) == "x");
  CHECK_FALSE(ec);
  CHECK(reply::simple_string("OK").as_string() == "OK");
  CHECK(reply::integer(5).as_integer() == 5);
  auto a = reply::array({reply::integer(1), reply::integer(2)});
  CHECK(a.as_array().size() == 2);
  CHECK(a.size() == 2);
  CHECK(a[1] == reply::integer(2));
}

TEST_CASE("reply accessors report a type mismatch as an error", "[reply]") {
  std::error_code ec;
  CHECK(reply::integer(1).as_string(ec).empty());
  CHECK(ec == error::wrong_reply_type);
  CHECK(reply::bulk_string("1").as_integer(ec) == 0);
  CHECK(ec == error::wrong_reply_type);
  CHECK(reply{}.as_array(ec).empty());
  CHECK(ec == error::wrong_reply_type);
  CHECK_THROWS_AS(reply{}.as_string(), redis_ha::system_error);
  // An error reply reports server_error, with the server's text in what().
  reply e = reply::error("READONLY You can't write against a read only replica.");
  CHECK(e.as_string(ec).empty());
  CHECK(ec == error::server_error);
  CHECK(e.error_prefix() == "READONLY");
  try {
    (void)e.as_integer();
    FAIL("no throw");
  } catch (const redis_ha::system_error& x) {
    CHECK(x.code() == error::server_error);
    CHECK(std::string(x.what()).find("READONLY") != std::string::npos);
  }
}

TEST_CASE("reply renders like redis-cli", "[reply]") {
  auto r = reply::array({reply::bulk_string("a"), reply::integer(2), reply{}, reply::error("ERR x")});
  CHECK(r.to_string() == "[\"a\", (integer) 2, (nil), (error) ERR x]");
}

TEST_CASE("error category has a name and a distinct message per code", "[error]") {
  std::error_code ec = error::auth_failed;
  CHECK(std::string(ec.category().name()) == "redis_ha");
  std::set<std::string> messages;
  for (int i = static_cast<int>(error::protocol_error); i <= static_cast<int>(error::line_too_long); ++i) {
    auto m = redis_ha::make_error_code(static_cast<error>(i)).message();
    CHECK(m != "unknown redis_ha error");
    messages.insert(m);
  }
  CHECK(messages.size() == static_cast<std::size_t>(error::line_too_long));
}
