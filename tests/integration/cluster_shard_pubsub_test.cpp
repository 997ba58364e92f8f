// Sharded Pub/Sub (SSUBSCRIBE / SPUBLISH) on a real Redis Cluster (label
// "cluster"): a cluster_subscriber subscribes each channel on the master of
// its slot's shard and keeps it there through a SIGKILL of that master (the
// shard's HA core finds the promoted replica) and through a slot migration
// (the old node ends the subscription with its own sunsubscribe; the
// channel is subscribed again where the new map says).
#include <redis_ha/cluster_client.hpp>
#include <redis_ha/cluster_subscriber.hpp>

#include "support/cluster.hpp"
#include "support/eventually.hpp"
#include "support/io_thread.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace redis_ha;
using namespace std::chrono_literals;
using redis_ha::test::eventually;
using redis_ha::test::io_thread;
using redis_ha::test::test_cluster;

namespace {

// A cluster client and a cluster subscriber on an I/O thread; what arrives
// is kept for the test thread.
class shard_pubsub {
 public:
  explicit shard_pubsub(test_cluster& c) {
    cluster_config cfg;
    cfg.seeds = c.addresses();
    cfg.connection = redis_ha::test::fast_cluster_connection();
    cfg.failover_budget = 15000ms;
    io_.call([&] {
      client_ = std::make_unique<cluster_client>(io_.executor(), cfg);
      sub_ = std::make_unique<cluster_subscriber>(*client_);
      sub_->set_message_handler([this](const message& m) {
        std::lock_guard<std::mutex> lock(mutex_);
        messages_.push_back(m);
      });
      sub_->set_event_handler([this](const subscriber_event& ev) {
        std::lock_guard<std::mutex> lock(mutex_);
        events_.push_back(ev);
      });
    });
  }
  ~shard_pubsub() {
    io_.call([&] {
      sub_.reset();
      client_.reset();
    });
  }

  bool wait_ready() {
    return eventually([&] { return io_.call([&] { return client_->ready(); }); }, 15000ms);
  }
  void ssubscribe(const std::vector<std::string>& channels) { io_.call([&] { sub_->ssubscribe(channels); }); }
  void sunsubscribe(const std::string& channel) { io_.call([&] { sub_->sunsubscribe(channel); }); }
  std::optional<address> node(const std::string& channel) {
    return io_.call([&] { return sub_->node(channel); });
  }
  std::optional<address> master_for(const std::string& channel) {
    return io_.call([&] { return client_->master_for_key(channel); });
  }
  subscriber_stats stats() {
    return io_.call([&] { return sub_->stats(); });
  }

  // SPUBLISH through the cluster client: the receiver count, -1 on an error.
  long long spublish(const std::string& channel, const std::string& payload) {
    request r;
    r.push("SPUBLISH", channel, payload);
    auto [ec, resp] = io_.await<response>([&, r](auto h) { client_->async_exec(r, std::move(h)); });
    if (ec || resp.empty() || !resp[0].is_integer()) return -1;
    return resp[0].as_integer();
  }

  // Publishes until the subscriber has the message (a channel that just
  // moved may miss the first ones: Pub/Sub is at most once).
  bool delivered(const std::string& channel, const std::string& payload) {
    return eventually(
        [&] {
          spublish(channel, payload);
          return eventually([&] { return has(channel, payload); }, 100ms, 10ms);
        },
        15000ms, 50ms);
  }
  bool has(const std::string& channel, const std::string& payload) {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::any_of(messages_.begin(), messages_.end(), [&](const message& m) {
      return m.channel == channel && m.payload == payload && m.sharded;
    });
  }
  bool saw(subscriber_event::kind k, const std::string& channel) {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::any_of(events_.begin(), events_.end(),
                       [&](const subscriber_event& ev) { return ev.type == k && ev.channel == channel; });
  }

  // Subscribed on the verified master of its slot.
  bool on_its_master(const std::string& channel) {
    auto n = node(channel);
    auto m = master_for(channel);
    return n && m && *n == *m;
  }

 private:
  io_thread io_;
  std::unique_ptr<cluster_client> client_;
  std::unique_ptr<cluster_subscriber> sub_;
  std::mutex mutex_;
  std::vector<message> messages_;
  std::vector<subscriber_event> events_;
};

// A channel per shard, subscribed, each heard once.
std::vector<std::string> subscribed_on_every_shard(test_cluster& c, shard_pubsub& p) {
  REQUIRE(p.wait_ready());
  const auto channels = redis_ha::test::one_name_per_master(c, "orders.");
  REQUIRE(channels.size() == 3);
  p.ssubscribe(channels);
  for (const auto& ch : channels) {
    INFO(ch);
    REQUIRE(eventually([&] { return p.on_its_master(ch); }, 10000ms));
    REQUIRE(p.delivered(ch, "before " + ch));
  }
  return channels;
}

}  // namespace

TEST_CASE("cluster: sharded Pub/Sub on each slot's master, SUNSUBSCRIBE on one shard only", "[cluster][pubsub]") {
  test_cluster c;
  shard_pubsub p{c};
  const auto channels = subscribed_on_every_shard(c, p);
  // Three shards, three connections: the subscriptions are not all on one node.
  std::set<std::uint16_t> ports;
  for (const auto& ch : channels) ports.insert(p.node(ch).value_or(address{"", 0}).port);
  CHECK(ports.size() == 3);

  p.sunsubscribe(channels[0]);
  CHECK(eventually([&] { return p.spublish(channels[0], "gone") == 0; }, 5000ms));
  CHECK_FALSE(p.node(channels[0]));
  CHECK(p.spublish(channels[1], "still") == 1);
  CHECK(p.delivered(channels[1], "still"));
  CHECK(p.stats().reconnects == 0);
}

TEST_CASE("cluster: a sharded subscription follows its shard through a master SIGKILL", "[cluster][pubsub][failover]") {
  test_cluster c;
  shard_pubsub p{c};
  const auto channels = subscribed_on_every_shard(c, p);

  const auto victim = c.master_of_slot(key_slot(channels[0]));
  const auto old_port = c.node(victim).port();
  c.node(victim).kill();
  // The shard's replica is promoted; the subscription moves to it.
  CHECK(eventually(
      [&] {
        auto n = p.node(channels[0]);
        return n && n->port != old_port && p.on_its_master(channels[0]);
      },
      20000ms));
  CHECK(p.delivered(channels[0], "after the kill"));
  // The other shards never moved.
  for (std::size_t i = 1; i < channels.size(); ++i) CHECK(p.delivered(channels[i], "after " + channels[i]));
  // Three first subscriptions, then at least one more on the promoted
  // replica (a reconnection of that shard's subscriber, or a new one when
  // the new map made a new shard client).
  CHECK(p.stats().connects >= 4);
}

TEST_CASE("cluster: a sharded subscription follows its slot to another shard", "[cluster][pubsub][migration]") {
  test_cluster c;
  shard_pubsub p{c};
  const auto channels = subscribed_on_every_shard(c, p);

  const int slot = key_slot(channels[0]);
  const auto from = c.master_of_slot(slot);
  const auto to = c.master_of_slot(key_slot(channels[1]));
  c.begin_migration(slot, from, to);
  c.migrate_keys(slot, from, to);
  c.end_migration(slot, from, to);

  // The old owner ends the subscription itself (its own sunsubscribe); the
  // channel is subscribed again on the new owner.
  CHECK(eventually([&] { return p.saw(subscriber_event::kind::shard_moved, channels[0]); }, 10000ms));
  CHECK(eventually(
      [&] {
        auto n = p.node(channels[0]);
        return n && n->port == c.node(to).port();
      },
      15000ms));
  CHECK(p.delivered(channels[0], "after the move"));
  for (std::size_t i = 1; i < channels.size(); ++i) CHECK(p.delivered(channels[i], "after " + channels[i]));
}
