#ifndef REDIS_HA_SYNC_SUBSCRIBER_HPP
#define REDIS_HA_SYNC_SUBSCRIBER_HPP

/// @file
/// `redis_ha::sync_subscriber`: blocking Pub/Sub for programs without an
/// event loop (the `sync_client` style). A `redis_ha::subscriber` on its own
/// I/O thread, whose messages wait in a bounded queue until `next()` takes
/// them. It follows the master through failovers as `subscriber` does.

#include <redis_ha/address.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/client.hpp>
#include <redis_ha/subscriber.hpp>
#include <redis_ha/sync_client.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace redis_ha {

/// A blocking Pub/Sub subscriber that follows the master.
///
/// @code
/// redis_ha::sync_subscriber sub{cfg};
/// sub.subscribe({"orders", "alerts"});
/// sub.wait_subscribed(std::chrono::seconds(5));
/// while (auto m = sub.next(std::chrono::seconds(1))) std::cout << m->channel << ": " << m->payload << '\n';
/// @endcode
///
/// - **Messages** are queued as they arrive, on the I/O thread, and taken in
///   order by `next(timeout)` / `try_next()`. When `max_pending` messages
///   are waiting, the oldest is dropped for each new one (`dropped()` counts
///   them): a consumer that falls behind loses old messages, never blocks
///   the subscription.
/// - **Subscriptions** (`subscribe`, `psubscribe`, `unsubscribe`,
///   `punsubscribe`) are recorded and sent as by `subscriber`, and kept
///   across reconnections and failovers. They return at once.
/// - **Reconnections** and deaf time are those of `subscriber`: messages
///   published while no subscription works are not received.
/// - **Built on a `sync_client`** (`sync_subscriber sub{redis}`), it shares
///   that client's HA core and I/O thread, as `subscriber(client)` does:
///   one view of the master, and the client's `PUBLISH`es wait while it
///   re-subscribes. The `sync_client` must outlive it.
///
/// Thread safety: every member function may be called from any thread, by
/// several threads at once (each message goes to one `next()` caller),
/// except from the event handler, which runs on the I/O thread. Errors are
/// never thrown: the subscriber retries forever (see `set_event_handler`).
///
/// Use it as `sync_subscriber`; a class template only so that a file that
/// includes this header without building one does not instantiate the
/// subscriber.
template <class Stream = any_stream>
class basic_sync_subscriber {
  using subscriber = basic_subscriber<Stream>;
  // Dependent on Stream, so that converting the io_context's executor to it
  // is instantiated only with the class (it costs a file that does not use
  // this class a large part of its compile time).
  using executor_type = typename basic_client<Stream>::executor_type;


 public:
  /// Default bound of the message queue.
  static constexpr std::size_t default_max_pending = 100000;

  /// Starts the I/O thread and the subscriber (which starts connecting at
  /// once, with no subscription until `subscribe` / `psubscribe`).
  explicit basic_sync_subscriber(client_config cfg, std::size_t max_pending = default_max_pending)
      : ex_(ioc_.get_executor()),
        work_(asio::make_work_guard(ioc_)),
        max_pending_(max_pending == 0 ? 1 : max_pending),
        sub_(std::make_unique<subscriber>(ioc_.get_executor(), std::move(cfg))) {
    install_handlers();
    thread_ = std::thread([this] { ioc_.run(); });
  }

  /// Shares the HA core and the I/O thread of `client`, which must outlive
  /// this subscriber (see `basic_subscriber(basic_client&)`).
  explicit basic_sync_subscriber(sync_client& client, std::size_t max_pending = default_max_pending)
      : ex_(detail::sync_client_access::client(client).get_executor()),
        work_(asio::make_work_guard(ioc_)),
        max_pending_(max_pending == 0 ? 1 : max_pending) {
    work_.reset();  // the client's thread does the I/O; ioc_ stays idle
    auto& async_client = detail::sync_client_access::client(client);
    on_io([&] {
      sub_ = std::make_unique<subscriber>(async_client);
      install_handlers();
    });
  }

  /// Closes the subscriber and joins the I/O thread; a `next()` waiting in
  /// another thread returns `std::nullopt`.
  ~basic_sync_subscriber() {
    if (thread_.joinable()) {
      close();
      work_.reset();
      thread_.join();
    } else {
      if (mark_closed()) cv_.notify_all();
      on_io([this] { sub_.reset(); });  // on the client's thread, which is still running
    }
  }
  basic_sync_subscriber(const basic_sync_subscriber&) = delete;
  basic_sync_subscriber& operator=(const basic_sync_subscriber&) = delete;

  /// Subscribes to a channel.
  void subscribe(std::string_view channel) { change(&subscriber::subscribe, {std::string(channel)}); }
  /// Subscribes to channels.
  void subscribe(std::initializer_list<std::string_view> channels) { change(&subscriber::subscribe, list(channels)); }
  /// Subscribes to a glob-style pattern (`PSUBSCRIBE`).
  void psubscribe(std::string_view pattern) { change(&subscriber::psubscribe, {std::string(pattern)}); }
  /// Subscribes to patterns.
  void psubscribe(std::initializer_list<std::string_view> patterns) {
    change(&subscriber::psubscribe, list(patterns));
  }
  /// Subscribes to a sharded channel (`SSUBSCRIBE`; see `basic_subscriber::ssubscribe`).
  void ssubscribe(std::string_view channel) { change(&subscriber::ssubscribe, {std::string(channel)}); }
  /// Subscribes to sharded channels.
  void ssubscribe(std::initializer_list<std::string_view> channels) {
    change(&subscriber::ssubscribe, list(channels));
  }
  /// Unsubscribes from a channel.
  void unsubscribe(std::string_view channel) { change(&subscriber::unsubscribe, {std::string(channel)}); }
  /// Unsubscribes from a pattern.
  void punsubscribe(std::string_view pattern) { change(&subscriber::punsubscribe, {std::string(pattern)}); }
  /// Unsubscribes from a sharded channel.
  void sunsubscribe(std::string_view channel) { change(&subscriber::sunsubscribe, {std::string(channel)}); }

  /// Waits for the next message, at most `timeout`; `std::nullopt` on a
  /// timeout or once the subscriber is closed.
  std::optional<message> next(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, timeout, [this] { return !queue_.empty() || closed_; });
    return pop(lock);
  }

  /// The next message if one is waiting, else `std::nullopt`.
  std::optional<message> try_next() {
    std::unique_lock<std::mutex> lock(mutex_);
    return pop(lock);
  }

  /// Waits until every channel and pattern subscribed so far is confirmed
  /// on a node, at most `timeout`; true if so. Subscriptions made before
  /// the first connection completes are part of it; one added later is sent
  /// at once, without being waited for. After a loss, false until the
  /// subscriptions are re-established.
  bool wait_subscribed(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return subscribed_ || closed_; }) && subscribed_;
  }

  /// True while subscribed on a node (as of the last event).
  bool subscribed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return subscribed_;
  }
  /// Messages waiting in the queue.
  std::size_t pending() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size();
  }
  /// Messages dropped because `max_pending` were waiting.
  std::uint64_t dropped() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return dropped_;
  }

  /// Counters of the subscriber, deaf times included (read on the I/O thread).
  subscriber_stats stats() {
    return on_io([this] { return sub_ ? sub_->stats() : subscriber_stats{}; });
  }
  /// The node subscribed on, while subscribed.
  std::optional<address> node() {
    return on_io([this] { return sub_ ? sub_->node() : std::nullopt; });
  }

  /// Receives the subscriber's events (subscribed, lost, attempt_failed,
  /// subscribe_failed) on the I/O thread: keep it short, and do not call
  /// this `sync_subscriber`'s blocking members (`next`, `wait_subscribed`,
  /// `stats`, `node`) from it.
  void set_event_handler(std::function<void(const subscriber_event&)> handler) {
    std::lock_guard<std::mutex> lock(mutex_);
    user_event_handler_ = std::move(handler);
  }

  /// Stops: closes the connections; waiting `next()` calls return
  /// `std::nullopt`, later ones return what is still queued, then nothing.
  void close() {
    if (!mark_closed()) return;
    cv_.notify_all();
    asio::post(ex_, [this] { sub_.reset(); });  // destroyed on its executor
  }

 private:
  // False when it was closed already.
  bool mark_closed() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    closed_ = true;
    subscribed_ = false;
    return true;
  }

  template <class Range>
  static std::vector<std::string> list(const Range& names) {
    std::vector<std::string> out;
    for (const auto& n : names) out.emplace_back(n);
    return out;
  }

  void install_handlers() {
    sub_->set_message_handler([this](const message& m) { on_message(m); });
    sub_->set_event_handler([this](const subscriber_event& ev) { on_event(ev); });
  }

  void change(void (subscriber::*op)(std::string_view), std::vector<std::string> names) {
    asio::post(ex_, [this, op, names = std::move(names)] {
      if (!sub_) return;
      for (const auto& n : names) (sub_.get()->*op)(n);
    });
  }

  template <class F>
  auto on_io(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(ex_, [&task] { task(); });
    return result.get();
  }

  std::optional<message> pop(std::unique_lock<std::mutex>&) {
    if (queue_.empty()) return std::nullopt;
    message m = std::move(queue_.front());
    queue_.pop_front();
    return m;
  }

  void on_message(const message& m) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return;
      if (queue_.size() >= max_pending_) {
        queue_.pop_front();
        ++dropped_;
      }
      queue_.push_back(m);
    }
    cv_.notify_one();
  }

  void on_event(const subscriber_event& ev) {
    std::function<void(const subscriber_event&)> handler;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (ev.type == subscriber_event::kind::subscribed) subscribed_ = !closed_;
      if (ev.type == subscriber_event::kind::lost || ev.type == subscriber_event::kind::attempt_failed)
        subscribed_ = false;
      handler = user_event_handler_;
    }
    cv_.notify_all();
    if (handler) handler(ev);
  }

  asio::io_context ioc_{1};  // own I/O thread's (idle when built on a sync_client)
  executor_type ex_;  // where the subscriber lives: ioc_'s, or the sync_client's
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<message> queue_;
  std::size_t max_pending_;
  std::uint64_t dropped_ = 0;
  bool subscribed_ = false;
  bool closed_ = false;
  std::function<void(const subscriber_event&)> user_event_handler_;
  std::unique_ptr<subscriber> sub_;  // used and destroyed on the I/O thread only
  std::thread thread_;
};

/// The blocking subscriber over TCP, TLS or UNIX sockets (`any_stream`).
using sync_subscriber = basic_sync_subscriber<>;

}  // namespace redis_ha

#endif  // REDIS_HA_SYNC_SUBSCRIBER_HPP
