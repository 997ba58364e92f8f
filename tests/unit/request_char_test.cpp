// request arguments: char is a one-character string; bool and wide
// characters are refused at compile time (redis_ha::is_request_argument_v).
#include <redis_ha/request.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using redis_ha::is_request_argument_v;

TEST_CASE("a char argument is sent as a one-character string", "[request]") {
  redis_ha::request req;
  req.push("SET", "k", 'x');
  CHECK(req.payload() == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nx\r\n");  // not "120"
  redis_ha::request nul;
  nul.push("SET", "k", '\0');
  CHECK(nul.payload() == std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n\0\r\n", 27));
  redis_ha::request range;
  range.push_range("RPUSH", "l", std::array<char, 2>{'a', 'b'});
  CHECK(range.payload() == "*4\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$1\r\nb\r\n");
}

TEST_CASE("signed and unsigned char are numbers (std::int8_t, std::uint8_t)", "[request]") {
  redis_ha::request req;
  req.push("X", std::uint8_t{200}, std::int8_t{-5});
  CHECK(req.payload() == "*3\r\n$1\r\nX\r\n$3\r\n200\r\n$2\r\n-5\r\n");
}

TEST_CASE("the argument trait: what push accepts and refuses", "[request]") {
  STATIC_REQUIRE(is_request_argument_v<char>);
  STATIC_REQUIRE(is_request_argument_v<std::string>);
  STATIC_REQUIRE(is_request_argument_v<std::string_view>);
  STATIC_REQUIRE(is_request_argument_v<const char*>);
  STATIC_REQUIRE(is_request_argument_v<char[4]>);
  STATIC_REQUIRE(is_request_argument_v<int>);
  STATIC_REQUIRE(is_request_argument_v<unsigned long long>);
  STATIC_REQUIRE(is_request_argument_v<double>);
  STATIC_REQUIRE(is_request_argument_v<std::uint8_t>);
  STATIC_REQUIRE_FALSE(is_request_argument_v<bool>);
  STATIC_REQUIRE_FALSE(is_request_argument_v<wchar_t>);
  STATIC_REQUIRE_FALSE(is_request_argument_v<char16_t>);
  STATIC_REQUIRE_FALSE(is_request_argument_v<char32_t>);
  STATIC_REQUIRE_FALSE(is_request_argument_v<char8_t>);
  STATIC_REQUIRE_FALSE(is_request_argument_v<std::vector<std::string>>);
  STATIC_REQUIRE_FALSE(is_request_argument_v<void*>);
}
