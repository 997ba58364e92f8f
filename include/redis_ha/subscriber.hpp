#ifndef REDIS_HA_SUBSCRIBER_HPP
#define REDIS_HA_SUBSCRIBER_HPP

/// @file
/// `redis_ha::basic_subscriber<Stream>`: Pub/Sub that survives connection
/// losses and Sentinel failovers. It finds the master as the HA client does,
/// keeps the set of channels and patterns the application asked for, and
/// subscribes to all of them again on every new connection.

#include <redis_ha/address.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/backoff.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/logger.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>
#include <redis_ha/sentinel.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace redis_ha {

/// One Pub/Sub message.
struct message {
  /// The channel it was published to.
  std::string channel;
  /// The pattern that matched it (`psubscribe`); empty for a channel subscription.
  std::string pattern;
  /// The published payload.
  std::string payload;
};

/// Counters of a subscriber.
///
/// "Deaf" time is how long the subscriber had no working subscription during
/// a reconnection: from the moment the loss was detected (connection closed,
/// health check failed, Sentinel announced another master) until every
/// channel and pattern was confirmed on the new connection. Messages
/// published in that window are not received (Pub/Sub keeps no history).
struct subscriber_stats {
  /// Subscriptions established on a new connection, the first one included.
  std::uint64_t connects = 0;
  /// Subscriptions re-established after a loss (each one measures a deaf time).
  std::uint64_t reconnects = 0;
  /// Messages delivered to the message handler.
  std::uint64_t messages = 0;
  /// Resolution, connection or verification attempts that failed.
  std::uint64_t failed_attempts = 0;
  /// Deaf time of the last reconnection.
  std::chrono::milliseconds last_deaf_ms{0};
  /// Longest deaf time so far.
  std::chrono::milliseconds max_deaf_ms{0};
  /// Sum of all deaf times.
  std::chrono::milliseconds total_deaf_ms{0};
};

/// One observable step of a subscriber.
struct subscriber_event {
  /// What happened.
  enum class kind {
    subscribed,        ///< every channel and pattern is confirmed on `node`; `deaf` is set after a loss
    lost,              ///< the working subscription on `node` was lost (`ec`, `detail` say why)
    attempt_failed,    ///< resolving, connecting or `ROLE` failed (`ec`, `detail`); retried after a backoff
    subscribe_failed,  ///< the server refused a (P)SUBSCRIBE (`detail`: its error reply, e.g. `NOPERM ...`)
  };
  /// What happened.
  kind type = kind::subscribed;
  /// The node concerned (empty host when none).
  address node{"", 0};
  /// Why (lost, attempt_failed, subscribe_failed).
  std::error_code ec;
  /// More text: the error, or the Sentinel channel that announced a new master.
  std::string detail;
  /// `subscribed` after a loss: how long the subscriber was deaf.
  std::chrono::milliseconds deaf{0};
};

/// Name of a subscriber event kind ("subscribed", "lost", ...).
inline const char* to_string(subscriber_event::kind k) noexcept {
  switch (k) {
    case subscriber_event::kind::subscribed: return "subscribed";
    case subscriber_event::kind::lost: return "lost";
    case subscriber_event::kind::attempt_failed: return "attempt_failed";
    case subscriber_event::kind::subscribe_failed: return "subscribe_failed";
  }
  return "unknown";
}

namespace detail {

/// The state machine of `basic_subscriber`: resolve -> connect -> `ROLE` +
/// (P)SUBSCRIBE pipelined -> subscribed -> (lost | Sentinel event) -> again.
template <class Stream>
class subscriber_impl : public std::enable_shared_from_this<subscriber_impl<Stream>> {
 public:
  using executor_type = typename Stream::executor_type;
  using connection_type = basic_connection<Stream>;
  using steady = std::chrono::steady_clock;

  /// How long the previous connection keeps delivering messages after a
  /// Sentinel event moved the subscriber, at most (it is closed as soon as
  /// the new node confirmed the subscriptions).
  static constexpr std::chrono::milliseconds retire_after{2000};

  subscriber_impl(const executor_type& ex, client_config cfg, connection_factory<Stream> factory)
      : ex_(ex),
        cfg_(std::move(cfg)),
        factory_(std::move(factory)),
        backoff_(cfg_.backoff_min, cfg_.backoff_max),
        retry_timer_(ex),
        retire_timer_(ex) {
    if (!cfg_.sentinel.sentinels.empty())
      sentinel_ = std::make_unique<basic_sentinel<Stream>>(ex_, cfg_.sentinel, cfg_.address_map, log(), factory_);
  }

  const executor_type& executor() const noexcept { return ex_; }
  const subscriber_stats& stats() const noexcept { return stats_; }
  const std::set<std::string>& channels() const noexcept { return channels_; }
  const std::set<std::string>& patterns() const noexcept { return patterns_; }
  bool subscribed() const noexcept { return state_ == state::subscribed && conn_ && conn_->is_open(); }
  std::optional<address> node() const {
    if (subscribed()) return node_;
    return std::nullopt;
  }

  void set_message_handler(std::function<void(const message&)> h) { on_message_ = std::move(h); }
  void set_event_handler(std::function<void(const subscriber_event&)> h) { on_event_ = std::move(h); }

  void start() {
    asio::post(ex_, [self = this->shared_from_this()] { self->begin_attempt(); });
  }

  void change(bool pattern, bool add, std::vector<std::string> names) {
    if (closed_) return;
    auto& wanted = pattern ? patterns_ : channels_;
    std::vector<std::string> changed;
    for (auto& n : names) {
      const bool did = add ? wanted.insert(n).second : wanted.erase(n) > 0;
      if (did) changed.push_back(std::move(n));
    }
    if (changed.empty() || !conn_ || !sent_initial_) return;  // the next connection sends the whole set
    const char* cmd = pattern ? (add ? "PSUBSCRIBE" : "PUNSUBSCRIBE") : (add ? "SUBSCRIBE" : "UNSUBSCRIBE");
    request req;
    for (const auto& n : changed) req.push(cmd, n);  // one command each: one reply each, errors included
    const auto gen = generation_;
    std::weak_ptr<subscriber_impl> weak = this->shared_from_this();
    conn_->async_exec(std::move(req), [weak, gen](std::error_code ec, response resp) {
      auto self = weak.lock();
      if (!self || self->closed_ || gen != self->generation_ || ec) return;  // losses: see async_wait_closed
      self->report_refusals(resp, 0);
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    state_ = state::closed;
    ++generation_;
    retry_timer_.cancel();
    retire_timer_.cancel();
    if (sentinel_) sentinel_->close();
    if (conn_) conn_->close();
    conn_.reset();
    drop_old();
  }

 private:
  enum class state { idle, resolving, connecting, subscribed, closed };

  const redis_ha::logger& log() const noexcept { return cfg_.connection.logger; }
  address mapped(const address& a) const { return cfg_.address_map ? cfg_.address_map(a) : a; }

  void emit(subscriber_event::kind k, const address& node, std::error_code ec = {}, std::string detail = {},
            std::chrono::milliseconds deaf = {}) {
    if (!on_event_) return;
    subscriber_event ev;
    ev.type = k;
    ev.node = node;
    ev.ec = ec;
    ev.detail = std::move(detail);
    ev.deaf = deaf;
    auto handler = on_event_;  // the handler may replace itself
    handler(ev);
  }

  // --- messages ----------------------------------------------------------------

  void on_push(const reply& r) {
    if (closed_) return;
    // ["message", channel, payload], ["pmessage", pattern, channel, payload],
    // ["smessage", channel, payload]
    const bool pattern = r[0].as_string() == "pmessage";
    if (r.size() < (pattern ? 4u : 3u)) return;
    message m;
    const reply& channel = r[pattern ? 2 : 1];
    const reply& payload = r[pattern ? 3 : 2];
    if (!channel.is_string() || !payload.is_string()) return;
    if (pattern && r[1].is_string()) m.pattern = std::string(r[1].as_string());
    m.channel = std::string(channel.as_string());
    m.payload = std::string(payload.as_string());
    ++stats_.messages;
    if (on_message_) {
      auto handler = on_message_;  // the handler may replace itself
      handler(m);
    }
  }

  void report_refusals(const response& resp, std::size_t first) {
    for (std::size_t i = first; i < resp.size(); ++i) {
      if (!resp[i].is_error()) continue;
      log().log(log_level::error, "redis_ha: subscriber: {} refused a subscription: {}", node_.to_string(),
                resp[i].error_message());
      emit(subscriber_event::kind::subscribe_failed, node_, make_error_code(error::server_error),
           std::string(resp[i].error_message()));
    }
  }

  // --- attempts ----------------------------------------------------------------

  // Forgets the current connection (closing it) and invalidates callbacks.
  void abandon_current() {
    ++generation_;
    sent_initial_ = false;
    if (conn_) conn_->close();
    conn_.reset();
  }

  void begin_attempt() {
    if (closed_ || state_ != state::idle) return;
    state_ = state::resolving;
    const auto gen = ++generation_;
    if (sentinel_) {
      sentinel_->async_resolve([weak = std::weak_ptr<subscriber_impl>(this->shared_from_this()), gen](
                                   std::error_code ec, address a) {
        auto self = weak.lock();
        if (!self || self->closed_ || gen != self->generation_) return;
        if (ec) return self->attempt_failed(ec, self->sentinel_->last_error_detail());
        if (self->cfg_.sentinel.watch_events)
          self->sentinel_->watch([weak](const sentinel_event& ev) {
            if (auto s = weak.lock()) s->on_sentinel_event(ev);
          });
        self->connect(a, 0);
      });
      return;
    }
    if (cfg_.addresses.empty()) return attempt_failed(error::master_unreachable, "no address configured");
    connect(mapped(cfg_.addresses[next_address_++ % cfg_.addresses.size()]), 0);
  }

  void connect(const address& a, int hops) {
    abandon_current();
    state_ = state::connecting;
    node_ = a;
    const auto gen = generation_;
    auto conn = factory_(ex_, cfg_.connection, node_kind::data);
    conn_ = conn;
    std::weak_ptr<subscriber_impl> weak = this->shared_from_this();
    conn->set_push_handler([weak](reply&& r) {
      if (auto self = weak.lock()) self->on_push(r);
    });
    conn->async_connect(a, [weak, conn, a, gen, hops](std::error_code ec) {
      auto self = weak.lock();
      if (!self || self->closed_ || gen != self->generation_) return conn->close();
      if (ec) {
        const error e = ec == error::auth_failed ? error::auth_failed : error::master_unreachable;
        return self->attempt_failed(make_error_code(e), a.to_string() + ": " + ec.message());
      }
      self->on_connected(conn, a, gen, hops);
    });
  }

  void on_connected(const std::shared_ptr<connection_type>& conn, const address& a, std::uint64_t gen, int hops) {
    std::weak_ptr<subscriber_impl> weak = this->shared_from_this();
    conn->async_wait_closed([weak, gen, a](std::error_code why) {
      auto self = weak.lock();
      if (!self || self->closed_ || gen != self->generation_) return;
      if (self->state_ == state::subscribed) return self->lost(why, "connection closed: " + why.message());
      self->attempt_failed(error::master_unreachable, a.to_string() + ": " + why.message());
    });
    // ROLE, then every subscription, in one write: ROLE runs before the
    // connection enters subscriber mode (where it would be refused).
    request req;
    req.push("ROLE");
    for (const auto& c : channels_) req.push("SUBSCRIBE", c);
    for (const auto& p : patterns_) req.push("PSUBSCRIBE", p);
    sent_initial_ = true;
    conn->async_exec(std::move(req), [weak, gen, a, hops](std::error_code ec, response resp) {
      auto self = weak.lock();
      if (!self || self->closed_ || gen != self->generation_) return;
      if (ec || resp.empty())
        return self->attempt_failed(error::master_unreachable, a.to_string() + ": subscribe: " + ec.message());
      self->on_verified(a, hops, resp);
    });
  }

  void on_verified(const address& a, int hops, const response& resp) {
    const auto info = parse_role(resp[0]);
    bool accept = info.role == role_info::kind::master;
    if (!accept && info.role == role_info::kind::replica && !sentinel_) {
      if (cfg_.follow_master && hops < 3) {
        const address next = mapped(info.master);
        log().log(log_level::info, "redis_ha: subscriber: {} is a replica of {}; following", a.to_string(),
                  next.to_string());
        return connect(next, hops + 1);
      }
      accept = !cfg_.follow_master;  // a replica receives the master's messages through replication
    }
    if (!accept)
      return attempt_failed(error::role_mismatch, a.to_string() + " answered ROLE " + resp[0].to_string());
    state_ = state::subscribed;
    backoff_.reset();
    drop_old();
    ++stats_.connects;
    std::chrono::milliseconds deaf{0};
    if (lost_pending_) {
      lost_pending_ = false;
      deaf = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - lost_at_);
      ++stats_.reconnects;
      stats_.last_deaf_ms = deaf;
      stats_.max_deaf_ms = std::max(stats_.max_deaf_ms, deaf);
      stats_.total_deaf_ms += deaf;
      log().log(log_level::warning, "redis_ha: subscriber: {} channel(s) and {} pattern(s) re-subscribed on {} after {} ms",
                channels_.size(), patterns_.size(), a.to_string(), deaf.count());
    } else {
      log().log(log_level::info, "redis_ha: subscriber: subscribed on {}", a.to_string());
    }
    report_refusals(resp, 1);
    emit(subscriber_event::kind::subscribed, a, {}, {}, deaf);
  }

  void attempt_failed(std::error_code ec, std::string detail) {
    abandon_current();
    state_ = state::idle;
    ++stats_.failed_attempts;
    log().log(log_level::warning, "redis_ha: subscriber: attempt failed ({}): {}", ec.message(), detail);
    emit(subscriber_event::kind::attempt_failed, node_, ec, std::move(detail));
    retry_timer_.expires_after(backoff_.next());
    retry_timer_.async_wait([weak = std::weak_ptr<subscriber_impl>(this->shared_from_this())](std::error_code e) {
      auto self = weak.lock();
      if (!e && self && !self->closed_) self->begin_attempt();
    });
  }

  void mark_lost() {
    if (lost_pending_) return;  // a reconnection already in progress keeps its start
    lost_pending_ = true;
    lost_at_ = steady::now();
  }

  // The working subscription is gone: resolve and connect again at once.
  void lost(std::error_code why, std::string detail) {
    mark_lost();
    log().log(log_level::warning, "redis_ha: subscriber: lost subscription on {}: {}", node_.to_string(), detail);
    emit(subscriber_event::kind::lost, node_, why, std::move(detail));
    abandon_current();
    state_ = state::idle;
    begin_attempt();
  }

  void on_sentinel_event(const sentinel_event& ev) {
    if (closed_) return;
    if (ev.type != sentinel_event::kind::promoted && ev.type != sentinel_event::kind::switch_master) return;
    if (ev.node.host.empty()) return;
    if ((state_ == state::connecting || state_ == state::subscribed) && node_ == ev.node) return;  // already there
    if (state_ == state::subscribed) {
      // Make before break: the old connection keeps delivering what is still
      // published on the old master until the new node confirmed.
      mark_lost();
      log().log(log_level::warning, "redis_ha: subscriber: {} announces master {}; moving from {}", ev.channel,
                ev.node.to_string(), node_.to_string());
      emit(subscriber_event::kind::lost, node_, make_error_code(error::role_mismatch), ev.channel);
      drop_old();
      old_ = std::move(conn_);
      conn_.reset();
      retire_timer_.expires_after(retire_after);
      retire_timer_.async_wait([weak = std::weak_ptr<subscriber_impl>(this->shared_from_this())](std::error_code e) {
        auto self = weak.lock();
        if (!e && self) self->drop_old();
      });
    }
    retry_timer_.cancel();
    backoff_.reset();
    connect(ev.node, 0);
  }

  void drop_old() {
    if (old_) old_->close();
    old_.reset();
  }

  executor_type ex_;
  client_config cfg_;
  connection_factory<Stream> factory_;
  std::unique_ptr<basic_sentinel<Stream>> sentinel_;
  backoff backoff_;
  asio::steady_timer retry_timer_;
  asio::steady_timer retire_timer_;

  std::set<std::string> channels_;
  std::set<std::string> patterns_;
  std::function<void(const message&)> on_message_;
  std::function<void(const subscriber_event&)> on_event_;

  state state_ = state::idle;
  std::shared_ptr<connection_type> conn_;  // the connection being set up or subscribed
  std::shared_ptr<connection_type> old_;   // the previous one, during a move announced by Sentinel
  address node_{"", 0};
  bool sent_initial_ = false;  // conn_ got the whole set: later changes are sent on it
  bool closed_ = false;
  std::uint64_t generation_ = 0;
  std::size_t next_address_ = 0;
  bool lost_pending_ = false;
  steady::time_point lost_at_{};
  subscriber_stats stats_;
};

}  // namespace detail

/// A Pub/Sub subscriber that follows the master.
///
/// - **Finding the node**: as `basic_client`: in Sentinel mode
///   (`client_config::sentinel`) the master named by the sentinels; in
///   direct mode the `addresses` in turn, following a replica's `ROLE` to
///   its master (`follow_master`). `ROLE` is checked on every connection,
///   pipelined with the subscriptions (one round trip).
/// - **Desired state**: `subscribe`, `psubscribe`, `unsubscribe` and
///   `punsubscribe` record the channels and patterns wanted; while
///   connected, the command is sent at once. Every new connection subscribes
///   to the whole recorded set.
/// - **Reconnection**: on connection loss (including `CLIENT KILL`), a failed
///   health check (`connection_config::health_check_interval` /
///   `health_check_timeout`; `PING` is allowed in subscriber mode) or a
///   Sentinel `+switch-master` / `+promoted-slave` naming another node, the
///   subscriber connects again (to the announced node directly, else after
///   resolving again), retrying failed attempts with the jittered backoff
///   of `client_config::backoff_min` / `backoff_max`. When Sentinel
///   announces a new master, the old connection keeps delivering until the
///   new node has confirmed every subscription (at most 2 s).
/// - **Deaf time**: Pub/Sub has no history, so messages published while no
///   subscription works are lost. `stats()` and the `subscribed` event
///   report how long each reconnection took.
///
/// Messages are delivered at most once per connection, but around a move
/// announced by Sentinel a message may in rare cases arrive twice (once
/// through each connection, when the old master already replicates from the
/// new one) and messages published during the deaf time are missed.
/// Without Sentinel events (`watch_events = false`, or direct mode) a
/// subscriber may stay on a demoted master; it still receives the new
/// master's messages through replication (Redis replicates `PUBLISH`) until
/// that connection is lost.
///
/// `client_config::on_event`, `failover_budget`, `max_queued` and
/// `promotion_hold` are not used: events arrive through
/// `set_event_handler`.
///
/// Thread safety: as for `basic_connection`: call every member function
/// from the subscriber's executor (use a strand when the `io_context` runs
/// on several threads). Handlers run on that executor.
///
/// @code
/// redis_ha::subscriber sub{ioc.get_executor(), cfg};
/// sub.set_message_handler([](const redis_ha::message& m) { std::cout << m.channel << ": " << m.payload << '\n'; });
/// sub.subscribe({"orders", "alerts"});
/// sub.psubscribe("metrics.*");
/// @endcode
template <class Stream = asio::ip::tcp::socket>
class basic_subscriber {
  using impl_type = detail::subscriber_impl<Stream>;

  template <class Range>
  using if_range = std::enable_if_t<!std::is_convertible_v<const Range&, std::string_view>, int>;

 public:
  /// The executor type.
  using executor_type = typename Stream::executor_type;

  /// Creates the subscriber and starts connecting in the background (with
  /// no subscription until `subscribe` / `psubscribe` is called). `factory`
  /// creates every connection (data nodes and sentinels).
  basic_subscriber(const executor_type& ex, client_config cfg,
                   connection_factory<Stream> factory = default_connection_factory<Stream>())
      : impl_(std::make_shared<impl_type>(ex, std::move(cfg), std::move(factory))) {
    impl_->start();
  }

  /// Closes every connection.
  ~basic_subscriber() {
    if (impl_) impl_->close();
  }
  basic_subscriber(const basic_subscriber&) = delete;
  basic_subscriber& operator=(const basic_subscriber&) = delete;

  /// The executor.
  executor_type get_executor() const noexcept { return impl_->executor(); }

  /// Receives every message, on the executor. Set it before subscribing.
  void set_message_handler(std::function<void(const message&)> handler) {
    impl_->set_message_handler(std::move(handler));
  }
  /// Receives state changes (subscribed, lost, ...), on the executor.
  void set_event_handler(std::function<void(const subscriber_event&)> handler) {
    impl_->set_event_handler(std::move(handler));
  }

  /// Subscribes to a channel (kept across reconnections).
  void subscribe(std::string_view channel) { impl_->change(false, true, {std::string(channel)}); }
  /// Subscribes to channels.
  void subscribe(std::initializer_list<std::string_view> channels) { impl_->change(false, true, to_vector(channels)); }
  /// Subscribes to channels given as a range of strings.
  template <class Range, if_range<Range> = 0>
  void subscribe(const Range& channels) {
    impl_->change(false, true, to_vector(channels));
  }

  /// Subscribes to a glob-style pattern (`PSUBSCRIBE`).
  void psubscribe(std::string_view pattern) { impl_->change(true, true, {std::string(pattern)}); }
  /// Subscribes to patterns.
  void psubscribe(std::initializer_list<std::string_view> patterns) { impl_->change(true, true, to_vector(patterns)); }
  /// Subscribes to patterns given as a range of strings.
  template <class Range, if_range<Range> = 0>
  void psubscribe(const Range& patterns) {
    impl_->change(true, true, to_vector(patterns));
  }

  /// Unsubscribes from a channel.
  void unsubscribe(std::string_view channel) { impl_->change(false, false, {std::string(channel)}); }
  /// Unsubscribes from channels.
  void unsubscribe(std::initializer_list<std::string_view> channels) {
    impl_->change(false, false, to_vector(channels));
  }
  /// Unsubscribes from channels given as a range of strings.
  template <class Range, if_range<Range> = 0>
  void unsubscribe(const Range& channels) {
    impl_->change(false, false, to_vector(channels));
  }

  /// Unsubscribes from a pattern.
  void punsubscribe(std::string_view pattern) { impl_->change(true, false, {std::string(pattern)}); }
  /// Unsubscribes from patterns.
  void punsubscribe(std::initializer_list<std::string_view> patterns) {
    impl_->change(true, false, to_vector(patterns));
  }
  /// Unsubscribes from patterns given as a range of strings.
  template <class Range, if_range<Range> = 0>
  void punsubscribe(const Range& patterns) {
    impl_->change(true, false, to_vector(patterns));
  }

  /// Stops: closes the connections; no handler is called afterwards.
  void close() { impl_->close(); }

  /// The channels subscribed to (wanted; see `subscribed()` for the connection).
  const std::set<std::string>& channels() const noexcept { return impl_->channels(); }
  /// The patterns subscribed to.
  const std::set<std::string>& patterns() const noexcept { return impl_->patterns(); }
  /// True while a connection is up on which every channel and pattern
  /// recorded when it connected was confirmed.
  bool subscribed() const noexcept { return impl_->subscribed(); }
  /// The node subscribed on, while `subscribed()`.
  std::optional<address> node() const { return impl_->node(); }
  /// Counters, including the deaf times of reconnections.
  const subscriber_stats& stats() const noexcept { return impl_->stats(); }

 private:
  template <class Range>
  static std::vector<std::string> to_vector(const Range& names) {
    std::vector<std::string> out;
    for (const auto& n : names) out.emplace_back(std::string_view(n));
    return out;
  }

  std::shared_ptr<impl_type> impl_;
};

/// The subscriber over plain TCP.
using subscriber = basic_subscriber<>;

}  // namespace redis_ha

#endif  // REDIS_HA_SUBSCRIBER_HPP
