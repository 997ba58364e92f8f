// Tests of the real-server harness: tests/support/{free_port,temp_dir,process,redis_server,sync_client}.hpp
// and the redis_ha_with_server runner.

#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>

#include "support/eventually.hpp"
#include "support/free_port.hpp"
#include "support/info.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/sync_client.hpp"
#include "support/temp_dir.hpp"

using namespace redis_ha::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0; }

}  // namespace

TEST_CASE("free_port never hands out the same port twice", "[harness]") {
  std::set<std::uint16_t> ports;
  for (int i = 0; i < 50; ++i) ports.insert(free_port());
  CHECK(ports.size() == 50);
}

TEST_CASE("temp_dir creates a directory and removes it recursively", "[harness]") {
  std::filesystem::path path;
  {
    temp_dir dir;
    path = dir.path();
    REQUIRE(std::filesystem::is_directory(path));
    std::filesystem::create_directories(path / "a" / "b");
  }
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("redis_node starts a server on 127.0.0.1 that answers", "[harness]") {
  redis_node node;
  REQUIRE(node.running());
  CHECK(node.pid() > 0);
  CHECK(command(node.port(), {"PING"}).str == "PONG");
  CHECK(command(node.port(), {"SET", "k", "v"}).str == "OK");
  CHECK(command(node.port(), {"GET", "k"}).str == "v");
  CHECK(command(node.port(), {"GET", "missing"}).is_nil());
  CHECK(command(node.port(), {"CONFIG", "GET", "bind"}).elements.at(1).str == "127.0.0.1");
  CHECK(command(node.port(), {"CONFIG", "GET", "save"}).elements.at(1).str.empty());
  CHECK(node.log_tail(50).find("Ready to accept connections") != std::string::npos);
  REQUIRE_THROWS_AS(command(node.port(), {"NO-SUCH-COMMAND"}), reply_error);
}

TEST_CASE("kill() makes connects fail and restart() brings the server back empty on the same port", "[harness]") {
  redis_node node;
  const auto port = node.port();
  command(port, {"SET", "k", "v"});

  node.kill();
  CHECK_FALSE(node.running());
  CHECK(node.pid() == -1);
  try {
    command(port, {"PING"}, {}, 500ms);
    FAIL("PING to a killed server succeeded");
  } catch (const connection_error& e) {
    CHECK_FALSE(e.timed_out());
  }

  node.restart();
  CHECK(node.port() == port);
  CHECK(command(port, {"PING"}).str == "PONG");
  CHECK(command(port, {"DBSIZE"}).integer == 0);
}

TEST_CASE("pause() makes commands time out and resume() makes the server answer again", "[harness]") {
  redis_node node;
  sync_connection existing(node.port(), 300ms);
  node.pause();
  CHECK(node.paused());
  CHECK(node.running());
  try {
    command(node.port(), {"PING"}, {}, 300ms);  // the kernel still completes the connect
    FAIL("PING to a paused server succeeded");
  } catch (const connection_error& e) {
    CHECK(e.timed_out());
  }
  CHECK_THROWS_AS(existing.command({"PING"}), connection_error);

  node.resume();
  CHECK_FALSE(node.paused());
  CHECK(command(node.port(), {"PING"}, {}, 1000ms).str == "PONG");
}

TEST_CASE("stop() terminates the server gracefully and the destructor kills a paused one", "[harness]") {
  pid_t pid = -1;
  {
    redis_node node;
    pid = node.pid();
    node.stop();
    CHECK_FALSE(node.running());
    CHECK(node.log_tail(5).find("ready to exit") != std::string::npos);
    node.restart();
    pid = node.pid();
    node.pause();
  }
  CHECK_FALSE(process_exists(pid));
}

TEST_CASE("requirepass rejects commands without AUTH", "[harness]") {
  redis_node node(server_options{.requirepass = "s3cret"});
  CHECK(node.password() == "s3cret");
  CHECK_THROWS_WITH(command(node.port(), {"PING"}), Contains("NOAUTH"));
  CHECK_THROWS_AS(command(node.port(), {"PING"}, "wrong"), reply_error);
  CHECK(command(node.port(), {"PING"}, "s3cret").str == "PONG");
  CHECK(node.command({"PING"}).str == "PONG");
}

TEST_CASE("replicaof and extra_config are applied", "[harness]") {
  redis_node master;
  redis_node replica(server_options{.replicaof = master.port(), .extra_config = {"maxclients 123"}});
  CHECK(replica.command({"CONFIG", "GET", "maxclients"}).elements.at(1).str == "123");
  master.command({"SET", "k", "v"});
  CHECK(eventually([&] { return replica.command({"GET", "k"}).str == "v"; }, 5s));
  CHECK(parse_info(replica.command({"INFO", "replication"}).str).at("master_port") == std::to_string(master.port()));
}

TEST_CASE("a node that cannot start fails with its log in the exception", "[harness]") {
  CHECK_THROWS_WITH(redis_node(server_options{.extra_config = {"no-such-directive yes"}}),
                    Contains("exited with code") && Contains("no-such-directive"));
}

TEST_CASE("a sentinel node monitors the given master", "[harness]") {
  redis_node master;
  redis_node sentinel(sentinel_options{.master_port = master.port(), .master_name = "alpha", .quorum = 1});
  CHECK(sentinel.is_sentinel());
  const auto addr = sentinel.command({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "alpha"});
  REQUIRE(addr.elements.size() == 2);
  CHECK(addr.elements[0].str == "127.0.0.1");
  CHECK(addr.elements[1].str == std::to_string(master.port()));
  const auto info = sentinel.command({"SENTINEL", "MASTER", "alpha"});
  CHECK(info.field("down-after-milliseconds") == "1000");
  CHECK(info.field("failover-timeout") == "5000");
}

TEST_CASE("redis_ha_with_server runs a command against a server and returns its exit code", "[harness]") {
  const std::string script =
      "test \"$REDIS_HA_TEST_PASSWORD\" = pw && "
      "redis-cli -h 127.0.0.1 -p \"$REDIS_HA_TEST_PORT\" -a pw --no-auth-warning PING | grep -qx PONG && exit 7";
  auto runner = child_process::spawn({REDIS_HA_WITH_SERVER, "--requirepass", "pw", "--", "sh", "-c", script});
  CHECK(runner.wait() == 7);
  CHECK(child_process::spawn({REDIS_HA_WITH_SERVER, "--", "true"}).wait() == 0);
  CHECK(child_process::spawn({REDIS_HA_WITH_SERVER, "--", "sh", "-c", "kill -9 $$"}).wait() == 128 + SIGKILL);
  CHECK(child_process::spawn({REDIS_HA_WITH_SERVER, "--", "/no/such/program"}).wait() == 125);
}
