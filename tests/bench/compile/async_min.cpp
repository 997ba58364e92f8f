// Compile-time benchmark TU (iv): minimal async use with a coroutine.
#include <redis_ha/client.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

asio::awaitable<void> run(redis_ha::client& redis) {
  redis_ha::request req;
  req.push("SET", "k", "v");
  req.push("GET", "k");
  auto resp = co_await redis.async_exec(std::move(req), asio::use_awaitable);
  (void)resp;
  redis.close();
}

int main() {
  asio::io_context ioc;
  redis_ha::client_config cfg;
  cfg.addresses.push_back({"127.0.0.1", 6379});
  redis_ha::client redis{ioc.get_executor(), cfg};
  asio::co_spawn(ioc, run(redis), asio::detached);
  ioc.run();
}
