#ifndef REDIS_HA_SENTINEL_HPP
#define REDIS_HA_SENTINEL_HPP

/// @file
/// `redis_ha::basic_sentinel<Stream>`: a one-shot master lookup through
/// Redis Sentinel, following the "Sentinel client guidelines", and a
/// watcher of Sentinel's failover events. The HA client and the subscriber
/// do not use this class: their HA core (`detail/master_fsm.hpp`) drives the
/// same sentinel I/O (`detail/sentinel_io.hpp`) itself.

#include <redis_ha/any_stream.hpp>
#include <redis_ha/address.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/completion.hpp>
#include <redis_ha/detail/log_format.hpp>
#include <redis_ha/detail/sentinel_io.hpp>
#include <redis_ha/detail/sentinel_set.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/logger.hpp>

#include <asio/async_result.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <functional>
#include <map>
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
/// means "this sentinel does not know the name". The address is asked with
/// Valkey 8's `SENTINEL GET-PRIMARY-ADDR-BY-NAME`; a sentinel that answers
/// "unknown subcommand" (Redis) is asked `GET-MASTER-ADDR-BY-NAME` on the
/// same connection, and at once from then on. The same round trip asks
/// `SENTINEL sentinels <name>` (new sentinels are added, at most
/// `max_learned_sentinels`) and `SENTINEL replicas <name>` (kept for
/// `replicas()`).
///
/// Thread safety: as for `basic_connection`.
template <class Stream = any_stream>
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
  /// answered do not know the name), `auth_failed` (every sentinel refused
  /// the credentials), `sentinel_protocol_error` (a sentinel answered
  /// something unusable), `client_closed`. Cancellation: not supported;
  /// each query is bounded by the timeout.
  template <class CompletionToken>
  auto async_resolve(CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(std::error_code, address)>(
        [](auto handler, std::shared_ptr<impl> self) { self->start_resolve(std::move(handler)); }, token, impl_);
  }

  /// Subscribes to failover events on every known sentinel and keeps the
  /// subscriptions up until `close()`: a lost subscription is opened again
  /// after a jittered backoff (`watch_backoff_min` .. `watch_backoff_max`).
  /// `on_event` runs on the executor for each event about this master name.
  void watch(std::function<void(const sentinel_event&)> on_event) { impl_->watch(std::move(on_event)); }

  /// Stops everything.
  void close() { impl_->close(); }

  /// The sentinels, in the order they are tried (the last to answer first).
  std::vector<address> sentinels() const { return impl_->set_.addresses(); }
  /// Replicas listed in the last successful answer.
  const std::vector<replica_info>& replicas() const noexcept { return impl_->replicas_; }
  /// Why the last resolution failed, sentinel by sentinel.
  const std::string& last_error_detail() const noexcept { return impl_->last_error_; }

 private:
  struct impl : std::enable_shared_from_this<impl> {
    impl(const executor_type& ex, sentinel_config c, std::function<address(const address&)> m, redis_ha::logger l,
         connection_factory<Stream> f)
        : ex_(ex), cfg_(std::move(c)), map_(std::move(m)), log_(std::move(l)), factory_(std::move(f)),
          set_(map_all(cfg_.sentinels), limits(cfg_), 0) {}

    static detail::sentinel_set::limits limits(const sentinel_config& c) {
      detail::sentinel_set::limits l;
      l.max_learned = c.max_learned_sentinels;
      l.forget_after = c.forget_unreachable_after;
      l.watch_backoff_min = c.watch_backoff_min;
      l.watch_backoff_max = c.watch_backoff_max;
      return l;
    }
    address mapped(const address& a) const { return map_ ? map_(a) : a; }
    std::vector<address> map_all(const std::vector<address>& v) const {
      std::vector<address> out;
      for (const auto& a : v) out.push_back(mapped(a));
      return out;
    }

    executor_type ex_;
    sentinel_config cfg_;
    std::function<address(const address&)> map_;
    redis_ha::logger log_;
    connection_factory<Stream> factory_;
    detail::sentinel_set set_;
    std::shared_ptr<detail::sentinel_dialects> dialects_ = std::make_shared<detail::sentinel_dialects>(log_);
    std::vector<replica_info> replicas_;
    std::string last_error_;
    bool closed_ = false;

    // --- resolution ----------------------------------------------------------

    struct resolve_state {
      detail::any_completion<std::error_code, address> handler;
      std::shared_ptr<detail::sentinel_round<Stream>> round;
      std::vector<std::pair<std::uint64_t, address>> asked;
      detail::round_tally tally;
      bool done = false;
    };

    template <class Handler>
    void start_resolve(Handler&& h) {
      auto st = std::make_shared<resolve_state>();
      st->handler = detail::any_completion<std::error_code, address>(std::forward<Handler>(h), ex_);
      if (closed_) return st->handler.post(error::client_closed, address{});
      for (const auto& s : set_.slots()) st->asked.emplace_back(s.id, s.addr);
      st->tally.asked = st->asked.size();
      if (st->asked.empty()) {
        last_error_ = "no sentinel configured";
        return st->handler.post(error::no_sentinel_reachable, address{});
      }
      st->round = std::make_shared<detail::sentinel_round<Stream>>(
          ex_, factory_, detail::sentinel_query_config(cfg_, log_), cfg_.master_name, dialects_);
      std::weak_ptr<impl> weak = this->shared_from_this();
      st->round->start(st->asked, [weak, st](std::uint64_t slot, const detail::sentinel_answer& a) {
        if (auto self = weak.lock()) self->on_answer(*st, slot, a);
      });
    }

    void on_answer(resolve_state& st, std::uint64_t slot, const detail::sentinel_answer& a) {
      if (st.done) return;
      address who{"?", 0};
      for (const auto& [id, addr] : st.asked)
        if (id == slot) who = addr;
      const auto now = std::chrono::steady_clock::now();
      const address master = mapped(a.master);
      st.tally.add(who, a, cfg_.master_name, master);
      if (a.what == detail::sentinel_answer::kind::master) {
        st.done = true;
        set_.answered(slot, now);
        for (auto id : set_.learn(map_all(a.sentinels), now)) {
          log_.log(log_level::info, "redis_ha: learned sentinel {}", set_.find(id)->addr.to_string());
          if (on_event_) add_watch(*set_.find(id));
        }
        replicas_ = a.replicas;
        for (auto& r : replicas_) r.addr = mapped(r.addr);
        last_error_.clear();
        st.round->cancel();
        return st.handler.dispatch(std::error_code{}, master);
      }
      if (a.what == detail::sentinel_answer::kind::unreachable) set_.failed(slot, now);
      if (!st.tally.complete()) return;
      st.done = true;
      last_error_ = st.tally.detail();
      const auto ec = st.tally.classify();
      log_.log(log_level::warning, "redis_ha: resolving '{}' failed ({}): {}", cfg_.master_name, ec.message(),
               last_error_);
      st.handler.dispatch(ec, address{});
    }

    // --- watching --------------------------------------------------------------

    struct watch_state {
      std::shared_ptr<detail::sentinel_link<Stream>> link;
      std::unique_ptr<asio::steady_timer> retry;
    };
    std::function<void(const sentinel_event&)> on_event_;
    std::map<std::uint64_t, watch_state> watches_;

    void watch(std::function<void(const sentinel_event&)> on_event) {
      on_event_ = std::move(on_event);
      for (const auto& s : set_.slots()) add_watch(s);
    }

    void add_watch(const detail::sentinel_set::slot& s) {
      if (closed_ || !on_event_ || watches_.count(s.id)) return;
      auto& w = watches_[s.id];
      w.retry = std::make_unique<asio::steady_timer>(ex_);
      open_watch(s.id);
    }

    void open_watch(std::uint64_t id) {
      auto* s = set_.find(id);
      auto it = watches_.find(id);
      if (closed_ || !s || it == watches_.end()) return;
      it->second.link = std::make_shared<detail::sentinel_link<Stream>>(ex_, factory_, cfg_, log_, map_);
      std::weak_ptr<impl> weak = this->shared_from_this();
      it->second.link->start(s->addr, {[weak, id] {
                                         if (auto self = weak.lock())
                                           if (auto* slot = self->set_.find(id)) slot->watch_delay.reset();
                                       },
                                       [weak](const sentinel_event& ev) {
                                         auto self = weak.lock();
                                         if (self && self->on_event_) self->on_event_(ev);
                                       },
                                       [weak, id](std::error_code) {
                                         if (auto self = weak.lock()) self->watch_lost(id);
                                       }});
    }

    void watch_lost(std::uint64_t id) {
      auto* s = set_.find(id);
      auto it = watches_.find(id);
      if (closed_ || !s || it == watches_.end()) return;
      it->second.retry->expires_after(s->watch_delay.next());
      std::weak_ptr<impl> weak = this->shared_from_this();
      it->second.retry->async_wait([weak, id](std::error_code ec) {
        auto self = weak.lock();
        if (!ec && self) self->open_watch(id);
      });
    }

    void close() {
      if (closed_) return;
      closed_ = true;
      for (auto& [id, w] : watches_) {
        if (w.link) w.link->stop();
        w.retry->cancel();
      }
      watches_.clear();
      on_event_ = nullptr;
    }
  };

  std::shared_ptr<impl> impl_;
};

/// Sentinel discovery over TCP, TLS (`sentinel_config::tls`) or UNIX sockets.
using sentinel = basic_sentinel<>;

#if !defined(REDIS_HA_HEADER_ONLY)
// Compiled once, by src.hpp.
extern template class basic_sentinel<any_stream>;
#endif

}  // namespace redis_ha

#endif  // REDIS_HA_SENTINEL_HPP
