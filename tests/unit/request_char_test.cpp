// request arguments: char is a one-character string; bool and wide
// characters are refused at compile time (redis_ha::is_request_argument_v);
// script_args follow the same rules.
#include <redis_ha/request.hpp>
#include <redis_ha/script.hpp>

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

TEST_CASE("script_args take the values a request takes, char as a one-character string", "[request][scripts]") {
  redis_ha::script_args mixed{"k", 'x', 42, std::int8_t{-5}, 1.5};
  CHECK(mixed.values() == std::vector<std::string>{"k", "x", "42", "-5", "1.5"});
  redis_ha::script_args one = std::string("only");
  CHECK(one.values() == std::vector<std::string>{"only"});
  redis_ha::script_args chars(std::array<char, 2>{'a', 'b'});
  CHECK(chars.values() == std::vector<std::string>{"a", "b"});  // not "97", "98"
  redis_ha::script_args numbers(std::vector<int>{1, 2});
  CHECK(numbers.values() == std::vector<std::string>{"1", "2"});
  CHECK(redis_ha::script_args{}.size() == 0);
  STATIC_REQUIRE_FALSE(std::is_constructible_v<redis_ha::script_args, bool>);
  STATIC_REQUIRE_FALSE(std::is_constructible_v<redis_ha::script_args, const char*, bool>);
  STATIC_REQUIRE_FALSE(std::is_constructible_v<redis_ha::script_args, wchar_t>);
}
