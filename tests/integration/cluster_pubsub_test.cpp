// Classic Pub/Sub on a real Redis Cluster (label "cluster"): a cluster
// delivers a PUBLISH made on any node to the subscribers of every node, so
// a subscriber given the cluster's nodes (direct mode) receives what a
// cluster_client publishes, and keeps receiving after the node it was
// subscribed on is killed.
#include <redis_ha/sync_cluster_client.hpp>
#include <redis_ha/sync_subscriber.hpp>

#include "support/cluster.hpp"
#include "support/eventually.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace redis_ha;
using namespace std::chrono_literals;
using redis_ha::test::eventually;
using redis_ha::test::test_cluster;

namespace {

cluster_config publisher_config(test_cluster& c) {
  cluster_config cfg;
  cfg.seeds = c.addresses();
  cfg.connection = redis_ha::test::fast_cluster_connection();
  return cfg;
}

client_config subscriber_config(test_cluster& c) {
  client_config cfg;
  cfg.addresses = c.addresses();
  cfg.connection = redis_ha::test::fast_cluster_connection();
  return cfg;
}

// Publishes `payload` until the subscriber has it (a subscription that was
// just re-established may miss the first ones: Pub/Sub is at most once).
bool delivered(sync_cluster_client& pub, sync_subscriber& sub, const std::string& payload) {
  return eventually(
      [&] {
        pub.command("PUBLISH", "news", payload);
        while (auto m = sub.next(50ms))
          if (m->channel == "news" && m->payload == payload) return true;
        return false;
      },
      15000ms, 100ms);
}

}  // namespace

TEST_CASE("cluster: classic Pub/Sub on any node, through the loss of that node", "[cluster][pubsub]") {
  test_cluster c;
  sync_cluster_client pub{publisher_config(c)};
  REQUIRE(pub.wait_ready(10000ms));
  sync_subscriber sub{subscriber_config(c)};
  sub.subscribe("news");
  REQUIRE(sub.wait_subscribed(10000ms));
  CHECK(delivered(pub, sub, "first"));

  // Kill the node the subscriber is on; it re-subscribes on another one
  // (a replica's ROLE names its master, which it then follows).
  const auto on = sub.node();
  REQUIRE(on);
  const auto index = [&] {
    for (std::size_t i = 0; i < c.nodes().size(); ++i)
      if (c.node(i).port() == on->port) return i;
    FAIL("the subscriber's node is not a cluster node");
    return std::size_t{0};
  }();
  c.node(index).kill();
  REQUIRE(eventually(
      [&] {
        auto now = sub.node();
        return sub.subscribed() && now && now->port != on->port;
      },
      15000ms));
  CHECK(delivered(pub, sub, "after the loss"));
  CHECK(sub.stats().reconnects >= 1);
}
