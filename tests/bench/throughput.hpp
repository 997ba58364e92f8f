// redis_ha_bench throughput: single-connection SET throughput of
// basic_connection against raw hiredis, alternated in one process.
// run_ha_client_seq: the same one-SET-at-a-time loop through the HA client
// (used by `redis_ha_bench failover` for the cost of min_replicas_acked).
#pragma once

#include <redis_ha/client.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/sync_client.hpp>

#include <asio/io_context.hpp>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace bench {

using bench_clock = std::chrono::steady_clock;

/// Settings of the throughput cases.
struct throughput_options {
  std::uint16_t port = 6379;
  double seconds = 2.0;  ///< length of one measurement
  int rounds = 3;        ///< measurements per case; the median is reported
};

inline const std::string& value16() {
  static const std::string v = "0123456789abcdef";
  return v;
}

/// SET through basic_connection: `concurrency` requesters, each awaiting
/// requests of `batch` SETs, for `seconds`. Returns commands per second.
inline double run_redis_ha(const throughput_options& opt, int concurrency, int batch) {
  asio::io_context ioc{1};
  redis_ha::connection_config cfg;
  cfg.health_check_interval = std::chrono::milliseconds(0);
  redis_ha::connection conn{ioc.get_executor(), cfg};
  std::error_code connect_ec = asio::error::would_block;
  conn.async_connect({"127.0.0.1", opt.port}, [&](std::error_code ec) { connect_ec = ec; });
  while (connect_ec == asio::error::would_block && ioc.run_one()) {
  }
  if (connect_ec) throw std::runtime_error("connect: " + connect_ec.message());

  redis_ha::request req;
  for (int i = 0; i < batch; ++i) req.push("SET", "bench:key", value16());

  struct state {
    redis_ha::connection& conn;
    const redis_ha::request& req;
    bench_clock::time_point deadline;
    std::uint64_t requests = 0;
    int active = 0;
    std::error_code failure;
  } st{conn, req, bench_clock::now() + std::chrono::duration_cast<bench_clock::duration>(
                                         std::chrono::duration<double>(opt.seconds))};

  struct requester {
    state* st;
    void operator()(std::error_code ec, redis_ha::response) const {
      if (ec) st->failure = ec;
      ++st->requests;
      // Checking the clock every 64 completions keeps it off the profile.
      if (!ec && ((st->requests & 63) != 0 || bench_clock::now() < st->deadline))
        st->conn.async_exec(st->req, *this);
      else if (--st->active == 0)
        st->conn.close();
    }
  };
  const auto t0 = bench_clock::now();
  for (int i = 0; i < concurrency; ++i) {
    ++st.active;
    conn.async_exec(req, requester{&st});
  }
  ioc.run();
  const double elapsed = std::chrono::duration<double>(bench_clock::now() - t0).count();
  if (st.failure && st.failure != redis_ha::error::connection_closed)
    throw std::runtime_error("redis_ha: " + st.failure.message());
  return static_cast<double>(st.requests) * batch / elapsed;
}

/// One awaited SET (16-byte value) at a time through a redis_ha::client built from `cfg`
/// (Sentinel or direct mode), for `seconds` from the moment the client has a verified master.
/// Returns SETs per second. Throws on any failed SET.
inline double run_ha_client_seq(redis_ha::client_config cfg, double seconds) {
  asio::io_context ioc{1};
  redis_ha::client client{ioc.get_executor(), std::move(cfg)};
  std::optional<std::error_code> ready;
  client.async_wait_ready([&](std::error_code ec) { ready = ec; });
  while (!ready && ioc.run_one()) {
  }
  if (!ready || *ready) throw std::runtime_error("HA client not ready: " + (ready ? ready->message() : "no work"));

  redis_ha::request req;
  req.push("SET", "bench:key", value16());

  struct state {
    redis_ha::client& client;
    const redis_ha::request& req;
    bench_clock::time_point deadline;
    std::uint64_t requests = 0;
    bool done = false;
    std::error_code failure;
  } st{client, req, bench_clock::now() + std::chrono::duration_cast<bench_clock::duration>(
                                           std::chrono::duration<double>(seconds))};

  struct requester {
    state* st;
    void operator()(std::error_code ec, redis_ha::response) const {
      if (ec) {
        st->failure = ec;
        st->done = true;
        return;
      }
      ++st->requests;
      if ((st->requests & 63) != 0 || bench_clock::now() < st->deadline)
        st->client.async_exec(st->req, *this);
      else
        st->done = true;
    }
  };
  const auto t0 = bench_clock::now();
  client.async_exec(req, requester{&st});
  while (!st.done && ioc.run_one()) {
  }
  const double elapsed = std::chrono::duration<double>(bench_clock::now() - t0).count();
  client.close();
  ioc.run_for(std::chrono::milliseconds(200));  // let the closed connections finish
  if (st.failure) throw std::runtime_error("redis_ha::client: " + st.failure.message());
  if (!st.done) throw std::runtime_error("redis_ha::client: the I/O loop ran out of work");
  return static_cast<double>(st.requests) / elapsed;
}

/// SET through one sync_client shared by `threads` threads, each doing one
/// awaited SET at a time (the blocking API's auto-pipelining), for `seconds`
/// from the moment the client is ready. Returns SETs per second.
inline double run_sync_shared(const throughput_options& opt, int threads) {
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", opt.port}};
  cfg.direct_probe_interval = std::chrono::milliseconds(0);
  cfg.connection.health_check_interval = std::chrono::milliseconds(0);
  redis_ha::sync_client redis{cfg};
  redis.wait_ready();
  const auto deadline =
      bench_clock::now() + std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(opt.seconds));
  std::atomic<std::uint64_t> total{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> pool;
  const auto t0 = bench_clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      redis_ha::request req;
      req.push("SET", "bench:key", value16());
      std::uint64_t n = 0;
      std::error_code ec;
      do {
        redis.exec(req, ec);
        if (ec) {
          failed = true;
          break;
        }
        ++n;
      } while ((n & 15) != 0 || bench_clock::now() < deadline);
      total += n;
    });
  }
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(bench_clock::now() - t0).count();
  if (failed) throw std::runtime_error("sync_client: a SET failed");
  return static_cast<double>(total.load()) / elapsed;
}

/// The same SETs through raw hiredis, synchronously: `batch` commands
/// appended (pre-formatted, hiredis's fastest path), then `batch` replies read.
inline double run_hiredis(const throughput_options& opt, int batch) {
  redisContext* c = redisConnect("127.0.0.1", opt.port);
  if (!c || c->err) throw std::runtime_error("hiredis connect failed");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char* cmd = nullptr;
  const char* argv[] = {"SET", "bench:key", value16().c_str()};
  const size_t argl[] = {3, 9, value16().size()};
  int len = redisFormatCommandArgv(&cmd, 3, argv, argl);
  const auto deadline =
      bench_clock::now() + std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(opt.seconds));
  std::uint64_t commands = 0;
  const auto t0 = bench_clock::now();
  do {
    for (int i = 0; i < batch; ++i) redisAppendFormattedCommand(c, cmd, static_cast<size_t>(len));
    for (int i = 0; i < batch; ++i) {
      void* reply = nullptr;
      if (redisGetReply(c, &reply) != REDIS_OK) throw std::runtime_error(std::string("hiredis: ") + c->errstr);
      freeReplyObject(reply);
    }
    commands += static_cast<std::uint64_t>(batch);
  } while ((commands & 63) != 0 || bench_clock::now() < deadline);
  const double elapsed = std::chrono::duration<double>(bench_clock::now() - t0).count();
  redisFreeCommand(cmd);
  redisFree(c);
  return static_cast<double>(commands) / elapsed;
}

}  // namespace bench
