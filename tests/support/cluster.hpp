#pragma once
/// @file cluster.hpp
/// A real Redis Cluster for tests: 3 masters + 3 replicas of redis-server in
/// cluster mode on free 127.0.0.1 ports (cluster-node-timeout 1000 ms),
/// created with
/// `redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`,
/// ready when every node reports `cluster_state:ok` and agrees on the slots.
/// Stopped in the destructor (each node's own destructor kills it).
///
/// Each node's data dir and cluster config file (`nodes.conf`, which the
/// node rewrites and fsyncs on every epoch or slot change) live on tmpfs:
/// `/dev/shm/redis-ha-cluster-XXXXXX/<n>/`, one directory per harness,
/// removed in the destructor (after the nodes). On the disk those fsyncs
/// stalled the nodes of other shards for hundreds of ms during failovers.
/// Without /dev/shm, /tmp is used. The node's own config and log files stay
/// in its temp dir (`redis_node::dir()`).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <redis_ha/address.hpp>
#include <redis_ha/connection_config.hpp>
#include <redis_ha/detail/cluster_slot.hpp>

#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

#ifndef REDIS_HA_TEST_REDIS_CLI
#define REDIS_HA_TEST_REDIS_CLI "/usr/bin/redis-cli"
#endif

namespace redis_ha::test {

/// Connection settings for the clients of a test cluster: a killed or hung
/// node is noticed within about 300 ms.
inline redis_ha::connection_config fast_cluster_connection() {
  redis_ha::connection_config c;
  c.connect_timeout = std::chrono::milliseconds(300);
  c.health_check_interval = std::chrono::milliseconds(300);
  c.health_check_timeout = std::chrono::milliseconds(300);
  return c;
}

/// Options of a test cluster.
struct cluster_options {
  int masters = 3;
  int replicas_per_master = 1;
  int node_timeout_ms = 1000;
  std::vector<std::string> extra_config{};
  /// When set: more configuration lines for each node, asked once per node
  /// in creation order (e.g. a TLS port of its own).
  std::function<std::vector<std::string>()> node_config{};
};

/// One node as CLUSTER NODES reports it.
struct cluster_node_info {
  std::string id;
  std::uint16_t port = 0;
  bool master = false;
  bool failed = false;
  std::string master_id;  ///< for a replica
  std::vector<std::pair<int, int>> ranges;
};

class test_cluster {
 public:
  static constexpr std::chrono::milliseconds ready_timeout{30000};
  /// Bound on one administrative command (SETSLOT saves the node's config).
  static constexpr std::chrono::milliseconds slow{10000};

  explicit test_cluster(cluster_options o = {}) : options_(std::move(o)), state_dir_(make_state_dir()) {
    const int n = options_.masters * (1 + options_.replicas_per_master);
    for (int i = 0; i < n; ++i) nodes_.push_back(std::make_unique<redis_node>(node_options()));
    std::vector<std::string> argv{REDIS_HA_TEST_REDIS_CLI, "--cluster", "create"};
    for (auto& node : nodes_) argv.push_back(fmt::format("127.0.0.1:{}", node->port()));
    argv.insert(argv.end(), {"--cluster-replicas", std::to_string(options_.replicas_per_master), "--cluster-yes"});
    run_cli(argv);
    wait_ok(ready_timeout);
  }

  /// All nodes (index stays the same across kill/restart).
  std::vector<std::unique_ptr<redis_node>>& nodes() { return nodes_; }
  redis_node& node(std::size_t i) { return *nodes_.at(i); }
  /// Every node's address (seeds, or a direct-mode subscriber's addresses).
  std::vector<redis_ha::address> addresses() const {
    std::vector<redis_ha::address> out;
    for (auto p : ports()) out.push_back({"127.0.0.1", p});
    return out;
  }
  std::vector<std::uint16_t> ports() const {
    std::vector<std::uint16_t> v;
    for (auto& n : nodes_) v.push_back(n->port());
    return v;
  }

  /// CLUSTER NODES as seen by the node at `port`.
  std::vector<cluster_node_info> topology(std::uint16_t port) const {
    const auto text = command(port, {"CLUSTER", "NODES"}, {}, std::chrono::milliseconds(1000)).str;
    std::vector<cluster_node_info> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
      auto end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(pos, end - pos);
      pos = end + 1;
      if (line.empty()) continue;
      std::vector<std::string> f;
      std::size_t p = 0;
      while (p <= line.size()) {
        auto sp = line.find(' ', p);
        if (sp == std::string::npos) sp = line.size();
        f.push_back(line.substr(p, sp - p));
        p = sp + 1;
      }
      if (f.size() < 8) continue;
      cluster_node_info n;
      n.id = f[0];
      const auto colon = f[1].find(':');
      const auto at = f[1].find('@');
      n.port = static_cast<std::uint16_t>(std::stoi(f[1].substr(colon + 1, at - colon - 1)));
      n.master = f[2].find("master") != std::string::npos;
      n.failed = f[2].find("fail") != std::string::npos && f[2].find("fail?") == std::string::npos;
      n.master_id = f[3];
      for (std::size_t i = 8; i < f.size(); ++i) {
        if (f[i].empty() || f[i][0] == '[') continue;
        const auto dash = f[i].find('-');
        if (dash == std::string::npos)
          n.ranges.emplace_back(std::stoi(f[i]), std::stoi(f[i]));
        else
          n.ranges.emplace_back(std::stoi(f[i].substr(0, dash)), std::stoi(f[i].substr(dash + 1)));
      }
      out.push_back(std::move(n));
    }
    return out;
  }

  /// Index of the node serving `slot` as master, as a live node sees it.
  std::size_t master_of_slot(int slot) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i]->running() || nodes_[i]->paused()) continue;
      try {
        for (const auto& n : topology(nodes_[i]->port()))
          if (n.master && !n.failed)
            for (auto [a, b] : n.ranges)
              if (slot >= a && slot <= b) return index_of(n.port);
      } catch (...) {
      }
    }
    throw std::runtime_error(fmt::format("no live node knows a master for slot {}", slot));
  }
  /// Index of a replica of the master at index `m` (waits until a live
  /// node's view lists one: views converge shortly after creation).
  std::size_t replica_of(std::size_t m) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      try {
        const auto view = topology(live_port());
        std::string mid;
        for (const auto& n : view)
          if (n.port == nodes_[m]->port()) mid = n.id;
        for (const auto& n : view)
          if (!n.master && !mid.empty() && n.master_id == mid) return index_of(n.port);
      } catch (const std::exception&) {
      }
      if (std::chrono::steady_clock::now() >= deadline) throw std::runtime_error("no replica");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  /// Node id of the node at index `i`.
  std::string node_id(std::size_t i) const {
    return command(nodes_[i]->port(), {"CLUSTER", "MYID"}, {}, slow).str;
  }

  /// True when every running node says cluster_state:ok and all agree that
  /// each slot range has a master that is not failed.
  bool all_ok() const {
    for (const auto& n : nodes_) {
      if (!n->running() || n->paused()) continue;
      const auto info = command(n->port(), {"CLUSTER", "INFO"}, {}, std::chrono::milliseconds(500)).str;
      if (info.find("cluster_state:ok") == std::string::npos) return false;
      if (info.find("cluster_slots_ok:16384") == std::string::npos) return false;
    }
    return true;
  }
  /// Waits until `all_ok()`.
  void wait_ok(std::chrono::milliseconds timeout) const {
    if (!eventually([&] { return all_ok(); }, timeout, std::chrono::milliseconds(50)))
      throw std::runtime_error("the test cluster did not reach cluster_state:ok on every node");
  }

  /// Waits until the node at index `i` is a master according to itself.
  bool wait_master(std::size_t i, std::chrono::milliseconds timeout) const {
    return eventually(
        [&] {
          auto r = command(nodes_[i]->port(), {"ROLE"}, {}, std::chrono::milliseconds(300));
          return !r.elements.empty() && r.elements[0].str == "master";
        },
        timeout);
  }

  /// Adds an empty master (no slots) and waits until every node knows it.
  std::size_t add_master() {
    nodes_.push_back(std::make_unique<redis_node>(node_options()));
    const auto port = nodes_.back()->port();
    run_cli({REDIS_HA_TEST_REDIS_CLI, "--cluster", "add-node", fmt::format("127.0.0.1:{}", port),
             fmt::format("127.0.0.1:{}", live_port())});
    const auto i = nodes_.size() - 1;
    if (!eventually(
            [&] {
              for (const auto& n : nodes_) {
                if (!n->running() || n->paused()) continue;
                bool known = false;
                for (const auto& t : topology(n->port())) known = known || t.port == port;
                if (!known) return false;
              }
              return true;
            },
            ready_timeout))
      throw std::runtime_error("the new node was not learned by every node");
    wait_ok(ready_timeout);
    return i;
  }

  /// Moves `slot` from node index `from` to node index `to` by hand, in
  /// three steps the test can interleave with traffic: `begin_migration`
  /// (IMPORTING on the target, MIGRATING on the source), `migrate_keys`
  /// (MIGRATE every key of the slot), `end_migration` (SETSLOT NODE on both
  /// and on every master).
  void begin_migration(int slot, std::size_t from, std::size_t to) {
    const auto src = node_id(from), dst = node_id(to);
    expect_ok(nodes_[to]->command({"CLUSTER", "SETSLOT", std::to_string(slot), "IMPORTING", src}, slow));
    expect_ok(nodes_[from]->command({"CLUSTER", "SETSLOT", std::to_string(slot), "MIGRATING", dst}, slow));
  }
  /// MIGRATEs the keys of `slot` from `from` to `to`, `batch` at a time; returns how many.
  std::size_t migrate_keys(int slot, std::size_t from, std::size_t to, int batch = 100) {
    std::size_t moved = 0;
    for (;;) {
      auto keys =
          nodes_[from]->command({"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), std::to_string(batch)}, slow);
      if (keys.elements.empty()) return moved;
      std::vector<std::string> argv{"MIGRATE", "127.0.0.1", std::to_string(nodes_[to]->port()), "", "0", "5000",
                                    "REPLACE", "KEYS"};
      for (auto& k : keys.elements) argv.push_back(k.str);
      nodes_[from]->command(argv, std::chrono::milliseconds(5000));
      moved += keys.elements.size();
    }
  }
  void end_migration(int slot, std::size_t from, std::size_t to) {
    const auto dst = node_id(to);
    expect_ok(nodes_[to]->command({"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", dst}, slow));
    expect_ok(nodes_[from]->command({"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", dst}, slow));
    for (auto& n : nodes_) {
      if (!n->running() || n->paused()) continue;
      auto role = n->command({"ROLE"});
      if (!role.elements.empty() && role.elements[0].str == "master")
        n->command({"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", dst}, slow);
    }
  }

  /// The port of some running node.
  std::uint16_t live_port() const {
    for (const auto& n : nodes_)
      if (n->running() && !n->paused()) return n->port();
    throw std::runtime_error("no live node");
  }

 private:
  /// The tmpfs directory of the nodes' state (/tmp when there is no /dev/shm).
  static temp_dir make_state_dir() {
    std::error_code ec;
    const bool shm = std::filesystem::is_directory("/dev/shm", ec);
    return temp_dir("redis-ha-cluster-", shm ? "/dev/shm" : "/tmp");
  }

  server_options node_options() {
    // Named by a counter, not by the port: the node picks its port (again on a clash).
    const auto dir = state_dir_.path() / std::to_string(next_state_++);
    std::filesystem::create_directories(dir);
    server_options o;
    o.extra_config = {"cluster-enabled yes",
                      // After the node's own `dir`: this one wins (Redis applies the last).
                      "dir " + dir.string(), "cluster-config-file " + (dir / "nodes.conf").string(),
                      fmt::format("cluster-node-timeout {}", options_.node_timeout_ms),
                      "cluster-replica-validity-factor 0",  // a replica may always take over
                      "cluster-allow-replica-migration no", "appendonly no",
                      // The other shards keep serving while one fails over (docs/cluster.md).
                      "cluster-require-full-coverage no",
                      // The bus port is given: port + 10000 would overflow for ephemeral ports.
                      fmt::format("cluster-port {}", free_port())};
    o.extra_config.insert(o.extra_config.end(), options_.extra_config.begin(), options_.extra_config.end());
    if (options_.node_config)
      for (auto& line : options_.node_config()) o.extra_config.push_back(std::move(line));
    return o;
  }

  std::size_t index_of(std::uint16_t port) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i]->port() == port) return i;
    throw std::runtime_error(fmt::format("no node on port {}", port));
  }

  static void expect_ok(const reply& r) {
    if (r.kind == reply::type::error) throw std::runtime_error("cluster command failed: " + r.str);
  }

  void run_cli(const std::vector<std::string>& argv) {
    temp_dir out;
    const auto path = (out.path() / "cli.log").string();
    auto p = child_process::spawn(argv, {.output_path = path});
    const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
    while (p.running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (p.running()) {
      p.kill();
      throw std::runtime_error("redis-cli --cluster timed out");
    }
    if (p.exit_code() != 0) {
      std::ifstream in(path);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      throw std::runtime_error(fmt::format("redis-cli --cluster failed ({}):\n{}", p.exit_code(), text));
    }
  }

  cluster_options options_;
  temp_dir state_dir_;  // before nodes_: removed after every node was killed
  int next_state_ = 0;
  std::vector<std::unique_ptr<redis_node>> nodes_;
};

/// One name per master (`prefix` and a number), chosen by the master
/// serving its slot as a live node sees it: a key or sharded channel on
/// every shard.
inline std::vector<std::string> one_name_per_master(const test_cluster& c, const std::string& prefix,
                                                    std::size_t masters = 3) {
  std::map<std::size_t, std::string> by_master;
  for (int i = 0; by_master.size() < masters && i < 10000; ++i) {
    std::string name = prefix + std::to_string(i);
    by_master.emplace(c.master_of_slot(redis_ha::detail::key_slot(name)), name);
  }
  std::vector<std::string> out;
  for (auto& [m, name] : by_master) out.push_back(name);
  return out;
}

}  // namespace redis_ha::test
