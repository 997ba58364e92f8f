#ifndef REDIS_HA_SYNC_CLIENT_HPP
#define REDIS_HA_SYNC_CLIENT_HPP

/// @file
/// `redis_ha::sync_client`: a blocking facade over `basic_client`, with its
/// own I/O thread. Thread-safe: any number of threads may share one.

#include <redis_ha/client.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace redis_ha {

/// A blocking HA client. Each call hands the request to the I/O thread and
/// waits for its completion; calls from many threads are pipelined on the
/// same master connection.
///
/// Every operation has two overloads: one reporting errors through a
/// `std::error_code&` (a Redis error reply is then `reply::is_error()`),
/// one throwing `redis_ha::system_error` (also for Redis error replies,
/// with the server's message).
class sync_client {
 public:
  /// Starts the I/O thread and the client (which starts resolving at once).
  explicit sync_client(client_config cfg)
      : work_(asio::make_work_guard(ioc_)), client_(ioc_.get_executor(), std::move(cfg)), thread_([this] { ioc_.run(); }) {}

  /// Closes the client and joins the I/O thread.
  ~sync_client() {
    asio::post(ioc_, [this] { client_.close(); });
    work_.reset();
    thread_.join();
  }
  sync_client(const sync_client&) = delete;
  sync_client& operator=(const sync_client&) = delete;

  /// Runs a request; returns one reply per command.
  response exec(request req, std::error_code& ec) {
    std::promise<std::pair<std::error_code, response>> done;
    auto fut = done.get_future();
    asio::post(ioc_, [this, r = std::move(req), &done]() mutable {
      client_.async_exec(std::move(r), [&done](std::error_code e, response resp) {
        done.set_value({e, std::move(resp)});
      });
    });
    auto [e, resp] = fut.get();
    ec = e;
    return std::move(resp);
  }

  /// Runs a request; throws on a transport/HA error or if any reply is an
  /// error reply.
  response exec(request req) {
    std::error_code ec;
    auto resp = exec(std::move(req), ec);
    throw_if(ec);
    for (const auto& r : resp)
      if (r.is_error()) throw system_error(make_error_code(error::server_error), std::string(r.error_message()));
    return resp;
  }

  /// Runs one command given as arguments (strings or numbers).
  template <class... Args>
  reply command(std::string_view name, const Args&... args) {
    request req;
    req.push(name, args...);
    return std::move(exec(std::move(req)).front());
  }

  /// Runs one command; errors through `ec` (a Redis error is a reply).
  template <class... Args>
  reply command(std::error_code& ec, std::string_view name, const Args&... args) {
    request req;
    req.push(name, args...);
    auto resp = exec(std::move(req), ec);
    return resp.empty() ? reply{} : std::move(resp.front());
  }

  /// `SET key value [PX ttl]`.
  void set(std::string_view key, std::string_view value,
           std::optional<std::chrono::milliseconds> ttl = std::nullopt) {
    if (ttl)
      command("SET", key, value, "PX", ttl->count());
    else
      command("SET", key, value);
  }
  /// `GET key`: the value, or nothing when the key does not exist.
  std::optional<std::string> get(std::string_view key) { return optional_string(command("GET", key)); }
  /// `DEL key`: number of keys removed.
  long long del(std::string_view key) { return command("DEL", key).as_integer(); }
  /// `INCR key`: the new value. Not idempotent: after a connection loss
  /// during the call it throws `outcome_unknown` rather than risk counting twice.
  long long incr(std::string_view key) { return command("INCR", key).as_integer(); }
  /// `INCRBY key by`.
  long long incrby(std::string_view key, long long by) { return command("INCRBY", key, by).as_integer(); }
  /// `EXPIRE key seconds`: true if the timeout was set.
  bool expire(std::string_view key, std::chrono::seconds ttl) { return command("EXPIRE", key, ttl.count()).as_integer() == 1; }
  /// `HSET key field value`: number of fields added.
  long long hset(std::string_view key, std::string_view field, std::string_view value) {
    return command("HSET", key, field, value).as_integer();
  }
  /// `HGET key field`.
  std::optional<std::string> hget(std::string_view key, std::string_view field) {
    return optional_string(command("HGET", key, field));
  }
  /// `EVAL script numkeys keys... args...`: the script's reply.
  template <class Keys, class Args>
  reply eval(std::string_view script, const Keys& keys, const Args& args) {
    request req;
    std::vector<std::string> argv{"EVAL", std::string(script), std::to_string(std::size(keys))};
    for (const auto& k : keys) argv.emplace_back(k);
    for (const auto& a : args) argv.emplace_back(a);
    req.push_argv(argv);
    return std::move(exec(std::move(req)).front());
  }

  /// Blocks until a verified master is connected; throws after the budget.
  void wait_ready() {
    std::promise<std::error_code> done;
    auto fut = done.get_future();
    asio::post(ioc_, [this, &done] { client_.async_wait_ready([&done](std::error_code e) { done.set_value(e); }); });
    throw_if(fut.get());
  }

  /// Counters of the underlying client (read on the I/O thread).
  client_stats stats() {
    std::promise<client_stats> done;
    auto fut = done.get_future();
    asio::post(ioc_, [this, &done] { done.set_value(client_.stats()); });
    return fut.get();
  }

 private:
  static std::optional<std::string> optional_string(const reply& r) {
    if (r.is_nil()) return std::nullopt;
    return std::string(r.as_string());
  }

  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  basic_client<> client_;
  std::thread thread_;
};

}  // namespace redis_ha

#endif  // REDIS_HA_SYNC_CLIENT_HPP
