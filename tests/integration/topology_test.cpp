// Tests of tests/support/topology.hpp against real redis-server / redis-sentinel processes.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>

#include "support/eventually.hpp"
#include "support/info.hpp"
#include "support/topology.hpp"

using namespace redis_ha::test;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

std::string role_of(redis_node& node) { return node.command({"ROLE"}).elements.at(0).str; }

bool is_replica_of(redis_node& node, std::uint16_t master_port) {
  auto info = parse_info(node.command({"INFO", "replication"}).str);
  return info["role"] == "slave" && info["master_port"] == std::to_string(master_port) &&
         info["master_link_status"] == "up";
}

}  // namespace

TEST_CASE("topology comes up with replication running and sentinels agreeing", "[topology]") {
  topology topo;
  const auto nodes = topo.node_ports();
  const auto master_port = nodes[0];
  REQUIRE(nodes.size() == 3);
  REQUIRE(topo.sentinel_ports().size() == 3);
  CHECK(topo.master_port_from_sentinel() == master_port);
  CHECK(&topo.master() == &topo.data_node(0));
  CHECK(role_of(topo.data_node(0)) == "master");
  CHECK(is_replica_of(topo.data_node(1), master_port));
  CHECK(is_replica_of(topo.data_node(2), master_port));

  for (std::size_t i = 0; i < 3; ++i) {
    auto& s = topo.sentinel(i);
    const auto addr = s.command({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"});
    CHECK(addr.elements.at(1).str == std::to_string(master_port));
    CHECK(s.command({"SENTINEL", "REPLICAS", "mymaster"}).elements.size() == 2);
    CHECK(s.command({"SENTINEL", "SENTINELS", "mymaster"}).elements.size() == 2);
    CHECK(s.command({"SENTINEL", "CKQUORUM", "mymaster"}).str.find("OK") == 0);
  }

  topo.master().command({"SET", "k", "v"});
  topo.wait_replicas_in_sync();
  CHECK(topo.data_node(1).command({"GET", "k"}).str == "v");
  CHECK(topo.data_node(2).command({"GET", "k"}).str == "v");
}

TEST_CASE("failover() promotes a replica and the old master becomes its replica", "[topology][failover]") {
  topology topo;
  topo.master().command({"SET", "k", "v"});
  topo.wait_replicas_in_sync();

  const auto old_port = topo.failover();
  const auto new_port = topo.wait_for_master_change(old_port);
  CHECK(new_port != old_port);
  const auto ports = topo.node_ports();
  CHECK(std::find(ports.begin(), ports.end(), new_port) != ports.end());
  CHECK(topo.master_port_from_sentinel() == new_port);
  CHECK(role_of(topo.data_node_by_port(new_port)) == "master");
  CHECK(topo.data_node_by_port(new_port).command({"GET", "k"}).str == "v");

  // Sentinel reconfigures the old master ~4 hello periods after the switch.
  topo.wait_until("old master replicating from the new one", 20s,
                  [&] { return is_replica_of(topo.data_node_by_port(old_port), new_port); });
  topo.master().command({"SET", "k2", "v2"});
  topo.wait_replicas_in_sync();
  CHECK(topo.data_node_by_port(old_port).command({"GET", "k2"}).str == "v2");
}

TEST_CASE("kill_master() leads to the promotion of a replica", "[topology][failover]") {
  topology topo(topology_options{.down_after_ms = 1000});
  const auto old_port = topo.kill_master();
  CHECK_FALSE(topo.data_node_by_port(old_port).running());

  const auto new_port = topo.wait_for_master_change(old_port);
  CHECK(new_port != old_port);
  CHECK(topo.data_node_by_port(new_port).command({"SET", "k", "v"}).str == "OK");
  topo.wait_replicas_in_sync();  // the remaining replica follows the new master

  // The restarted old master (empty, no persistence) is turned into a replica.
  topo.data_node_by_port(old_port).restart();
  topo.wait_until("restarted old master replicating from the new one", 20s,
                  [&] { return is_replica_of(topo.data_node_by_port(old_port), new_port); });
  topo.wait_replicas_in_sync();
  CHECK(topo.data_node_by_port(old_port).command({"GET", "k"}).str == "v");
}

TEST_CASE("topology with requirepass protects data nodes and configures sentinel auth-pass", "[topology]") {
  topology topo(topology_options{.master_name = "secured", .requirepass = "pw"});
  CHECK(topo.master_name() == "secured");
  for (const auto port : topo.node_ports()) {
    CHECK_THROWS_WITH(command(port, {"PING"}), Contains("NOAUTH"));
    CHECK(command(port, {"PING"}, "pw").str == "PONG");
  }
  // The sentinel learns the replicas (and their link) through the master's
  // INFO: on a loaded machine that can come a little after the topology is up.
  CHECK(eventually(
      [&] {
        const auto replicas = topo.sentinel(0).command({"SENTINEL", "REPLICAS", "secured"});
        if (replicas.elements.size() != 2) return false;
        for (const auto& r : replicas.elements)
          if (r.field("master-link-status") != "ok") return false;
        return true;
      },
      std::chrono::seconds(15)));
}
