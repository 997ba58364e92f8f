#pragma once
/// @file topology.hpp
/// A Sentinel-managed replication group: 1 master + 2 replicas + 3 sentinels (quorum 2).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "support/info.hpp"
#include "support/redis_server.hpp"
#include "support/sync_client.hpp"

namespace redis_ha::test {

/// Options of a topology.
struct topology_options {
  std::string master_name = "mymaster";  ///< Name the sentinels monitor the master under.
  int down_after_ms = 1000;              ///< `sentinel down-after-milliseconds`.
  int failover_timeout_ms = 5000;        ///< `sentinel failover-timeout`.
  /// `requirepass`/`masterauth` of the data nodes (and `sentinel auth-pass`) when non-empty.
  std::string requirepass{};
  std::vector<std::string> extra_server_config{};    ///< Extra lines for every data node.
  std::vector<std::string> extra_sentinel_config{};  ///< Extra lines for every sentinel.
  /// Sentinel timing tuned with `SENTINEL DEBUG` (lost when a sentinel restarts; see
  /// restart_sentinel()) so tests converge faster; 0 keeps Redis' default.
  /// Hello period (default 2000 ms): how fast sentinels discover each other and propagate
  /// a new configuration; an old master is reconfigured as replica ~4 periods after a switch.
  int sentinel_publish_period_ms = 500;
  /// INFO period towards master and replicas (default 10000 ms): how fast sentinels notice
  /// role changes, e.g. a restarted old master that must be turned into a replica.
  int sentinel_info_period_ms = 1000;
  /// PING period (default 1000 ms), also the minimum delay between reconnects. Must be well
  /// below down_after_ms: with both at 1000 ms, a sentinel whose link to a dead old master is
  /// in reconnect back-off may flag the freshly promoted master down right after the switch
  /// and start a second, spurious failover.
  int sentinel_ping_period_ms = 250;
  /// Bound of the wait for the topology to be fully connected.
  std::chrono::milliseconds ready_timeout{20000};
  /// Host the replicas' `replicaof` and the sentinels' `sentinel monitor` lines name (every
  /// node still listens on 127.0.0.1 only). To run the group on host names, set "localhost"
  /// and add `replica-announce-ip localhost` to extra_server_config and
  /// `sentinel resolve-hostnames yes` (plus `sentinel announce-hostnames yes`,
  /// `sentinel announce-ip localhost`) to extra_sentinel_config.
  std::string node_host = "127.0.0.1";
};

/// Starts 1 master + 2 replicas + 3 sentinels on 127.0.0.1 and waits until replication is
/// up and every sentinel knows the master, both replicas and the two other sentinels.
/// Everything is killed on destruction.
class topology {
public:
  /// Starts the topology; throws std::runtime_error with diagnostics if it does not come up.
  explicit topology(topology_options options = {}) : options_(std::move(options)) {
    data_nodes_.reserve(3);
    sentinels_.reserve(3);
    server_options server{.requirepass = options_.requirepass,
                          .extra_config = options_.extra_server_config,
                          .replicaof_host = options_.node_host};
    data_nodes_.emplace_back(server);
    server.replicaof = data_nodes_[0].port();
    data_nodes_.emplace_back(server);
    data_nodes_.emplace_back(server);
    wait_until("replicas connected", options_.ready_timeout, [&] { return replicas_linked(data_nodes_[0].port()); });

    const sentinel_options sentinel{.master_port = data_nodes_[0].port(),
                                    .master_name = options_.master_name,
                                    .down_after_ms = options_.down_after_ms,
                                    .failover_timeout_ms = options_.failover_timeout_ms,
                                    .auth_pass = options_.requirepass,
                                    .extra_config = options_.extra_sentinel_config,
                                    .master_host = options_.node_host};
    for (int i = 0; i < 3; ++i) {
      sentinels_.emplace_back(sentinel);
      tune_sentinel(sentinels_.back(), options_.sentinel_publish_period_ms, options_.sentinel_info_period_ms,
                    options_.sentinel_ping_period_ms);
    }
    wait_until("sentinels ready", options_.ready_timeout, [&] { return sentinels_ready(data_nodes_[0].port()); });
  }

  /// The options the topology was started with.
  const topology_options& options() const noexcept { return options_; }
  /// Name the master is monitored under.
  const std::string& master_name() const noexcept { return options_.master_name; }

  /// Data node `i` (0 is the initial master, 1 and 2 the initial replicas).
  redis_node& data_node(std::size_t i) { return data_nodes_.at(i); }
  /// Sentinel `i` (0..2).
  redis_node& sentinel(std::size_t i) { return sentinels_.at(i); }
  /// Ports of the three data nodes, in data_node() order.
  std::vector<std::uint16_t> node_ports() const { return ports_of(data_nodes_); }
  /// Ports of the three sentinels, in sentinel() order.
  std::vector<std::uint16_t> sentinel_ports() const { return ports_of(sentinels_); }

  /// The data node listening on `port`; throws std::out_of_range if there is none.
  redis_node& data_node_by_port(std::uint16_t port) {
    for (auto& node : data_nodes_)
      if (node.port() == port) return node;
    throw std::out_of_range(fmt::format("no data node on port {}", port));
  }

  /// Master port according to the first running, unpaused sentinel that answers
  /// `SENTINEL get-master-addr-by-name`. Throws if none answers.
  std::uint16_t master_port_from_sentinel() {
    std::string errors;
    for (auto& s : sentinels_) {
      if (!s.running() || s.paused()) continue;
      try {
        if (const auto port = sentinel_master_port(s, options_.master_name, query_timeout)) return *port;
      } catch (const std::exception& e) {
        errors += fmt::format("\n  {}", e.what());
      }
    }
    throw std::runtime_error("no sentinel reports a master address" + errors);
  }

  /// The data node that is master according to the sentinels.
  redis_node& master() { return data_node_by_port(master_port_from_sentinel()); }

  /// SIGKILLs the current master; returns its port.
  std::uint16_t kill_master() {
    auto& node = master();
    node.kill();
    return node.port();
  }

  /// SIGSTOPs the current master; returns its port (resume with data_node_by_port(p).resume()).
  std::uint16_t pause_master() {
    auto& node = master();
    node.pause();
    return node.port();
  }

  /// Sends `SENTINEL FAILOVER <name>` to the first running, unpaused sentinel once that
  /// sentinel sees every running replica healthy (so it can pick one), retrying error replies
  /// (NOGOODSLAVE, INPROG) until `timeout`. Returns the port of the master before the failover.
  std::uint16_t failover(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const std::uint16_t old_port = master_port_from_sentinel();
    auto& s = live_sentinel();
    wait_until("SENTINEL FAILOVER accepted", timeout, [&] {
      if (!replicas_healthy(s, old_port)) return false;
      s.command({"SENTINEL", "FAILOVER", options_.master_name});
      return true;
    });
    return old_port;
  }

  /// Waits until every running, unpaused sentinel (at least two) reports the same master
  /// port other than `old_port`, and that node answers ROLE as master; returns the new port.
  std::uint16_t wait_for_master_change(std::uint16_t old_port,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::uint16_t new_port = 0;
    wait_until(fmt::format("master change away from port {}", old_port), timeout, [&] {
      std::optional<std::uint16_t> agreed;
      int answers = 0;
      for (auto& s : sentinels_) {
        if (!s.running() || s.paused()) continue;
        const auto port = sentinel_master_port(s, options_.master_name, query_timeout);
        if (!port || *port == old_port || (agreed && *agreed != *port)) return false;
        agreed = port;
        ++answers;
      }
      if (answers < 2) return false;
      const reply role = data_node_by_port(*agreed).command({"ROLE"}, query_timeout);
      if (role.elements.empty() || role.elements[0].str != "master") return false;
      new_port = *agreed;
      return true;
    });
    return new_port;
  }

  /// Waits until every running, unpaused data node other than the master is a replica of the
  /// master with its link up and has processed the replication stream up to the offset the
  /// master reported when this function was called.
  void wait_replicas_in_sync(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto& current = master();
    const auto target = std::stoll(parse_info(current.command({"INFO", "replication"}).str).at("master_repl_offset"));
    wait_until("replicas in sync", timeout, [&] {
      for (auto& node : data_nodes_) {
        if (&node == &current || !node.running() || node.paused()) continue;
        auto info = parse_info(node.command({"INFO", "replication"}, query_timeout).str);
        if (info["role"] != "slave" || info["master_port"] != std::to_string(current.port()) ||
            info["master_link_status"] != "up" || info["slave_repl_offset"].empty() ||
            std::stoll(info["slave_repl_offset"]) < target)
          return false;
      }
      return true;
    });
  }

  /// Restarts sentinel `i` on the same port (with its rewritten config) and re-applies
  /// the SENTINEL DEBUG timing tuning.
  void restart_sentinel(std::size_t i) {
    sentinels_.at(i).restart();
    tune_sentinel(sentinels_.at(i), options_.sentinel_publish_period_ms, options_.sentinel_info_period_ms,
                  options_.sentinel_ping_period_ms);
  }

  /// Polls `ready` every 25 ms (exceptions count as "not yet") until it returns true;
  /// throws std::runtime_error naming `what`, with diagnostics(), after `timeout`.
  void wait_until(const std::string& what, std::chrono::milliseconds timeout, const std::function<bool()>& ready) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last_error;
    while (true) {
      try {
        if (ready()) return;
      } catch (const std::exception& e) {
        last_error = e.what();
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(poll_interval);
    }
    throw std::runtime_error(fmt::format("topology: timed out after {} ms waiting for {}{}\n{}", timeout.count(), what,
                                         last_error.empty() ? "" : " (last error: " + last_error + ")",
                                         diagnostics()));
  }

  /// Human-readable state of every node, for failure messages.
  std::string diagnostics() {
    std::string text;
    for (auto& node : data_nodes_) {
      text += fmt::format("data node {}: ", node.port());
      text += describe(node, [&] {
        auto info = parse_info(node.command({"INFO", "replication"}, query_timeout).str);
        return fmt::format("role={} master_port={} link={} offset={}/{} connected_slaves={}", info["role"],
                           info["master_port"], info["master_link_status"], info["slave_repl_offset"],
                           info["master_repl_offset"], info["connected_slaves"]);
      });
    }
    for (auto& s : sentinels_) {
      text += fmt::format("sentinel {}: ", s.port());
      text += describe(s, [&] {
        const auto master = s.command({"SENTINEL", "MASTER", options_.master_name}, query_timeout);
        const auto replicas = s.command({"SENTINEL", "REPLICAS", options_.master_name}, query_timeout);
        const auto others = s.command({"SENTINEL", "SENTINELS", options_.master_name}, query_timeout);
        std::string line = fmt::format("master={}:{} flags={} replicas=[", master.field("ip").value_or("?"),
                                       master.field("port").value_or("?"), master.field("flags").value_or("?"));
        for (const auto& r : replicas.elements)
          line += fmt::format(" {}({})", r.field("port").value_or("?"), r.field("flags").value_or("?"));
        line += " ] sentinels=[";
        for (const auto& o : others.elements)
          line += fmt::format(" {}({})", o.field("port").value_or("?"), o.field("flags").value_or("?"));
        return line + " ]\n" + s.log_tail(30);
      });
    }
    return text;
  }

private:
  static constexpr std::chrono::milliseconds poll_interval{25};
  static constexpr std::chrono::milliseconds query_timeout{500};

  static std::vector<std::uint16_t> ports_of(const std::vector<redis_node>& nodes) {
    std::vector<std::uint16_t> ports;
    for (const auto& node : nodes) ports.push_back(node.port());
    return ports;
  }

  template <typename F>
  static std::string describe(redis_node& node, F&& query) {
    if (!node.running()) return "not running\n";
    if (node.paused()) return "paused\n";
    try {
      return query() + "\n";
    } catch (const std::exception& e) {
      return fmt::format("error: {}\n", e.what());
    }
  }

  bool replicas_linked(std::uint16_t master_port) {
    for (auto& node : data_nodes_) {
      if (node.port() == master_port) continue;
      auto info = parse_info(node.command({"INFO", "replication"}, query_timeout).str);
      if (info["master_link_status"] != "up") return false;
    }
    return true;
  }

  redis_node& live_sentinel() {
    for (auto& s : sentinels_)
      if (s.running() && !s.paused()) return s;
    throw std::runtime_error("topology: no running sentinel");
  }

  /// True when sentinel `s` sees every running, unpaused data node other than `master_port`
  /// as a healthy replica of `master_port` (flags "slave", role reported "slave", link ok).
  bool replicas_healthy(redis_node& s, std::uint16_t master_port) {
    const auto replicas = s.command({"SENTINEL", "REPLICAS", options_.master_name}, query_timeout);
    for (auto& node : data_nodes_) {
      if (node.port() == master_port || !node.running() || node.paused()) continue;
      const auto entry = std::find_if(replicas.elements.begin(), replicas.elements.end(),
                                      [&](const reply& r) { return r.field("port") == std::to_string(node.port()); });
      if (entry == replicas.elements.end() || entry->field("flags") != "slave" ||
          entry->field("role-reported") != "slave" || entry->field("master-link-status") != "ok" ||
          entry->field("master-port") != std::to_string(master_port))
        return false;
    }
    return true;
  }

  bool sentinels_ready(std::uint16_t master_port) {
    for (auto& s : sentinels_) {
      if (sentinel_master_port(s, options_.master_name, query_timeout) != master_port || !replicas_healthy(s, master_port)) return false;
      const auto replicas = s.command({"SENTINEL", "REPLICAS", options_.master_name}, query_timeout);
      const auto others = s.command({"SENTINEL", "SENTINELS", options_.master_name}, query_timeout);
      if (replicas.elements.size() != 2 || others.elements.size() != 2) return false;
      for (const auto& o : others.elements)
        if (o.field("flags") != "sentinel") return false;
    }
    return true;
  }

  topology_options options_;
  std::vector<redis_node> data_nodes_;
  std::vector<redis_node> sentinels_;
};

}  // namespace redis_ha::test
