#pragma once
/// @file
/// Prometheus text exposition of the gateway's counters, of its listeners' connections and
/// of the redis-ha client stats.

#include <redis_ha/client.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <map>
#include <tuple>
#include <string>
#include <utility>
#include <vector>

#include "http_connections.hpp"

namespace gateway {

class metrics {
 public:
  static constexpr std::array<double, 12> buckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

  void http_request(const std::string& route, int code, double seconds) {
    ++http_[{route, code}];
    for (std::size_t i = 0; i < buckets.size(); ++i)
      if (seconds <= buckets[i]) ++bucket_counts_[i];
    ++duration_count_;
    duration_sum_ += seconds;
  }
  void alert(const char* result) { ++alerts_[result]; }
  /// Exposes the connections of a listener ("main", "probe"); `t` must outlive this.
  void watch(std::string listener, const http::connection_table* t) { listeners_.emplace_back(std::move(listener), t); }
  void failover() { ++failovers_; }

  std::string render(const redis_ha::client& client) const {
    std::string out;
    out += "# HELP gateway_http_requests_total HTTP responses by route and status code.\n";
    out += "# TYPE gateway_http_requests_total counter\n";
    for (const auto& [k, v] : http_)
      out += fmt::format("gateway_http_requests_total{{route=\"{}\",code=\"{}\"}} {}\n", k.first, k.second, v);
    out += "# HELP gateway_alerts_total Alerts processed by result.\n";
    out += "# TYPE gateway_alerts_total counter\n";
    for (const char* r : {"created", "duplicate", "storm"}) {
      auto it = alerts_.find(r);
      out += fmt::format("gateway_alerts_total{{result=\"{}\"}} {}\n", r, it == alerts_.end() ? 0 : it->second);
    }
    out += "# HELP gateway_failovers_total Master changes seen by the redis-ha client.\n";
    out += "# TYPE gateway_failovers_total counter\n";
    out += fmt::format("gateway_failovers_total {}\n", failovers_);
    out += "# HELP gateway_redis_master_info The verified Redis master (direct mode: and its replication id, as\n"
           "# behind a load balancer the address stays the same when the master changes).\n";
    out += "# TYPE gateway_redis_master_info gauge\n";
    if (auto m = client.master(); m && client.ready()) {
      const std::string id = client.master_replication_id();
      if (id.empty())
        out += fmt::format("gateway_redis_master_info{{address=\"{}\"}} 1\n", m->to_string());
      else
        out += fmt::format("gateway_redis_master_info{{address=\"{}\",replication_id=\"{}\"}} 1\n", m->to_string(), id);
    }
    out += "# HELP gateway_redis_ready 1 while a verified master is connected.\n";
    out += "# TYPE gateway_redis_ready gauge\n";
    out += fmt::format("gateway_redis_ready {}\n", client.ready() ? 1 : 0);
    out += "# HELP gateway_connections_open Open HTTP connections by listener.\n";
    out += "# TYPE gateway_connections_open gauge\n";
    for (const auto& [name, t] : listeners_)
      out += fmt::format("gateway_connections_open{{listener=\"{}\"}} {}\n", name, t->open());
    out += "# HELP gateway_connections_total HTTP connections by listener and fate (see README).\n";
    out += "# TYPE gateway_connections_total counter\n";
    for (const auto& [name, t] : listeners_) {
      const auto& s = t->stats();
      for (auto [what, n] : {std::pair{"accepted", s.accepted}, std::pair{"refused_per_ip", s.refused_per_ip},
                             std::pair{"refused_global", s.refused_global}, std::pair{"reclaimed_idle", s.reclaimed_idle},
                             std::pair{"reclaimed_slow_head", s.reclaimed_slow_head},
                             std::pair{"reclaimed_drain", s.reclaimed_drain}, std::pair{"head_timeout", s.head_timeouts},
                             std::pair{"body_timeout", s.body_timeouts}, std::pair{"idle_timeout", s.idle_timeouts}})
        out += fmt::format("gateway_connections_total{{listener=\"{}\",fate=\"{}\"}} {}\n", name, what, n);
    }
    out += "# HELP gateway_request_duration_seconds HTTP request duration, first byte of the request to last byte "
           "of the response.\n";
    out += "# TYPE gateway_request_duration_seconds histogram\n";
    for (std::size_t i = 0; i < buckets.size(); ++i)
      out += fmt::format("gateway_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", buckets[i], bucket_counts_[i]);
    out += fmt::format("gateway_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", duration_count_);
    out += fmt::format("gateway_request_duration_seconds_sum {}\n", duration_sum_);
    out += fmt::format("gateway_request_duration_seconds_count {}\n", duration_count_);
    const auto& s = client.stats();
    for (auto [name, value, help] : {
             std::tuple{"requests", s.requests, "requests accepted"},
             std::tuple{"succeeded", s.succeeded, "requests completed without error"},
             std::tuple{"failed", s.failed, "requests completed with an error"},
             std::tuple{"retries", s.retries, "requests resent after a failover signal"},
             std::tuple{"refused_not_master", s.refused_not_master, "writes refused locally"},
             std::tuple{"master_changes", s.master_changes, "master address changes"},
             std::tuple{"resolutions", s.resolutions, "master resolution attempts"},
             std::tuple{"connects", s.connects, "data-node connections opened"},
         }) {
      out += fmt::format("# HELP redis_ha_client_{}_total redis-ha client: {}.\n", name, help);
      out += fmt::format("# TYPE redis_ha_client_{}_total counter\n", name);
      out += fmt::format("redis_ha_client_{}_total {}\n", name, value);
    }
    return out;
  }

 private:
  std::map<std::pair<std::string, int>, std::uint64_t> http_;
  std::map<std::string, std::uint64_t> alerts_;
  std::uint64_t failovers_ = 0;
  std::vector<std::pair<std::string, const http::connection_table*>> listeners_;
  std::array<std::uint64_t, buckets.size()> bucket_counts_{};
  std::uint64_t duration_count_ = 0;
  double duration_sum_ = 0;
};

}  // namespace gateway
