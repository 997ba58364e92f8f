// RESP decoding through hiredis's reader: every type, every split point,
// malformed input, and the limits that bound memory and time for any input.
#include <redis_ha/detail/resp_reader.hpp>

#include <catch2/catch.hpp>

#include "support/proc_memory.hpp"

#include <chrono>
#include <climits>
#include <limits>
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

TEST_CASE("resp_reader refuses an oversized bulk at its header, before any payload", "[resp][limits]") {
  reader_limits limits;
  limits.max_bulk_length = 10;
  CHECK_FALSE(decode("$10\r\n0123456789\r\n", 1 << 20, limits).ec);
  CHECK(decode("$11\r\n0123456789a\r\n", 1 << 20, limits).ec == error::reply_too_large);
  // The header alone is enough: nothing of the payload has to arrive.
  for (std::string header : {"$11\r\n", "$1099511627776\r\n", "$9223372036854775807\r\n"}) {
    INFO(header);
    resp_reader r{limits};
    REQUIRE_FALSE(r.feed(header.data(), header.size()));
    reply x;
    std::error_code ec;
    CHECK_FALSE(r.next(x, ec));
    CHECK(ec == error::reply_too_large);
    CHECK(r.error_text().find("max_bulk_length") != std::string::npos);
  }
  // Byte by byte, it fails on the header's last byte.
  const std::string huge = "$1000000000\r\n";
  resp_reader r{limits};
  reply x;
  std::error_code ec;
  for (std::size_t i = 0; i + 1 < huge.size(); ++i) {
    REQUIRE_FALSE(r.feed(&huge[i], 1));
    REQUIRE_FALSE(r.next(x, ec));
    REQUIRE_FALSE(ec);
  }
  REQUIRE_FALSE(r.feed(&huge.back(), 1));
  CHECK_FALSE(r.next(x, ec));
  CHECK(ec == error::reply_too_large);
  // The default is one a service can afford per connection.
  CHECK(reader_limits{}.max_bulk_length <= (std::size_t{64} << 20));
}

TEST_CASE("resp_reader delivers the replies before the one that breaks a limit", "[resp][limits]") {
  reader_limits limits;
  limits.max_bulk_length = 10;
  limits.max_line_length = 8;
  for (std::string bad : {"$100\r\n", "+123456789\r\n", "+123456789", ":123456789012345678901"}) {
    INFO(bad);
    auto d = decode("+OK\r\n:1\r\n*1\r\n$2\r\nhi\r\n" + bad, 1 << 20, limits);
    CHECK(d.ec);
    REQUIRE(d.replies.size() == 3);
    CHECK(d.replies[2] == arr({reply::bulk_string("hi")}));
  }
}

TEST_CASE("resp_reader caps line length: simple strings, errors, integers, length lines", "[resp][limits]") {
  reader_limits limits;
  limits.max_line_length = 10;
  CHECK(decode("+0123456789\r\n", 1 << 20, limits).replies.at(0) == reply::simple_string("0123456789"));
  CHECK(decode("+0123456789a\r\n", 1 << 20, limits).ec == error::line_too_long);
  CHECK(decode("-ERR 456789a\r\n", 1 << 20, limits).ec == error::line_too_long);
  // Without a CRLF in sight: refused once the line cannot end within the cap.
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{1} << 20}) {
    INFO(chunk);
    auto d = decode("+" + std::string(11, 'a'), chunk, limits);
    CHECK(d.ec == error::line_too_long);
    CHECK_FALSE(decode("+" + std::string(10, 'a') + "\r", chunk, limits).ec);  // may still end here
  }
  // Numbers are capped at 20 characters whatever max_line_length says.
  limits.max_line_length = 1 << 20;
  CHECK(decode(":-9223372036854775808\r\n", 1 << 20, limits).replies.at(0) == reply::integer(LLONG_MIN));
  CHECK(decode(":" + std::string(21, '1'), 1 << 20, limits).ec == error::line_too_long);
  CHECK(decode("$" + std::string(21, '1'), 1 << 20, limits).ec == error::line_too_long);
  CHECK(decode("*" + std::string(21, '1'), 1 << 20, limits).ec == error::line_too_long);
  // The error text names the limit, never hiredis's "Out of memory".
  resp_reader r;
  const std::string line = "+" + std::string(reader_limits{}.max_line_length + 1, 'x');
  REQUIRE_FALSE(r.feed(line.data(), line.size()));
  reply x;
  std::error_code ec;
  CHECK_FALSE(r.next(x, ec));
  CHECK(ec == error::line_too_long);
  CHECK(r.error_text().find("max_line_length") != std::string::npos);
}

TEST_CASE("resp_reader ends lines exactly where hiredis does", "[resp]") {
  // A line ends at the first "\r\n": bare '\r' and '\n' belong to it.
  auto d = decode("+a\rb\r\n+\r\r\n-x\ny\r\n+\n\r\n");
  REQUIRE_FALSE(d.ec);
  REQUIRE(d.replies.size() == 4);
  CHECK(d.replies[0] == reply::simple_string("a\rb"));
  CHECK(d.replies[1] == reply::simple_string("\r"));
  CHECK(d.replies[2] == reply::error("x\ny"));
  CHECK(d.replies[3] == reply::simple_string("\n"));
  for (std::size_t chunk = 1; chunk < 6; ++chunk) CHECK(decode("+a\rb\r\n+\r\r\n-x\ny\r\n+\n\r\n", chunk).replies == d.replies);
  // A bare line feed inside a number is malformed.
  CHECK(decode("$1\n\r\nx\r\n").ec == error::protocol_error);
  CHECK(decode("$01\r\nx\r\n").ec == error::protocol_error);
  CHECK(decode("$-2\r\n").ec == error::protocol_error);
}

TEST_CASE("resp_reader decodes a long line arriving byte by byte in linear time", "[resp][limits]") {
  // hiredis 0.14 rescans its buffer for CRLF on every call; the reader only
  // hands it complete lines. Quadratic rescanning of 300 kB would take
  // about 45 G comparisons (tens of seconds); linear decoding, milliseconds.
  reader_limits limits;
  limits.max_line_length = 1 << 20;
  const std::string line = "+" + std::string(300'000, 'a') + "\r\n";
  const auto t0 = std::chrono::steady_clock::now();
  auto d = decode(line, 1, limits);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  REQUIRE_FALSE(d.ec);
  REQUIRE(d.replies.size() == 1);
  CHECK(d.replies[0].as_string().size() == 300'000);
  CHECK(ms.count() < 2000);
}

TEST_CASE("resp_reader charges announced array elements to the reply budget", "[resp][limits]") {
  // Seven 12-byte headers announcing 10 million elements each are refused
  // at the first one: 10 M x sizeof(reply) is far beyond the default budget.
  std::string headers;
  for (int i = 0; i < 7; ++i) headers += "*10000000\r\n";
  resp_reader r;
  REQUIRE_FALSE(r.feed(headers.data(), headers.size()));
  reply x;
  std::error_code ec;
  CHECK_FALSE(r.next(x, ec));
  CHECK(ec == error::reply_too_large);
  CHECK(r.error_text().find("max_reply_size") != std::string::npos);
  // Strings count too: two 600-byte bulks do not fit in 1000 bytes.
  reader_limits limits;
  limits.max_reply_size = 1000;
  const std::string bulk = "$600\r\n" + std::string(600, 'x') + "\r\n";
  CHECK(decode("*1\r\n" + bulk, 1 << 20, limits).replies.size() == 1);
  CHECK(decode("*2\r\n" + bulk + bulk, 1 << 20, limits).ec == error::reply_too_large);
  CHECK(decode("*14\r\n", 1 << 20, limits).ec == error::reply_too_large);  // 14 x 72 > 1000
  // The budget is per reply: the next reply starts afresh.
  auto d = decode(bulk + bulk + bulk, 1 << 20, limits);
  CHECK_FALSE(d.ec);
  CHECK(d.replies.size() == 3);
}

TEST_CASE("resp_reader allocates array storage as elements arrive, not as announced", "[resp][limits]") {
  // With the budget out of the way, seven headers announcing 10 million
  // elements each used to reserve ~5 GB; now they cost a few KiB until
  // elements arrive.
  reader_limits limits;
  limits.max_reply_size = std::numeric_limits<std::size_t>::max();
  std::string headers;
  for (int i = 0; i < 7; ++i) headers += "*10000000\r\n";
  redis_ha::test::peak_rss_growth growth;
  resp_reader r{limits};
  REQUIRE_FALSE(r.feed(headers.data(), headers.size()));
  reply x;
  std::error_code ec;
  CHECK_FALSE(r.next(x, ec));
  CHECK_FALSE(ec);
  CHECK(growth.mib() < 32);
  // Arrays that grow past their first reservation keep every element.
  std::string big = "*3000\r\n";
  for (int i = 0; i < 3000; ++i) big += ":" + std::to_string(i) + "\r\n";
  for (std::size_t chunk : {std::size_t{7}, std::size_t{1} << 20}) {
    auto d = decode("*2\r\n" + big + big, chunk, limits);
    REQUIRE_FALSE(d.ec);
    REQUIRE(d.replies.size() == 1);
    const auto& outer = d.replies[0].as_array();
    REQUIRE(outer.size() == 2);
    for (const auto& a : outer) {
      REQUIRE(a.size() == 3000);
      for (int i = 0; i < 3000; ++i) REQUIRE(a[static_cast<std::size_t>(i)] == reply::integer(i));
    }
  }
}

TEST_CASE("resp_reader waits for more bytes on truncated input without error", "[resp]") {
  for (std::string partial : {"+OK", "$5\r\nhel", "*2\r\n:1\r\n", ":12"}) {
    auto d = decode(partial);
    INFO(partial);
    CHECK_FALSE(d.ec);
    CHECK(d.replies.empty());
  }
}
