// A Redis Cluster over TLS (labels "cluster" and "tls"): every node listens
// on a TLS port beside the harness' plaintext one, the cluster bus and
// replication run over TLS, and the client is the same cluster_client type
// as over TCP with `connection.tls` on. The map's `tls-port`s are used (a
// TLS client given the plaintext ports would fail its handshakes), every
// connection the client opens is on a TLS port, and a master SIGKILL costs
// no failed idempotent write.
#include <redis_ha/sync_cluster_client.hpp>

#include "support/cluster.hpp"
#include "support/eventually.hpp"
#include "support/free_port.hpp"
#include "support/tls.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>
#include <string>
#include <vector>

using namespace redis_ha;
using namespace std::chrono_literals;
using redis_ha::test::eventually;
using redis_ha::test::test_cluster;

namespace {

std::error_code set(sync_cluster_client& client, const std::string& key, const std::string& value) {
  request r;
  r.push("SET", key, value);
  std::error_code ec;
  client.exec(std::move(r), ec);
  return ec;
}

}  // namespace

TEST_CASE("cluster over TLS: the map's tls-ports, TLS on every connection, a master SIGKILL", "[cluster][tls]") {
  const auto& certs = redis_ha::test::tls_certificates::shared();
  std::vector<std::uint16_t> tls_ports;  // in node order
  redis_ha::test::cluster_options o;
  o.node_config = [&] {
    const auto port = redis_ha::test::free_port();
    tls_ports.push_back(port);
    auto lines = redis_ha::test::tls_config(certs, {port});
    lines.push_back("tls-cluster yes");  // the cluster bus over TLS too
    return lines;
  };
  test_cluster c{o};
  REQUIRE(tls_ports.size() == c.nodes().size());

  cluster_config cfg;
  for (auto p : tls_ports) cfg.seeds.push_back({"127.0.0.1", p});
  cfg.connection = redis_ha::test::fast_cluster_connection();
  cfg.connection.client_name = "cluster-tls-test";
  cfg.connection.tls.enabled = true;
  cfg.connection.tls.ca_file = certs.ca_cert().string();
  cfg.failover_budget = 15000ms;
  sync_cluster_client client{cfg};
  REQUIRE(client.wait_ready(15000ms));

  const auto keys = redis_ha::test::one_name_per_master(c, "tls-key-");
  REQUIRE(keys.size() == 3);
  for (const auto& k : keys) CHECK_FALSE(set(client, k, "v1"));
  // Every connection the client keeps is on a node's TLS port.
  const std::set<std::uint16_t> tls(tls_ports.begin(), tls_ports.end());
  std::size_t connections = 0;
  for (std::size_t i = 0; i < c.nodes().size(); ++i)
    for (auto port : redis_ha::test::client_ports(c.node(i), "cluster-tls-test")) {
      ++connections;
      CHECK(tls.count(port) == 1);
    }
  CHECK(connections >= 3);  // one per master at least

  // SIGKILL the master of the first key's shard: idempotent writes to it
  // wait for the failover (over TLS: the promoted replica's tls-port) and
  // none fails.
  const auto victim = c.master_of_slot(key_slot(keys[0]));
  c.node(victim).kill();
  int failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < 6s) {
    for (const auto& k : keys)
      if (set(client, k, "v2")) ++failed;
    std::this_thread::sleep_for(20ms);
  }
  CHECK(failed == 0);
  CHECK(eventually([&] { return c.all_ok(); }, 15000ms));
  CHECK_FALSE(set(client, keys[0], "v3"));
}
