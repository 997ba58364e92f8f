// A redis_ha::client living on an io_thread, with every event and log line
// it produced kept for assertions.
#pragma once

#include <redis_ha/client.hpp>

#include <chrono>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "support/io_thread.hpp"

namespace redis_ha::test {

struct client_on {
  io_thread& io;
  std::unique_ptr<redis_ha::client> c;
  std::vector<redis_ha::client_event> events;
  std::vector<std::pair<redis_ha::log_level, std::string>> log;
  std::mutex mutex;

  client_on(io_thread& t, redis_ha::client_config cfg) : io(t) {
    cfg.on_event = [this](const redis_ha::client_event& ev) {
      std::lock_guard<std::mutex> lock(mutex);
      events.push_back(ev);
    };
    cfg.connection.logger.min_level = redis_ha::log_level::debug;
    cfg.connection.logger.sink = [this](redis_ha::log_level level, std::string_view line) {
      std::lock_guard<std::mutex> lock(mutex);
      log.emplace_back(level, std::string(line));
    };
    c = io.call([&] { return std::make_unique<redis_ha::client>(io.executor(), cfg); });
  }
  ~client_on() {
    io.call([&] {
      c.reset();
      return 0;
    });
  }
  std::pair<std::error_code, redis_ha::response> exec(redis_ha::request req, std::chrono::milliseconds t = std::chrono::seconds(20)) {
    auto [ec, r] = io.await<redis_ha::response>([&](auto h) { c->async_exec(req, h); }, t);
    return {ec, std::move(r)};
  }
  redis_ha::client_stats stats() {
    return io.call([&] { return c->stats(); });
  }
  std::string detail() {
    return io.call([&] { return c->last_error_detail(); });
  }
  bool saw(redis_ha::client_event::kind k) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& e : events)
      if (e.type == k) return true;
    return false;
  }
  std::vector<redis_ha::client_event> events_of(redis_ha::client_event::kind k) {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<redis_ha::client_event> out;
    for (const auto& e : events)
      if (e.type == k) out.push_back(e);
    return out;
  }
  /// Log lines containing `text` (at `min` or above).
  std::vector<std::string> logged(const std::string& text, redis_ha::log_level min = redis_ha::log_level::debug) {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<std::string> out;
    for (const auto& [level, line] : log)
      if (level >= min && line.find(text) != std::string::npos) out.push_back(line);
    return out;
  }
  /// Every log line, for INFO().
  std::string all_log() {
    std::lock_guard<std::mutex> lock(mutex);
    std::string out;
    for (const auto& [level, line] : log) out += line + "\n";
    return out;
  }
};

inline redis_ha::request cmd(std::initializer_list<std::string> args) {
  redis_ha::request r;
  std::vector<std::string> v(args);
  r.push_argv(v);
  return r;
}

}  // namespace redis_ha::test
