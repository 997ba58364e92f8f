// A background writer for failover tests and benchmarks: its own I/O
// thread running a redis_ha::client, issuing one awaited SET every period
// (key "<prefix>:<i>", value "<i>") and recording every outcome.
#pragma once

#include <redis_ha/client.hpp>

#include "support/sync_client.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace redis_ha::test {

/// One write and how it ended.
struct write_outcome {
  std::uint64_t index = 0;
  std::error_code ec;
  std::chrono::steady_clock::time_point sent, done;
};

/// Runs a client on its own thread and writes through it until stopped.
class background_writer {
 public:
  using clock = std::chrono::steady_clock;

  /// Starts the client (events are recorded) and the write loop.
  background_writer(client_config cfg, std::string prefix, std::chrono::milliseconds period = std::chrono::milliseconds(5))
      : prefix_(std::move(prefix)), period_(period), work_(asio::make_work_guard(ioc_)), timer_(ioc_) {
    auto user_hook = cfg.on_event;
    cfg.on_event = [this, user_hook](const client_event& ev) {
      {
        std::lock_guard lock(mutex_);
        events_.push_back({clock::now(), ev});
      }
      if (user_hook) user_hook(ev);
    };
    client_.emplace(ioc_.get_executor(), std::move(cfg));
    thread_ = std::thread([this] { ioc_.run(); });
    asio::post(ioc_, [this] { tick(); });
  }

  ~background_writer() { stop(); }

  /// Stops writing, waits for the write in flight, closes the client and joins.
  void stop() {
    if (!thread_.joinable()) return;
    std::promise<void> done;
    asio::post(ioc_, [this, &done] {
      stopping_ = true;
      timer_.cancel();
      if (!in_flight_) finish(done);
      else finish_promise_ = &done;
    });
    done.get_future().wait();
    work_.reset();
    thread_.join();
  }

  /// Writes acknowledged so far.
  std::uint64_t acked() const noexcept { return acked_.load(); }
  /// Writes that failed so far.
  std::uint64_t failed() const noexcept { return failed_.load(); }

  /// Waits until `n` more writes than now are acknowledged; false on timeout.
  bool wait_more_acked(std::uint64_t n, std::chrono::milliseconds timeout) {
    const auto target = acked() + n;
    const auto deadline = clock::now() + timeout;
    while (acked() < target) {
      if (clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
  }

  /// Every outcome (complete after stop()).
  std::vector<write_outcome> outcomes() {
    std::lock_guard lock(mutex_);
    return outcomes_;
  }
  /// Every client event with the time it was seen.
  std::vector<std::pair<clock::time_point, client_event>> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  /// The key written by write `i`.
  std::string key(std::uint64_t i) const { return prefix_ + ":" + std::to_string(i); }

  /// Indexes of the acknowledged writes whose key is missing on the node at
  /// `port` (EXISTS in batches of 200; a short batch is checked key by key).
  std::vector<std::uint64_t> missing_on(std::uint16_t port) {
    std::vector<std::uint64_t> acked, missing;
    for (auto& o : outcomes())
      if (!o.ec) acked.push_back(o.index);
    sync_connection conn(port);
    for (std::size_t i = 0; i < acked.size(); i += 200) {
      const std::size_t end = std::min(acked.size(), i + 200);
      std::vector<std::string> cmd{"EXISTS"};
      for (std::size_t k = i; k < end; ++k) cmd.push_back(key(acked[k]));
      if (static_cast<std::size_t>(conn.command(cmd).integer) == end - i) continue;
      for (std::size_t k = i; k < end; ++k)
        if (conn.command({"EXISTS", key(acked[k])}).integer == 0) missing.push_back(acked[k]);
    }
    return missing;
  }

 private:
  void tick() {
    if (stopping_) return;
    next_due_ = clock::now() + period_;
    const std::uint64_t i = next_index_++;
    request req;
    req.push("SET", key(i), std::to_string(i));
    in_flight_ = true;
    const auto sent = clock::now();
    client_->async_exec(std::move(req), [this, i, sent](std::error_code ec, response) {
      in_flight_ = false;
      {
        std::lock_guard lock(mutex_);
        outcomes_.push_back({i, ec, sent, clock::now()});
      }
      (ec ? failed_ : acked_)++;
      if (stopping_) {
        if (finish_promise_) finish(*finish_promise_);
        return;
      }
      timer_.expires_at(std::max(next_due_, clock::now()));
      timer_.async_wait([this](std::error_code e) {
        if (!e) tick();
      });
    });
  }

  void finish(std::promise<void>& done) {
    client_->close();
    done.set_value();
  }

  std::string prefix_;
  std::chrono::milliseconds period_;
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  asio::steady_timer timer_;
  std::optional<basic_client<>> client_;
  std::thread thread_;
  bool stopping_ = false;
  bool in_flight_ = false;
  std::promise<void>* finish_promise_ = nullptr;
  std::uint64_t next_index_ = 0;
  clock::time_point next_due_{};
  std::atomic<std::uint64_t> acked_{0}, failed_{0};
  std::mutex mutex_;
  std::vector<write_outcome> outcomes_;
  std::vector<std::pair<clock::time_point, client_event>> events_;
};

/// The ports of a master before and after a fault.
struct master_ports {
  std::uint16_t old_port = 0;
  std::uint16_t new_port = 0;
};

/// With `w` writing to `topo`: once 50 writes are acknowledged and the
/// replicas are in sync, `fault(topo)` hits the master (and returns its
/// port); then waits for the new master and 100 more acknowledged writes,
/// and stops `w`. Throws when the writer does not get going or resume.
template <class Topology, class Fault>
master_ports fault_under_writer(background_writer& w, Topology& topo, Fault fault) {
  if (!w.wait_more_acked(50, std::chrono::seconds(10))) throw std::runtime_error("the writer never got going");
  topo.wait_replicas_in_sync();
  master_ports p;
  p.old_port = fault(topo);
  p.new_port = topo.wait_for_master_change(p.old_port);
  const bool resumed = w.wait_more_acked(100, std::chrono::seconds(15));
  w.stop();
  if (!resumed) throw std::runtime_error("the writer did not resume on the new master within 15 s");
  return p;
}

}  // namespace redis_ha::test
