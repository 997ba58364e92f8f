// Command encoding.
#include <redis_ha/request.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

TEST_CASE("request encodes commands as RESP arrays of bulk strings", "[request]") {
  redis_ha::request req;
  req.push("SET", "key", "value");
  CHECK(req.payload() == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
  CHECK(req.size() == 1);
  req.push("PING");
  CHECK(req.size() == 2);
  CHECK(req.payload().substr(req.payload().size() - 14) == "*1\r\n$4\r\nPING\r\n");
}

TEST_CASE("request encodes numbers in decimal and binary data verbatim", "[request]") {
  redis_ha::request req;
  req.push("EXPIRE", "k", 60).push("INCRBYFLOAT", "f", 0.5).push("X", std::string("a\0b", 3), -12LL);
  CHECK(req.payload() ==
        "*3\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n60\r\n"
        "*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\nf\r\n$3\r\n0.5\r\n" +
            std::string("*3\r\n$1\r\nX\r\n$3\r\na\0b\r\n$3\r\n-12\r\n", 29));
}

TEST_CASE("request takes ranges", "[request]") {
  std::vector<std::string> values{"a", "bb"};
  redis_ha::request req;
  req.push_range("RPUSH", "list", values);
  CHECK(req.payload() == "*4\r\n$5\r\nRPUSH\r\n$4\r\nlist\r\n$1\r\na\r\n$2\r\nbb\r\n");
  redis_ha::request argv;
  argv.push_argv(std::vector<std::string>{"GET", "k"});
  CHECK(argv.payload() == "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  argv.clear();
  CHECK(argv.empty());
  CHECK(argv.payload().empty());
}
