// redis_ha::subscriber against real servers: channels and patterns, a
// killed subscriber connection, a hung server (health check), and Sentinel
// failovers (graceful and SIGKILL). Deaf times are printed, not asserted
// beyond generous bounds.
#include <redis_ha/client.hpp>
#include <redis_ha/subscriber.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/ha_config.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"
#include "support/sync_client.hpp"
#include "support/topology.hpp"

using namespace std::chrono_literals;
using redis_ha::subscriber_event;
using redis_ha::test::eventually;
using redis_ha::test::redis_node;
using redis_ha::test::topology;

namespace {

// Build the subscriber on a client (sharing its HA core) instead of its own config.
struct on_client_t {};
constexpr on_client_t on_client{};

// A subscriber on its own I/O thread; every call into it is posted there.
class harness {
 public:
  explicit harness(redis_ha::client_config cfg) : work_(asio::make_work_guard(ioc_)), thread_([this] { ioc_.run(); }) {
    on_io([&] {
      sub_ = std::make_unique<redis_ha::subscriber>(ioc_.get_executor(), std::move(cfg));
      install_handlers();
    });
  }
  // A client and a subscriber built on it.
  harness(redis_ha::client_config cfg, on_client_t)
      : work_(asio::make_work_guard(ioc_)), thread_([this] { ioc_.run(); }) {
    on_io([&] {
      client_ = std::make_unique<redis_ha::client>(ioc_.get_executor(), std::move(cfg));
      sub_ = std::make_unique<redis_ha::subscriber>(*client_);
      install_handlers();
    });
  }

  ~harness() {
    on_io([&] {
      sub_.reset();
      client_.reset();
    });
    work_.reset();
    thread_.join();
  }

  // PUBLISH through the client (harness built `on_client`): the error and the receiver count.
  std::pair<std::error_code, long long> publish_via_client(const std::string& channel, const std::string& payload) {
    std::promise<std::pair<std::error_code, long long>> done;
    auto fut = done.get_future();
    asio::post(ioc_, [&] {
      redis_ha::request r;
      r.push("PUBLISH", channel, payload);
      client_->async_exec(std::move(r), [&done](std::error_code ec, redis_ha::response resp) {
        long long n = -1;
        if (!ec && !resp.empty() && resp[0].is_integer()) n = resp[0].as_integer();
        done.set_value({ec, n});
      });
    });
    return fut.get();
  }
  void close_client() {
    on_io([&] { client_->close(); });
  }
  std::optional<redis_ha::address> client_master() {
    return on_io([&] { return client_->master(); });
  }

 private:
  void install_handlers() {
      sub_->set_message_handler([this](const redis_ha::message& m) {
        std::lock_guard<std::mutex> lock(mutex_);
        messages_.push_back(m);
      });
      sub_->set_event_handler([this](const subscriber_event& ev) {
        std::lock_guard<std::mutex> lock(mutex_);
        events_.push_back(ev);
      });
  }

 public:

  template <class F>
  auto on_io(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    asio::post(ioc_, [&task] { task(); });
    return fut.get();
  }

  redis_ha::subscriber& sub() { return *sub_; }

  redis_ha::subscriber_stats stats() {
    return on_io([&] { return sub_->stats(); });
  }
  std::optional<redis_ha::address> node() {
    return on_io([&] { return sub_->node(); });
  }

  bool wait_subscribed(std::chrono::milliseconds timeout = 10s) {
    return eventually([&] { return on_io([&] { return sub_->subscribed(); }); }, timeout);
  }

  // Waits for a message on `channel` carrying `payload`.
  std::optional<redis_ha::message> wait_message(const std::string& channel, const std::string& payload,
                                                std::chrono::milliseconds timeout = 5s) {
    std::optional<redis_ha::message> found;
    eventually(
        [&] {
          std::lock_guard<std::mutex> lock(mutex_);
          for (auto& m : messages_)
            if (m.channel == channel && m.payload == payload) {
              found = m;
              return true;
            }
          return false;
        },
        timeout, 5ms);
    return found;
  }

  std::size_t count_messages(const std::string& channel, const std::string& payload) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t n = 0;
    for (auto& m : messages_) n += m.channel == channel && m.payload == payload;
    return n;
  }

  std::vector<subscriber_event> events() {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }

  bool saw_lost(std::error_code ec) {
    for (auto& ev : events())
      if (ev.type == subscriber_event::kind::lost && ev.ec == ec) return true;
    return false;
  }

  // Prints the events, repeated lines collapsed.
  void print_events(const char* title) {
    std::cout << title << ":\n";
    std::string previous;
    int repeats = 0;
    auto flush = [&] {
      if (repeats > 1) std::cout << "    (x" << repeats << ")\n";
    };
    for (auto& ev : events()) {
      std::string line = std::string(to_string(ev.type)) + ' ' + ev.node.to_string() + ' ' + ev.ec.message() + ' ' +
                         ev.detail;
      if (ev.type == subscriber_event::kind::subscribed) line += " deaf=" + std::to_string(ev.deaf.count()) + "ms";
      if (line == previous) {
        ++repeats;
        continue;
      }
      flush();
      std::cout << "  " << line << '\n';
      previous = line;
      repeats = 1;
    }
    flush();
    std::cout << std::flush;
  }

 private:
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::unique_ptr<redis_ha::client> client_;
  std::unique_ptr<redis_ha::subscriber> sub_;
  std::mutex mutex_;
  std::vector<redis_ha::message> messages_;
  std::vector<subscriber_event> events_;
};

redis_ha::client_config direct(std::uint16_t port) {
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", port}};
  cfg.connection.client_name = "ha-subscriber";
  return cfg;
}

redis_ha::client_config sentinel_config(topology& topo) {
  auto cfg = redis_ha::test::sentinel_client_config(topo);
  cfg.connection.client_name = "ha-subscriber";
  redis_ha::test::fast_health_check(cfg.connection);
  return cfg;
}

long long publish(std::uint16_t port, const std::string& channel, const std::string& payload) {
  return redis_ha::test::command(port, {"PUBLISH", channel, payload}).integer;
}

// Publishes numbered payloads on `channel` at `port` until one arrives; returns it.
std::optional<redis_ha::message> publish_until_received(harness& h, std::uint16_t port, const std::string& channel,
                                                        const std::string& prefix,
                                                        std::chrono::milliseconds timeout = 10s) {
  std::optional<redis_ha::message> got;
  int i = 0;
  eventually(
      [&] {
        const std::string payload = prefix + std::to_string(i++);
        publish(port, channel, payload);
        got = h.wait_message(channel, payload, 50ms);
        return got.has_value();
      },
      timeout, 1ms);
  return got;
}

void report_deaf(const char* what, const redis_ha::subscriber_stats& s) {
  std::cout << what << ": reconnects=" << s.reconnects << " last_deaf_ms=" << s.last_deaf_ms.count()
            << " max_deaf_ms=" << s.max_deaf_ms.count() << " messages=" << s.messages << std::endl;
}

// A subscriber in Sentinel mode on a channel and a pattern; `fault` hits the
// master (and returns its port). Messages published to the new master after
// recovery must arrive.
template <class Fault>
void survive_failover(const char* what, Fault fault) {
  topology topo;
  harness h(sentinel_config(topo));
  h.on_io([&] {
    h.sub().subscribe("orders");
    h.sub().psubscribe("audit.*");
  });
  REQUIRE(h.wait_subscribed());
  const auto first = topo.master_port_from_sentinel();
  REQUIRE(h.node() == redis_ha::address{"127.0.0.1", first});
  REQUIRE(publish(first, "orders", "before") == 1);
  REQUIRE(h.wait_message("orders", "before"));

  const auto old_port = fault(topo);
  const auto new_port = topo.wait_for_master_change(old_port);
  REQUIRE(new_port != old_port);
  // Recovered: subscribed on the new master.
  REQUIRE(eventually(
      [&] {
        auto n = h.node();
        return n && n->port == new_port && h.stats().reconnects >= 1;
      },
      15s));
  auto m = h.wait_message("orders", "after", 0ms);
  CHECK_FALSE(m);
  REQUIRE(publish(new_port, "orders", "after") >= 1);
  m = h.wait_message("orders", "after");
  REQUIRE(m);
  CHECK(m->pattern.empty());
  REQUIRE(publish(new_port, "audit.login", "alice") >= 1);
  auto pm = h.wait_message("audit.login", "alice");
  REQUIRE(pm);
  CHECK(pm->pattern == "audit.*");
  CHECK(h.count_messages("orders", "after") == 1);

  // The connection to the old master is gone (closed once the new one confirmed).
  if (topo.data_node_by_port(old_port).running())
    CHECK(eventually(
        [&] {
          auto list = redis_ha::test::command(old_port, {"CLIENT", "LIST", "TYPE", "pubsub"}).str;
          return list.find("name=ha-subscriber") == std::string::npos;
        },
        5s));

  const auto s = h.stats();
  report_deaf(what, s);
  h.print_events(what);
  INFO("deaf " << s.last_deaf_ms.count() << " ms");
  CHECK(s.reconnects >= 1);
  CHECK(s.max_deaf_ms < 10s);
}

}  // namespace

TEST_CASE("subscriber: messages on channels and patterns arrive", "[pubsub]") {
  redis_node server;
  harness h(direct(server.port()));
  h.on_io([&] {
    h.sub().subscribe({"news", "alerts"});
    h.sub().psubscribe("metrics.*");
  });
  REQUIRE(h.wait_subscribed());
  CHECK(h.node() == redis_ha::address{"127.0.0.1", server.port()});

  CHECK(publish(server.port(), "news", "hello") == 1);
  auto m = h.wait_message("news", "hello");
  REQUIRE(m);
  CHECK(m->pattern.empty());

  CHECK(publish(server.port(), "metrics.cpu", "42") == 1);
  auto pm = h.wait_message("metrics.cpu", "42");
  REQUIRE(pm);
  CHECK(pm->pattern == "metrics.*");

  // Changes while connected are sent at once.
  h.on_io([&] {
    h.sub().subscribe(std::vector<std::string>{"late"});
    h.sub().unsubscribe("alerts");
    h.sub().punsubscribe("metrics.*");
  });
  CHECK(eventually([&] { return publish(server.port(), "late", "x") == 1; }, 5s));
  CHECK(eventually([&] { return publish(server.port(), "alerts", "y") == 0; }, 5s));
  CHECK(eventually([&] { return publish(server.port(), "metrics.mem", "z") == 0; }, 5s));
  CHECK(h.wait_message("late", "x"));

  auto channels = h.on_io([&] { return h.sub().channels(); });
  CHECK(channels == std::set<std::string>{"late", "news"});
  const auto s = h.stats();
  CHECK(s.connects == 1);
  CHECK(s.reconnects == 0);
  CHECK(s.messages >= 3);
}

TEST_CASE("subscriber: re-subscribes everything after CLIENT KILL TYPE pubsub", "[pubsub]") {
  redis_node server;
  harness h(direct(server.port()));
  h.on_io([&] {
    h.sub().subscribe({"a", "b"});
    h.sub().psubscribe("p.*");
  });
  REQUIRE(h.wait_subscribed());
  REQUIRE(publish(server.port(), "a", "0") == 1);
  REQUIRE(h.wait_message("a", "0"));

  auto killed = redis_ha::test::command(server.port(), {"CLIENT", "KILL", "TYPE", "pubsub"});
  REQUIRE(killed.integer == 1);
  REQUIRE(eventually([&] { return h.stats().reconnects >= 1; }, 5s));
  CHECK(publish(server.port(), "a", "1") == 1);
  CHECK(publish(server.port(), "b", "2") == 1);
  CHECK(publish(server.port(), "p.x", "3") == 1);
  CHECK(h.wait_message("a", "1"));
  CHECK(h.wait_message("b", "2"));
  auto pm = h.wait_message("p.x", "3");
  REQUIRE(pm);
  CHECK(pm->pattern == "p.*");
  CHECK(h.saw_lost(asio::error::eof));

  const auto s = h.stats();
  report_deaf("CLIENT KILL", s);
  CHECK(s.reconnects == 1);
  CHECK(s.max_deaf_ms < 10s);
}

TEST_CASE("subscriber: a hung server is detected by the health check", "[pubsub]") {
  redis_node server;
  auto cfg = direct(server.port());
  cfg.connection.health_check_interval = 200ms;
  cfg.connection.health_check_timeout = 200ms;
  harness h(cfg);
  h.on_io([&] { h.sub().subscribe("hb"); });
  REQUIRE(h.wait_subscribed());
  server.pause();
  const bool detected = eventually([&] { return h.saw_lost(redis_ha::error::health_check_failed); }, 5s);
  server.resume();
  REQUIRE(detected);
  REQUIRE(eventually([&] { return h.stats().reconnects >= 1; }, 10s));
  CHECK(publish(server.port(), "hb", "back") == 1);
  CHECK(h.wait_message("hb", "back"));
  const auto s = h.stats();
  report_deaf("health check", s);
  CHECK(s.max_deaf_ms < 10s);
}

TEST_CASE("subscriber: follows a graceful SENTINEL FAILOVER to the new master", "[pubsub][failover]") {
  survive_failover("SENTINEL FAILOVER", [](topology& t) { return t.failover(); });
}

TEST_CASE("subscriber: follows the new master after the master is SIGKILLed", "[pubsub][failover]") {
  survive_failover("master SIGKILL", [](topology& t) { return t.kill_master(); });
}

namespace {

// How many sentinel event subscriptions of redis-ha the sentinel at `port` serves.
std::size_t sentinel_watches(std::uint16_t port) {
  const auto list = redis_ha::test::command(port, {"CLIENT", "LIST"}).str;
  std::size_t n = 0;
  for (std::size_t at = list.find("name=redis_ha-sentinel-watch"); at != std::string::npos;
       at = list.find("name=redis_ha-sentinel-watch", at + 1))
    ++n;
  return n;
}

struct publish_record {
  std::string payload;
  std::error_code ec;
  long long receivers = -1;
  bool before_fault = false;  // sent before the fault was over (it may have reached the old master)
};

// A client publishing numbered messages while `fault` hits the master of a
// Sentinel topology, with a subscriber built on that client: the pair must
// agree on the master, so every PUBLISH the client got answered reached a
// node this process was subscribed on (receivers >= 1) and its message
// arrived. `kill_race`: the fault is a SIGKILL, which may land between the
// old master's reply to a PUBLISH and its write of that message to the
// subscriber (the server's race, not the client's): at most one message
// sent before the kill may then be missing.
template <class Fault>
void shared_core_through(const char* what, Fault fault, bool kill_race) {
  topology topo;
  auto cfg = sentinel_config(topo);
  cfg.failover_budget = 15s;
  harness h(cfg, on_client);
  h.on_io([&] { h.sub().subscribe("orders"); });
  REQUIRE(h.wait_subscribed());
  REQUIRE(eventually([&] { return h.client_master() == h.node(); }, 5s));

  // One set of sentinel subscriptions in the process: the client's.
  for (auto port : topo.sentinel_ports()) CHECK(eventually([&] { return sentinel_watches(port) == 1; }, 5s));

  std::vector<publish_record> log;
  std::atomic<bool> stop{false}, faulted{false};
  std::thread publisher([&] {
    for (int i = 0; !stop; ++i) {
      publish_record r;
      r.payload = "m" + std::to_string(i);
      r.before_fault = !faulted;
      std::tie(r.ec, r.receivers) = h.publish_via_client("orders", r.payload);
      log.push_back(r);
      std::this_thread::sleep_for(2ms);
    }
  });
  std::this_thread::sleep_for(200ms);
  const auto old_port = fault(topo);
  faulted = true;  // what is sent from now on cannot reach the old master
  const auto new_port = topo.wait_for_master_change(old_port);
  const bool moved = eventually(
      [&] {
        auto n = h.node();
        return n && n->port == new_port && h.client_master() == n;
      },
      15s);
  std::this_thread::sleep_for(300ms);  // publishing on the new master
  stop = true;
  publisher.join();
  REQUIRE(moved);

  std::size_t acked = 0, failed = 0, unheard = 0, missing = 0, missing_before_fault = 0;
  for (const auto& r : log) {
    if (r.ec) {
      ++failed;
      continue;
    }
    ++acked;
    if (r.receivers < 1) ++unheard;
    if (!h.wait_message("orders", r.payload, 2s)) ++(r.before_fault ? missing_before_fault : missing);
  }
  const auto s = h.stats();
  report_deaf(what, s);
  h.print_events(what);
  std::cout << what << ": published " << log.size() << ", acked " << acked << ", failed " << failed
            << ", acked with 0 receivers " << unheard << ", acked but not received " << missing
            << " (+" << missing_before_fault << " sent before the fault)" << std::endl;
  CHECK(acked > 100);
  CHECK(unheard == 0);
  CHECK(missing == 0);
  CHECK(missing_before_fault <= (kill_race ? 1u : 0u));
  CHECK(s.reconnects >= 1);
  CHECK(s.max_deaf_ms < 10s);
  for (auto port : topo.sentinel_ports()) CHECK(sentinel_watches(port) <= 1);
}

}  // namespace

TEST_CASE("subscriber on a client: shared core, held PUBLISHes, nothing lost in a graceful SENTINEL FAILOVER",
          "[pubsub][failover][shared]") {
  shared_core_through("shared core, SENTINEL FAILOVER", [](topology& t) { return t.failover(); }, false);
}

TEST_CASE("subscriber on a client: shared core after a master SIGKILL, every acknowledged PUBLISH heard",
          "[pubsub][failover][shared]") {
  shared_core_through("shared core, master SIGKILL", [](topology& t) { return t.kill_master(); }, true);
}

TEST_CASE("subscriber on a client: a lost subscription holds the client's PUBLISH until re-subscribed",
          "[pubsub][shared]") {
  redis_node server;
  harness h(direct(server.port()), on_client);
  h.on_io([&] { h.sub().subscribe({"a", "b"}); });
  REQUIRE(h.wait_subscribed());
  REQUIRE(h.publish_via_client("a", "0") == std::make_pair(std::error_code{}, 1LL));
  REQUIRE(h.wait_message("a", "0"));

  int held_rounds = 0;  // rounds whose PUBLISH left while the subscription was down
  for (int round = 1; round <= 3; ++round) {
    const auto before = h.stats().reconnects;
    auto killed = redis_ha::test::command(server.port(), {"CLIENT", "KILL", "TYPE", "pubsub"});
    REQUIRE(killed.integer == 1);
    // Once the subscriber knows its subscription is gone, the client's
    // PUBLISH waits for the new one instead of reaching nobody. (On
    // loopback the new subscription may already be confirmed when the test
    // thread looks: then the PUBLISH is not held, and must still be heard.)
    std::size_t losses = 0;
    REQUIRE(eventually(
        [&] {
          losses = 0;
          for (auto& ev : h.events()) losses += ev.type == subscriber_event::kind::lost && ev.ec == asio::error::eof;
          return losses >= static_cast<std::size_t>(round);
        },
        5s, 0ms));
    if (!h.on_io([&] { return h.sub().subscribed(); })) ++held_rounds;
    const auto r = h.publish_via_client("b", std::to_string(round));
    CHECK(r.first == std::error_code{});
    CHECK(r.second == 1);
    CHECK(h.wait_message("b", std::to_string(round)));
    CHECK(h.stats().reconnects == before + 1);
  }
  std::cout << "lost subscription: " << held_rounds << " of 3 PUBLISHes sent while it was down\n";
  // The client's own connection was never touched, and no second client was made.
  CHECK(h.client_master() == redis_ha::address{"127.0.0.1", server.port()});
}

TEST_CASE("subscriber on a client: closing the client ends the subscriber", "[pubsub][shared]") {
  redis_node server;
  harness h(direct(server.port()), on_client);
  h.on_io([&] { h.sub().subscribe("x"); });
  REQUIRE(h.wait_subscribed());
  h.close_client();
  CHECK(eventually([&] { return h.saw_lost(redis_ha::error::client_closed); }, 5s));
  CHECK_FALSE(h.on_io([&] { return h.sub().subscribed(); }));
  CHECK(eventually(
      [&] {
        auto list = redis_ha::test::command(server.port(), {"CLIENT", "LIST", "TYPE", "pubsub"}).str;
        return list.find("name=ha-subscriber") == std::string::npos;
      },
      5s));
}
