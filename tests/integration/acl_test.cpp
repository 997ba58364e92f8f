// ACL users for the HA client: one restricted user on the data nodes
// (client_config::connection.username/password) and another one on the sentinels
// (client_config::sentinel.username/password), against a real Sentinel topology.
//
// The harness itself keeps full access: data nodes have a `requirepass` for the default
// user (used by the harness, by replication and by the sentinels' `auth-pass`), and the
// sentinels' default user stays without password (the harness' readiness PING and admin
// commands use it). The client under test only ever authenticates as `app` / `haclient`.
#include <redis_ha/client.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/ha_config.hpp"
#include "support/io_thread.hpp"
#include "support/eventually.hpp"
#include "support/topology.hpp"

using namespace std::chrono_literals;
using redis_ha::test::io_thread;
using Catch::Matchers::Contains;
using redis_ha::error;
using redis_ha::test::topology;

namespace {

// The data-node user: its own keys only, reads and writes but nothing dangerous, plus what
// the client's connection handshake (AUTH, CLIENT SETNAME, SELECT), its master check
// (ROLE) and its health check (PING) need. ROLE is in @dangerous, so it is added after.
const std::string app_user =
    "user app on >app-secret ~app:* resetchannels -@all +@read +@write -@dangerous "
    "+role +ping +auth +client|setname +select";

// The sentinel user: exactly what discovery and the failover-event subscriptions use.
const std::string sentinel_user =
    "user haclient on >sentinel-secret resetchannels -@all "
    "+sentinel|get-master-addr-by-name +sentinel|sentinels +sentinel|replicas "
    "+subscribe +psubscribe +ping +auth +client|setname "
    "&+switch-master &+promoted-slave &+failover-state-send-slaveof-noone &+odown &-failover-abort-*";

topology acl_topology() {
  redis_ha::test::topology_options options;
  options.requirepass = "admin-secret";  // the harness' default user, not the client's
  options.extra_server_config = {app_user};
  options.extra_sentinel_config = {sentinel_user};
  return topology{options};
}

redis_ha::client_config acl_config(topology& topo) {
  auto cfg = redis_ha::test::sentinel_client_config(topo);
  cfg.sentinel.username = "haclient";
  cfg.sentinel.password = "sentinel-secret";
  cfg.connection.username = "app";
  cfg.connection.password = "app-secret";
  cfg.connection.client_name = "acl-app";
  return cfg;
}


// A client on an io_thread, recording its events.
class acl_client {
 public:
  acl_client(io_thread& io, redis_ha::client_config cfg) : io_(io) {
    cfg.on_event = [this](const redis_ha::client_event& ev) {
      std::lock_guard lock(mutex_);
      events_.push_back(ev.type);
    };
    client_ = io_.call([&] { return std::make_unique<redis_ha::client>(io_.executor(), std::move(cfg)); });
  }
  ~acl_client() {
    io_.call([&] { client_.reset(); });
  }

  std::error_code wait_ready() {
    return std::get<0>(io_.await<>([this](auto h) { client_->async_wait_ready(std::move(h)); }));
  }
  std::tuple<std::error_code, redis_ha::response> exec(redis_ha::request req) {
    return io_.await<redis_ha::response>([this, req](auto h) { client_->async_exec(req, std::move(h)); });
  }
  redis_ha::client_stats stats() {
    return io_.call([this] { return client_->stats(); });
  }
  std::string last_error_detail() {
    return io_.call([this] { return client_->last_error_detail(); });
  }
  bool ready() {
    return io_.call([this] { return client_->ready(); });
  }
  std::size_t count(redis_ha::client_event::kind k) {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count(events_.begin(), events_.end(), k));
  }

 private:
  io_thread& io_;
  std::unique_ptr<redis_ha::client> client_;
  std::mutex mutex_;
  std::vector<redis_ha::client_event::kind> events_;
};

// CLIENT LIST entries (field -> value) of the connections named `name` on `node`.
std::vector<std::map<std::string, std::string>> clients_named(redis_ha::test::redis_node& node,
                                                              const std::string& name) {
  std::vector<std::map<std::string, std::string>> result;
  std::istringstream in(node.command({"CLIENT", "LIST"}).str);
  for (std::string line; std::getline(in, line);) {
    std::map<std::string, std::string> fields;
    std::istringstream words(line);
    for (std::string w; words >> w;)
      if (const auto eq = w.find('='); eq != std::string::npos) fields[w.substr(0, eq)] = w.substr(eq + 1);
    if (fields["name"] == name) result.push_back(std::move(fields));
  }
  return result;
}

}  // namespace

TEST_CASE("acl: separate data-node and sentinel users work and a command outside the user's rights is a NOPERM "
          "reply (not a failover)",
          "[acl]") {
  auto topo = acl_topology();
  io_thread io;
  acl_client client(io, acl_config(topo));
  const auto ready = client.wait_ready();
  INFO("wait_ready: " << ready.message() << "; " << client.last_error_detail());
  REQUIRE_FALSE(ready);

  redis_ha::request req;
  req.push("SET", "app:greeting", "hello").push("GET", "app:greeting");
  auto [ec, resp] = client.exec(req);
  REQUIRE_FALSE(ec);
  CHECK(resp.at(1).as_string() == "hello");

  // The data connection is the `app` user's; the event subscriptions on every sentinel
  // are `haclient`'s and hold all four channels and the pattern (the channel rules suffice).
  auto& master = topo.master();
  const auto data = clients_named(master, "acl-app");
  REQUIRE(data.size() == 1);
  CHECK(data[0].at("user") == "app");
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("sentinel " << i);
    CHECK(redis_ha::test::eventually(
        [&] {
          const auto watch = clients_named(topo.sentinel(i), "redis_ha-sentinel-watch");
          return watch.size() == 1 && watch[0].at("user") == "haclient" && watch[0].at("sub") == "4" &&
                 watch[0].at("psub") == "1";
        },
        5s));
  }

  const auto before = client.stats();
  // A key outside ~app:* and a dangerous command: NOPERM error replies, delivered as replies.
  redis_ha::request denied;
  denied.push("SET", "other:key", "x").push("FLUSHALL").push("GET", "app:greeting");
  auto [denied_ec, denied_resp] = client.exec(denied);
  REQUIRE_FALSE(denied_ec);
  REQUIRE(denied_resp.size() == 3);
  CHECK(denied_resp[0].is_error());
  CHECK(denied_resp[0].error_prefix() == "NOPERM");
  CHECK(denied_resp[1].is_error());
  CHECK(denied_resp[1].error_prefix() == "NOPERM");
  CHECK(denied_resp[2].as_string() == "hello");
  // ... and nothing HA happened: no reconnection, no resolution, no master change.
  CHECK(client.ready());
  auto [after_ec, after_resp] = client.exec(redis_ha::request{}.push("SET", "app:after", "1"));
  CHECK_FALSE(after_ec);
  const auto after = client.stats();
  CHECK(after.connects == before.connects);
  CHECK(after.resolutions == before.resolutions);
  CHECK(after.master_changes == 0);
  CHECK(after.retries == before.retries);
  CHECK(client.count(redis_ha::client_event::kind::master_lost) == 0);
  CHECK(redis_ha::test::command(master.port(), {"EXISTS", "other:key"}, "admin-secret").integer == 0);
}

TEST_CASE("acl: a wrong data-node or sentinel password gives auth_failed at once",
          "[acl]") {
  auto topo = acl_topology();
  io_thread io;

  // A configuration error: reported at once (not after the budget), to
  // waiters and requests alike. Returns the client's error detail.
  auto expect_auth_failed = [&](const redis_ha::client_config& cfg) {
    acl_client client(io, cfg);
    const auto t0 = std::chrono::steady_clock::now();
    const auto ec = client.wait_ready();
    const auto took = std::chrono::steady_clock::now() - t0;
    const auto detail = client.last_error_detail();
    INFO("wait_ready: " << ec.message() << "; detail: " << detail);
    CHECK(ec == error::auth_failed);
    CHECK(took < 2s);
    auto [exec_ec, resp] = client.exec(redis_ha::request{}.push("SET", "app:k", "v"));
    CHECK(exec_ec == error::auth_failed);
    return detail;
  };

  {  // Wrong data-node password: the sentinels answer, the master refuses AUTH.
    auto cfg = acl_config(topo);
    cfg.connection.password = "not-the-password";
    CHECK_THAT(expect_auth_failed(cfg), Contains("authentication failed"));
  }

  {  // Wrong sentinel password: every sentinel refuses it.
    auto cfg = acl_config(topo);
    cfg.sentinel.password = "not-the-password";
    const auto detail = expect_auth_failed(cfg);
    for (auto p : topo.sentinel_ports()) CHECK_THAT(detail, Contains(std::to_string(p) + ": authentication failed"));
  }
}
