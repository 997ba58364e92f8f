// redis_ha_gateway: a Prometheus Alertmanager webhook receiver whose state lives in Redis,
// reached only through one redis_ha::client (Sentinel or direct mode). See README.md.
// SIGTERM/SIGINT drain: stop accepting, /readyz 503, let requests in progress finish
// (--drain-timeout-ms), close the client, exit 0 (1 when the drain timed out).

#include <redis_ha/client.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>

#include <sys/resource.h>

#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>

#include "app.hpp"
#include "config.hpp"
#include "http_server.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "store.hpp"

namespace {

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force.
rlim_t raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  const rlim_t want = rl.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : rl.rlim_max;
  if (rl.rlim_cur < want) {
    rlimit raised = rl;
    raised.rlim_cur = want;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  return rl.rlim_cur;
}

// Connections of the probe listener: kubelet probes, a Prometheus scraper.
constexpr std::size_t probe_connections = 64;

}  // namespace

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
    if (cfg.tls) {  // one client type: TLS is a setting (redis_ha::tls links OpenSSL in)
      redis_ha::tls_config tls;
      tls.enabled = true;
      tls.verify_peer = cfg.tls_verify;
      tls.ca_file = cfg.tls_ca_file;
      tls.cert_file = cfg.tls_cert_file;
      tls.key_file = cfg.tls_key_file;
      tls.server_name = cfg.tls_server_name;
      cc.connection.tls = tls;
      cc.sentinel.tls = tls;
    }
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

    // Every connection is one descriptor: the listeners' limits must fit the process's.
    const rlim_t fds = raise_fd_limit();
    const long reserved = 64 + static_cast<long>(cfg.probe_listen.host.empty() ? 0 : probe_connections);
    const long fit = static_cast<long>(std::min<rlim_t>(fds, 1 << 30)) - reserved;
    if (cfg.max_connections > fit) {
      log(level::warn, "--max-connections {} lowered to {} (RLIMIT_NOFILE {})", cfg.max_connections, std::max(fit, 1L),
          static_cast<unsigned long long>(fds));
      cfg.max_connections = std::max(fit, 1L);
    }

    http::server_options opts;
    opts.max_body = static_cast<std::size_t>(cfg.max_body);
    opts.header_timeout = std::chrono::milliseconds(cfg.header_timeout_ms);
    opts.body_timeout = std::chrono::milliseconds(cfg.body_timeout_ms);
    opts.idle_timeout = std::chrono::milliseconds(cfg.idle_timeout_ms);
    opts.max_connections = static_cast<std::size_t>(cfg.max_connections);
    opts.max_connections_per_ip = static_cast<std::size_t>(cfg.max_connections_per_ip);
    auto on_error = [](int status, std::string detail) { return problem(status, std::move(detail)); };
    auto observe = [&m](const http::request*, const http::response& r, double secs) {
      m.http_request(r.route, r.status, secs);
    };
    const asio::ip::tcp::endpoint ep(asio::ip::make_address(cfg.listen.host), cfg.listen.port);
    auto server = std::make_shared<http::server>(
        ioc.get_executor(), ep, opts, [&application](const http::request& r) { return application.handle(r); },
        on_error, observe);
    m.watch("main", &server->connections());
    server->start();
    std::shared_ptr<http::server> probes;
    if (!cfg.probe_listen.host.empty()) {
      http::server_options po = opts;
      po.max_body = 4096;
      po.max_connections = po.max_connections_per_ip = probe_connections;
      const asio::ip::tcp::endpoint pep(asio::ip::make_address(cfg.probe_listen.host), cfg.probe_listen.port);
      probes = std::make_shared<http::server>(
          ioc.get_executor(), pep, po, [&application](const http::request& r) { return application.handle_probe(r); },
          on_error, observe);
      m.watch("probe", &probes->connections());
      probes->start();
    }
    const auto local = server->local_endpoint();
    log(level::info, "listening on {}:{}{}; redis: {} {} (budget {} ms)", local.address().to_string(), local.port(),
        probes ? fmt::format(", probes on {}:{}", probes->local_endpoint().address().to_string(),
                             probes->local_endpoint().port())
               : std::string(),
        cfg.sentinels.empty() ? "direct" : "sentinel",
        cfg.sentinels.empty() ? fmt::format("{} address(es)", cfg.redis.size()) : cfg.master_name,
        cfg.failover_budget_ms);
    log(level::info,
        "config: dedup-ttl {}s storm threshold {} window {}s ttl {}s; stream maxlen ~{}; rate limit burst {} then {}/s "
        "per address; max body {} B; timeouts head {} ms body {} ms idle {} ms; connections {} ({} per address); "
        "drain {} ms",
        cfg.dedup_ttl, cfg.storm_threshold, cfg.storm_window, cfg.storm_ttl, cfg.stream_maxlen, cfg.rate_burst,
        cfg.rate_per_s, cfg.max_body, cfg.header_timeout_ms, cfg.body_timeout_ms, cfg.idle_timeout_ms,
        cfg.max_connections, cfg.max_connections_per_ip, cfg.drain_timeout_ms);

    int exit_code = 0;
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    auto stop_now = [&] {
      server->stop();
      if (probes) probes->stop();
      client.close();
      signals.cancel();
      asio::post(ioc, [&ioc] { ioc.stop(); });  // after the completions close() posted
    };
    signals.async_wait([&](std::error_code ec, int sig) {
      if (ec) return;
      log(level::info, "signal {}: draining: not accepting, not ready; {} connection(s) open, up to {} ms", sig,
          server->connections().open(), cfg.drain_timeout_ms);
      application.set_draining();
      signals.async_wait([&](std::error_code ec2, int sig2) {
        if (ec2) return;
        log(level::warn, "signal {} during the drain: stopping now", sig2);
        exit_code = 1;
        stop_now();
      });
      server->drain(std::chrono::milliseconds(cfg.drain_timeout_ms), [&](std::size_t cut) {
        if (cut > 0) {
          log(level::warn, "drain timed out: closed {} connection(s) with a request in progress", cut);
          exit_code = 1;
        } else {
          log(level::info, "drained: every request answered; closing the Redis client");
        }
        stop_now();
      });
    });
    ioc.run();
    log(level::info, "exit {}", exit_code);
    return exit_code;
  } catch (const std::exception& e) {
    log(level::error, "fatal: {}", e.what());
    return 1;
  }
}
