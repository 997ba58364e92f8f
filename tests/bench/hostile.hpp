// redis_ha_bench hostile: what a misbehaving "server" costs a client.
//
// Each attack is a fake server on 127.0.0.1 (support/hostile_peer.hpp) that
// answers the client's first request (`GET k` on a redis_ha::connection with
// the default connection_config) with hostile bytes. Per attack, bounded by
// --seconds: peak RSS growth of this process (VmHWM reset before the attack,
// minus VmRSS then), the time from the first hostile byte to the request's
// completion, and the request's error and the connection's close reason.
//
//   array_headers     seven `*10000000\r\n` headers (77 bytes)
//   long_line_40mb    `+` and a 40 MB status line
//   huge_bulk         `$1099511627776` and then payload for as long as the client reads
//   bulk_above_limit  a bulk one byte longer than the default max_bulk_length
//   bulk_at_limit     a bulk exactly max_bulk_length long (legitimate: the cost of the limit)
//
// The last line is {"array_header_rss_mb":…,"long_line_40mb_ms":…,"huge_bulk_rss_mb":…}.
#pragma once

#include <redis_ha/connection.hpp>

#include <asio/io_context.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "support/hostile_peer.hpp"
#include "support/proc_memory.hpp"

namespace bench {

/// Settings of `redis_ha_bench hostile`.
struct hostile_options {
  double seconds = 30;  ///< bound on each attack
  std::string only;     ///< run only this attack (empty: all)
};

/// The outcome of one attack.
struct hostile_result {
  std::string name;
  std::size_t bytes_sent = 0;
  double rss_mib = 0;
  double ms = 0;           ///< first hostile byte to completion (or to the bound)
  bool completed = false;  ///< the request completed within the bound
  std::string outcome;
};

/// Runs one attack against a fresh connection with the default config.
inline hostile_result run_attack(const std::string& name, redis_ha::test::attack a, const hostile_options& opt) {
  using namespace std::chrono;
  const auto bound = duration_cast<milliseconds>(duration<double>(opt.seconds));
  hostile_result res;
  res.name = name;
  std::optional<redis_ha::test::hostile_peer> peer;
  peer.emplace(std::move(a), bound + seconds(5));
  redis_ha::test::peak_rss_growth growth;

  asio::io_context ioc{1};
  redis_ha::connection conn{ioc.get_executor(), redis_ha::connection_config{}};
  std::optional<std::error_code> exec_ec;
  steady_clock::time_point done_at;
  conn.async_connect({"127.0.0.1", peer->port()}, [&](std::error_code ec) {
    if (ec) {
      exec_ec = ec;
      done_at = steady_clock::now();
      return;
    }
    redis_ha::request req;
    req.push("GET", "k");
    conn.async_exec(req, [&](std::error_code ec, redis_ha::response replies) {
      exec_ec = ec;
      done_at = steady_clock::now();
      if (!ec && !replies.empty()) {
        const auto& r = replies[0];
        res.outcome = fmt::format("ok: {} of {} bytes", redis_ha::to_string(r.type()),
                                  r.is_string() ? r.as_string().size() : std::size_t{0});
      }
    });
  });
  const auto deadline = steady_clock::now() + bound;
  while (!exec_ec && steady_clock::now() < deadline) ioc.run_one_for(milliseconds(20));
  const auto end = exec_ec ? done_at : steady_clock::now();
  res.completed = exec_ec.has_value();
  res.rss_mib = growth.mib();
  res.bytes_sent = peer->bytes_sent();
  const auto start = peer->started() ? peer->attack_started() : end;
  res.ms = duration<double, std::milli>(end - start).count();
  if (!res.completed) {
    res.outcome = fmt::format("still pending after {:.0f} s", opt.seconds);
  } else if (*exec_ec) {
    res.outcome = conn.close_reason() == *exec_ec
                      ? fmt::format("{} (also the close reason)", exec_ec->message())
                      : fmt::format("{} / closed: {}", exec_ec->message(), conn.close_reason().message());
  }
  conn.close();
  ioc.restart();
  ioc.run_for(milliseconds(100));
  peer.reset();
  return res;
}

/// Runs the attacks, prints the table and the JSON line. Returns 0.
inline int run_hostile_bench(const hostile_options& opt) {
  using redis_ha::test::attack;
  const std::size_t limit = redis_ha::connection_config{}.max_bulk_length;
  const double limit_mib = static_cast<double>(limit) / (1024.0 * 1024.0);
  std::string headers;
  for (int i = 0; i < 7; ++i) headers += "*10000000\r\n";
  struct named {
    std::string name;
    attack a;
  };
  std::vector<named> attacks = {
      {"array_headers", attack{headers, 0, 'x', ""}},
      {"long_line_40mb", attack{"+", 40'000'000, 'a', "\r\n"}},
      {"huge_bulk", attack{"$1099511627776\r\n", std::size_t{1} << 30, 'x', ""}},
      {"bulk_above_limit", attack{"$" + std::to_string(limit + 1) + "\r\n", limit + 1, 'x', "\r\n"}},
      {"bulk_at_limit", attack{"$" + std::to_string(limit) + "\r\n", limit, 'x', "\r\n"}},
  };
  fmt::print("default max_bulk_length: {} bytes ({:.0f} MiB); each attack bounded by {:.0f} s\n", limit, limit_mib,
             opt.seconds);
  fmt::print("{:<18} {:>12} {:>14} {:>12}  {}\n", "attack", "bytes sent", "peak RSS +MiB", "time ms", "outcome");
  std::vector<hostile_result> results;
  for (auto& [name, a] : attacks) {
    if (!opt.only.empty() && name != opt.only) continue;
    auto r = run_attack(name, std::move(a), opt);
    fmt::print("{:<18} {:>12} {:>14.1f} {:>12.1f}  {}\n", r.name, r.bytes_sent, r.rss_mib, r.ms, r.outcome);
    std::fflush(stdout);
    results.push_back(std::move(r));
  }
  auto get = [&](const std::string& name, double hostile_result::*field) {
    for (auto& r : results)
      if (r.name == name) return r.*field;
    return -1.0;
  };
  fmt::print("targets: array_header_rss_mb <= 16, long_line_40mb_ms <= 200, huge_bulk_rss_mb <= {:.0f} "
             "(2 x default max_bulk_length in MiB + 16); sizes in MiB\n",
             2 * limit_mib + 16);
  fmt::print("{{\"array_header_rss_mb\":{:.1f},\"long_line_40mb_ms\":{:.1f},\"huge_bulk_rss_mb\":{:.1f}}}\n",
             get("array_headers", &hostile_result::rss_mib), get("long_line_40mb", &hostile_result::ms),
             get("huge_bulk", &hostile_result::rss_mib));
  return 0;
}

}  // namespace bench
