#ifndef REDIS_HA_DETAIL_CLUSTER_FAN_OUT_HPP
#define REDIS_HA_DETAIL_CLUSTER_FAN_OUT_HPP

/// @file
/// Keyless commands sent to every master (`FLUSHALL`, `KEYS`, `DBSIZE`,
/// `SCRIPT LOAD`, ... : `keyless_route::all_masters` in `cluster_keys.hpp`):
/// `fan_out` runs one request on each shard client and completes once all
/// answered; `merge_fan_out` (sans-I/O) folds their replies, per command:
/// the first error reply, else `KEYS` concatenated, `DBSIZE` summed, else
/// the first shard's reply.

#include <redis_ha/detail/cluster_keys.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

/// The merged replies of a request that every master ran (`parts`: one
/// response per master, in the same command order), as `route.names` says.
inline response merge_fan_out(const cluster_route& route, const std::vector<response>& parts) {
  response out;
  if (parts.empty()) return out;
  for (std::size_t c = 0; c < parts[0].size(); ++c) {
    const std::string& name = c < route.names.size() ? route.names[c] : std::string();
    const reply* err = nullptr;
    for (const auto& p : parts)
      if (c < p.size() && p[c].is_error() && !err) err = &p[c];
    if (err) {
      out.push_back(*err);
    } else if (name == "keys") {
      std::vector<reply> all;
      for (const auto& p : parts)
        if (c < p.size() && p[c].is_array())
          for (const auto& x : p[c].as_array()) all.push_back(x);
      out.push_back(reply::array(std::move(all)));
    } else if (name == "dbsize") {
      long long sum = 0;
      for (const auto& p : parts)
        if (c < p.size() && p[c].is_integer()) sum += p[c].as_integer();
      out.push_back(reply::integer(sum));
    } else {
      out.push_back(parts[0][c]);
    }
  }
  return out;
}

/// Runs `r` on every client of `targets` (each a `client_impl`) and calls
/// `done(ec, merged)` once, when the last one completed: `ec` is the first
/// error of any of them (then `merged` is empty), else `merged` is
/// `merge_fan_out(route, ...)`. With no target, `done(master_unavailable, {})` at once.
template <class Client, class Done>
void fan_out(const std::vector<std::shared_ptr<Client>>& targets, const request& r, const cluster_route& route,
             Done done) {
  struct join {
    Done done;
    cluster_route route;
    std::size_t left = 0;
    std::error_code ec;
    std::vector<response> parts;
  };
  if (targets.empty()) return done(std::error_code(error::master_unavailable), response{});
  auto j = std::make_shared<join>(join{std::move(done), route, targets.size(), {}, {}});
  j->parts.resize(targets.size());
  for (std::size_t k = 0; k < targets.size(); ++k) {
    targets[k]->start_exec(r, [j, k](std::error_code ec, response resp) {
      if (ec && !j->ec) j->ec = ec;
      j->parts[k] = std::move(resp);
      if (--j->left > 0) return;
      auto merged = j->ec ? response{} : merge_fan_out(j->route, j->parts);
      j->done(j->ec, std::move(merged));
    });
  }
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CLUSTER_FAN_OUT_HPP
