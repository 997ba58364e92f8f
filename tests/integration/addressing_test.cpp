// How the HA client reaches nodes whose announced address is not the one to
// dial: an address_map onto per-node proxies (NAT, port-forwards), and nodes
// and sentinels that announce the host name "localhost" instead of an IP.
#include <redis_ha/client.hpp>

#include <catch2/catch.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/ha_config.hpp"
#include "support/eventually.hpp"
#include "support/fault_proxy.hpp"
#include "support/ha_writer.hpp"
#include "support/info.hpp"
#include "support/sync_client.hpp"
#include "support/topology.hpp"

using namespace std::chrono_literals;
using redis_ha::address;
using redis_ha::client_event;
using redis_ha::test::background_writer;
using redis_ha::test::eventually;
using redis_ha::test::fault_proxy;
using redis_ha::test::topology;

namespace {

// A redis_ha::client on its own I/O thread; every call is run on that thread.
class threaded_client {
 public:
  explicit threaded_client(redis_ha::client_config cfg) : work_(asio::make_work_guard(ioc_)) {
    client_.emplace(ioc_.get_executor(), std::move(cfg));
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~threaded_client() {
    on_io([this] {
      client_->close();
      return 0;
    });
    work_.reset();
    thread_.join();
  }
  threaded_client(const threaded_client&) = delete;
  threaded_client& operator=(const threaded_client&) = delete;

  redis_ha::response exec(std::error_code& ec, redis_ha::request req) {
    std::promise<std::pair<std::error_code, redis_ha::response>> done;
    asio::post(ioc_, [&] {
      client_->async_exec(std::move(req), [&done](std::error_code e, redis_ha::response r) {
        done.set_value({e, std::move(r)});
      });
    });
    auto [e, r] = done.get_future().get();
    ec = e;
    return std::move(r);
  }
  std::optional<address> master() {
    return on_io([this] { return client_->master(); });
  }
  redis_ha::client_stats stats() {
    return on_io([this] { return client_->stats(); });
  }

 private:
  template <class F>
  auto on_io(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(ioc_, [&task] { task(); });
    return result.get();
  }

  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::optional<redis_ha::client> client_;
  std::thread thread_;
};

// Thread-safe record of a client's events.
struct event_log {
  std::mutex mutex;
  std::vector<client_event> events;
  std::function<void(const client_event&)> hook() {
    return [this](const client_event& ev) {
      std::lock_guard lock(mutex);
      events.push_back(ev);
    };
  }
  std::vector<client_event> snapshot() {
    std::lock_guard lock(mutex);
    return events;
  }
};

redis_ha::request one(std::initializer_list<std::string> args) {
  redis_ha::request req;
  req.push_argv(args);
  return req;
}

long long calls(std::uint16_t port, const std::string& command) {
  auto stats = redis_ha::test::parse_info(redis_ha::test::command(port, {"INFO", "commandstats"}).str);
  auto it = stats.find("cmdstat_" + command);
  if (it == stats.end()) return 0;
  return std::stoll(redis_ha::test::parse_info_value(it->second).at("calls"));
}

// The nodes named by events that concern a data node.
std::vector<std::pair<client_event::kind, address>> data_node_events(const std::vector<client_event>& events) {
  std::vector<std::pair<client_event::kind, address>> out;
  for (const auto& ev : events) {
    switch (ev.type) {
      case client_event::kind::resolved:
      case client_event::kind::connected:
      case client_event::kind::role_verified:
      case client_event::kind::master_changed:
      case client_event::kind::replica_added:
        out.emplace_back(ev.type, ev.node);
        break;
      default:
        break;
    }
  }
  return out;
}

void check_writes(background_writer& w) {
  const auto outcomes = w.outcomes();
  REQUIRE_FALSE(outcomes.empty());
  std::size_t failed = 0;
  for (const auto& o : outcomes) {
    if (!o.ec) continue;
    ++failed;
    UNSCOPED_INFO("write " << o.index << " failed: " << o.ec.message());
  }
  CHECK(failed == 0);
}


redis_ha::client_config base_config(const topology& topo, const std::string& sentinel_host) {
  auto cfg = redis_ha::test::sentinel_client_config(topo, sentinel_host);
  redis_ha::test::fast_health_check(cfg.connection);
  return cfg;
}

}  // namespace

TEST_CASE("address_map: every data-node connection goes through the mapped proxy before and after a failover",
          "[addressing][address_map]") {
  topology topo;
  const auto real_ports = topo.node_ports();

  // One proxy per data node, standing for the address the client must dial.
  std::map<std::uint16_t, std::unique_ptr<fault_proxy>> proxy_for;  // real port -> proxy
  std::map<std::uint16_t, std::uint16_t> to_proxy;                  // real port -> proxy port
  std::set<std::uint16_t> proxy_ports;
  for (auto p : real_ports) {
    proxy_for[p] = std::make_unique<fault_proxy>(p);
    to_proxy[p] = proxy_for[p]->port();
    proxy_ports.insert(proxy_for[p]->port());
  }
  auto is_proxy = [&](const address& a) { return a.host == "127.0.0.1" && proxy_ports.count(a.port) == 1; };

  // The map records what it was asked, to show it sees the announced addresses (and only those).
  std::mutex map_mutex;
  std::vector<address> map_inputs;
  auto cfg = base_config(topo, "127.0.0.1");
  cfg.connection.client_name = "addressing";
  cfg.address_map = [to_proxy, &map_mutex, &map_inputs](const address& a) {
    {
      std::lock_guard lock(map_mutex);
      map_inputs.push_back(a);
    }
    if (a.host == "127.0.0.1")
      if (auto it = to_proxy.find(a.port); it != to_proxy.end()) return address{"127.0.0.1", it->second};
    return a;  // sentinels: reachable as announced
  };

  const auto master_port = topo.master().port();
  fault_proxy& master_proxy = *proxy_for.at(master_port);

  // With the proxies refusing, no master can be found: the real ports are never dialled.
  {
    for (auto& [port, proxy] : proxy_for) proxy->refuse();
    auto blind_cfg = cfg;
    blind_cfg.failover_budget = 600ms;
    threaded_client blind{blind_cfg};
    std::error_code ec;
    blind.exec(ec, one({"SET", "addr:k", "v"}));
    CHECK(ec == redis_ha::error::master_unavailable);
    CHECK(calls(master_port, "set") == 0);
    for (auto& [port, proxy] : proxy_for) proxy->pass();
  }

  event_log log;
  auto reader_cfg = cfg;
  reader_cfg.read_from = redis_ha::read_from::replica_preferred;
  reader_cfg.on_event = log.hook();
  threaded_client c{reader_cfg};

  std::error_code ec;
  auto resp = c.exec(ec, one({"SET", "addr:k", "v"}));
  REQUIRE_FALSE(ec);
  REQUIRE(resp.at(0).as_string() == "OK");
  const auto m = c.master();
  REQUIRE(m.has_value());
  CHECK(*m == address{"127.0.0.1", to_proxy.at(master_port)});
  CHECK(master_proxy.accepted() > 0);
  CHECK(calls(master_port, "set") == 1);

  // Replicas come from SENTINEL replicas, mapped, and are verified through their proxies.
  REQUIRE(eventually([&] { return c.stats().replicas == 2; }, 5s));
  topo.wait_replicas_in_sync();
  for (int i = 0; i < 20; ++i) {
    auto r = c.exec(ec, one({"GET", "addr:k"}));
    REQUIRE_FALSE(ec);
    CHECK(r.at(0).as_string() == "v");
  }
  for (auto p : real_ports) {
    if (p == master_port) continue;
    INFO("replica " << p << " via proxy " << to_proxy.at(p));
    CHECK(proxy_for.at(p)->accepted() > 0);
    CHECK(calls(p, "get") > 0);  // the reads reached it, through its proxy
  }
  CHECK(calls(master_port, "get") == 0);

  // Every data node the client named, connected to or verified is a proxy address.
  for (const auto& [kind, node] : data_node_events(log.snapshot())) {
    INFO(redis_ha::to_string(kind) << " " << node.to_string());
    CHECK(is_proxy(node));
  }
  {
    std::lock_guard lock(map_mutex);
    std::set<std::uint16_t> data_inputs;
    for (const auto& a : map_inputs) {
      INFO("address_map input " << a.to_string());
      CHECK_FALSE(is_proxy(a));  // never applied to its own output
      if (to_proxy.count(a.port)) data_inputs.insert(a.port);
    }
    CHECK(data_inputs == std::set<std::uint16_t>(real_ports.begin(), real_ports.end()));
  }

  // A graceful failover while a second client writes through the proxies every 5 ms.
  event_log writer_log;
  auto writer_cfg = cfg;
  writer_cfg.on_event = writer_log.hook();
  background_writer w(writer_cfg, "addr");
  REQUIRE(w.wait_more_acked(50, 10s));
  topo.wait_replicas_in_sync();
  std::map<std::uint16_t, std::size_t> accepted_before;
  for (auto& [port, proxy] : proxy_for) accepted_before[port] = proxy->accepted();
  const auto old_port = topo.failover();
  REQUIRE(old_port == master_port);
  const auto new_port = topo.wait_for_master_change(old_port);
  fault_proxy& new_proxy = *proxy_for.at(new_port);
  REQUIRE(w.wait_more_acked(100, 15s));  // resumed on the new master
  w.stop();
  check_writes(w);
  const auto missing = w.missing_on(new_port).size();
  INFO("acknowledged writes missing on the new master: " << missing);
  CHECK(missing <= 2);

  bool changed = false;
  for (const auto& ev : writer_log.snapshot()) {
    if (ev.type != client_event::kind::master_changed) continue;
    changed = true;
    CHECK(ev.node == address{"127.0.0.1", to_proxy.at(new_port)});
    CHECK(ev.previous == address{"127.0.0.1", to_proxy.at(old_port)});
  }
  CHECK(changed);
  for (const auto& [kind, node] : data_node_events(writer_log.snapshot())) {
    INFO(redis_ha::to_string(kind) << " " << node.to_string());
    CHECK(is_proxy(node));
  }
  CHECK(new_proxy.accepted() > accepted_before.at(new_port));  // the new master was dialled through it

  // The first client follows too, still only through proxies.
  CHECK(eventually([&] { return c.master() == address{"127.0.0.1", to_proxy.at(new_port)}; }, 5s));
  c.exec(ec, one({"SET", "addr:k", "w"}));
  CHECK_FALSE(ec);
  CHECK(redis_ha::test::command(new_port, {"GET", "addr:k"}).str == "w");
  for (const auto& [kind, node] : data_node_events(log.snapshot())) {
    INFO(redis_ha::to_string(kind) << " " << node.to_string());
    CHECK(is_proxy(node));
  }
}

TEST_CASE("host names: nodes and sentinels announce localhost and the client resolves it on every connect",
          "[addressing][hostnames]") {
  redis_ha::test::topology_options opts;
  opts.node_host = "localhost";
  opts.extra_server_config = {"replica-announce-ip localhost"};
  opts.extra_sentinel_config = {"sentinel resolve-hostnames yes", "sentinel announce-hostnames yes",
                                "sentinel announce-ip localhost"};
  topology topo(opts);
  const auto master_port = topo.master().port();

  // What Sentinel and ROLE announce.
  for (auto sp : topo.sentinel_ports()) {
    INFO("sentinel " << sp);
    auto addr = redis_ha::test::command(sp, {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", topo.master_name()});
    REQUIRE(addr.elements.size() == 2);
    CHECK(addr.elements[0].str == "localhost");
    CHECK(addr.elements[1].str == std::to_string(master_port));
    for (const auto& r : redis_ha::test::command(sp, {"SENTINEL", "REPLICAS", topo.master_name()}).elements)
      CHECK(r.field("ip") == "localhost");
    for (const auto& s : redis_ha::test::command(sp, {"SENTINEL", "SENTINELS", topo.master_name()}).elements)
      CHECK(s.field("ip") == "localhost");
  }
  auto role = redis_ha::test::command(master_port, {"ROLE"});
  REQUIRE(role.elements.size() == 3);
  REQUIRE(role.elements[2].elements.size() == 2);
  for (const auto& r : role.elements[2].elements) CHECK(r.elements.at(0).str == "localhost");

  event_log log;
  auto cfg = base_config(topo, "localhost");
  cfg.read_from = redis_ha::read_from::replica_preferred;
  cfg.on_event = log.hook();
  threaded_client c{cfg};
  std::error_code ec;
  c.exec(ec, one({"SET", "host:k", "v"}));
  REQUIRE_FALSE(ec);
  CHECK(c.master() == address{"localhost", master_port});
  REQUIRE(eventually([&] { return c.stats().replicas == 2; }, 5s));  // replicas named "localhost" too
  topo.wait_replicas_in_sync();
  for (int i = 0; i < 10; ++i) {
    auto r = c.exec(ec, one({"GET", "host:k"}));
    REQUIRE_FALSE(ec);
    CHECK(r.at(0).as_string() == "v");
  }

  // A graceful failover with a writer: no failed write; the new master is again "localhost".
  event_log writer_log;
  auto writer_cfg = base_config(topo, "localhost");
  writer_cfg.on_event = writer_log.hook();
  background_writer w(writer_cfg, "host");
  const auto [old_port, new_port] = redis_ha::test::fault_under_writer(w, topo, [](auto& t) { return t.failover(); });
  check_writes(w);
  const auto missing = w.missing_on(new_port).size();
  INFO("acknowledged writes missing on the new master: " << missing);
  CHECK(missing <= 2);
  bool changed = false;
  for (const auto& ev : writer_log.snapshot())
    if (ev.type == client_event::kind::master_changed) {
      changed = true;
      CHECK(ev.node == address{"localhost", new_port});
      CHECK(ev.previous == address{"localhost", old_port});
    }
  CHECK(changed);
  auto addr = redis_ha::test::command(topo.sentinel_ports()[0],
                                      {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", topo.master_name()});
  CHECK(addr.elements.at(0).str == "localhost");
  // Sentinel reconfigured the remaining replica by name as well: its ROLE names "localhost".
  for (auto p : topo.node_ports()) {
    if (p == old_port || p == new_port) continue;
    INFO("replica " << p);
    CHECK(eventually(
        [&] {
          auto r = redis_ha::test::command(p, {"ROLE"});
          return r.elements.size() >= 3 && r.elements[0].str == "slave" && r.elements[1].str == "localhost" &&
                 r.elements[2].integer == new_port;
        },
        5s));
  }

  // The first client reconnected by name as well (each connect resolves "localhost" again).
  CHECK(eventually([&] { return c.master() == address{"localhost", new_port}; }, 5s));
  c.exec(ec, one({"SET", "host:k", "w"}));
  CHECK_FALSE(ec);
  CHECK(redis_ha::test::command(new_port, {"GET", "host:k"}).str == "w");
  for (const auto& [kind, node] : data_node_events(log.snapshot())) {
    INFO(redis_ha::to_string(kind) << " " << node.to_string());
    CHECK(node.host == "localhost");
  }
}
