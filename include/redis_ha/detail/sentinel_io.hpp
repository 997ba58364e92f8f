#ifndef REDIS_HA_DETAIL_SENTINEL_IO_HPP
#define REDIS_HA_DETAIL_SENTINEL_IO_HPP

/// @file
/// The I/O with sentinels, without any decision: one query round (ask each
/// sentinel concurrently, report each answer) and one event subscription
/// (connect, SUBSCRIBE, report up / event / lost). What to do next, when to
/// retry and whom to believe is `master_fsm`'s business.

#include <redis_ha/address.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/log_format.hpp>
#include <redis_ha/detail/sentinel_parse.hpp>
#include <redis_ha/detail/sentinel_set.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/logger.hpp>
#include <redis_ha/request.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

/// Settings of a short-lived query connection to a sentinel.
inline connection_config sentinel_query_config(const sentinel_config& cfg, const redis_ha::logger& log) {
  connection_config c;
  c.username = cfg.username;
  c.password = cfg.password;
  c.connect_timeout = cfg.timeout;
  c.request_timeout = cfg.timeout;
  c.health_check_interval = std::chrono::milliseconds(0);
  c.client_name = "redis_ha-sentinel-query";
  c.tls = cfg.tls;
  c.logger = log;
  c.logger.min_level = std::max(c.logger.min_level, log_level::error);
  return c;
}

/// Turns a failed connect or query into the answer the machine reads.
inline sentinel_answer failed_answer(std::error_code ec, const char* step) {
  sentinel_answer a;
  if (ec == error::auth_failed) {
    a.what = sentinel_answer::kind::auth_failed;
  } else if (ec == error::protocol_error || ec == error::reply_too_large || ec == error::nesting_too_deep ||
             ec == error::line_too_long) {
    a.what = sentinel_answer::kind::malformed;
  } else {
    a.what = sentinel_answer::kind::unreachable;
  }
  // A refusal of the credentials reads the same whatever the step.
  a.text = a.what == sentinel_answer::kind::auth_failed ? ec.message() : std::string(step) + ": " + ec.message();
  return a;
}

/// The sentinels known to have only the master-named commands (Redis,
/// Valkey before 8.0), learned from their answers (`needs_master_names`):
/// they are asked with `GET-MASTER-ADDR-BY-NAME` at once in later rounds.
/// Shared by the rounds of one client; bounded.
class sentinel_dialects {
 public:
  explicit sentinel_dialects(redis_ha::logger log = {}) : log_(std::move(log)) {}
  /// True when `a` is known to need the master-named commands.
  bool master_names(const address& a) const { return std::find(legacy_.begin(), legacy_.end(), a) != legacy_.end(); }
  /// Records that `a` needs them (`why`: its answer, for the log).
  void use_master_names(const address& a, std::string_view why) {
    if (master_names(a)) return;
    if (legacy_.size() >= 64) legacy_.erase(legacy_.begin());
    legacy_.push_back(a);
    log_.log(log_level::info, "redis_ha: sentinel {} has no SENTINEL GET-PRIMARY-ADDR-BY-NAME ({}); using "
             "GET-MASTER-ADDR-BY-NAME", a.to_string(), why);
  }

 private:
  redis_ha::logger log_;
  std::vector<address> legacy_;
};

/// The query of one round for `master_name`: the primary-named address
/// lookup (Valkey 8) or the master-named one, then `sentinels` and
/// `replicas` (both names exist everywhere).
inline request sentinel_query(const std::string& master_name, bool master_names) {
  request req;
  req.push("SENTINEL", master_names ? "get-master-addr-by-name" : "get-primary-addr-by-name", master_name)
      .push("SENTINEL", "sentinels", master_name)
      .push("SENTINEL", "replicas", master_name);
  return req;
}

/// One round of `SENTINEL get-primary-addr-by-name` (falling back per
/// sentinel to `get-master-addr-by-name`, see `sentinel_dialects`) +
/// `sentinels` + `replicas` sent to several sentinels at once. Each answer
/// (or failure) is reported once through `on_answer(slot, answer)`.
/// Destroying or `cancel()`ing the round closes its connections; no report follows.
template <class Stream>
class sentinel_round : public std::enable_shared_from_this<sentinel_round<Stream>> {
 public:
  using executor_type = typename Stream::executor_type;
  using connection_type = basic_connection<Stream>;
  using answer_handler = std::function<void(std::uint64_t slot, const sentinel_answer&)>;

  /// `dialects`: what earlier rounds learned (none: a fresh memory).
  sentinel_round(const executor_type& ex, connection_factory<Stream> factory, connection_config cfg,
                 std::string master_name, std::shared_ptr<sentinel_dialects> dialects = nullptr)
      : ex_(ex), factory_(std::move(factory)), cfg_(std::move(cfg)), master_name_(std::move(master_name)),
        dialects_(dialects ? std::move(dialects) : std::make_shared<sentinel_dialects>()) {}

  void start(const std::vector<std::pair<std::uint64_t, address>>& targets, answer_handler on_answer) {
    on_answer_ = std::move(on_answer);
    std::weak_ptr<sentinel_round> weak = this->shared_from_this();
    for (const auto& [slot, addr] : targets) {
      auto conn = factory_(ex_, cfg_, node_kind::sentinel);
      conns_.push_back(conn);
      const bool old_names = dialects_->master_names(addr);
      conn->async_connect(addr, [weak, conn, slot = slot, addr = addr, old_names](std::error_code ec) {
        auto self = weak.lock();
        if (!self || self->cancelled_) return conn->close();
        if (ec) return self->report(slot, failed_answer(ec, "connect"));
        conn->async_exec(sentinel_query(self->master_name_, old_names),
                         [weak, conn, slot, addr, old_names](std::error_code ec, response r) {
                           auto self = weak.lock();
                           if (!self || self->cancelled_) return conn->close();
                           if (ec) {
                             conn->close();
                             return self->report(slot, failed_answer(ec, "query"));
                           }
                           if (!old_names && r.size() == 3 && needs_master_names(r[0]))
                             return self->ask_master_names(slot, addr, conn, std::move(r));
                           conn->close();
                           self->report(slot, parse_sentinel_answer(r));
                         });
      });
    }
  }

  void cancel() {
    cancelled_ = true;
    on_answer_ = nullptr;
    auto conns = std::move(conns_);
    conns_.clear();
    for (auto& c : conns) c->close();
  }

 private:
  // The sentinel lacks the primary-named lookup: ask the old name on the
  // same connection; the other two replies stand.
  void ask_master_names(std::uint64_t slot, const address& addr, const std::shared_ptr<connection_type>& conn,
                        response r) {
    dialects_->use_master_names(addr, r[0].error_message());
    request again;
    again.push("SENTINEL", "get-master-addr-by-name", master_name_);
    std::weak_ptr<sentinel_round> weak = this->shared_from_this();
    conn->async_exec(again, [weak, conn, slot, r = std::move(r)](std::error_code ec, response first) mutable {
      conn->close();
      auto self = weak.lock();
      if (!self || self->cancelled_) return;
      if (ec) return self->report(slot, failed_answer(ec, "query"));
      if (first.size() != 1) return self->report(slot, failed_answer(make_error_code(error::protocol_error), "query"));
      r[0] = std::move(first[0]);
      self->report(slot, parse_sentinel_answer(r));
    });
  }

  void report(std::uint64_t slot, const sentinel_answer& a) {
    if (on_answer_) {
      auto h = on_answer_;  // the handler may cancel the round
      h(slot, a);
    }
  }

  executor_type ex_;
  connection_factory<Stream> factory_;
  connection_config cfg_;
  std::string master_name_;
  std::shared_ptr<sentinel_dialects> dialects_;
  answer_handler on_answer_;
  std::vector<std::shared_ptr<connection_type>> conns_;
  bool cancelled_ = false;
};

/// One event subscription to one sentinel: reports `up` once the
/// subscriptions are confirmed, every event about `master_name` (mapped
/// through `map`), and `lost` once (connect failure or loss). No retry:
/// the machine decides when to open the next one.
template <class Stream>
class sentinel_link : public std::enable_shared_from_this<sentinel_link<Stream>> {
 public:
  using executor_type = typename Stream::executor_type;
  using connection_type = basic_connection<Stream>;

  struct handlers {
    std::function<void()> up;
    std::function<void(const sentinel_event&)> event;
    std::function<void(std::error_code)> lost;
  };

  sentinel_link(const executor_type& ex, connection_factory<Stream> factory, const sentinel_config& cfg,
                const redis_ha::logger& log, std::function<address(const address&)> map)
      : ex_(ex), factory_(std::move(factory)), master_name_(cfg.master_name), map_(std::move(map)), log_(log) {
    cfg_ = sentinel_query_config(cfg, log);
    cfg_.request_timeout = std::chrono::milliseconds(0);
    cfg_.health_check_interval = cfg.watch_health_check;
    cfg_.health_check_timeout = cfg.watch_health_check;
    cfg_.client_name = "redis_ha-sentinel-watch";
  }

  void start(const address& addr, handlers h) {
    h_ = std::move(h);
    addr_ = addr;
    conn_ = factory_(ex_, cfg_, node_kind::sentinel);
    std::weak_ptr<sentinel_link> weak = this->shared_from_this();
    conn_->set_push_handler([weak](reply&& msg) {
      if (auto self = weak.lock()) self->on_message(msg);
    });
    auto conn = conn_;
    conn->async_connect(addr, [weak, conn](std::error_code ec) {
      auto self = weak.lock();
      if (!self || self->stopped_) return;
      if (ec) return self->report_lost(ec);
      // Failover news first; the replica news (used to refresh the replica
      // pool at once) in a command of its own, so that an ACL that only
      // grants the failover channels still gets those.
      request sub;
      sub.push("SUBSCRIBE", "+switch-master", "+promoted-slave", "+failover-state-send-slaveof-noone", "+odown");
      sub.push("PSUBSCRIBE", "-failover-abort-*");
      sub.push("SUBSCRIBE", "+slave", "+slave-reconf-done", "-sdown", "+sdown");
      conn->async_exec(sub, [weak](std::error_code ec, response r) {
        auto self = weak.lock();
        if (!self || self->stopped_) return;
        if (ec) return self->report_lost(ec);
        for (const auto& x : r)
          if (x.is_error())
            self->log_.log(log_level::warning, "redis_ha: sentinel {} refused a subscription: {}",
                           self->addr_.to_string(), x.error_message());
        if (self->h_.up) self->h_.up();
      });
      conn->async_wait_closed([weak](std::error_code ec) {
        if (auto self = weak.lock()) self->report_lost(ec);
      });
    });
  }

  void stop() {
    stopped_ = true;
    h_ = {};
    if (conn_) conn_->close();
  }

 private:
  void report_lost(std::error_code ec) {
    if (stopped_ || lost_) return;
    lost_ = true;
    if (conn_) conn_->close();
    if (h_.lost) h_.lost(ec);
  }

  void on_message(const reply& msg) {
    // ["message", channel, payload] or ["pmessage", pattern, channel, payload]
    if (stopped_ || !msg.is_array() || msg.size() < 3 || !msg[0].is_string()) return;
    const bool pattern = msg[0].as_string() == "pmessage";
    if (msg.size() < (pattern ? 4u : 3u)) return;
    const reply& channel = msg[pattern ? 2 : 1];
    const reply& payload = msg[pattern ? 3 : 2];
    if (!channel.is_string() || !payload.is_string()) return;
    auto ev = parse_sentinel_event(channel.as_string(), payload.as_string(), master_name_);
    if (!ev) return;
    if (map_) ev->node = map_(ev->node);
    if (h_.event) h_.event(*ev);
  }

  executor_type ex_;
  connection_factory<Stream> factory_;
  connection_config cfg_;
  std::string master_name_;
  std::function<address(const address&)> map_;
  redis_ha::logger log_;
  handlers h_;
  address addr_{"", 0};
  std::shared_ptr<connection_type> conn_;
  bool stopped_ = false;
  bool lost_ = false;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_SENTINEL_IO_HPP
