#ifndef REDIS_HA_DETAIL_CONNECTION_IMPL_HPP
#define REDIS_HA_DETAIL_CONNECTION_IMPL_HPP

/// @file
/// The I/O shell of `basic_connection`: owns the stream, the timers and the
/// read/write loops, and drives the sans-I/O `exec_queue` and `resp_reader`.
/// Shared by pointer with every pending handler, so destroying the public
/// object while operations are pending is safe.

#include <redis_ha/address.hpp>
#include <redis_ha/connection_config.hpp>
#include <redis_ha/connection_stats.hpp>
#include <redis_ha/detail/completion.hpp>
#include <redis_ha/detail/exec_op.hpp>
#include <redis_ha/detail/exec_queue.hpp>
#include <redis_ha/detail/handshake.hpp>
#include <redis_ha/detail/log_format.hpp>
#include <redis_ha/detail/resp_reader.hpp>
#include <redis_ha/detail/stream_connect.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

template <class Stream>
class connection_impl : public std::enable_shared_from_this<connection_impl<Stream>> {
 public:
  using executor_type = typename Stream::executor_type;

  template <class... StreamArgs>
  connection_impl(const executor_type& ex, connection_config cfg, StreamArgs&&... args)
      : ex_(ex),
        cfg_(std::move(cfg)),
        stream_(ex, std::forward<StreamArgs>(args)...),
        resolver_(ex),
        connect_timer_(ex),
        deadline_timer_(ex),
        health_timer_(ex),
        queue_(queue_limits{cfg_.max_queued_requests, cfg_.max_queued_bytes}),
        reader_(reader_limits{cfg_.max_bulk_length, cfg_.max_nesting_depth, cfg_.max_line_length,
                              cfg_.max_reply_size}) {}

  const executor_type& executor() const noexcept { return ex_; }
  bool is_open() const noexcept { return state_ == state::open; }
  std::error_code close_reason() const noexcept { return close_reason_; }
  const connection_stats& stats() const noexcept { return stats_; }
  const connection_config& config() const noexcept { return cfg_; }
  const address& remote_address() const noexcept { return remote_; }
  Stream& stream() noexcept { return stream_; }

  // --- connect -------------------------------------------------------------

  template <class Handler>
  void start_connect(address addr, Handler&& handler) {
    auto slot = asio::get_associated_cancellation_slot(handler);
    any_completion<std::error_code> h(std::forward<Handler>(handler), ex_);
    if (state_ != state::idle) return h.post(error::already_connected);
    if (slot.is_connected()) {
      std::weak_ptr<connection_impl> weak = this->shared_from_this();
      slot.template emplace<cancel_connect>(cancel_connect{weak});
    }
    connect_handler_ = std::move(h);
    remote_ = std::move(addr);
    state_ = state::connecting;
    connect_timer_.expires_after(cfg_.connect_timeout);
    connect_timer_.async_wait([self = this->shared_from_this()](std::error_code ec) {
      if (!ec && self->state_ == state::connecting) self->close(self->progress_.phase);
    });
    stream_connector<Stream>::async_connect(stream_, resolver_, remote_, cfg_, progress_,
                                            [self = this->shared_from_this()](std::error_code ec) {
                                              if (self->state_ != state::connecting) return;
                                              if (ec) return self->close(ec);
                                              self->start_handshake();
                                            });
  }

  template <class Handler>
  void start_exec(const request& req, Handler&& handler) {
    if (state_ != state::open || req.empty()) {
      any_completion<std::error_code, response> h(std::forward<Handler>(handler), ex_);
      return h.post(req.empty() ? error::empty_request : error::not_connected, response{});
    }
    using op_type = exec_op<std::decay_t<Handler>, executor_type>;
    auto slot = asio::get_associated_cancellation_slot(handler);
    exec_queue::entry_ptr entry = op_type::create(std::forward<Handler>(handler), ex_, stats_, defer_completions_);
    exec_entry* raw = entry.get();
    raw->expected = req.expected_replies();
    auto timeout = req.options().timeout.count() ? req.options().timeout : cfg_.request_timeout;
    if (timeout.count() > 0) raw->deadline = clock::now() + timeout;
    if (auto ec = queue_.push(entry, req.payload())) {
      static_cast<op_type*>(entry.get())->post_error(ec);
      return;
    }
    ++stats_.requests;
    if (slot.is_connected()) {
      std::weak_ptr<connection_impl> weak = this->shared_from_this();
      slot.template emplace<cancel_exec>(cancel_exec{weak, raw});
      static_cast<op_type*>(raw)->has_slot = true;
    }
    if (raw->deadline < armed_deadline_) arm_deadline(raw->deadline);
    maybe_write();
  }

  /// Installs the receiver of Pub/Sub messages (`message` / `pmessage` /
  /// `smessage` arrays, and the replies `also` accepts); without one, such
  /// a reply closes the connection as unexpected.
  void set_push_handler(std::function<void(reply&&)> handler, std::function<bool(const reply&)> also) {
    push_handler_ = std::move(handler);
    push_also_ = std::move(also);
  }

  template <class Handler>
  void add_close_waiter(Handler&& handler) {
    any_completion<std::error_code> h(std::forward<Handler>(handler), ex_);
    if (state_ == state::closed) return h.post(close_reason_);
    close_waiters_.push_back(std::move(h));
  }

  /// Closes with `reason`: cancels all I/O, fails every pending request
  /// and completes the connect and close waiters. Idempotent. With
  /// `reply_broken` (the reply being read broke a limit or the protocol),
  /// the oldest written request completes with `reason` itself; the other
  /// written ones with `connection_lost`, unwritten ones with `connection_closed`.
  void close(std::error_code reason, bool reply_broken = false) {
    if (state_ == state::closed) return;
    const bool was_connecting = state_ == state::connecting;
    const bool was_idle = state_ == state::idle;
    state_ = state::closed;
    close_reason_ = reason;
    std::error_code ignored;
    progress_.cancelled = true;
    stream_.lowest_layer().close(ignored);
    resolver_.cancel();
    connect_timer_.cancel();
    deadline_timer_.cancel();
    health_timer_.cancel();
    // A connect that failed is the caller's to report (the HA core logs it,
    // rate-limited); a connection that was open and closed is news.
    if (was_connecting && reason != asio::error::operation_aborted)
      cfg_.logger.log(log_level::debug, "redis_ha: connecting to {} failed: {}", remote_.to_string(),
                      reason.message());
    else if (!was_idle && reason != asio::error::operation_aborted)
      cfg_.logger.log(log_level::warning, "redis_ha: connection to {} closed: {}", remote_.to_string(),
                      reason.message());
    queue_.fail_all(error::connection_lost, error::connection_closed, reply_broken ? reason : std::error_code{});
    if (was_connecting) defer_completions_ ? connect_handler_.post(reason) : connect_handler_.dispatch(reason);
    auto waiters = std::move(close_waiters_);
    for (auto& w : waiters) defer_completions_ ? w.post(reason) : w.dispatch(reason);
  }

  /// `close` called by the user: handlers run later, never inside the call
  /// (as Asio's own `close()` does with `operation_aborted`).
  void close_from_user() {
    defer_completions_ = true;
    close(asio::error::operation_aborted);
    defer_completions_ = false;
  }

 private:
  enum class state { idle, connecting, open, closed };

  // Internal requests (handshake, health-check PING) call back into us.
  class internal_op final : public exec_entry {
   public:
    using callback = void (connection_impl::*)(std::error_code, response);
    internal_op(connection_impl* owner, callback cb) : owner_(owner), cb_(cb) {}

   private:
    void on_complete(std::error_code ec, response replies) override { (owner_->*cb_)(ec, std::move(replies)); }
    connection_impl* owner_;  // the queue holding this entry belongs to *owner_
    callback cb_;
  };

  struct cancel_connect {
    std::weak_ptr<connection_impl> impl;
    void operator()(asio::cancellation_type_t type) {
      if (!(type & asio::cancellation_type::terminal)) return;
      if (auto p = impl.lock())
        if (p->state_ == state::connecting) p->close(asio::error::operation_aborted);
    }
  };

  struct cancel_exec {
    std::weak_ptr<connection_impl> impl;
    exec_entry* entry;
    void operator()(asio::cancellation_type_t type) {
      auto p = impl.lock();
      if (!p || type == asio::cancellation_type::none) return;
      const bool written_ok = (type & (asio::cancellation_type::terminal | asio::cancellation_type::partial)) !=
                              asio::cancellation_type::none;
      p->queue_.cancel(entry, written_ok, asio::error::operation_aborted);
    }
  };

  void start_handshake() {
    progress_.phase = error::handshake_timeout;
    last_read_ = clock::now();
    do_read();
    handshake_ = make_handshake(cfg_);
    if (handshake_.req.empty()) return on_ready();
    exec_queue::entry_ptr entry(new internal_op(this, &connection_impl::on_handshake));
    entry->expected = handshake_.req.expected_replies();
    (void)queue_.push(entry, handshake_.req.payload());  // an empty queue always has room
    maybe_write();
  }

  void on_handshake(std::error_code ec, response replies) {
    if (ec || state_ != state::connecting) return;  // close() already reported
    std::string message;
    if (auto failure = check_handshake(handshake_, replies, message)) {
      cfg_.logger.log(log_level::error, "redis_ha: handshake with {} failed: {}", remote_.to_string(), message);
      return close(failure);
    }
    if (cfg_.redirect_capability && !redirect_accepted(handshake_, replies))
      cfg_.logger.log(log_level::debug, "redis_ha: {} has no CLIENT CAPA redirect (a replica answers -READONLY)",
                      remote_.to_string());
    on_ready();
  }

  void on_ready() {
    state_ = state::open;
    connect_timer_.cancel();
    cfg_.logger.log(log_level::debug, "redis_ha: connected to {}", remote_.to_string());
    arm_health_check();
    connect_handler_.dispatch(std::error_code{});
  }

  // --- reading -------------------------------------------------------------

  void do_read() {
    if (!read_buffer_) read_buffer_ = std::make_unique<char[]>(read_buffer_size);
    stream_.async_read_some(asio::buffer(read_buffer_.get(), read_buffer_size),
                            [self = this->shared_from_this()](std::error_code ec, std::size_t n) {
                              self->on_read(ec, n);
                            });
  }

  void on_read(std::error_code ec, std::size_t n) {
    if (state_ == state::closed) return;
    if (ec) return close(ec);
    last_read_ = clock::now();
    stats_.bytes_read += n;
    if ((ec = reader_.feed(read_buffer_.get(), n))) return bad_data(ec);
    // Replies are delivered with writes held back, so requests that
    // handlers start now leave together in one write afterwards.
    in_delivery_ = true;
    reply r;
    while (reader_.next(r, ec)) {
      ++stats_.replies;
      if (push_handler_ && (is_push(r) || (push_also_ && push_also_(r)))) {
        push_handler_(std::move(r));
        if (state_ == state::closed) return;
        continue;
      }
      if (auto e = queue_.on_reply(std::move(r))) {
        in_delivery_ = false;
        return close(e);
      }
      if (state_ == state::closed) return;
    }
    in_delivery_ = false;
    if (ec) return bad_data(ec);
    maybe_write();
    do_read();
  }

  // The reply being read broke a limit or the protocol: log what and why,
  // and close, failing the request it belonged to with that error.
  void bad_data(std::error_code ec) {
    cfg_.logger.log(log_level::error, "redis_ha: bad reply from {}: {} ({})", remote_.to_string(), ec.message(),
                    reader_.error_text());
    close(ec, true);
  }

  static bool is_push(const reply& r) {
    if (!r.is_array() || r.size() < 3 || !r[0].is_string()) return false;
    auto kind = r[0].as_string();
    return kind == "message" || kind == "pmessage" || kind == "smessage";
  }

  // --- writing -------------------------------------------------------------

  void maybe_write() {
    if (write_in_flight_ || in_delivery_ || state_ == state::closed || !queue_.has_unwritten()) return;
    queue_.take_unwritten(writing_);
    write_in_flight_ = true;
    ++stats_.writes;
    asio::async_write(stream_, asio::buffer(writing_), [self = this->shared_from_this()](std::error_code ec, std::size_t n) {
      self->on_write(ec, n);
    });
  }

  void on_write(std::error_code ec, std::size_t n) {
    write_in_flight_ = false;
    if (state_ == state::closed) return;
    if (ec) return close(ec);
    stats_.bytes_written += n;
    writing_.clear();
    maybe_write();
  }

  // --- timers --------------------------------------------------------------

  void arm_deadline(clock::time_point when) {
    armed_deadline_ = when;
    deadline_timer_.expires_at(when);
    deadline_timer_.async_wait([self = this->shared_from_this(), when](std::error_code ec) {
      if (ec || self->state_ == state::closed || self->armed_deadline_ != when) return;
      self->armed_deadline_ = clock::time_point::max();
      auto next = self->queue_.expire(clock::now());
      if (next != clock::time_point::max() && self->state_ != state::closed) self->arm_deadline(next);
    });
  }

  void arm_health_check() {
    if (cfg_.health_check_interval.count() <= 0) return;
    auto period = std::min(cfg_.health_check_interval, cfg_.health_check_timeout) / 2;
    health_timer_.expires_after(std::max(period, std::chrono::milliseconds(5)));
    health_timer_.async_wait([self = this->shared_from_this()](std::error_code ec) {
      if (ec || self->state_ != state::open) return;
      self->on_health_tick();
    });
  }

  void on_health_tick() {
    const auto now = clock::now();
    if (ping_outstanding_) {
      if (now - ping_sent_ >= cfg_.health_check_timeout) {
        cfg_.logger.log(log_level::warning, "redis_ha: {} did not answer PING within {} ms", remote_.to_string(),
                        cfg_.health_check_timeout.count());
        return close(error::health_check_failed);
      }
    } else if (now - last_read_ >= cfg_.health_check_interval) {
      exec_queue::entry_ptr entry(new internal_op(this, &connection_impl::on_pong));
      if (!queue_.push(entry, ping_payload())) {
        ping_outstanding_ = true;
        ping_sent_ = now;
        ++stats_.health_pings;
        maybe_write();
      }
    }
    arm_health_check();
  }

  void on_pong(std::error_code, response) { ping_outstanding_ = false; }

  static std::string_view ping_payload() noexcept { return "*1\r\n$4\r\nPING\r\n"; }

  static constexpr std::size_t read_buffer_size = 64 * 1024;

  executor_type ex_;
  connection_config cfg_;
  Stream stream_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer connect_timer_;
  asio::steady_timer deadline_timer_;
  asio::steady_timer health_timer_;
  exec_queue queue_;
  resp_reader reader_;

  state state_ = state::idle;
  connect_progress progress_;  // the timeout to report if the connect timer fires
  address remote_;
  handshake_plan handshake_;
  any_completion<std::error_code> connect_handler_;
  std::vector<any_completion<std::error_code>> close_waiters_;
  std::function<void(reply&&)> push_handler_;
  std::function<bool(const reply&)> push_also_;
  std::error_code close_reason_;
  connection_stats stats_;

  std::string writing_;
  bool write_in_flight_ = false;
  bool defer_completions_ = false;
  bool in_delivery_ = false;
  std::unique_ptr<char[]> read_buffer_;

  clock::time_point armed_deadline_ = clock::time_point::max();
  clock::time_point last_read_{};
  clock::time_point ping_sent_{};
  bool ping_outstanding_ = false;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_CONNECTION_IMPL_HPP
