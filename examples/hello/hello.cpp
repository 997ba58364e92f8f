// hello -- the smallest tour of redis-ha: connect, SET, GET, INCR.
//
//   redis_ha_hello [--host HOST] [--port PORT]
//
// The port defaults to $REDIS_HA_TEST_PORT (set by redis_ha_with_server),
// else 6379. Written as a C++20 coroutine with asio::use_awaitable: every
// co_await either returns the result or throws std::system_error.
#include <redis_ha.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

namespace {

asio::awaitable<void> hello(redis_ha::address addr) {
  // Each co_await stands in a statement of its own, creating no temporary:
  // GCC 12 destroys aggregate temporaries of a co_await full-expression twice
  // (e.g. `connection conn{co_await asio::this_coro::executor};`, whose
  // default connection_config{} argument is one).
  auto executor = co_await asio::this_coro::executor;

  redis_ha::connection_config cfg;
  cfg.client_name = "redis_ha_hello";
  redis_ha::connection conn{executor, cfg};

  co_await conn.async_connect(addr, asio::use_awaitable);
  std::cout << "connected to " << addr.host << ':' << addr.port << '\n';

  // Several commands in one request go out as one pipeline; the response
  // holds one reply per command, in order.
  redis_ha::request req;
  req.push("SET", "redis_ha:hello:greeting", "Hello from redis-ha!");
  req.push("GET", "redis_ha:hello:greeting");
  req.push("INCR", "redis_ha:hello:runs");

  redis_ha::response resp = co_await conn.async_exec(req, asio::use_awaitable);

  // as_string() / as_integer() throw if a reply has another type (or is an
  // error reply); the (std::error_code&) overloads report it instead.
  std::cout << "SET  redis_ha:hello:greeting -> " << resp.at(0).as_string() << '\n'
            << "GET  redis_ha:hello:greeting -> " << resp.at(1).as_string() << '\n'
            << "INCR redis_ha:hello:runs     -> " << resp.at(2).as_integer() << '\n';

  conn.close();
}

[[noreturn]] void usage(char const* argv0) {
  std::cerr << "usage: " << argv0 << " [--host HOST] [--port PORT]\n"
            << "  PORT defaults to $REDIS_HA_TEST_PORT, else 6379\n";
  std::exit(2);
}

std::uint16_t parse_port(char const* argv0, std::string_view text) {
  char* end = nullptr;
  std::string const s{text};
  unsigned long const port = std::strtoul(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || port == 0 || port > 65535) {
    std::cerr << argv0 << ": invalid port '" << s << "'\n";
    usage(argv0);
  }
  return static_cast<std::uint16_t>(port);
}

}  // namespace

int main(int argc, char** argv) {
  redis_ha::address addr;
  addr.host = "127.0.0.1";
  addr.port = 6379;
  if (char const* env = std::getenv("REDIS_HA_TEST_PORT"); env != nullptr && *env != '\0') {
    addr.port = parse_port(argv[0], env);
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view const arg = argv[i];
    if (arg == "--port" && i + 1 < argc) {
      addr.port = parse_port(argv[0], argv[++i]);
    } else if (arg == "--host" && i + 1 < argc) {
      addr.host = argv[++i];
    } else {
      usage(argv[0]);
    }
  }

  asio::io_context ctx;
  int status = 0;
  asio::co_spawn(ctx, hello(addr), [&](std::exception_ptr e) {
    if (!e) return;
    status = 1;
    try {
      std::rethrow_exception(e);
    } catch (std::exception const& ex) {
      std::cerr << "hello failed: " << ex.what() << '\n';
    }
  });
  ctx.run();
  return status;
}
