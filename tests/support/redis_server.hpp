#pragma once
/// @file redis_server.hpp
/// Real redis-server / redis-sentinel processes (or valkey-server / valkey-sentinel: see
/// server_kind.hpp) on free 127.0.0.1 ports, each in its own temporary directory, stopped on
/// destruction.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "support/free_port.hpp"
#include "support/process.hpp"
#include "support/server_kind.hpp"
#include "support/sync_client.hpp"
#include "support/temp_dir.hpp"


namespace redis_ha::test {

/// Options of a data node (redis-server).
struct server_options {
  /// When non-empty: `requirepass` and `masterauth` (so the node can also replicate from
  /// a master with the same password).
  std::string requirepass{};
  /// When set: `replicaof <replicaof_host> <port>`.
  std::optional<std::uint16_t> replicaof{};
  /// Extra configuration lines, appended verbatim.
  std::vector<std::string> extra_config{};
  /// Host of the `replicaof` line (a host name such as "localhost" works too).
  std::string replicaof_host = "127.0.0.1";
  /// Also listen on a UNIX-domain socket (`unixsocket`, in the node's temp dir,
  /// mode 700): see redis_node::unix_socket().
  bool unix_socket = false;
};

/// Options of a sentinel (redis-sentinel) monitoring one master.
struct sentinel_options {
  std::uint16_t master_port = 0;      ///< Port of the monitored master at master_host (required).
  std::string master_name = "mymaster";  ///< Name given to the master.
  int quorum = 2;                     ///< Quorum of `sentinel monitor`.
  int down_after_ms = 1000;           ///< `sentinel down-after-milliseconds`.
  int failover_timeout_ms = 5000;     ///< `sentinel failover-timeout`.
  int parallel_syncs = 1;             ///< `sentinel parallel-syncs`.
  std::string auth_pass{};            ///< `sentinel auth-pass` when non-empty.
  std::vector<std::string> extra_config{};  ///< Extra configuration lines, appended verbatim.
  /// Host of the `sentinel monitor` line. A host name (e.g. "localhost") needs
  /// `sentinel resolve-hostnames yes` in extra_config (Redis 7 applies it before the monitor
  /// line wherever it appears).
  std::string master_host = "127.0.0.1";
};

/// A redis-server or redis-sentinel process with a generated config file in a fresh temp
/// dir, listening on 127.0.0.1 only, without persistence. The constructor starts it and
/// waits until it answers PING; the destructor kills it (never throws).
class redis_node {
public:
  /// How long start()/restart() wait for the node to answer PING.
  static constexpr std::chrono::milliseconds start_timeout{10000};

  /// Starts a redis-server.
  explicit redis_node(const server_options& options = {})
      : port_(free_port()), sentinel_(false), password_(options.requirepass) {
    auto lines = common_config();
    if (!options.requirepass.empty()) {
      lines.push_back("requirepass " + quote(options.requirepass));
      lines.push_back("masterauth " + quote(options.requirepass));
    }
    if (options.replicaof) lines.push_back(fmt::format("replicaof {} {}", options.replicaof_host, *options.replicaof));
    if (options.unix_socket) {
      unix_socket_ = (dir() / "redis.sock").string();
      lines.push_back("unixsocket " + quote(unix_socket_));
      lines.push_back("unixsocketperm 700");
    }
    lines.insert(lines.end(), options.extra_config.begin(), options.extra_config.end());
    first_start(std::move(lines));
  }

  /// Starts a redis-sentinel.
  explicit redis_node(const sentinel_options& options) : port_(free_port()), sentinel_(true) {
    if (options.master_port == 0) throw std::invalid_argument("sentinel_options::master_port is required");
    const auto& name = options.master_name;
    auto lines = common_config();
    lines.push_back(
        fmt::format("sentinel monitor {} {} {} {}", name, options.master_host, options.master_port, options.quorum));
    lines.push_back(fmt::format("sentinel down-after-milliseconds {} {}", name, options.down_after_ms));
    lines.push_back(fmt::format("sentinel failover-timeout {} {}", name, options.failover_timeout_ms));
    lines.push_back(fmt::format("sentinel parallel-syncs {} {}", name, options.parallel_syncs));
    if (!options.auth_pass.empty()) lines.push_back(fmt::format("sentinel auth-pass {} {}", name, quote(options.auth_pass)));
    lines.insert(lines.end(), options.extra_config.begin(), options.extra_config.end());
    first_start(std::move(lines));
  }

  redis_node(redis_node&&) noexcept = default;
  redis_node& operator=(redis_node&&) noexcept = default;
  ~redis_node() { process_.kill(); }  // SIGKILL also ends a stopped (paused) process

  /// Port on 127.0.0.1 (kept across restarts).
  std::uint16_t port() const noexcept { return port_; }
  /// Process id, or -1 when not running.
  pid_t pid() const noexcept { return process_.pid(); }
  /// True for a redis-sentinel.
  bool is_sentinel() const noexcept { return sentinel_; }
  /// The `requirepass` of a data node (empty if none).
  const std::string& password() const noexcept { return password_; }
  /// The UNIX socket path (`server_options::unix_socket`; empty otherwise).
  const std::string& unix_socket() const noexcept { return unix_socket_; }
  /// The node's temporary directory (config file, log files).
  const std::filesystem::path& dir() const noexcept { return dir_.path(); }
  /// The config file (rewritten by Sentinel at runtime).
  std::filesystem::path config_path() const { return dir() / "node.conf"; }
  /// The node's log file.
  std::filesystem::path log_path() const { return dir() / "node.log"; }

  /// True while the process exists (also when paused).
  bool running() noexcept { return process_.running(); }
  /// True between pause() and resume().
  bool paused() const noexcept { return paused_; }

  /// SIGKILL and reap.
  void kill() noexcept {
    process_.kill();
    paused_ = false;
  }
  /// SIGSTOP: the process stays alive but stops answering (connects still succeed).
  void pause() {
    require_running("pause");
    process_.signal(SIGSTOP);
    paused_ = true;
  }
  /// SIGCONT after pause().
  void resume() noexcept {
    process_.signal(SIGCONT);
    paused_ = false;
  }
  /// SIGTERM, then SIGKILL if still alive after `grace`; reaps the process.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000)) noexcept {
    process_.terminate(grace);
    paused_ = false;
  }
  /// Starts the node again on the same port with the same config file (stopping it first
  /// if it is running) and waits until it answers PING. Data is gone (no persistence).
  void restart() {
    if (running()) stop();
    start();
  }

  /// The last `lines` lines of the node's log file.
  std::string log_tail(std::size_t lines = 20) const { return file_tail(log_path(), lines); }

  /// Runs one command on the node (AUTH with password() first). See test::command().
  reply command(const std::vector<std::string>& args,
                std::chrono::milliseconds timeout = default_command_timeout) const {
    return test::command(port_, args, password_, timeout);
  }

  /// Opens a connection to the node (AUTH with password() first).
  sync_connection connect(std::chrono::milliseconds timeout = default_command_timeout) const {
    return sync_connection(port_, timeout, password_);
  }

private:
  std::string name() const {
    return fmt::format("{}-{} on 127.0.0.1:{}", to_string(test_server_family()), sentinel_ ? "sentinel" : "server",
                       port_);
  }

  std::vector<std::string> common_config() const {
    return {"bind 127.0.0.1",
            "save \"\"",
            "appendonly no",
            "rdb-del-sync-files yes",  // a restarted replica must not load a replication RDB
            "daemonize no",
            "protected-mode no",
            "repl-diskless-sync-delay 0",
            "dir " + quote(dir().string()),
            "logfile " + quote(log_path().string())};
  }

  /// Writes the config file and starts; if another process grabbed the port since
  /// free_port() returned it, retries on a new port.
  void first_start(std::vector<std::string> lines) {
    for (int attempt = 1;; ++attempt) {
      write_config(lines);
      try {
        return start();
      } catch (const std::runtime_error&) {
        if (attempt == 3 || log_tail(10).find("Address already in use") == std::string::npos) throw;
        port_ = free_port();
      }
    }
  }

  void write_config(const std::vector<std::string>& lines) const {
    std::ofstream out(config_path());
    out << "port " << port_ << '\n';
    for (const auto& line : lines) out << line << '\n';
    if (!out.flush()) throw std::runtime_error("cannot write " + config_path().string());
  }

  void start() {
    static const server_binaries binaries = test_server_binaries();
    const std::string& binary = sentinel_ ? binaries.sentinel : binaries.server;
    process_ = child_process::spawn({binary, config_path().string()},
                                    {.output_path = (dir() / "output.log").string()});
    paused_ = false;
    const auto deadline = std::chrono::steady_clock::now() + start_timeout;
    std::string last_error;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!process_.running())
        fail_start(fmt::format("exited with code {}", process_.exit_code()));
      try {
        sync_connection(port_, std::chrono::milliseconds(200), password_).command({"PING"});
        return;
      } catch (const std::exception& e) {  // not listening yet, or LOADING
        last_error = e.what();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    fail_start(fmt::format("did not answer PING within {} ms (last error: {})", start_timeout.count(), last_error));
  }

  [[noreturn]] void fail_start(const std::string& reason) {
    process_.kill();
    throw std::runtime_error(fmt::format("{} {}\n--- {} (tail) ---\n{}--- output.log ---\n{}", name(), reason,
                                         log_path().string(), log_tail(20), file_tail(dir() / "output.log", 20)));
  }

  void require_running(const char* what) {
    if (!running()) throw std::logic_error(fmt::format("{}: {} while not running", name(), what));
  }

  static std::string quote(const std::string& value) {
    std::string quoted = "\"";
    for (const char c : value) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    return quoted + '"';
  }

  static std::string file_tail(const std::filesystem::path& path, std::size_t count) {
    std::ifstream in(path);
    std::deque<std::string> lines;
    for (std::string line; std::getline(in, line);) {
      lines.push_back(std::move(line));
      if (lines.size() > count) lines.pop_front();
    }
    std::string text;
    for (const auto& line : lines) text += line + '\n';
    return text;
  }

  child_process process_;  // first: a move-assignment kills the old process before removing its dir
  temp_dir dir_;
  std::string unix_socket_;
  std::uint16_t port_;
  bool sentinel_;
  std::string password_;
  bool paused_ = false;
};

/// Shortens a sentinel's timers with `SENTINEL DEBUG` (lost when it
/// restarts); a period of 0 keeps Redis's default.
inline void tune_sentinel(redis_node& s, int publish_period_ms, int info_period_ms, int ping_period_ms) {
  std::vector<std::string> args{"SENTINEL", "DEBUG"};
  for (const auto& [name, ms] : {std::pair{"publish-period", publish_period_ms},
                                 std::pair{"info-period", info_period_ms}, std::pair{"ping-period", ping_period_ms}})
    if (ms > 0) args.insert(args.end(), {name, std::to_string(ms)});
  if (args.size() > 2) s.command(args);
}

/// The master port a sentinel reports for `master_name`, if it knows one.
inline std::optional<std::uint16_t> sentinel_master_port(const redis_node& s, const std::string& master_name,
                                                         std::chrono::milliseconds timeout) {
  const auto addr = s.command({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", master_name}, timeout);
  if (addr.elements.size() != 2) return std::nullopt;
  return static_cast<std::uint16_t>(std::stoi(addr.elements[1].str));
}

}  // namespace redis_ha::test
