// What the `cpp fragment` and `cpp decls` blocks of the docs are compiled
// after (see snippets.cmake for the convention). `cpp` blocks (complete
// translation units) do not get it: they include what they use.
#pragma once

#include <redis_ha.hpp>
#include <redis_ha/typed.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

// The names a fragment may use without declaring them.
#define REDIS_HA_DOC_FRAGMENT_PARAMETERS                                                                         \
  [[maybe_unused]] redis_ha::client_config &cfg, [[maybe_unused]] redis_ha::sync_client &redis,                \
      [[maybe_unused]] redis_ha::client &client, [[maybe_unused]] redis_ha::connection &conn,                  \
      [[maybe_unused]] redis_ha::subscriber &sub, [[maybe_unused]] redis_ha::request &req,                     \
      [[maybe_unused]] redis_ha::response &resp, [[maybe_unused]] redis_ha::reply &r,                          \
      [[maybe_unused]] std::error_code &ec, [[maybe_unused]] asio::io_context &ioc,                            \
      [[maybe_unused]] asio::any_io_executor ex
