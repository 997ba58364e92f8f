#ifndef REDIS_HA_DETAIL_SUBSCRIBER_IMPL_HPP
#define REDIS_HA_DETAIL_SUBSCRIBER_IMPL_HPP

/// @file
/// The implementation of `basic_subscriber`: the HA core (`master_driver`)
/// finds and verifies the master; this keeps the wanted channels, patterns
/// and sharded channels, sends them with the `ROLE` of every new connection, delivers
/// messages and measures the deaf time of each reconnection.
///
/// Two ways to follow the master: a driver of its own (the subscriber made
/// from a config), or the driver of a client (`shared`: a follower of the
/// client's HA core, with no sentinel subscriptions or resolution of its
/// own; it opens its connection to the node that core verified).

#include <redis_ha/address.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/backoff.hpp>
#include <redis_ha/detail/log_format.hpp>
#include <redis_ha/detail/master_driver.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/detail/subscription_set.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/logger.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>
#include <redis_ha/subscriber_types.hpp>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

template <class Stream>
class subscriber_impl : public std::enable_shared_from_this<subscriber_impl<Stream>>,
                        private master_owner<Stream>,
                        public master_follower {
 public:
  using executor_type = typename Stream::executor_type;
  using connection_type = basic_connection<Stream>;
  using steady = std::chrono::steady_clock;

  /// How long the previous connection keeps delivering messages after the
  /// subscriber moved, at most (it is closed as soon as the new node
  /// confirmed the subscriptions).
  static constexpr std::chrono::milliseconds retire_after{2000};
  /// How long the client sharing its HA core holds `PUBLISH`es while this
  /// subscriber re-subscribes on a new master, at most.
  static constexpr std::chrono::milliseconds settle_limit{1000};

  /// A subscriber with an HA core of its own.
  subscriber_impl(const executor_type& ex, client_config cfg, connection_factory<Stream> factory)
      : ex_(ex), cfg_(std::move(cfg)), factory_(factory), retry_(ex), settle_timer_(ex),
        backoff_(cfg_.backoff_min, cfg_.backoff_max) {
    auto f = make_fsm_config(cfg_);
    f.want_replicas = false;
    driver_ = std::make_shared<master_driver<Stream>>(ex, std::move(f), cfg_.connection, cfg_.sentinel,
                                                      std::move(factory));
    driver_->retire_grace = retire_after;
  }
  /// A subscriber following the HA core `driver` of a client (its settings `cfg`).
  subscriber_impl(std::shared_ptr<master_driver<Stream>> driver, client_config cfg, connection_factory<Stream> factory)
      : ex_(driver->executor()), cfg_(std::move(cfg)), driver_(std::move(driver)), shared_(true),
        factory_(std::move(factory)), retry_(ex_), settle_timer_(ex_), backoff_(cfg_.backoff_min, cfg_.backoff_max) {}
  ~subscriber_impl() override { close(); }

  const executor_type& executor() const noexcept { return ex_; }
  const subscriber_stats& stats() const noexcept { return stats_; }
  const std::set<std::string>& channels() const noexcept { return wanted_.channels(); }
  const std::set<std::string>& patterns() const noexcept { return wanted_.patterns(); }
  const std::set<std::string>& shard_channels() const noexcept { return wanted_.shard_channels(); }
  bool subscribed() const noexcept { return conn_ && conn_->is_open(); }
  std::optional<address> node() const {
    if (subscribed()) return node_;
    return std::nullopt;
  }

  void set_message_handler(std::function<void(const message&)> h) { on_message_ = std::move(h); }
  void set_event_handler(std::function<void(const subscriber_event&)> h) { on_event_ = std::move(h); }

  void start() {
    asio::post(ex_, [self = this->shared_from_this()] {
      if (self->closed_) return;
      if (self->shared_)
        self->driver_->follow(self);
      else
        self->driver_->start(self.get());
    });
  }

  void change(subscription_kind kind, bool add, std::vector<std::string> names) {
    if (closed_) return;
    auto changed = std::make_shared<std::vector<subscription_name>>();
    const request req = wanted_.change(kind, add, std::move(names), changed.get());
    if (req.empty()) return;
    const bool sunsubscribe = kind == subscription_kind::shard_channel && !add;
    // The subscribed connection and one being verified (which got the whole
    // set before this change) both need it; a later connection gets the set.
    for (auto* c : {&conn_, &verifying_}) {
      if (!*c || !(*c)->is_open()) continue;
      auto tracker = sunsubscribe ? trackers_.of(c->get()) : nullptr;
      if (tracker)
        for (const auto& n : *changed) tracker->sent(n.name);
      std::weak_ptr<subscriber_impl> weak = this->shared_from_this();
      (*c)->async_exec(req, [weak, conn = *c, changed, tracker](std::error_code ec, response resp) {
        if (tracker)
          for (std::size_t i = 0; i < resp.size() && i < changed->size(); ++i)
            if (resp[i].is_error()) tracker->refused((*changed)[i].name);
        auto self = weak.lock();
        if (!self || self->closed_ || ec || conn != self->conn_) return;  // losses: the HA core sees them
        self->report_refusals(resp, 0, *changed);
      });
    }
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (!shared_) driver_->close();  // a shared core belongs to its client
    retry_.cancel();
    settle_timer_.cancel();
    for (auto* c : {&conn_, &verifying_})
      if (*c && shared_) (*c)->close();
    conn_.reset();
    verifying_.reset();
    end_settling();
  }

 private:
  const redis_ha::logger& log() const noexcept { return cfg_.connection.logger; }

  void emit(subscriber_event::kind k, const address& node, std::error_code ec = {}, std::string detail = {},
            std::chrono::milliseconds deaf = {}, std::string channel = {}) {
    if (!on_event_) return;
    auto handler = on_event_;  // the handler may replace itself
    handler(subscriber_event{k, node, ec, std::move(detail), deaf, std::move(channel)});
  }

  // --- what the HA core says -----------------------------------------------------

  void prepare(connection_type& conn) override {
    std::weak_ptr<subscriber_impl> weak = this->shared_from_this();
    auto tracker = trackers_.make(&conn, conn_.get(), verifying_.get());
    conn.set_push_handler(
        [weak](reply&& r) {
          if (auto self = weak.lock()) self->on_push(r);
        },
        [tracker](const reply& r) { return tracker->unasked(r); });
  }

  // ROLE, then every subscription, in one write: ROLE runs before the
  // connection enters subscriber mode (where it would be refused).
  void verify_request(const std::shared_ptr<connection_type>& conn, request& req) override {
    verify_order_ = wanted_.push_all(req);
    verifying_ = conn;
  }

  void on_ready(std::uint64_t id, const std::shared_ptr<connection_type>& conn, const address& node, bool,
                const response& verify) override {
    conn_id_ = id;
    if (verifying_ == conn) verifying_.reset();
    adopt(conn, node, verify, driver_->own_commands(), verify_order_);
    driver_->drop_retired();  // make before break: the old connection delivered until now
  }

  // `conn` to `node` confirmed the subscriptions (`verify`'s replies from `first`).
  void adopt(const std::shared_ptr<connection_type>& conn, const address& node, const response& verify,
             std::size_t first, const std::vector<subscription_name>& order) {
    conn_ = conn;
    node_ = node;
    suspect_at_.reset();
    const auto deaf = deaf_.confirmed(stats_);
    if (deaf) {
      log().log(log_level::warning, "redis_ha: subscriber: {} subscription(s) re-established on {} after {} ms",
                wanted_.size(), node.to_string(), deaf->count());
    } else {
      log().log(log_level::info, "redis_ha: subscriber: subscribed on {}", node.to_string());
    }
    report_refusals(verify, first, order);
    emit(subscriber_event::kind::subscribed, node, {}, {}, deaf.value_or(std::chrono::milliseconds(0)));
  }

  void on_unready(std::uint64_t id) override {
    if (id != conn_id_) return;
    deaf_.lost(suspect_at_);
    conn_.reset();
    conn_id_ = 0;
  }

  void on_event(const client_event& ev) override {
    using k = client_event::kind;
    switch (ev.type) {
      case k::master_lost:
      case k::reconnecting:
        deaf_.lost(suspect_at_);
        emit(subscriber_event::kind::lost, ev.node, ev.ec, ev.detail);
        break;
      case k::resolve_failed:
        ++stats_.failed_attempts;
        emit(subscriber_event::kind::attempt_failed, ev.node, ev.ec, ev.detail);
        break;
      default:
        break;
    }
  }

  // --- following a client's HA core (shared mode) ----------------------------------

  void on_master(const address& node, bool verified) override {
    if (closed_) return;
    target_ = node;
    target_verified_ = verified;
    const auto since = suspect_at_.value_or(steady::now());
    suspect_at_.reset();
    if (conn_ && conn_->is_open() && node_ == node) return;  // the subscription never stopped working
    if (conn_ && conn_->is_open()) {
      // The master moved while this subscription was up: it is deaf to the
      // new master since the core lost the old one (or since now).
      deaf_.lost(since);
      begin_settling();
      emit(subscriber_event::kind::lost, node_, {}, "the master moved to " + node.to_string());
    }
    backoff_.reset();
    connect_to(node);
  }

  void on_master_lost() override {
    if (closed_) return;
    target_.reset();
    if (!suspect_at_) suspect_at_ = steady::now();  // the old subscription may be deaf from here on
    retry_.cancel();
  }

  // Both ways of following (a master_owner or a master_follower hold).
  void on_hold(bool on) override {
    if (on && !suspect_at_) suspect_at_ = steady::now();  // the promoted node may take PUBLISHes from now on
    if (!on) suspect_at_.reset();                         // called off: the master stays
  }

  void on_driver_closed() override {
    if (closed_) return;
    emit(subscriber_event::kind::lost, node_, make_error_code(error::client_closed), "the client was closed");
    close();
  }

  bool settling() const override { return settling_; }

  // A connection of its own to `node`: ROLE and every subscription in one write.
  void connect_to(const address& node) {
    if (closed_) return;
    begin_settling();
    auto c = factory_(ex_, cfg_.connection, node_kind::data);
    prepare(*c);
    if (verifying_ && verifying_ != conn_) verifying_->close();
    verifying_ = c;
    const auto attempt = ++attempt_;
    std::weak_ptr<subscriber_impl> weak = this->shared_from_this();
    c->async_connect(node, [weak, c, node, attempt](std::error_code ec) {
      auto self = weak.lock();
      if (!self || self->closed_ || attempt != self->attempt_) return c->close();
      if (ec) return self->attempt_failed(node, ec, ec.message());
      request r;
      r.push("ROLE");
      auto order = self->wanted_.push_all(r);
      c->async_exec(r, [weak, c, node, attempt, order = std::move(order)](std::error_code ec, response resp) {
        auto self = weak.lock();
        if (!self || self->closed_ || attempt != self->attempt_) return c->close();
        if (!ec && resp.empty()) ec = error::protocol_error;
        if (ec) return self->attempt_failed(node, ec, ec.message());
        const auto role = parse_role(resp[0]);
        if (self->target_verified_ && role.role != role_info::kind::master) {
          c->close();
          return self->attempt_failed(node, make_error_code(error::not_master),
                                      "ROLE answered " + resp[0].to_string() + ", not master");
        }
        self->confirmed(c, node, resp, order);
      });
    });
  }

  void confirmed(const std::shared_ptr<connection_type>& c, const address& node, const response& resp,
                 const std::vector<subscription_name>& order) {
    auto old = std::move(conn_);
    verifying_.reset();
    backoff_.reset();
    adopt(c, node, resp, 1, order);
    if (old && old != c) old->close();  // make before break
    end_settling();
    std::weak_ptr<subscriber_impl> weak = this->shared_from_this();
    c->async_wait_closed([weak, c](std::error_code why) {
      auto self = weak.lock();
      if (!self || self->closed_ || self->conn_ != c) return;
      self->conn_.reset();
      self->deaf_.lost(self->suspect_at_.value_or(steady::now()));
      self->begin_settling();  // from now on the client's PUBLISHes would miss this process
      self->emit(subscriber_event::kind::lost, self->node_, why, why.message());
      if (self->target_) self->retry_after(std::chrono::milliseconds(0));
    });
  }

  void attempt_failed(const address& node, std::error_code ec, const std::string& detail) {
    ++stats_.failed_attempts;
    emit(subscriber_event::kind::attempt_failed, node, ec, detail);
    if (target_ && *target_ == node) retry_after(backoff_.next());
  }

  void retry_after(std::chrono::milliseconds delay) {
    retry_.expires_after(delay);
    std::weak_ptr<subscriber_impl> weak = this->shared_from_this();
    retry_.async_wait([weak](std::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_ || !self->target_) return;
      if (self->conn_ && self->conn_->is_open() && self->node_ == *self->target_) return;
      self->connect_to(*self->target_);
    });
  }

  // While re-subscribing, the client sharing the core holds its PUBLISHes
  // (at most settle_limit).
  void begin_settling() {
    if (settling_ || wanted_.empty()) return;
    settling_ = true;
    settle_timer_.expires_after(settle_limit);
    std::weak_ptr<subscriber_impl> weak = this->shared_from_this();
    settle_timer_.async_wait([weak](std::error_code ec) {
      if (auto self = weak.lock(); self && !ec) self->end_settling();
    });
  }
  void end_settling() {
    if (!settling_) return;
    settling_ = false;
    settle_timer_.cancel();
    driver_->follower_settled();
  }

  // --- messages ----------------------------------------------------------------

  void on_push(const reply& r) {
    if (closed_) return;
    if (auto ch = ended_shard_channel(r)) {
      // A cluster node's own sunsubscribe: the slot left it, the subscription ended.
      if (!wanted_.forget(subscription_kind::shard_channel, *ch)) return;
      log().log(log_level::warning, "redis_ha: subscriber: {} ended the sharded subscription to {} (its slot moved)",
                node_.to_string(), *ch);
      return emit(subscriber_event::kind::shard_moved, node_, {}, "the slot moved", {}, *ch);
    }
    auto m = parse_message(r);
    if (!m) return;
    ++stats_.messages;
    if (on_message_) {
      auto handler = on_message_;  // the handler may replace itself
      handler(*m);
    }
  }

  // The error replies among `resp`'s from `first` on, for the subscriptions `order` names.
  void report_refusals(const response& resp, std::size_t first, const std::vector<subscription_name>& order) {
    for (std::size_t i = first; i < resp.size(); ++i) {
      if (!resp[i].is_error()) continue;
      std::string name = i - first < order.size() ? order[i - first].name : std::string();
      log().log(log_level::error, "redis_ha: subscriber: {} refused the subscription to {}: {}", node_.to_string(),
                name, resp[i].error_message());
      emit(subscriber_event::kind::subscribe_failed, node_, make_error_code(error::server_error),
           std::string(resp[i].error_message()), {}, std::move(name));
    }
  }

  executor_type ex_;
  client_config cfg_;
  std::shared_ptr<master_driver<Stream>> driver_;
  bool shared_ = false;  // driver_ belongs to a client
  connection_factory<Stream> factory_;
  asio::steady_timer retry_;
  asio::steady_timer settle_timer_;
  backoff backoff_;
  std::optional<address> target_;  // shared mode: the node the core serves from
  bool target_verified_ = false;
  std::optional<steady::time_point> suspect_at_;  // the core lost its master: maybe deaf since
  std::uint64_t attempt_ = 0;
  bool settling_ = false;

  subscription_set wanted_;
  std::function<void(const message&)> on_message_;
  std::function<void(const subscriber_event&)> on_event_;

  std::shared_ptr<connection_type> conn_;       // subscribed
  std::uint64_t conn_id_ = 0;
  std::shared_ptr<connection_type> verifying_;  // got the whole set, not confirmed yet
  std::vector<subscription_name> verify_order_;  // what verifying_ got, in reply order
  sunsubscribe_trackers trackers_;  // a cluster node's own sunsubscribe told from replies, per connection
  address node_{"", 0};
  bool closed_ = false;
  deaf_clock deaf_;
  subscriber_stats stats_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_SUBSCRIBER_IMPL_HPP
