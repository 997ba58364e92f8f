// An io_context on its own thread, for tests that drive async clients from
// the test thread: create, use and destroy them on it through call()/await().
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <tuple>

namespace redis_ha::test {

// An io_context on its own thread; the client is created, used and destroyed there.
class io_thread {
 public:
  io_thread() : work_(asio::make_work_guard(ioc_)), thread_([this] { ioc_.run(); }) {}
  ~io_thread() {
    work_.reset();
    thread_.join();
  }
  asio::any_io_executor executor() { return ioc_.get_executor(); }

  template <class F>
  auto call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(ioc_, [&task] { task(); });
    return result.get();
  }

  template <class... Args, class Start>
  std::tuple<std::error_code, Args...> await(Start start, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    auto p = std::make_shared<std::promise<std::tuple<std::error_code, Args...>>>();
    auto f = p->get_future();
    asio::post(ioc_, [p, start] { start([p](std::error_code ec, Args... args) { p->set_value({ec, std::move(args)...}); }); });
    if (f.wait_for(timeout) != std::future_status::ready) throw std::runtime_error("operation did not complete");
    return f.get();
  }

 private:
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace redis_ha::test
