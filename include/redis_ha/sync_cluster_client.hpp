#ifndef REDIS_HA_SYNC_CLUSTER_CLIENT_HPP
#define REDIS_HA_SYNC_CLUSTER_CLIENT_HPP

/// @file
/// `redis_ha::sync_cluster_client`: a blocking facade over `cluster_client`,
/// with its own I/O thread. Thread-safe: any number of threads may share one.

#include <redis_ha/cluster_client.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>
#include <redis_ha/typed.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <chrono>
#include <future>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>

namespace redis_ha {

/// A blocking Redis Cluster client (same request, response and reply types
/// as `sync_client`). Must not be called from its own I/O thread (`on_event`).
/// Use it as `sync_cluster_client`; a class template only so that a file
/// that includes this header without building one does not instantiate
/// the cluster client.
template <class Stream = any_stream>
class basic_sync_cluster_client {
 public:
  /// Starts the I/O thread and the client (which starts reading the slot map).
  explicit basic_sync_cluster_client(cluster_config cfg)
      : work_(asio::make_work_guard(ioc_)), client_(ioc_.get_executor(), std::move(cfg)),
        thread_([this] { ioc_.run(); }) {}
  /// Closes the client and joins the I/O thread.
  ~basic_sync_cluster_client() {
    asio::post(ioc_, [this] { client_.close(); });
    work_.reset();
    thread_.join();
  }
  basic_sync_cluster_client(const basic_sync_cluster_client&) = delete;
  basic_sync_cluster_client& operator=(const basic_sync_cluster_client&) = delete;

  /// Runs a request; returns one reply per command; errors through `ec`.
  response exec(request req, std::error_code& ec) {
    std::promise<std::pair<std::error_code, response>> done;
    auto fut = done.get_future();
    asio::post(ioc_, [this, r = std::move(req), &done]() mutable {
      client_.async_exec(std::move(r), [&done](std::error_code e, response resp) { done.set_value({e, std::move(resp)}); });
    });
    auto [e, resp] = fut.get();
    ec = e;
    return std::move(resp);
  }
  /// Runs a request; throws `redis_ha::system_error` on an error or an error reply.
  response exec(request req) {
    std::error_code ec;
    auto resp = exec(std::move(req), ec);
    throw_if(ec);
    for (const auto& r : resp)
      if (r.is_error()) throw system_error(make_error_code(error::server_error), std::string(r.error_message()));
    return resp;
  }
  /// Runs one command; returns its reply, or with `T` the reply converted. Throws as `exec`.
  template <class T = reply, class... Args>
  T command(std::string_view name, const Args&... args) {
    static_assert(!holds_view_v<T>, "sync_cluster_client::command<T>: use std::string, not std::string_view");
    request req;
    req.push(name, args...);
    reply r = std::move(exec(std::move(req)).front());
    if constexpr (std::is_same_v<T, reply>)
      return r;
    else
      return as<T>(r);
  }
  /// Waits until every slot has a verified master, at most `timeout`; returns whether it happened.
  bool wait_ready(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!ready()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }
  /// True when every slot has a verified master (asked on the I/O thread).
  bool ready() {
    return on_io([this] { return client_.ready(); });
  }
  /// Counters (a copy, taken on the I/O thread).
  cluster_stats stats() {
    return on_io([this] { return client_.stats(); });
  }

 private:
  template <class F>
  auto on_io(F f) -> decltype(f()) {
    std::promise<decltype(f())> done;
    auto fut = done.get_future();
    asio::post(ioc_, [&] { done.set_value(f()); });
    return fut.get();
  }

  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  basic_cluster_client<Stream> client_;
  std::thread thread_;
};

/// The blocking cluster client over TCP, TLS or UNIX sockets (`any_stream`).
using sync_cluster_client = basic_sync_cluster_client<>;

}  // namespace redis_ha

#endif  // REDIS_HA_SYNC_CLUSTER_CLIENT_HPP
