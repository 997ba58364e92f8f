// redis_ha_gateway: a Prometheus Alertmanager webhook receiver whose state lives in Redis,
// reached only through one redis_ha::client (Sentinel or direct mode). See README.md.

#include <redis_ha/client.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/signal_set.hpp>

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>

#include "app.hpp"
#include "config.hpp"
#include "http.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "store.hpp"

int main(int argc, char** argv) {
  using namespace gateway;
  config cfg;
  try {
    cfg = parse_config(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "redis_ha_gateway: {}\n", e.what());
    return 2;
  }
  if (cfg.help) {
    fmt::print("{}", usage());
    return 0;
  }
  parse_level(cfg.log_level, min_level());
  std::signal(SIGPIPE, SIG_IGN);

  try {
    asio::io_context ioc(1);
    metrics m;

    redis_ha::client_config cc;
    cc.sentinel.sentinels = cfg.sentinels;
    cc.sentinel.master_name = cfg.master_name;
    cc.sentinel.password = cfg.sentinel_password;
    cc.addresses = cfg.redis;
    cc.connection.password = cfg.redis_password;
    cc.connection.client_name = "redis_ha_gateway";
    cc.connection.health_check_interval = std::chrono::milliseconds(500);
    cc.connection.health_check_timeout = std::chrono::milliseconds(1000);
    cc.failover_budget = std::chrono::milliseconds(cfg.failover_budget_ms);
    cc.connection.logger.min_level = min_level() == level::debug ? redis_ha::log_level::info : redis_ha::log_level::warning;
    cc.connection.logger.sink = [](redis_ha::log_level l, std::string_view msg) {
      log(l >= redis_ha::log_level::error ? level::error : l == redis_ha::log_level::warning ? level::warn : level::info,
          "{}", msg);
    };
    cc.on_event = [&m](const redis_ha::client_event& ev) {
      using kind = redis_ha::client_event::kind;
      switch (ev.type) {
        case kind::master_changed:
          m.failover();
          log(level::warn, "redis: master changed {} -> {} (writes waited {} ms)", ev.previous.to_string(),
              ev.node.to_string(), ev.unavailable.count());
          break;
        case kind::role_verified: log(level::info, "redis: master {} verified", ev.node.to_string()); break;
        case kind::master_lost:
          log(level::warn, "redis: master {} lost: {} {}", ev.node.to_string(), ev.ec.message(), ev.detail);
          break;
        case kind::resolve_failed:
          log(level::debug, "redis: resolution failed: {} {}", ev.ec.message(), ev.detail);
          break;
        default: log(level::debug, "redis: {} {} {}", redis_ha::to_string(ev.type), ev.node.to_string(), ev.detail); break;
      }
    };
    redis_ha::client client(ioc.get_executor(), std::move(cc));
    store st(client, cfg);
    app application(cfg, client, st, m);

    http::server_options opts;
    opts.max_body = static_cast<std::size_t>(cfg.max_body);
    opts.read_timeout = std::chrono::milliseconds(cfg.read_timeout_ms);
    const asio::ip::tcp::endpoint ep(asio::ip::make_address(cfg.listen.host), cfg.listen.port);
    http::server server(
        ioc.get_executor(), ep, opts, [&application](const http::request& r) { return application.handle(r); },
        [](int status, std::string detail) { return problem(status, std::move(detail)); },
        [&m](const http::request*, const http::response& r, double secs) { m.http_request(r.route, r.status, secs); });
    server.start();
    const auto local = server.local_endpoint();
    log(level::info, "listening on {}:{}; redis: {} {} (budget {} ms)", local.address().to_string(), local.port(),
        cfg.sentinels.empty() ? "direct" : "sentinel", cfg.sentinels.empty() ? fmt::format("{} address(es)", cfg.redis.size())
                                                                            : cfg.master_name,
        cfg.failover_budget_ms);

    log(level::info,
        "config: dedup-ttl {}s storm threshold {} window {}s ttl {}s; rate limit {} per {}s; max body {} B; "
        "read timeout {} ms",
        cfg.dedup_ttl, cfg.storm_threshold, cfg.storm_window, cfg.storm_ttl, cfg.rate_limit, cfg.rate_window,
        cfg.max_body, cfg.read_timeout_ms);

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code ec, int sig) {
      if (ec) return;
      log(level::info, "signal {}: shutting down", sig);
      server.stop();
      client.close();
      ioc.stop();
    });
    ioc.run();
  } catch (const std::exception& e) {
    log(level::error, "fatal: {}", e.what());
    return 1;
  }
  return 0;
}
