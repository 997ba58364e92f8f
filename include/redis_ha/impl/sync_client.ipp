#ifndef REDIS_HA_IMPL_SYNC_CLIENT_IPP
#define REDIS_HA_IMPL_SYNC_CLIENT_IPP

/// @file
/// The implementation of `sync_client`: inline in header-only mode
/// (included by sync_client.hpp), compiled once by src.hpp otherwise.

#include <redis_ha/client.hpp>
#include <redis_ha/sync_client.hpp>
#include <redis_ha/typed.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <future>
#include <thread>

namespace redis_ha {

namespace detail {

template <class Stream>
class sync_client_io final : public sync_client_core {
 public:
  explicit sync_client_io(client_config cfg)
      : work_(asio::make_work_guard(ioc_)), client_(ioc_.get_executor(), std::move(cfg)), thread_([this] { ioc_.run(); }) {}

  ~sync_client_io() override {
    asio::post(ioc_, [this] { client_.close(); });
    work_.reset();
    thread_.join();
  }

  response exec(request req, std::error_code& ec) override {
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

  std::error_code wait_ready() override {
    std::promise<std::error_code> done;
    auto fut = done.get_future();
    asio::post(ioc_, [this, &done] { client_.async_wait_ready([&done](std::error_code e) { done.set_value(e); }); });
    return fut.get();
  }

  client_stats stats() override {
    std::promise<client_stats> done;
    auto fut = done.get_future();
    asio::post(ioc_, [this, &done] { done.set_value(client_.stats()); });
    return fut.get();
  }

  basic_client<any_stream>& client() override { return client_; }

 private:
  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  basic_client<Stream> client_;
  std::thread thread_;
};

}  // namespace detail

REDIS_HA_DECL basic_client<any_stream>& detail::sync_client_access::client(sync_client& c) {
  return c.impl_->client();
}

#if !defined(REDIS_HA_HEADER_ONLY)
REDIS_HA_DECL sync_client::sync_client(client_config cfg)
    : impl_(std::make_unique<detail::sync_client_io<any_stream>>(std::move(cfg))) {}
#endif

REDIS_HA_DECL sync_client::~sync_client() = default;

REDIS_HA_DECL response sync_client::exec(request req, std::error_code& ec) { return impl_->exec(std::move(req), ec); }

REDIS_HA_DECL response sync_client::exec(request req) {
  std::error_code ec;
  auto resp = exec(std::move(req), ec);
  throw_if(ec);
  for (const auto& r : resp)
    if (r.is_error()) throw system_error(make_error_code(error::server_error), std::string(r.error_message()));
  return resp;
}

REDIS_HA_DECL void sync_client::set(std::string_view key, std::string_view value,
                                    std::optional<std::chrono::milliseconds> ttl) {
  if (ttl)
    command("SET", key, value, "PX", ttl->count());
  else
    command("SET", key, value);
}

REDIS_HA_DECL std::optional<std::string> sync_client::get(std::string_view key) {
  return command<std::optional<std::string>>("GET", key);
}

REDIS_HA_DECL long long sync_client::del(std::string_view key) { return command<long long>("DEL", key); }

REDIS_HA_DECL long long sync_client::incr(std::string_view key) { return command<long long>("INCR", key); }

REDIS_HA_DECL long long sync_client::incrby(std::string_view key, long long by) {
  return command<long long>("INCRBY", key, by);
}

REDIS_HA_DECL bool sync_client::expire(std::string_view key, std::chrono::seconds ttl) {
  return command<bool>("EXPIRE", key, ttl.count());
}

REDIS_HA_DECL long long sync_client::hset(std::string_view key, std::string_view field, std::string_view value) {
  return command<long long>("HSET", key, field, value);
}

REDIS_HA_DECL std::optional<std::string> sync_client::hget(std::string_view key, std::string_view field) {
  return command<std::optional<std::string>>("HGET", key, field);
}

REDIS_HA_DECL void sync_client::wait_ready() { throw_if(impl_->wait_ready()); }

REDIS_HA_DECL client_stats sync_client::stats() { return impl_->stats(); }

}  // namespace redis_ha

#endif  // REDIS_HA_IMPL_SYNC_CLIENT_IPP
