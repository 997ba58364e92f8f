// RESP decoding through hiredis's reader: every type, every split point,
// malformed input and limits.
#include <redis_ha/detail/resp_reader.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using redis_ha::error;
using redis_ha::reply;
using redis_ha::reply_type;
using redis_ha::detail::reader_limits;
using redis_ha::detail::resp_reader;

namespace {

struct decoded {
  std::vector<reply> replies;
  std::error_code ec;
};

// Feeds `input` in chunks of at most `chunk` bytes and drains after each.
decoded decode(const std::string& input, std::size_t chunk = 1 << 20, reader_limits limits = {}) {
  resp_reader r{limits};
  decoded out;
  for (std::size_t pos = 0; pos < input.size() && !out.ec; pos += chunk) {
    auto n = std::min(chunk, input.size() - pos);
    if ((out.ec = r.feed(input.data() + pos, n))) break;
    reply x;
    while (r.next(x, out.ec)) out.replies.push_back(std::move(x));
  }
  return out;
}

reply arr(std::vector<reply> v) { return reply::array(std::move(v)); }

}  // namespace

TEST_CASE("resp_reader decodes every RESP2 type", "[resp]") {
  auto d = decode("+OK\r\n-ERR bad thing\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n");
  REQUIRE_FALSE(d.ec);
  REQUIRE(d.replies.size() == 9);
  CHECK(d.replies[0] == reply::simple_string("OK"));
  CHECK(d.replies[1] == reply::error("ERR bad thing"));
  CHECK(d.replies[1].error_prefix() == "ERR");
  CHECK(d.replies[2] == reply::integer(42));
  CHECK(d.replies[3] == reply::integer(-7));
  CHECK(d.replies[4] == reply::bulk_string("hello"));
  CHECK(d.replies[5] == reply::bulk_string(""));
  CHECK(d.replies[6].is_nil());
  CHECK(d.replies[7].is_nil());
  CHECK(d.replies[8] == arr({}));
}

TEST_CASE("resp_reader keeps binary bulk strings intact", "[resp]") {
  std::string payload("a\0b\r\nc", 6);
  auto d = decode("$6\r\n" + payload + "\r\n");
  REQUIRE(d.replies.size() == 1);
  CHECK(d.replies[0].as_string() == payload);
}

TEST_CASE("resp_reader builds nested arrays", "[resp]") {
  const std::string input = "*3\r\n:1\r\n*2\r\n$1\r\na\r\n*1\r\n+x\r\n$-1\r\n";
  auto d = decode(input);
  REQUIRE_FALSE(d.ec);
  REQUIRE(d.replies.size() == 1);
  CHECK(d.replies[0] == arr({reply::integer(1), arr({reply::bulk_string("a"), arr({reply::simple_string("x")})}), reply{}}));
}

TEST_CASE("resp_reader gives the same result for input split at every byte boundary", "[resp]") {
  const std::string input =
      "+OK\r\n:12345\r\n$11\r\nhello world\r\n*2\r\n*2\r\n:1\r\n$3\r\nabc\r\n-WRONGTYPE no\r\n$-1\r\n*0\r\n";
  auto whole = decode(input);
  REQUIRE_FALSE(whole.ec);
  REQUIRE(whole.replies.size() == 6);
  for (std::size_t split = 1; split < input.size(); ++split) {
    resp_reader r;
    std::vector<reply> got;
    std::error_code ec;
    reply x;
    REQUIRE_FALSE(r.feed(input.data(), split));
    while (r.next(x, ec)) got.push_back(std::move(x));
    REQUIRE_FALSE(ec);
    REQUIRE_FALSE(r.feed(input.data() + split, input.size() - split));
    while (r.next(x, ec)) got.push_back(std::move(x));
    REQUIRE_FALSE(ec);
    INFO("split at " << split);
    CHECK(got == whole.replies);
  }
  // And one byte at a time.
  CHECK(decode(input, 1).replies == whole.replies);
}

TEST_CASE("resp_reader reports malformed input as protocol_error", "[resp]") {
  for (std::string bad : {"?what\r\n", "hello\r\n", "*1\r\n!x\r\n", "*-5\r\n"}) {
    INFO(bad);
    auto d = decode(bad);
    CHECK(d.ec == error::protocol_error);
  }
}

TEST_CASE("resp_reader stays failed after an error until reset", "[resp]") {
  resp_reader r;
  std::error_code ec;
  reply x;
  REQUIRE_FALSE(r.feed("?\r\n", 3));
  CHECK_FALSE(r.next(x, ec));
  CHECK(ec == error::protocol_error);
  CHECK(r.feed("+OK\r\n", 5) == error::protocol_error);
  r.reset();
  REQUIRE_FALSE(r.feed("+OK\r\n", 5));
  CHECK(r.next(x, ec));
  CHECK(x == reply::simple_string("OK"));
}

TEST_CASE("resp_reader enforces the nesting limit", "[resp]") {
  reader_limits limits;
  limits.max_nesting_depth = 2;
  CHECK_FALSE(decode("*1\r\n*1\r\n:1\r\n", 1 << 20, limits).ec);
  CHECK(decode("*1\r\n*1\r\n*1\r\n:1\r\n", 1 << 20, limits).ec == error::nesting_too_deep);
  // hiredis 0.14 itself stops at depth 7 whatever the configured limit.
  limits.max_nesting_depth = 100;
  std::string deep;
  for (int i = 0; i < 12; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  CHECK(decode(deep, 1 << 20, limits).ec == error::nesting_too_deep);
}

TEST_CASE("resp_reader enforces the bulk length limit, even before the bulk is complete", "[resp]") {
  reader_limits limits;
  limits.max_bulk_length = 10;
  CHECK_FALSE(decode("$10\r\n0123456789\r\n", 1 << 20, limits).ec);
  CHECK(decode("$11\r\n0123456789a\r\n", 1 << 20, limits).ec == error::reply_too_large);
  // A huge announced length is refused once more than the limit is buffered,
  // without waiting for (or buffering) the rest.
  std::string huge = "$1000000000\r\n" + std::string(100, 'x');
  CHECK(decode(huge, 7, limits).ec == error::reply_too_large);
  // Arrays announcing more elements than the limit are refused up front.
  CHECK(decode("*1000\r\n", 1 << 20, limits).ec == error::reply_too_large);
}

TEST_CASE("resp_reader waits for more bytes on truncated input without error", "[resp]") {
  for (std::string partial : {"+OK", "$5\r\nhel", "*2\r\n:1\r\n", ":12"}) {
    auto d = decode(partial);
    INFO(partial);
    CHECK_FALSE(d.ec);
    CHECK(d.replies.empty());
  }
}
