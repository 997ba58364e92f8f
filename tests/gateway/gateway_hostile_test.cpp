// examples/gateway under hostile clients: a slowloris plus a connection flood must not
// starve probes or a well-behaved webhook sender (default limits), and the admission
// policy under pressure (http_connections.hpp): idle keep-alive connections reclaimed
// first, then slow heads, else the newcomer refused. Direct mode on one redis-server:
// Sentinel plays no part here. Attackers use other source addresses in 127.0.0.0/8 than
// the well-behaved clients; every connection goes to 127.0.0.1.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "gateway/gateway_support.hpp"
#include "support/redis_server.hpp"

using namespace gateway_test;

namespace {

std::vector<std::string> direct(const redis_ha::test::redis_node& server) {
  return {"--redis", fmt::format("127.0.0.1:{}", server.port())};
}

double connections_total(const std::string& metrics, const char* listener, const char* fate) {
  return metric(metrics, fmt::format("gateway_connections_total{{listener=\"{}\",fate=\"{}\"}}", listener, fate))
      .value_or(-1);
}

}  // namespace

TEST_CASE("gateway: a slowloris and a connection flood starve neither probes nor a well-behaved sender", "[gateway]") {
  raise_fd_limit();
  redis_ha::test::redis_node server;
  gateway_process gw(direct(server), {.probe_listener = true});  // default limits: 256 per address
  INFO("gateway log:\n" << gw.log());

  // Slowloris connections (1 byte/s each, reopened when closed): 400 from one address (over
  // its quota: its newcomers reclaim its own slow heads) and 150 from another (within its
  // quota: cut by the 5 s head deadline); 10,000 connections from a third address at
  // 2,000/s that never send a byte.
  gateway_hostile::slowloris loris(gw.port(), 400, "127.0.0.2");
  gateway_hostile::slowloris loris2(gw.port(), 150, "127.0.0.4");
  gateway_hostile::flood flood(gw.port(), 10000, 2000, 300, "127.0.0.3");
  std::this_thread::sleep_for(1500ms);  // the attackers' address quotas are full

  // For 6 s (longer than the 5 s head deadline, so slowloris connections are cut and
  // reopened meanwhile): kubelet-style probes on the probe listener and on the main one, and
  // an Alertmanager-like sender on one keep-alive connection.
  std::mutex mu;
  std::vector<int> probe_statuses, main_probe_statuses, webhook_statuses;
  const auto until = clock_type::now() + 6s;
  auto prober = [&](std::uint16_t port, std::vector<int>& out) {
    while (clock_type::now() < until) {
      int status = 0;
      try {
        status = http(port, "GET", "/healthz").status;
      } catch (const std::exception&) {
      }
      {
        std::lock_guard lock(mu);
        out.push_back(status);
      }
      std::this_thread::sleep_for(100ms);
    }
  };
  std::thread probe_thread(prober, gw.probe_port(), std::ref(probe_statuses));
  std::thread main_probe_thread(prober, gw.port(), std::ref(main_probe_statuses));
  std::thread sender([&] {
    http_conn c(gw.port());
    for (int i = 0; clock_type::now() < until; ++i) {
      c.send_all(make_request("POST", webhook, payload({{{"alertname", fmt::format("UnderAttack{}", i)}}}),
                              "application/json", true));
      const int status = c.read_reply().status;
      {
        std::lock_guard lock(mu);
        webhook_statuses.push_back(status);
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  probe_thread.join();
  main_probe_thread.join();
  sender.join();
  flood.join();
  const std::string m = gw.metrics();
  loris.stop();
  loris2.stop();

  INFO("metrics:\n" << m);
  INFO("slowloris: opened " << loris.opened() << " + " << loris2.opened() << ", closed by the gateway "
                            << loris.closed_by_server() << " + " << loris2.closed_by_server() << ", connect errors "
                            << loris.connect_errors() + loris2.connect_errors() << "; flood: opened " << flood.opened()
                            << ", connect errors " << flood.connect_errors());
  // The attack happened: the flood ran to its end and was refused beyond its address's
  // quota, the big slowloris reclaimed its own slow heads, the small one was cut by the
  // head deadline.
  CHECK(flood.opened() == 10000);
  CHECK(connections_total(m, "main", "refused_per_ip") > 1000);
  CHECK(connections_total(m, "main", "reclaimed_slow_head") > 100);
  CHECK(connections_total(m, "main", "head_timeout") >= 100);
  CHECK(loris.closed_by_server() > 100);
  CHECK(loris2.closed_by_server() >= 100);
  // Everyone else was served, every time.
  REQUIRE(probe_statuses.size() >= 20);
  REQUIRE(main_probe_statuses.size() >= 20);
  REQUIRE(webhook_statuses.size() >= 20);
  CHECK(std::count(probe_statuses.begin(), probe_statuses.end(), 200) == static_cast<long>(probe_statuses.size()));
  CHECK(std::count(main_probe_statuses.begin(), main_probe_statuses.end(), 200) ==
        static_cast<long>(main_probe_statuses.size()));
  CHECK(std::count(webhook_statuses.begin(), webhook_statuses.end(), 201) == static_cast<long>(webhook_statuses.size()));
  CHECK(gw.running());
}

TEST_CASE("gateway: under pressure idle connections go first, then slow heads, else the newcomer is refused",
          "[gateway]") {
  raise_fd_limit();
  redis_ha::test::redis_node server;
  auto args = direct(server);
  args.insert(args.end(), {"--max-connections", "40", "--max-connections-per-ip", "30"});
  gateway_process gw(args, {.probe_listener = true});
  INFO("gateway log:\n" << gw.log());
  const auto port = gw.port();
  auto keep_alive = [&](const std::string& source) {
    auto c = std::make_unique<http_conn>(port, 3s, source);
    c->send_all(make_request("GET", "/healthz", "", "", true));
    REQUIRE(c->read_reply().status == 200);
    return c;
  };

  // 40 idle keep-alive connections (the limit): 30 from A (its own limit), 10 from B.
  std::vector<std::unique_ptr<http_conn>> a, b;
  for (int i = 0; i < 30; ++i) a.push_back(keep_alive("127.0.0.2"));
  for (int i = 0; i < 10; ++i) b.push_back(keep_alive("127.0.0.3"));
  // A newcomer from C is served: the longest-idle connection (A's first) was reclaimed.
  CHECK(http(port, "GET", "/healthz", "", "", "127.0.0.4").status == 200);
  CHECK(a[0]->closed_by_peer());
  // A at its own limit again: its newcomer reclaims A's longest-idle connection, not B's
  // (older, but another address).
  a.push_back(keep_alive("127.0.0.2"));
  a.push_back(keep_alive("127.0.0.2"));
  CHECK(a[1]->closed_by_peer());
  for (auto& c : b) {
    c->send_all(make_request("GET", "/healthz", "", "", true));
    CHECK(c->read_reply().status == 200);
  }
  {
    const auto m = gw.metrics();
    INFO(m);
    CHECK(connections_total(m, "main", "reclaimed_idle") == 2);
    CHECK(connections_total(m, "main", "refused_per_ip") == 0);
    CHECK(connections_total(m, "main", "refused_global") == 0);
  }
  a.clear();
  b.clear();
  // Wait until the gateway has seen those close.
  for (int i = 0; i < 100 && metric(gw.metrics(), "gateway_connections_open{listener=\"main\"}").value_or(-1) != 0; ++i)
    std::this_thread::sleep_for(20ms);
  REQUIRE(metric(gw.metrics(), "gateway_connections_open{listener=\"main\"}") == 0);

  // 40 slow heads (20 from each of two addresses): a newcomer within the first second is
  // refused (young heads are not reclaimed)...
  std::vector<std::unique_ptr<http_conn>> heads;
  for (int i = 0; i < 40; ++i) {
    heads.push_back(std::make_unique<http_conn>(port, 3s, i % 2 ? "127.0.0.5" : "127.0.0.6"));
    heads.back()->send_all("GET /healthz HTTP/1.1\r\nHo");
  }
  const auto refused = http(port, "GET", "/healthz", "", "", "127.0.0.7");
  CHECK(refused.status == 0);
  // ...and, once they are 1 s old, served by reclaiming the oldest one.
  std::this_thread::sleep_for(1200ms);
  CHECK(http(port, "GET", "/healthz", "", "", "127.0.0.7").status == 200);
  CHECK(heads[0]->closed_by_peer());
  const auto m = gw.metrics();
  INFO(m);
  CHECK(connections_total(m, "main", "refused_global") == 1);
  CHECK(connections_total(m, "main", "reclaimed_slow_head") == 1);
  // The probe listener has its own limit: it answered all along.
  CHECK(http(gw.probe_port(), "GET", "/readyz").status == 200);
}
