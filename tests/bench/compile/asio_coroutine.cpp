// Compile-time benchmark TU (v): the floor of (iv). The same coroutine shape
// with Asio alone (a steady_timer in place of the client): what co_spawn,
// use_awaitable and io_context::run cost a file before redis-ha adds anything.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

asio::awaitable<void> run(asio::steady_timer& timer) {
  co_await timer.async_wait(asio::use_awaitable);
  timer.cancel();
}

int main() {
  asio::io_context ioc;
  asio::steady_timer timer{ioc};
  asio::co_spawn(ioc, run(timer), asio::detached);
  ioc.run();
}
