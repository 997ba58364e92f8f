#ifndef REDIS_HA_SENTINEL_HPP
#define REDIS_HA_SENTINEL_HPP

/// @file
/// `redis_ha::basic_sentinel<Stream>`: master discovery through Redis
/// Sentinel, following the "Sentinel client guidelines", and a watcher of
/// Sentinel's failover events.

#include <redis_ha/address.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/backoff.hpp>
#include <redis_ha/detail/completion.hpp>
#include <redis_ha/detail/sentinel_parse.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/logger.hpp>

#include <asio/async_result.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace redis_ha {

/// A failover event published by a sentinel, parsed for one master name.
using sentinel_event = detail::sentinel_event;

/// A replica as Sentinel lists it.
using replica_info = detail::listed_node;

/// Finds the master of one master name through a set of sentinels.
///
/// `async_resolve` queries **all** sentinels concurrently, each bounded by
/// `sentinel_config::timeout` (connect and query), and takes the first
/// address given: a dead or black-holed sentinel never stalls discovery.
/// The sentinel that answered moves to the front of the list. A nil reply
/// means "this sentinel does not know the name". The same round trip asks
/// `SENTINEL sentinels <name>` (new sentinels are added to the list) and
/// `SENTINEL replicas <name>` (kept for `replicas()`).
///
/// Thread safety: as for `basic_connection`.
template <class Stream = asio::ip::tcp::socket>
class basic_sentinel {
 public:
  /// The executor type.
  using executor_type = typename Stream::executor_type;

  /// Creates the resolver. `map` is applied to every address a sentinel
  /// returns (masters, replicas, other sentinels).
  basic_sentinel(const executor_type& ex, sentinel_config cfg, std::function<address(const address&)> map = {},
                 redis_ha::logger log = {},
                 connection_factory<Stream> factory = default_connection_factory<Stream>())
      : impl_(std::make_shared<impl>(ex, std::move(cfg), std::move(map), std::move(log), std::move(factory))) {
    if (!impl_->factory_)
      throw std::invalid_argument("redis_ha: this stream type needs a connection factory (see tls.hpp)");
  }

  /// Stops watching and cancels queries in progress.
  ~basic_sentinel() {
    if (impl_) impl_->close();
  }
  basic_sentinel(const basic_sentinel&) = delete;
  basic_sentinel& operator=(const basic_sentinel&) = delete;

  /// Asks the sentinels for the master's address.
  ///
  /// Completion: `void(std::error_code, address)`. Errors:
  /// `no_sentinel_reachable` (no sentinel answered; `last_error_detail()`
  /// lists each one's error), `master_name_unknown` (the sentinels that
  /// answered do not know the name) and `auth_failed` (every sentinel
  /// refused the credentials). Cancellation: not supported; each
  /// query is bounded by the timeout.
  template <class CompletionToken>
  auto async_resolve(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, address)>(
        [](auto handler, std::shared_ptr<impl> self) { self->start_resolve(std::move(handler)); }, token, impl_);
  }

  /// Subscribes to failover events on every known sentinel and keeps the
  /// subscriptions up (reconnecting with backoff) until `close()`.
  /// `on_event` runs on the executor for each event about this master name.
  void watch(std::function<void(const sentinel_event&)> on_event) { impl_->watch(std::move(on_event)); }

  /// Stops everything.
  void close() { impl_->close(); }

  /// The sentinels, in the order they are tried (the last to answer first).
  const std::vector<address>& sentinels() const noexcept { return impl_->sentinels_; }
  /// Replicas listed in the last successful answer.
  const std::vector<replica_info>& replicas() const noexcept { return impl_->replicas_; }
  /// Why the last resolution failed, sentinel by sentinel.
  const std::string& last_error_detail() const noexcept { return impl_->last_error_; }

 private:
  using connection_type = basic_connection<Stream>;

  struct impl : std::enable_shared_from_this<impl> {
    impl(const executor_type& ex, sentinel_config c, std::function<address(const address&)> m, redis_ha::logger l,
         connection_factory<Stream> f)
        : ex_(ex), cfg_(std::move(c)), map_(std::move(m)), log_(std::move(l)), factory_(std::move(f)),
          sentinels_(cfg_.sentinels) {}

    std::shared_ptr<connection_type> make_connection(const connection_config& c) const {
      return factory_(ex_, c, node_kind::sentinel);
    }

    executor_type ex_;
    sentinel_config cfg_;
    std::function<address(const address&)> map_;
    redis_ha::logger log_;
    connection_factory<Stream> factory_;
    std::vector<address> sentinels_;
    std::vector<replica_info> replicas_;
    std::string last_error_;
    bool closed_ = false;

    // --- resolution ----------------------------------------------------------

    struct resolve_state {
      detail::any_completion<std::error_code, address> handler;
      std::vector<address> tried;
      std::vector<std::string> errors;
      std::vector<std::shared_ptr<connection_type>> conns;
      std::size_t outstanding = 0;
      std::size_t auth_failures = 0;
      bool unknown_name = false;
      bool done = false;
    };

    connection_config query_config() const {
      connection_config c;
      c.username = cfg_.username;
      c.password = cfg_.password;
      c.connect_timeout = cfg_.timeout;
      c.request_timeout = cfg_.timeout;
      c.health_check_interval = std::chrono::milliseconds(0);
      c.client_name = "redis_ha-sentinel-query";
      c.logger = log_;
      c.logger.min_level = std::max(c.logger.min_level, log_level::error);
      return c;
    }

    address mapped(address a) const { return map_ ? map_(a) : a; }

    template <class Handler>
    void start_resolve(Handler&& h) {
      auto st = std::make_shared<resolve_state>();
      st->handler = detail::any_completion<std::error_code, address>(std::forward<Handler>(h), ex_);
      if (closed_) return st->handler.post(error::client_closed, address{});
      if (sentinels_.empty()) {
        last_error_ = "no sentinel configured";
        return st->handler.post(error::no_sentinel_reachable, address{});
      }
      st->tried = sentinels_;
      st->errors.resize(st->tried.size());
      st->outstanding = st->tried.size();
      request req;
      req.push("SENTINEL", "get-master-addr-by-name", cfg_.master_name)
          .push("SENTINEL", "sentinels", cfg_.master_name)
          .push("SENTINEL", "replicas", cfg_.master_name);
      for (std::size_t i = 0; i < st->tried.size(); ++i) {
        auto conn = make_connection(query_config());
        st->conns.push_back(conn);
        conn->async_connect(st->tried[i], [self = this->shared_from_this(), st, i, conn, req](std::error_code ec) {
          if (st->done) return;
          if (ec == error::auth_failed) ++st->auth_failures;
          if (ec) return self->fail_one(*st, i, ec.message());
          conn->async_exec(req, [self, st, i](std::error_code ec, response r) {
            if (st->done) return;
            if (ec) return self->fail_one(*st, i, ec.message());
            self->on_answer(*st, i, r);
          });
        });
      }
    }

    void on_answer(resolve_state& st, std::size_t i, const response& r) {
      if (r.size() != 3) return fail_one(st, i, "malformed answer");
      if (r[0].is_nil()) {
        st.unknown_name = true;
        return fail_one(st, i, "does not know master name '" + cfg_.master_name + "'");
      }
      if (r[0].is_error()) return fail_one(st, i, std::string(r[0].error_message()));
      auto master = detail::parse_master_addr(r[0]);
      if (!master) return fail_one(st, i, "malformed get-master-addr-by-name reply: " + r[0].to_string());
      st.done = true;
      // Promote the sentinel that answered; learn new sentinels.
      const address winner = st.tried[i];
      auto it = std::find(sentinels_.begin(), sentinels_.end(), winner);
      if (it != sentinels_.end()) std::rotate(sentinels_.begin(), it, it + 1);
      for (auto& n : detail::parse_node_list(r[1])) {
        auto a = mapped(n.addr);
        if (std::find(sentinels_.begin(), sentinels_.end(), a) == sentinels_.end()) {
          log_.log(log_level::info, "redis_ha: learned sentinel {}", a.to_string());
          sentinels_.push_back(a);
        }
      }
      replicas_ = detail::parse_node_list(r[2]);
      for (auto& rep : replicas_) rep.addr = mapped(rep.addr);
      for (auto& c : st.conns) c->close();
      st.conns.clear();
      last_error_.clear();
      st.handler.dispatch(std::error_code{}, mapped(*master));
    }

    void fail_one(resolve_state& st, std::size_t i, std::string why) {
      st.errors[i] = std::move(why);
      if (--st.outstanding != 0) return;
      st.done = true;
      std::string detail;
      for (std::size_t k = 0; k < st.tried.size(); ++k) {
        if (k) detail += "; ";
        detail += st.tried[k].to_string() + ": " + st.errors[k];
      }
      last_error_ = detail;
      // Every sentinel refused the credentials: a configuration error.
      const error e = st.unknown_name                         ? error::master_name_unknown
                      : st.auth_failures == st.tried.size() ? error::auth_failed
                                                              : error::no_sentinel_reachable;
      log_.log(log_level::warning, "redis_ha: resolving '{}' failed ({}): {}", cfg_.master_name,
               make_error_code(e).message(), detail);
      st.conns.clear();
      st.handler.dispatch(make_error_code(e), address{});
    }

    // --- watching --------------------------------------------------------------

    struct watcher {
      address addr;
      std::shared_ptr<connection_type> conn;
      std::unique_ptr<asio::steady_timer> retry;
      detail::backoff delay{std::chrono::milliseconds(100), std::chrono::milliseconds(2000)};
    };
    std::function<void(const sentinel_event&)> on_event_;
    std::vector<std::shared_ptr<watcher>> watchers_;

    void watch(std::function<void(const sentinel_event&)> on_event) {
      on_event_ = std::move(on_event);
      for (const auto& a : sentinels_) add_watcher(a);
    }

    void add_watcher(const address& a) {
      if (closed_ || !on_event_) return;
      for (auto& w : watchers_)
        if (w->addr == a) return;
      auto w = std::make_shared<watcher>();
      w->addr = a;
      w->retry = std::make_unique<asio::steady_timer>(ex_);
      watchers_.push_back(w);
      connect_watcher(w);
    }

    void connect_watcher(const std::shared_ptr<watcher>& w) {
      if (closed_) return;
      connection_config c = query_config();
      c.request_timeout = std::chrono::milliseconds(0);
      c.health_check_interval = std::chrono::milliseconds(1000);
      c.health_check_timeout = std::chrono::milliseconds(1000);
      c.client_name = "redis_ha-sentinel-watch";
      w->conn = make_connection(c);
      std::weak_ptr<impl> weak = this->shared_from_this();
      w->conn->set_push_handler([weak](reply&& msg) {
        if (auto self = weak.lock()) self->on_message(msg);
      });
      auto conn = w->conn;
      conn->async_connect(w->addr, [weak, w, conn](std::error_code ec) {
        auto self = weak.lock();
        if (!self || self->closed_) return;
        if (ec) return self->retry_watcher(w);
        request sub;
        sub.push("SUBSCRIBE", "+switch-master", "+promoted-slave", "+failover-state-send-slaveof-noone", "+odown");
        sub.push("PSUBSCRIBE", "-failover-abort-*");
        conn->async_exec(sub, [weak, w](std::error_code ec, response) {
          auto self = weak.lock();
          if (!self || self->closed_) return;
          if (ec) return self->retry_watcher(w);
          w->delay.reset();
        });
        conn->async_wait_closed([weak, w](std::error_code) {
          if (auto self = weak.lock()) self->retry_watcher(w);
        });
      });
    }

    void retry_watcher(const std::shared_ptr<watcher>& w) {
      if (closed_) return;
      w->retry->expires_after(w->delay.next());
      std::weak_ptr<impl> weak = this->shared_from_this();
      w->retry->async_wait([weak, w](std::error_code ec) {
        auto self = weak.lock();
        if (!ec && self && !self->closed_) self->connect_watcher(w);
      });
    }

    void on_message(const reply& msg) {
      // ["message", channel, payload] or ["pmessage", pattern, channel, payload]
      const bool pattern = msg[0].as_string() == "pmessage";
      if (msg.size() < (pattern ? 4u : 3u)) return;
      const reply& channel = msg[pattern ? 2 : 1];
      const reply& payload = msg[pattern ? 3 : 2];
      if (!channel.is_string() || !payload.is_string()) return;
      auto ev = detail::parse_sentinel_event(channel.as_string(), payload.as_string(), cfg_.master_name);
      if (!ev) return;
      ev->node = mapped(ev->node);
      if (on_event_) on_event_(*ev);
    }

    void close() {
      if (closed_) return;
      closed_ = true;
      for (auto& w : watchers_) {
        if (w->conn) w->conn->close();
        w->retry->cancel();
      }
      watchers_.clear();
      on_event_ = nullptr;
    }
  };

  std::shared_ptr<impl> impl_;
};

/// Sentinel discovery over plain TCP.
using sentinel = basic_sentinel<>;

}  // namespace redis_ha

#endif  // REDIS_HA_SENTINEL_HPP
