// redis_ha_bench failover: how long writes through redis_ha::client stop,
// and whether any fail or get lost, when the Sentinel-managed master is
// SIGKILLed (mode kill) or handed over with SENTINEL FAILOVER (mode
// graceful). Every run starts a fresh topology (1 master + 2 replicas + 3
// sentinels, down-after-milliseconds 1000, failover-timeout 5000) and a
// background_writer (one awaited SET every 5 ms, key "<prefix>:<i>",
// value "<i>"). The durable modes (durable_kill, durable_graceful) are the
// same scenarios with the writer's client_config::min_replicas_acked = 1
// (replication_timeout 100 ms): every SET is followed by WAIT 1 100.
//
// Besides the failover runs, the cost of durability is measured on a fresh
// topology: one awaited SET at a time through redis_ha::client, with
// min_replicas_acked 0 and 1 (seq_ops_s, durable_seq_ops_s).
//
// Sentinel's failover events are observed independently of the client under
// test: one thread holds a hiredis connection per sentinel with
// `PSUBSCRIBE *` and timestamps every message (steady_clock) as it is read.
#pragma once

#include <redis_ha/client.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/client_event.hpp>
#include <redis_ha/sync_client.hpp>

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "throughput.hpp"

#include "support/fault_proxy.hpp"
#include "support/ha_config.hpp"
#include "support/ha_writer.hpp"
#include "support/info.hpp"
#include "support/sync_client.hpp"
#include "support/topology.hpp"

namespace bench {

using fo_clock = std::chrono::steady_clock;

/// Settings of `redis_ha_bench failover`.
struct failover_options {
  int runs = 5;              ///< runs per mode, each on a fresh topology
  bool kill = true;              ///< run mode kill
  bool graceful = true;          ///< run mode graceful
  bool durable_kill = true;      ///< run mode durable_kill (kill, min_replicas_acked = 1)
  bool durable_graceful = true;  ///< run mode durable_graceful (graceful, min_replicas_acked = 1)
  bool direct_kill = true;       ///< kill, the writer in direct mode behind a round-robin proxy over the 3 nodes
  bool direct_graceful = true;   ///< graceful, the same direct-mode writer
  bool direct_durable_graceful = true;  ///< graceful, direct mode, min_replicas_acked = 1
  bool replica_read = true;      ///< graceful, plus a reader with read_from::replica: longest gap between reads
  bool throughput = true;        ///< measure seq_ops_s / durable_seq_ops_s on a fresh topology
  double throughput_seconds = 2.0;  ///< length of one throughput measurement
  int throughput_rounds = 3;        ///< alternated rounds of both throughput cases; medians reported
  int recover_acks = 100;    ///< after the client's master change, wait for this many more acked writes...
  int recover_ms = 15000;    ///< ...bounded by this long after the fault
  int observe_ms = 3000;     ///< keep watching the sentinels this long after the first +switch-master
  bool verbose = false;      ///< print each run's event timeline to stderr (and poll INFO replication of the data nodes)
  /// Prepended to every key of the JSON line ("valkey_" for `--server valkey`).
  std::string json_prefix;
};

/// `json` (a flat object of "key": value pairs) with `prefix` before every key.
inline std::string prefix_json_keys(const std::string& json, const std::string& prefix) {
  if (prefix.empty()) return json;
  std::string out;
  out.reserve(json.size() + 64 * prefix.size());
  for (std::size_t i = 0; i < json.size(); ++i) {
    out += json[i];
    const bool key_start = json[i] == '"' && i > 0 && (json[i - 1] == '{' || (i > 1 && json[i - 1] == ' ' && json[i - 2] == ','));
    if (key_start) out += prefix;
  }
  return out;
}

/// Durable modes use this many replica acknowledgements per write (client_config::min_replicas_acked).
inline constexpr int durable_min_replicas_acked = 1;
/// ...with this WAIT timeout (client_config::replication_timeout).
inline constexpr std::chrono::milliseconds durable_replication_timeout{100};

/// Every Pub/Sub message of a set of sentinels (`PSUBSCRIBE *`), with the time it was read.
/// Subscribed (confirmed by every sentinel) when the constructor returns.
class sentinel_event_log {
 public:
  struct entry {
    fo_clock::time_point at;
    std::uint16_t sentinel = 0;
    std::string channel, payload;
  };

  explicit sentinel_event_log(const std::vector<std::uint16_t>& ports) {
    try {
      for (auto port : ports) {
        const timeval tv{2, 0};
        redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
        if (!c) throw std::runtime_error("hiredis: out of memory");
        subs_.push_back({port, c, true});
        if (c->err) throw std::runtime_error(fmt::format("sentinel {}: connect: {}", port, c->errstr));
        redisSetTimeout(c, tv);
        auto* r = static_cast<redisReply*>(redisCommand(c, "PSUBSCRIBE %s", "*"));
        if (!r) throw std::runtime_error(fmt::format("sentinel {}: PSUBSCRIBE: {}", port, c->errstr));
        const bool ok = r->type == REDIS_REPLY_ARRAY;
        freeReplyObject(r);
        if (!ok) throw std::runtime_error(fmt::format("sentinel {}: PSUBSCRIBE refused", port));
      }
    } catch (...) {
      free_all();
      throw;
    }
    thread_ = std::thread([this] { loop(); });
  }

  ~sentinel_event_log() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    free_all();
  }
  sentinel_event_log(const sentinel_event_log&) = delete;
  sentinel_event_log& operator=(const sentinel_event_log&) = delete;

  std::vector<entry> entries() {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  struct sub {
    std::uint16_t port;
    redisContext* ctx;
    bool alive;
  };

  void free_all() {
    for (auto& s : subs_)
      if (s.ctx) redisFree(s.ctx);
    subs_.clear();
  }

  void record(const sub& s, std::string channel, std::string payload) {
    std::lock_guard lock(mutex_);
    entries_.push_back({fo_clock::now(), s.port, std::move(channel), std::move(payload)});
  }

  void drain(sub& s) {
    while (true) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(s.ctx, &raw) != REDIS_OK) {
        s.alive = false;
        record(s, "(subscriber)", "protocol error");
        return;
      }
      if (!raw) return;
      auto* r = static_cast<redisReply*>(raw);
      // ["pmessage", pattern, channel, payload]
      if (r->type == REDIS_REPLY_ARRAY && r->elements == 4 && r->element[2]->str && r->element[3]->str)
        record(s, std::string(r->element[2]->str, r->element[2]->len),
               std::string(r->element[3]->str, r->element[3]->len));
      freeReplyObject(r);
    }
  }

  void loop() {
    std::vector<pollfd> fds(subs_.size());
    while (!stop_) {
      for (std::size_t i = 0; i < subs_.size(); ++i)
        fds[i] = pollfd{subs_[i].alive ? subs_[i].ctx->fd : -1, POLLIN, 0};
      const int n = ::poll(fds.data(), fds.size(), 20);
      if (n <= 0) continue;
      for (std::size_t i = 0; i < subs_.size(); ++i) {
        if (!subs_[i].alive || fds[i].revents == 0) continue;
        if (redisBufferRead(subs_[i].ctx) != REDIS_OK) {
          subs_[i].alive = false;
          record(subs_[i], "(subscriber)", "connection lost");
          continue;
        }
        drain(subs_[i]);
      }
    }
  }

  std::vector<sub> subs_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<entry> entries_;
};

/// Verbose runs only: `INFO replication` of every data node every ~5 ms (own hiredis connections, reconnected
/// when Sentinel's CLIENT KILL or a dead node drops them), to see which replicas were attached to
/// which master, and at which offsets, while writes were acknowledged.
class role_poller {
 public:
  struct sample {
    fo_clock::time_point at;
    std::uint16_t port = 0;
    std::string shape;   ///< role and links, without offsets ("master [6401 6402]", "slave of 6400 connected")
    std::string text;    ///< shape with offsets
  };

  explicit role_poller(std::vector<std::uint16_t> ports) : ports_(std::move(ports)) {
    thread_ = std::thread([this] { loop(); });
  }
  ~role_poller() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  role_poller(const role_poller&) = delete;
  role_poller& operator=(const role_poller&) = delete;

  std::vector<sample> samples() {
    std::lock_guard lock(mutex_);
    return samples_;
  }

 private:
  static void describe(const std::string& info_text, sample& s) {
    auto info = redis_ha::test::parse_info(info_text);
    const std::string offset = info["master_repl_offset"];
    if (info["role"] == "master") {
      std::string ports, acks;
      const int n = info["connected_slaves"].empty() ? 0 : std::stoi(info["connected_slaves"]);
      for (int i = 0; i < n; ++i) {
        auto rep = redis_ha::test::parse_info_value(info[fmt::format("slave{}", i)]);
        ports += (ports.empty() ? "" : " ") + rep["port"] + (rep["state"] == "online" ? "" : "/" + rep["state"]);
        acks += fmt::format("{}{}@{}", acks.empty() ? "" : " ", rep["port"], rep["offset"]);
      }
      s.shape = fmt::format("master [{}]", ports);
      s.text = fmt::format("master offset {} replicas (port@acked offset) [{}]", offset, acks);
    } else if (info["role"] == "slave") {
      s.shape = fmt::format("slave of {} link {}", info["master_port"], info["master_link_status"]);
      s.text = fmt::format("{} offset {}", s.shape, offset);
    } else {
      s.shape = s.text = "role ?";
    }
  }

  void loop() {
    using namespace std::chrono_literals;
    std::vector<std::optional<redis_ha::test::sync_connection>> conns(ports_.size());
    while (!stop_) {
      for (std::size_t i = 0; i < ports_.size(); ++i) {
        sample s;
        s.port = ports_[i];
        try {
          if (!conns[i]) conns[i].emplace(ports_[i], 200ms);
          auto r = conns[i]->command({"INFO", "replication"});
          s.at = fo_clock::now();
          describe(r.str, s);
        } catch (const std::exception&) {
          conns[i].reset();
          s.at = fo_clock::now();
          s.shape = s.text = "unreachable";
        }
        std::lock_guard lock(mutex_);
        samples_.push_back(std::move(s));
      }
      std::this_thread::sleep_for(5ms);
    }
  }

  std::vector<std::uint16_t> ports_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<sample> samples_;
};

/// One run's figures (milliseconds; nullopt: could not be determined, see note).
struct failover_run {
  std::string mode;
  int run = 0;
  std::optional<double> to_switch_ms, switch_to_first_write_ms, first_write_after_fault_ms;
  std::uint64_t failed = 0;          ///< every SET that completed with an error (not_replicated included)
  std::uint64_t not_replicated = 0;  ///< of which error::not_replicated
  std::optional<std::uint64_t> acked_lost;
  std::optional<double> max_read_gap_ms;  ///< replica_read: longest gap between successful reads from the fault on
  bool flagged = false;
  bool error = false;
  std::string note;
};

/// A reader with read_from::replica: one GET every 5 ms, each success timed.
class replica_reader {
 public:
  replica_reader(redis_ha::client_config cfg, std::string key) : key_(std::move(key)) {
    cfg.read_from = redis_ha::read_from::replica;
    cfg.connection.client_name = "bench-failover-reader";
    client_ = std::make_unique<redis_ha::sync_client>(cfg);
    thread_ = std::thread([this] {
      while (!stop_) {
        std::error_code ec;
        client_->command(ec, "GET", key_);
        if (!ec) {
          std::lock_guard<std::mutex> lock(mutex_);
          ok_.push_back(fo_clock::now());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }
  ~replica_reader() { stop(fo_clock::now()); }
  /// Stops; the longest gap between two successful reads at or after `from` (ms).
  double stop(fo_clock::time_point from) {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    double gap = 0;
    std::optional<fo_clock::time_point> prev;
    for (auto t : ok_) {
      if (t < from) {
        prev = t;
        continue;
      }
      if (prev) gap = std::max(gap, std::chrono::duration<double, std::milli>(t - *prev).count());
      prev = t;
    }
    return gap;
  }

 private:
  std::string key_;
  std::unique_ptr<redis_ha::sync_client> client_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<fo_clock::time_point> ok_;
  std::thread thread_;
};

namespace failover_detail {

inline double ms_between(fo_clock::time_point a, fo_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

inline std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> w;
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

inline void append_note(std::string& note, const std::string& what) {
  if (!note.empty()) note += "; ";
  note += what;
}


/// Sleeps until `t` (no-op if past).
inline void sleep_until(fo_clock::time_point t) {
  if (t > fo_clock::now()) std::this_thread::sleep_until(t);
}

/// The port of the new master in a +switch-master payload
/// ("<name> <old-ip> <old-port> <new-ip> <new-port>") for `name`, or 0.
inline std::uint16_t switch_new_port(const std::string& payload, const std::string& name) {
  auto w = words(payload);
  if (w.size() != 5 || w[0] != name) return 0;
  try {
    return static_cast<std::uint16_t>(std::stoi(w[4]));
  } catch (...) {
    return 0;
  }
}

}  // namespace failover_detail

/// One run on a fresh topology. Throws on harness failures (topology does not come up, ...).
/// `mode`: kill, graceful, durable_kill or durable_graceful.
inline failover_run run_failover_once(const std::string& mode, int run, const failover_options& opt) {
  using namespace std::chrono_literals;
  using namespace failover_detail;
  using redis_ha::client_event;
  failover_run result;
  result.mode = mode;
  result.run = run;
  const bool durable = mode.find("durable_") != std::string::npos;
  const bool direct = mode.rfind("direct_", 0) == 0;
  const bool reader = mode == "replica_read";
  const bool ends_kill = mode.size() >= 4 && mode.compare(mode.size() - 4, 4, "kill") == 0;
  const std::string fault = ends_kill ? "kill" : "graceful";
  if (!ends_kill && mode.find("graceful") == std::string::npos && !reader)
    throw std::invalid_argument("unknown failover mode " + mode);

  redis_ha::test::topology topo;  // defaults: down-after 1000 ms, failover-timeout 5000 ms
  const std::string name = topo.master_name();
  sentinel_event_log sentinels(topo.sentinel_ports());
  std::optional<role_poller> roles;
  if (opt.verbose) roles.emplace(topo.node_ports());

  // The client under test: library defaults, Sentinel mode over the three sentinels; durable
  // modes add min_replicas_acked (every SET followed by WAIT 1 100 in the same write).
  auto cfg = redis_ha::test::sentinel_client_config(topo);
  cfg.connection.client_name = "bench-failover-writer";
  if (durable) {
    cfg.min_replicas_acked = durable_min_replicas_acked;
    cfg.replication_timeout = durable_replication_timeout;
  }
  // Direct modes: the original incident's shape, one address that a load
  // balancer spreads over the master and both replicas.
  std::optional<redis_ha::test::fault_proxy> lb;
  if (direct) {
    lb.emplace(topo.node_ports());
    cfg.sentinel.sentinels.clear();
    cfg.addresses = {{"127.0.0.1", lb->port()}};
  }
  redis_ha::test::background_writer writer(cfg, fmt::format("fo:{}:{}", mode, run));
  std::optional<replica_reader> reads;
  if (reader) reads.emplace(redis_ha::test::sentinel_client_config(topo), fmt::format("fo:{}:{}", mode, run));

  if (!writer.wait_more_acked(50, 10s)) throw std::runtime_error("writer: fewer than 50 acked writes in 10 s");
  topo.wait_replicas_in_sync();

  // --- the fault ---------------------------------------------------------------
  auto& old_master = topo.master();
  const std::uint16_t old_port = old_master.port();
  fo_clock::time_point t_fault;
  if (fault == "kill") {
    t_fault = fo_clock::now();
    old_master.kill();
  } else {
    // SENTINEL FAILOVER to the first sentinel; error replies (NOGOODSLAVE, INPROG) are retried.
    // The fault time is when the accepted attempt was sent.
    const auto deadline = fo_clock::now() + 10s;
    while (true) {
      const auto t = fo_clock::now();
      try {
        topo.sentinel(0).command({"SENTINEL", "FAILOVER", name});
        t_fault = t;
        break;
      } catch (const redis_ha::test::reply_error& e) {
        if (fo_clock::now() > deadline) throw std::runtime_error(std::string("SENTINEL FAILOVER: ") + e.what());
        std::this_thread::sleep_for(25ms);
      }
    }
  }

  // --- recovery: the client's master change, then recover_acks more acked writes -------
  const auto recover_deadline = t_fault + std::chrono::milliseconds(opt.recover_ms);
  auto client_changed = [&] {
    for (auto& [t, ev] : writer.events())
      if (t >= t_fault && ev.type == client_event::kind::master_changed) return true;
    return false;
  };
  while (!client_changed() && fo_clock::now() < recover_deadline) std::this_thread::sleep_for(2ms);
  bool recovered = false;
  if (client_changed()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(recover_deadline - fo_clock::now());
    recovered = writer.wait_more_acked(static_cast<std::uint64_t>(opt.recover_acks), std::max(left, 0ms));
  }
  writer.stop();
  if (reads) {
    std::this_thread::sleep_for(3s);  // reads resume on replicas after the reconfiguration
    result.max_read_gap_ms = reads->stop(t_fault);
  }
  if (!recovered)
    append_note(result.note, fmt::format("writer did not get {} acks after a master change within {} ms of the fault",
                                         opt.recover_acks, opt.recover_ms));

  // --- keep watching for a second failover, then let the topology settle ---------------
  auto first_switch = [&]() -> std::optional<sentinel_event_log::entry> {
    for (auto& e : sentinels.entries())
      if (e.at >= t_fault && e.channel == "+switch-master" && switch_new_port(e.payload, name) != 0) return e;
    return std::nullopt;
  };
  while (!first_switch() && fo_clock::now() < recover_deadline) std::this_thread::sleep_for(5ms);
  if (auto s = first_switch()) sleep_until(s->at + std::chrono::milliseconds(opt.observe_ms));

  std::uint16_t final_port = 0;
  try {
    final_port = topo.wait_for_master_change(old_port, 15s);
  } catch (const std::exception&) {
    append_note(result.note, "sentinels did not agree on a new master within 15 s");
  }
  if (final_port != 0 && fault == "graceful") {
    // Give Sentinel time to turn the old master into a replica of the new one.
    const auto until = fo_clock::now() + 10s;
    bool converted = false;
    while (!converted && fo_clock::now() < until) {
      try {
        auto info = redis_ha::test::parse_info(
            topo.data_node_by_port(old_port).command({"INFO", "replication"}, 500ms).str);
        converted = info["role"] == "slave" && info["master_port"] == std::to_string(final_port) &&
                    info["master_link_status"] == "up";
      } catch (const std::exception&) {
      }
      if (!converted) std::this_thread::sleep_for(25ms);
    }
    if (!converted) append_note(result.note, "old master not yet a replica of the new one after 10 s");
  }
  std::vector<std::uint64_t> lost;
  if (final_port != 0) {
    lost = writer.missing_on(final_port);
    result.acked_lost = lost.size();
  }
  std::vector<role_poller::sample> role_samples;
  if (roles) {  // stop polling before the analysis
    role_samples = roles->samples();
    roles.reset();
  }

  // --- analysis ----------------------------------------------------------------
  const auto log = sentinels.entries();
  const auto events = writer.events();
  const auto outcomes = writer.outcomes();

  std::set<std::string> switches;  // distinct +switch-master payloads after the fault
  std::optional<fo_clock::time_point> t_switch;
  std::uint16_t switch_port = 0;
  for (auto& e : log) {
    if (e.at < t_fault || e.channel != "+switch-master" || switch_new_port(e.payload, name) == 0) continue;
    switches.insert(e.payload);
    if (!t_switch || e.at < *t_switch) {
      t_switch = e.at;
      switch_port = switch_new_port(e.payload, name);
    }
  }
  if (switches.size() > 1) {
    result.flagged = true;
    append_note(result.note, fmt::format("{} distinct +switch-master", switches.size()));
  }
  if (final_port != 0 && switch_port != 0 && final_port != switch_port) {
    result.flagged = true;
    append_note(result.note, fmt::format("final master {} is not the first switch's {}", final_port, switch_port));
  }

  // The client's master changes after the fault; the one onto the new master starts "writes to
  // the new master": every write completed after it went to that node (the old connection was
  // retired when the client moved).
  std::optional<fo_clock::time_point> t_changed;
  int changes = 0;
  long long unavailable_ms = -1;
  for (auto& [t, ev] : events) {
    if (t < t_fault || ev.type != client_event::kind::master_changed) continue;
    ++changes;
    if (!t_changed && (switch_port == 0 || ev.node.port == switch_port)) {
      t_changed = t;
      unavailable_ms = ev.unavailable.count();
    }
  }
  if (changes > 1) append_note(result.note, fmt::format("client changed master {} times", changes));

  std::optional<fo_clock::time_point> t_first_write;
  std::map<std::string, int> errors;
  for (auto& o : outcomes) {
    if (o.ec) {
      ++result.failed;
      if (o.ec == redis_ha::error::not_replicated) ++result.not_replicated;
      ++errors[o.ec.message()];
      continue;
    }
    if (t_changed && o.done >= *t_changed && (!t_first_write || o.done < *t_first_write)) t_first_write = o.done;
  }
  for (auto& [what, n] : errors) append_note(result.note, fmt::format("{}x {}", n, what));

  if (t_switch) result.to_switch_ms = ms_between(t_fault, *t_switch);
  else append_note(result.note, "no +switch-master seen");
  if (!t_changed) append_note(result.note, "no client master_changed onto the new master");
  if (t_first_write) {
    result.first_write_after_fault_ms = ms_between(t_fault, *t_first_write);
    if (t_switch) result.switch_to_first_write_ms = ms_between(*t_switch, *t_first_write);
  } else if (t_changed) {
    append_note(result.note, "no acked write after the client's master change");
  }

  if (opt.verbose) {
    fmt::print(stderr, "--- {} run {} timeline (ms from the fault; old master {}, final master {}{}) ---\n", mode, run,
               old_port, final_port,
               durable ? fmt::format(", min_replicas_acked {} replication_timeout {} ms", cfg.min_replicas_acked,
                                     cfg.replication_timeout.count())
                       : "");
    struct line {
      double at;
      std::string text;
    };
    std::vector<line> lines;
    for (auto& e : log)
      if (e.at >= t_fault - 100ms)
        lines.push_back({ms_between(t_fault, e.at), fmt::format("sentinel {} {} {}", e.sentinel, e.channel, e.payload)});
    for (auto& [t, ev] : events)
      if (t >= t_fault - 100ms)
        lines.push_back({ms_between(t_fault, t),
                         fmt::format("client {} {} {} {}", redis_ha::to_string(ev.type), ev.node.to_string(),
                                     ev.ec ? ev.ec.message() : "", ev.detail)});
    // INFO replication of the data nodes: every change of role / attached replicas / link state.
    // The state at the start of the timeline is shown at -100 ms.
    std::map<std::uint16_t, std::string> shape;
    std::map<std::uint16_t, const role_poller::sample*> initial;
    for (auto& r : role_samples) {
      if (r.at < t_fault - 100ms) {
        initial[r.port] = &r;
        shape[r.port] = r.shape;
        continue;
      }
      if (shape[r.port] == r.shape) continue;
      shape[r.port] = r.shape;
      lines.push_back({ms_between(t_fault, r.at), fmt::format("node {} {}", r.port, r.text)});
    }
    for (auto& [port, r] : initial)
      lines.push_back({-100.0, fmt::format("node {} {} (last sample before -100 ms)", port, r->text)});
    // Lost writes: when they were sent and acknowledged, and what the old master reported
    // (INFO replication) just before and just after the acknowledgement.
    const std::set<std::uint64_t> lost_set(lost.begin(), lost.end());
    for (auto& o : outcomes) {
      if (!lost_set.count(o.index)) continue;
      std::string via = "?";  // the master the client had verified last before the acknowledgement
      for (auto& [t, ev] : events)
        if (t <= o.done && ev.type == client_event::kind::role_verified) via = ev.node.to_string();
      lines.push_back({ms_between(t_fault, o.done),
                       fmt::format("write {} acked (sent {:.1f}, client's verified master {}) -- LOST on the final "
                                   "master {}",
                                   o.index, ms_between(t_fault, o.sent), via, final_port)});
      const role_poller::sample *before = nullptr, *after = nullptr;
      for (auto& r : role_samples) {
        if (r.port != old_port) continue;
        if (r.at <= o.done) before = &r;
        else if (!after) after = &r;
      }
      if (before)
        lines.push_back({ms_between(t_fault, o.done), fmt::format("  old master {} {:.1f} ms before: {}",
                                                                  old_port, ms_between(before->at, o.done),
                                                                  before->text)});
      if (after)
        lines.push_back({ms_between(t_fault, o.done), fmt::format("  old master {} {:.1f} ms after: {}",
                                                                  old_port, ms_between(o.done, after->at),
                                                                  after->text)});
    }
    std::optional<fo_clock::time_point> last_ok;
    for (auto& o : outcomes) {
      if (o.ec)
        lines.push_back({ms_between(t_fault, o.done), fmt::format("write {} FAILED {} (sent {:.1f})", o.index,
                                                                  o.ec.message(), ms_between(t_fault, o.sent))});
      else if (o.done >= t_fault && (!last_ok || o.done - *last_ok > 50ms))
        lines.push_back({ms_between(t_fault, o.done),
                         fmt::format("write {} acked (sent {:.1f}){}", o.index, ms_between(t_fault, o.sent),
                                     last_ok ? fmt::format(", {:.1f} ms after the previous ack",
                                                           ms_between(*last_ok, o.done))
                                             : "")});
      if (!o.ec) last_ok = o.done;
    }
    std::stable_sort(lines.begin(), lines.end(), [](auto& a, auto& b) { return a.at < b.at; });
    for (auto& l : lines) fmt::print(stderr, "{:>9.1f} {}\n", l.at, l.text);
    fmt::print(stderr, "client: {} master change(s) after the fault, unavailable {} ms\n", changes, unavailable_ms);
  }
  return result;
}

namespace failover_detail {

/// Median (mean of the two middle values for an even count); nullopt when empty.
inline std::optional<double> median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

inline std::string cell(const std::optional<double>& v) { return v ? fmt::format("{:.1f}", *v) : "-"; }

inline std::string cell0(const std::optional<double>& v) { return v ? fmt::format("{:.0f}", *v) : "-"; }

inline std::string json_number(const std::optional<double>& v) { return v ? fmt::format("{:.1f}", *v) : "null"; }

/// A median of counts: an integer unless it falls between two.
inline std::string json_count(const std::optional<double>& v) {
  if (!v) return "null";
  return *v == static_cast<double>(static_cast<long long>(*v)) ? fmt::format("{}", static_cast<long long>(*v))
                                                                : fmt::format("{:.1f}", *v);
}

}  // namespace failover_detail

/// seq_ops_s / durable_seq_ops_s: every round measures both cases, alternated.
struct ha_throughput {
  std::vector<double> seq, durable_seq;
  std::string error;  ///< non-empty: the measurement failed (the figures are null)
};

/// On a fresh topology (1 master + 2 replicas + 3 sentinels), one awaited SET of a 16-byte value
/// at a time through redis_ha::client (Sentinel mode, library defaults), for
/// `throughput_seconds`, with min_replicas_acked 0 and then durable_min_replicas_acked, for
/// `throughput_rounds` rounds. A new client per measurement; timing starts once it is ready.
inline ha_throughput measure_ha_throughput(const failover_options& opt) {
  ha_throughput out;
  try {
    redis_ha::test::topology topo;
    topo.wait_replicas_in_sync();
    auto config = [&](int acked) {
      auto cfg = redis_ha::test::sentinel_client_config(topo);
      cfg.connection.client_name = "bench-seq";
      cfg.min_replicas_acked = acked;
      if (acked > 0) cfg.replication_timeout = durable_replication_timeout;
      return cfg;
    };
    for (int round = 1; round <= opt.throughput_rounds; ++round) {
      out.seq.push_back(run_ha_client_seq(config(0), opt.throughput_seconds));
      out.durable_seq.push_back(run_ha_client_seq(config(durable_min_replicas_acked), opt.throughput_seconds));
      fmt::print(stderr, "throughput round {}/{}: seq {:.0f} ops/s, durable_seq {:.0f} ops/s\n", round,
                 opt.throughput_rounds, out.seq.back(), out.durable_seq.back());
    }
  } catch (const std::exception& e) {
    out.error = e.what();
    out.seq.clear();
    out.durable_seq.clear();
    fmt::print(stderr, "throughput: error: {}\n", out.error);
  }
  return out;
}

/// Runs every requested run, prints progress to stderr, the table and the JSON line to stdout.
inline int run_failover_bench(const failover_options& opt) {
  using namespace failover_detail;
  std::optional<ha_throughput> tput;
  if (opt.throughput) tput = measure_ha_throughput(opt);

  std::vector<failover_run> runs;
  std::vector<std::string> modes;
  if (opt.kill) modes.push_back("kill");
  if (opt.graceful) modes.push_back("graceful");
  if (opt.durable_kill) modes.push_back("durable_kill");
  if (opt.durable_graceful) modes.push_back("durable_graceful");
  if (opt.direct_kill) modes.push_back("direct_kill");
  if (opt.direct_graceful) modes.push_back("direct_graceful");
  if (opt.direct_durable_graceful) modes.push_back("direct_durable_graceful");
  if (opt.replica_read) modes.push_back("replica_read");
  for (const auto& mode : modes) {
    for (int i = 1; i <= opt.runs; ++i) {
      failover_run r;
      try {
        r = run_failover_once(mode, i, opt);
      } catch (const std::exception& e) {
        r.mode = mode;
        r.run = i;
        r.error = true;
        std::string what = e.what();
        r.note = "ERROR: " + what.substr(0, what.find('\n'));
        fmt::print(stderr, "failover {} run {}/{}: error: {}\n", mode, i, opt.runs, what);
      }
      if (!r.error)
        fmt::print(stderr,
                   "failover {} run {}/{}: to_switch {} ms, switch_to_first_write {} ms, failed {} (not_replicated "
                   "{}), acked_lost {}{}\n",
                   mode, i, opt.runs, cell(r.to_switch_ms), cell(r.switch_to_first_write_ms), r.failed,
                   r.not_replicated, r.acked_lost ? std::to_string(*r.acked_lost) : "-",
                   r.flagged ? " [flagged: " + r.note + "]" : "");
      runs.push_back(std::move(r));
    }
  }

  fmt::print(
      "# Modes: kill / graceful use the library defaults; durable_kill / durable_graceful are the same scenarios\n"
      "#   with min_replicas_acked = {} and replication_timeout = {} ms in the writer's client_config (every SET\n"
      "#   is followed by WAIT {} {} in the same write; unconfirmed SETs are resent within failover_budget,\n"
      "#   then fail with not_replicated).\n"
      "# to_switch_ms: from the fault (just before SIGKILL of the master / sending the accepted SENTINEL FAILOVER)\n"
      "#   to the first +switch-master for the master name read from ANY sentinel (own PSUBSCRIBE per sentinel).\n"
      "# switch_to_first_write_ms: from that first +switch-master to the completion of the first acked SET that\n"
      "#   completed at or after the client's master_changed event onto the node +switch-master named (the client\n"
      "#   only sends to a master after that event, so this write was issued to and acknowledged by the new master;\n"
      "#   it may have been queued earlier). Negative: the client was writing to the new master before\n"
      "#   +switch-master was published (it follows +promoted-slave).\n"
      "# first_write_after_fault_ms: from the fault to that same first acked SET on the new master.\n"
      "# failed: SETs of the whole run that completed with an error, not_replicated ones included; not_repl: of\n"
      "#   which error::not_replicated. acked_lost: acknowledged SETs whose key is missing (EXISTS) on the final\n"
      "#   master, checked after the writer stopped, the sentinels agreed on the new master and (graceful) the old\n"
      "#   master became its replica.\n"
      "# flagged: Sentinel switched more than once (distinct +switch-master after the fault, or the final master\n"
      "#   is not the first switch's); flagged and ERROR runs are left out of the medians (not of the *_max).\n",
      durable_min_replicas_acked, durable_replication_timeout.count(), durable_min_replicas_acked,
      durable_replication_timeout.count());
  fmt::print("{:<16} {:>3} {:>13} {:>25} {:>27} {:>7} {:>8} {:>10} {:>8}  {}\n", "mode", "run", "to_switch_ms",
             "switch_to_first_write_ms", "first_write_after_fault_ms", "failed", "not_repl", "acked_lost", "flagged",
             "note");
  for (auto& r : runs)
    fmt::print("{:<16} {:>3} {:>13} {:>25} {:>27} {:>7} {:>8} {:>10} {:>8}  {}\n", r.mode, r.run, cell(r.to_switch_ms),
               cell(r.switch_to_first_write_ms), cell(r.first_write_after_fault_ms),
               r.error ? "-" : std::to_string(r.failed), r.error ? "-" : std::to_string(r.not_replicated),
               r.acked_lost ? std::to_string(*r.acked_lost) : "-", r.error ? "error" : (r.flagged ? "yes" : "no"),
               r.note);

  std::optional<double> seq_med, durable_seq_med;
  if (tput) {
    seq_med = median(tput->seq);
    durable_seq_med = median(tput->durable_seq);
    auto range = [](const std::vector<double>& v) {
      if (v.empty()) return std::string("-");
      return fmt::format("{:.0f}..{:.0f}", *std::min_element(v.begin(), v.end()),
                         *std::max_element(v.begin(), v.end()));
    };
    fmt::print(
        "\n# Durability cost, through the HA client (redis_ha::client, Sentinel mode, one data connection) on a fresh\n"
        "#   1 master + 2 replicas + 3 sentinels topology -- NOT the raw-connection figure of `redis_ha_bench\n"
        "#   throughput`: one awaited SET (16-byte value) at a time for {} s, both cases alternated, {} rounds.\n",
        opt.throughput_seconds, opt.throughput_rounds);
    fmt::print("{:<18} {:<44} {:>12} {:>16}\n", "case", "what", "median op/s", "min..max");
    fmt::print("{:<18} {:<44} {:>12} {:>16}\n", "seq_ops_s", "min_replicas_acked 0", cell0(seq_med),
               range(tput->seq));
    fmt::print("{:<18} {:<44} {:>12} {:>16}\n", "durable_seq_ops_s",
               fmt::format("min_replicas_acked {} (SET + WAIT {} {})", durable_min_replicas_acked,
                           durable_min_replicas_acked, durable_replication_timeout.count()),
               cell0(durable_seq_med), range(tput->durable_seq));
    if (!tput->error.empty()) fmt::print("# throughput ERROR: {}\n", tput->error);
    else if (seq_med && durable_seq_med)
      fmt::print("# durable/seq: {:.3f}\n", *durable_seq_med / *seq_med);
  }

  struct series {
    std::vector<double> to_switch, s2w, after_fault, failed, lost, read_gap;
  };
  std::map<std::string, series> by_mode;
  std::map<std::string, std::uint64_t> lost_max;  // over every non-error run, flagged included
  int flagged = 0, errors = 0;
  for (auto& r : runs) {
    if (r.error) {
      ++errors;
      continue;
    }
    if (r.acked_lost) lost_max[r.mode] = std::max(lost_max[r.mode], *r.acked_lost);
    if (r.flagged) {
      ++flagged;
      continue;
    }
    auto& s = by_mode[r.mode];
    if (r.to_switch_ms) s.to_switch.push_back(*r.to_switch_ms);
    if (r.switch_to_first_write_ms) s.s2w.push_back(*r.switch_to_first_write_ms);
    if (r.first_write_after_fault_ms) s.after_fault.push_back(*r.first_write_after_fault_ms);
    s.failed.push_back(static_cast<double>(r.failed));
    if (r.acked_lost) s.lost.push_back(static_cast<double>(*r.acked_lost));
    if (r.max_read_gap_ms) s.read_gap.push_back(*r.max_read_gap_ms);
  }
  auto m = [&](const char* mode, std::vector<double> series::*field) {
    const auto v = median(by_mode[mode].*field);
    return field == &series::failed || field == &series::lost ? json_count(v) : json_number(v);
  };
  auto mx = [&](const char* mode) {
    return lost_max.count(mode) ? std::to_string(lost_max.at(mode)) : std::string("null");
  };
  auto ops = [](const std::optional<double>& v) { return v ? fmt::format("{:.0f}", *v) : std::string("null"); };
  const std::string json = fmt::format(
      "{{\"kill_to_switch_ms\": {}, \"kill_switch_to_first_write_ms\": {}, \"kill_first_write_after_fault_ms\": {}, "
      "\"kill_failed_requests\": {}, \"kill_acked_writes_lost\": {}, "
      "\"graceful_to_switch_ms\": {}, \"graceful_switch_to_first_write_ms\": {}, "
      "\"graceful_first_write_after_fault_ms\": {}, \"graceful_failed_requests\": {}, "
      "\"graceful_acked_writes_lost\": {}, \"runs\": {}, \"runs_per_mode\": {}, \"flagged_runs\": {}, "
      "\"error_runs\": {}, "
      "\"durable_kill_acked_writes_lost\": {}, \"durable_graceful_acked_writes_lost\": {}, "
      "\"durable_kill_failed_requests\": {}, \"durable_graceful_failed_requests\": {}, "
      "\"durable_kill_switch_to_first_write_ms\": {}, \"durable_graceful_switch_to_first_write_ms\": {}, "
      "\"durable_kill_acked_writes_lost_max\": {}, \"durable_graceful_acked_writes_lost_max\": {}, "
      "\"seq_ops_s\": {}, \"durable_seq_ops_s\": {}, "
      "\"direct_graceful_acked_writes_lost\": {}, \"direct_graceful_failed_requests\": {}, "
      "\"direct_kill_failed_requests\": {}, \"direct_kill_acked_writes_lost\": {}, "
      "\"direct_durable_graceful_acked_writes_lost\": {}, \"direct_durable_graceful_failed_requests\": {}, "
      "\"direct_graceful_acked_writes_lost_max\": {}, \"direct_durable_graceful_acked_writes_lost_max\": {}, "
      "\"replica_read_max_gap_ms\": {}, \"replica_read_failed_requests\": {}}}\n",
      m("kill", &series::to_switch), m("kill", &series::s2w), m("kill", &series::after_fault),
      m("kill", &series::failed), m("kill", &series::lost), m("graceful", &series::to_switch),
      m("graceful", &series::s2w), m("graceful", &series::after_fault), m("graceful", &series::failed),
      m("graceful", &series::lost), runs.size(), opt.runs, flagged, errors, m("durable_kill", &series::lost),
      m("durable_graceful", &series::lost), m("durable_kill", &series::failed), m("durable_graceful", &series::failed),
      m("durable_kill", &series::s2w), m("durable_graceful", &series::s2w), mx("durable_kill"),
      mx("durable_graceful"), ops(seq_med), ops(durable_seq_med), m("direct_graceful", &series::lost),
      m("direct_graceful", &series::failed), m("direct_kill", &series::failed), m("direct_kill", &series::lost),
      m("direct_durable_graceful", &series::lost), m("direct_durable_graceful", &series::failed),
      mx("direct_graceful"), mx("direct_durable_graceful"), m("replica_read", &series::read_gap),
      m("replica_read", &series::failed));
  fmt::print("{}", prefix_json_keys(json, opt.json_prefix));
  return errors == 0 && (!tput || tput->error.empty()) ? 0 : 1;
}

}  // namespace bench
