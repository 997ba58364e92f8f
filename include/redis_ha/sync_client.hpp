#ifndef REDIS_HA_SYNC_CLIENT_HPP
#define REDIS_HA_SYNC_CLIENT_HPP

/// @file
/// `redis_ha::sync_client`: a blocking facade over `basic_client`, with its
/// own I/O thread. Thread-safe: any number of threads may share one.

#include <redis_ha/client.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>
#include <redis_ha/typed.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace redis_ha {

/// A blocking HA client. Each call hands the request to the I/O thread and
/// waits for its completion; calls from many threads are pipelined on the
/// same master connection.
///
/// `exec` and `command` have two forms: one reporting errors through a
/// `std::error_code&` (a Redis error reply is then a `reply` with
/// `is_error()`, or `error::server_error` once converted to another type),
/// one throwing `redis_ha::system_error` (also for Redis error replies,
/// with the server's message). Both convert replies to standard types on
/// request (`command<std::vector<std::string>>(...)`, see `typed.hpp`).
/// The helpers (`set`, `get`, `incr`, `eval`, ...), `wait_ready` and
/// `stats` only throw.
///
/// Construction, destruction and every member function may be called from
/// any thread except the client's own I/O thread (where `on_event` and the
/// logger run): a call from there would wait for itself.
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

  /// Runs a request and converts its replies, one type per command:
  /// `auto [ok, n] = redis.exec<redis_ha::ignore_t, long long>(req);`.
  /// Throws on a transport/HA error, an error reply, or a reply that does
  /// not convert (`error::wrong_reply_type`, with the details in `what()`).
  template <class T0, class... Ts>
  std::tuple<T0, Ts...> exec(request req) {
    static_assert(!(holds_view_v<T0> || ... || holds_view_v<Ts>),
                  "sync_client::exec<...>: the replies are gone when exec returns: use std::string, not std::string_view");
    return as<T0, Ts...>(exec(std::move(req)));
  }

  /// Runs a request and converts its replies; errors through `ec`: a
  /// transport/HA error, `error::server_error` for an error reply, or
  /// `error::wrong_reply_type`. On an error the values are default ones.
  template <class T0, class... Ts>
  std::tuple<T0, Ts...> exec(request req, std::error_code& ec) {
    static_assert(!(holds_view_v<T0> || ... || holds_view_v<Ts>),
                  "sync_client::exec<...>: the replies are gone when exec returns: use std::string, not std::string_view");
    auto resp = exec(std::move(req), ec);
    if (ec) return {};
    return as<T0, Ts...>(resp, ec);
  }

  /// Runs one command given as arguments (strings, `char` or numbers: see
  /// `is_request_argument_v`). Returns its reply, or with `T` the reply
  /// converted (`command<long long>("INCR", "n")`,
  /// `command<std::vector<std::string>>("LRANGE", "l", 0, -1)`). Throws on
  /// a transport/HA error, an error reply or a reply that does not convert.
  template <class T = reply, class... Args>
  T command(std::string_view name, const Args&... args) {
    static_assert(!holds_view_v<T>,
                  "sync_client::command<T>: the reply is gone when command returns: use std::string, not "
                  "std::string_view");
    request req;
    req.push(name, args...);
    reply r = std::move(exec(std::move(req)).front());
    if constexpr (std::is_same_v<T, reply>)
      return r;
    else
      return as<T>(r);
  }

  /// Runs one command; errors through `ec`. As `reply` (the default), a
  /// Redis error is a reply; converted to another `T`, it is
  /// `error::server_error`, and a reply that does not convert is
  /// `error::wrong_reply_type` (the value is then a default `T`).
  template <class T = reply, class... Args>
  T command(std::error_code& ec, std::string_view name, const Args&... args) {
    static_assert(!holds_view_v<T>,
                  "sync_client::command<T>: the reply is gone when command returns: use std::string, not "
                  "std::string_view");
    request req;
    req.push(name, args...);
    auto resp = exec(std::move(req), ec);
    reply r = resp.empty() ? reply{} : std::move(resp.front());
    if constexpr (std::is_same_v<T, reply>) {
      return r;
    } else {
      if (ec) return T{};
      return as<T>(r, ec);
    }
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
  std::optional<std::string> get(std::string_view key) { return command<std::optional<std::string>>("GET", key); }
  /// `DEL key`: number of keys removed.
  long long del(std::string_view key) { return command<long long>("DEL", key); }
  /// `INCR key`: the new value. Not idempotent: after a connection loss
  /// during the call it throws `outcome_unknown` rather than risk counting twice.
  long long incr(std::string_view key) { return command<long long>("INCR", key); }
  /// `INCRBY key by`.
  long long incrby(std::string_view key, long long by) { return command<long long>("INCRBY", key, by); }
  /// `EXPIRE key seconds`: true if the timeout was set.
  bool expire(std::string_view key, std::chrono::seconds ttl) { return command<bool>("EXPIRE", key, ttl.count()); }
  /// `HSET key field value`: number of fields added.
  long long hset(std::string_view key, std::string_view field, std::string_view value) {
    return command<long long>("HSET", key, field, value);
  }
  /// `HGET key field`.
  std::optional<std::string> hget(std::string_view key, std::string_view field) {
    return command<std::optional<std::string>>("HGET", key, field);
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
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  basic_client<> client_;
  std::thread thread_;
};

}  // namespace redis_ha

#endif  // REDIS_HA_SYNC_CLIENT_HPP
