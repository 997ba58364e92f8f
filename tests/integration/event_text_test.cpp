// What the client says is true (issue #9, defect 4): each situation below
// once produced a misleading event or log line. The tests assert the event
// kinds, error codes and texts, and that the misleading words are gone.
#include <redis_ha/client.hpp>

#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "support/client_on.hpp"
#include "support/fake_server.hpp"
#include "support/fault_proxy.hpp"
#include "support/free_port.hpp"
#include "support/ha_config.hpp"
#include "support/io_thread.hpp"
#include "support/redis_server.hpp"

using namespace std::chrono_literals;
using redis_ha::error;
using redis_ha::client_event;
using redis_ha::log_level;
using redis_ha::test::client_on;
using redis_ha::test::cmd;
using redis_ha::test::io_thread;

namespace {

redis_ha::client_config direct(std::uint16_t port) {
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", port}};
  cfg.backoff_max = 100ms;
  cfg.failover_budget = 1500ms;
  return cfg;
}

redis_ha::client_config through_sentinel(std::uint16_t port) {
  auto cfg = redis_ha::test::sentinel_client_config(std::vector<std::uint16_t>{port}, "mymaster");
  cfg.failover_budget = 1500ms;
  cfg.backoff_max = 100ms;
  return cfg;
}

// A fake sentinel that answers every SENTINEL query with `answer`.
redis_ha::test::fake_server sentinel_answering(std::string answer) {
  return redis_ha::test::fake_server([answer](const std::vector<std::string>& argv) -> std::string {
    if (!argv.empty() && argv[0] == "PING") return "+PONG\r\n";
    return answer;
  });
}

}  // namespace

TEST_CASE("a refused connect is a failed connect, logged once per cause, never a closed connection",
          "[events][direct]") {
  const auto port = redis_ha::test::free_port();  // nothing listens there
  io_thread io;
  client_on c(io, direct(port));
  auto [ec, resp] = c.exec(cmd({"SET", "k", "v"}), 10s);
  INFO(c.all_log());
  CHECK(ec == error::master_unavailable);
  // Many attempts (every <= 100 ms for 1.5 s), few warnings: one per cause,
  // then counted, not printed.
  CHECK(c.stats().resolutions >= 5);
  CHECK(c.logged("", log_level::warning).size() <= 2);
  CHECK_FALSE(c.logged("Connection refused", log_level::warning).empty());
  CHECK_FALSE(c.logged("connecting to 127.0.0.1:" + std::to_string(port) + " failed").empty());
  CHECK(c.logged("closed: Connection refused").empty());
  // Direct mode has no Sentinel: nothing may say one named the master.
  CHECK(c.logged("Sentinel").empty());
  CHECK(c.logged("sentinel").empty());
  // The budget's error line says what the last attempt found.
  CHECK_FALSE(c.logged("no verified master within 1500 ms", log_level::error).empty());
}

TEST_CASE("garbage from a sentinel is a protocol error, not a lost connection of unknown outcome",
          "[events][sentinel]") {
  auto s = sentinel_answering("+OK\r\n");  // a status line where an address array belongs
  io_thread io;
  client_on c(io, through_sentinel(s.port()));
  auto [ec, resp] = c.exec(cmd({"SET", "k", "v"}), 10s);
  INFO(c.all_log());
  CHECK(ec == error::sentinel_protocol_error);
  CHECK(c.logged("outcome").empty());
  CHECK(c.logged("connection lost").empty());
  auto failed = c.events_of(client_event::kind::resolve_failed);
  REQUIRE_FALSE(failed.empty());
  CHECK(failed.front().ec == error::sentinel_protocol_error);
}

TEST_CASE("a reachable sentinel that returns a malformed address is not 'no sentinel reachable'",
          "[events][sentinel]") {
  // An address array whose port is not a number.
  auto s = sentinel_answering("*2\r\n$9\r\n127.0.0.1\r\n$4\r\nsix!\r\n");
  io_thread io;
  client_on c(io, through_sentinel(s.port()));
  auto [ec, resp] = c.exec(cmd({"SET", "k", "v"}), 10s);
  INFO(c.all_log());
  CHECK(ec == error::sentinel_protocol_error);
  CHECK(ec != error::no_sentinel_reachable);
  CHECK(c.detail().find("127.0.0.1:" + std::to_string(s.port())) != std::string::npos);
}

TEST_CASE("an idempotent request resent after a lost connection: the events say resent, not unknown",
          "[events][retry]") {
  redis_ha::test::redis_node node;
  redis_ha::test::fault_proxy proxy(node.port());
  io_thread io;
  auto cfg = direct(proxy.port());
  cfg.direct_probe_interval = 0ms;  // the proxy is the only way in: nothing to probe
  cfg.failover_budget = 10s;
  client_on c(io, cfg);
  REQUIRE(c.exec(cmd({"SET", "k", "0"})).first == std::error_code{});
  // The SET is in flight (delayed by the proxy) when the connection drops.
  proxy.delay(300ms);
  auto fut = std::async(std::launch::async, [&] { return c.exec(cmd({"SET", "k", "1"}), 10s); });
  std::this_thread::sleep_for(100ms);
  proxy.drop_all();
  proxy.pass();
  auto [ec, resp] = fut.get();
  INFO(c.all_log());
  CHECK(ec == std::error_code{});
  auto retries = c.events_of(client_event::kind::retry);
  REQUIRE_FALSE(retries.empty());
  CHECK(retries.front().detail.find("resent") != std::string::npos);
  CHECK(retries.front().detail.find("idempotent") != std::string::npos);
  auto lost = c.events_of(client_event::kind::master_lost);
  REQUIRE_FALSE(lost.empty());
  CHECK(c.logged("outcome is unknown").empty());
  CHECK(c.logged("outcome unknown").empty());
}

TEST_CASE("running out of file descriptors is reported as such, not as 'Operation aborted'", "[events][fd]") {
  redis_ha::test::redis_node node;
  io_thread io;
  auto cfg = direct(node.port());
  cfg.direct_probe_interval = 0ms;
  {
    client_on warm(io, cfg);  // the io_thread's own descriptors exist before the limit
    REQUIRE(warm.exec(cmd({"PING"})).first == std::error_code{});
  }
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
  // Fill the table but for a few descriptors, then lower the limit so that
  // no new socket can be made.
  std::vector<int> held;
  for (int i = 0; i < 4096; ++i) {
    int fd = ::dup(0);
    if (fd < 0) break;
    held.push_back(fd);
  }
  REQUIRE_FALSE(held.empty());
  rlimit low = old;
  low.rlim_cur = static_cast<rlim_t>(held.back() + 1);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  std::string all;
  std::error_code ec;
  {
    client_on c(io, cfg);
    ec = c.exec(cmd({"SET", "k", "v"}), 10s).first;
    all = c.all_log();
    INFO(all);
    CHECK(ec == error::master_unavailable);
    CHECK_FALSE(c.logged("Too many open files").empty());
    CHECK(c.logged("Operation aborted").empty());
    CHECK(c.detail().find("Too many open files") != std::string::npos);
  }
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &old) == 0);
  for (int fd : held) ::close(fd);
}
