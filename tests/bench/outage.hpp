// redis_ha_bench outage: does the request rate drive reconnection attempts?
//
// Phase 1 (Sentinel mode): a topology whose sentinels will not fail over
// (down-after-milliseconds 10 min), its master SIGKILLed, a client that
// keeps trying. For 10 s each at 0, 20 and 200 requests/s (SETs, each
// waiting within the failover budget), count resolution attempts (client
// stats().resolutions) and data-node connects. With the backoff owning the
// pace, the three counts are alike.
//
// Phase 2 (direct mode): one COMMAND DOCS against a standalone redis-server
// 7.0, whose reply nests deeper than the reader accepts. Count the data-node
// connects it causes over 3 s beyond the first one: the rejected request must
// fail with its own error and never be resent.
#pragma once

#include <redis_ha/client.hpp>
#include <redis_ha/client_config.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>

#include "support/ha_config.hpp"
#include "support/io_thread.hpp"
#include "support/redis_server.hpp"
#include "support/topology.hpp"

namespace bench {

struct outage_options {
  double seconds = 10;  ///< length of each rate phase
  double decode_seconds = 3;
};

struct outage_phase {
  int rate = 0;
  std::uint64_t resolutions = 0, connects = 0, requests = 0, failed = 0;
};

inline outage_phase outage_run_phase(redis_ha::test::io_thread& io, redis_ha::client& c, int rate, double seconds) {
  outage_phase p;
  p.rate = rate;
  const auto before = io.call([&] { return c.stats(); });
  auto failed = std::make_shared<std::atomic<std::uint64_t>>(0);
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  if (rate == 0) {
    std::this_thread::sleep_until(end);
  } else {
    const auto period = std::chrono::duration<double>(1.0 / rate);
    auto next = start;
    while (next < end) {
      io.call([&] {
        redis_ha::request req;
        req.push("SET", "outage", "x");
        c.async_exec(std::move(req), [failed](std::error_code ec, redis_ha::response) {
          if (ec) ++*failed;
        });
        return 0;
      });
      ++p.requests;
      next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
      std::this_thread::sleep_until(next);
    }
  }
  const auto after = io.call([&] { return c.stats(); });
  p.resolutions = after.resolutions - before.resolutions;
  p.connects = after.connects - before.connects;
  p.failed = *failed;
  return p;
}

inline int run_outage_bench(const outage_options& opt) {
  using namespace std::chrono_literals;
  std::vector<outage_phase> phases;
  {
    redis_ha::test::topology_options topts;
    topts.down_after_ms = 600000;  // the sentinels never fail over
    redis_ha::test::topology topo(topts);
    redis_ha::test::io_thread io;
    auto cfg = redis_ha::test::sentinel_client_config(topo);
    auto c = io.call([&] { return std::make_unique<redis_ha::client>(io.executor(), cfg); });
    auto [ec] = io.await<>([&](auto h) { c->async_wait_ready(h); });
    if (ec) throw std::runtime_error("client not ready: " + ec.message());
    topo.kill_master();
    std::this_thread::sleep_for(1s);  // the loss is noticed; attempts settle on the backoff
    for (int rate : {0, 20, 200}) phases.push_back(outage_run_phase(io, *c, rate, opt.seconds));
    io.call([&] {
      c.reset();
      return 0;
    });
  }

  std::uint64_t decode_reconnects = 0;
  std::string decode_error;
  {
    redis_ha::test::redis_node node;
    redis_ha::test::io_thread io;
    redis_ha::client_config cfg;
    cfg.addresses = {{"127.0.0.1", node.port()}};
    auto c = io.call([&] { return std::make_unique<redis_ha::client>(io.executor(), cfg); });
    auto [ec] = io.await<>([&](auto h) { c->async_wait_ready(h); });
    if (ec) throw std::runtime_error("client not ready: " + ec.message());
    const auto before = io.call([&] { return c->stats().connects; });
    redis_ha::request req;
    req.push("COMMAND", "DOCS");
    auto [rec, resp] = io.await<redis_ha::response>([&](auto h) { c->async_exec(req, h); }, 15s);
    decode_error = rec ? rec.message() : std::string("no error (the reply was accepted)");
    std::this_thread::sleep_for(std::chrono::duration<double>(opt.decode_seconds));
    decode_reconnects = io.call([&] { return c->stats().connects; }) - before;
    io.call([&] {
      c.reset();
      return 0;
    });
  }

  fmt::print("{:<34} {:>10} {:>12} {:>10} {:>10}\n", "phase (master down, no failover)", "requests", "resolutions",
             "connects", "failed");
  for (const auto& p : phases)
    fmt::print("{:<34} {:>10} {:>12} {:>10} {:>10}\n", fmt::format("{} requests/s for {} s", p.rate, opt.seconds),
               p.requests, p.resolutions, p.connects, p.failed);
  fmt::print("COMMAND DOCS in direct mode: {} reconnect(s) in {} s; the request failed with: {}\n", decode_reconnects,
             opt.decode_seconds, decode_error);
  const double ratio = phases[0].resolutions ? double(phases[2].resolutions) / double(phases[0].resolutions) : 0.0;
  fmt::print("targets: resolutions_200 <= 1.5 x resolutions_idle ({:.2f}x), decode_error_reconnects <= 1 ({})\n", ratio,
             decode_reconnects);
  fmt::print("{{\"resolutions_idle\":{},\"resolutions_20\":{},\"resolutions_200\":{},\"decode_error_reconnects\":{}}}\n",
             phases[0].resolutions, phases[1].resolutions, phases[2].resolutions, decode_reconnects);
  return 0;
}

}  // namespace bench
