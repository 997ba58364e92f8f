// A background writer for cluster tests and benchmarks: its own I/O thread
// running a redis_ha::cluster_client, with one lane per hash tag (each tag
// picks a slot, so a shard); each lane issues one awaited, idempotent
// `SET {tag}:<i> <i>` every period and records every outcome and latency.
#pragma once

#include <redis_ha/cluster_client.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace redis_ha::test {

/// Tally of one lane.
struct lane_result {
  std::string tag;
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::vector<std::error_code> errors;          ///< the first few
  std::chrono::milliseconds max_latency{0};     ///< longest request
  std::chrono::steady_clock::time_point first_ok_after_mark{};  ///< first success started after mark()
  std::uint64_t last_acked = 0;                 ///< highest index acknowledged
  std::vector<std::chrono::steady_clock::time_point> ok_after_mark;  ///< completion times of successes since mark() (bounded)
  std::vector<std::uint64_t> acked;             ///< indices acknowledged (bounded)
};

class cluster_writer {
 public:
  using clock = std::chrono::steady_clock;

  cluster_writer(cluster_config cfg, std::vector<std::string> tags,
                 std::chrono::milliseconds period = std::chrono::milliseconds(2))
      : period_(period), work_(asio::make_work_guard(ioc_)) {
    client_ = std::make_unique<cluster_client>(ioc_.get_executor(), std::move(cfg));
    for (auto& t : tags) {
      auto l = std::make_unique<lane>(ioc_);
      l->result.tag = std::move(t);
      lanes_.push_back(std::move(l));
    }
    thread_ = std::thread([this] { ioc_.run(); });
    for (std::size_t i = 0; i < lanes_.size(); ++i) asio::post(ioc_, [this, i] { tick(i); });
  }
  ~cluster_writer() { stop(); }

  /// Resets the latency maxima and the "first success" marks (e.g. before a fault).
  void mark() {
    std::lock_guard lock(mutex_);
    mark_ = clock::now();
    for (auto& l : lanes_) {
      l->result.max_latency = std::chrono::milliseconds(0);
      l->result.first_ok_after_mark = {};
      l->result.ok_after_mark.clear();
    }
  }
  /// Total successful writes so far.
  std::uint64_t total_ok() {
    std::lock_guard lock(mutex_);
    std::uint64_t n = 0;
    for (auto& l : lanes_) n += l->result.ok;
    return n;
  }
  /// Successful writes of lane `i` so far.
  std::uint64_t ok(std::size_t i) {
    std::lock_guard lock(mutex_);
    return lanes_[i]->result.ok;
  }
  /// Stops writing, waits for requests in flight, closes the client and joins.
  void stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    std::promise<void> done;
    auto fut = done.get_future();
    asio::post(ioc_, [this, &done] {
      wait_idle(std::move(done));
    });
    fut.wait();
    asio::post(ioc_, [this] {
      std::lock_guard lock(mutex_);
      final_stats_ = client_->stats();
      client_->close();
    });
    work_.reset();
    thread_.join();
  }
  /// The client's counters when it was stopped.
  cluster_stats final_stats() {
    std::lock_guard lock(mutex_);
    return final_stats_;
  }
  std::vector<lane_result> results() {
    std::lock_guard lock(mutex_);
    std::vector<lane_result> v;
    for (auto& l : lanes_) v.push_back(l->result);
    return v;
  }
  /// Runs `f(client)` on the I/O thread and waits.
  template <class F>
  void with_client(F f) {
    std::promise<void> done;
    auto fut = done.get_future();
    asio::post(ioc_, [&] {
      f(*client_);
      done.set_value();
    });
    fut.get();
  }

 private:
  struct lane {
    explicit lane(asio::io_context& ioc) : timer(ioc) {}
    asio::steady_timer timer;
    lane_result result;
    std::uint64_t next = 0;
    bool busy = false;
  };

  void wait_idle(std::promise<void> done) {
    bool busy = false;
    for (auto& l : lanes_) busy = busy || l->busy;
    if (!busy) return done.set_value();
    auto t = std::make_shared<asio::steady_timer>(ioc_, std::chrono::milliseconds(5));
    t->async_wait([this, t, d = std::make_shared<std::promise<void>>(std::move(done))](std::error_code) mutable {
      wait_idle(std::move(*d));
    });
  }

  void tick(std::size_t i) {
    if (stopping_) return;
    auto& l = *lanes_[i];
    const auto index = ++l.next;
    request r;
    const std::string key = "{" + l.result.tag + "}:" + std::to_string(index);
    r.push("SET", key, index);
    l.busy = true;
    const auto sent = clock::now();
    client_->async_exec(std::move(r), [this, i, index, sent](std::error_code ec, response resp) {
      auto& l = *lanes_[i];
      l.busy = false;
      const auto now = clock::now();
      {
        std::lock_guard lock(mutex_);
        auto& res = l.result;
        const auto lat = std::chrono::duration_cast<std::chrono::milliseconds>(now - sent);
        res.max_latency = std::max(res.max_latency, lat);
        if (!ec && !resp.empty() && resp[0].is_error()) ec = make_error_code(error::server_error);
        if (ec) {
          ++res.failed;
          if (res.errors.size() < 8) res.errors.push_back(ec);
        } else {
          ++res.ok;
          res.last_acked = std::max(res.last_acked, index);
          if (res.acked.size() < 200000) res.acked.push_back(index);
          if (res.ok_after_mark.size() < 200000) res.ok_after_mark.push_back(now);
          if (sent >= mark_ && res.first_ok_after_mark == clock::time_point{}) res.first_ok_after_mark = now;
        }
      }
      l.timer.expires_after(period_);
      l.timer.async_wait([this, i](std::error_code) { tick(i); });
    });
  }

  std::chrono::milliseconds period_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::unique_ptr<cluster_client> client_;
  std::vector<std::unique_ptr<lane>> lanes_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  clock::time_point mark_ = clock::now();
  cluster_stats final_stats_;
};

}  // namespace redis_ha::test
