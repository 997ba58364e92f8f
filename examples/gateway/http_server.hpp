#pragma once
/// @file
/// A minimal HTTP/1.1 server over Asio coroutines: keep-alive, pipelining-safe framing,
/// Content-Length bodies only (see http_message.hpp), "Expect: 100-continue" honoured.
///
/// Deadlines, each its own: the head must be complete within `header_timeout` (from the
/// connection's accept, or from the first byte of a request on a kept-alive connection:
/// else 408 and close), the body within `body_timeout` after the head (else 408), the
/// answer written within `body_timeout`; a kept-alive connection may stay idle for
/// `idle_timeout`. Admission and reclaiming under pressure: http_connections.hpp.
/// `drain()` stops accepting and lets the requests in progress finish.

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "http_connections.hpp"
#include "http_message.hpp"
#include "log.hpp"

namespace gateway::http {

using asio::ip::tcp;

/// Limits of one listener.
struct server_options {
  std::size_t max_header = 8 * 1024;               ///< request head (line + headers), else 431
  std::size_t max_body = 100 * 1024;               ///< announced body, else 413
  std::chrono::milliseconds header_timeout{5000};  ///< head complete within, else 408
  std::chrono::milliseconds body_timeout{10000};   ///< body (and the answer's write) within, else 408
  std::chrono::milliseconds idle_timeout{30000};   ///< keep-alive idle limit
  std::size_t max_connections = 4096;              ///< open connections of the listener
  std::size_t max_connections_per_ip = 256;        ///< open connections of one peer address
  std::chrono::milliseconds slow_head{1000};       ///< a head incomplete this long may be reclaimed
};

/// The application: answers one request (exceptions become 500).
using handler_fn = std::function<asio::awaitable<response>(const request&)>;
/// Builds the answer to a framing error found by the server (status, detail).
using error_fn = std::function<response(int, std::string)>;
/// Observes every response written (request null for framing errors) with its duration:
/// from the first byte of the request to the last byte of the response.
using observe_fn = std::function<void(const request*, const response&, double)>;

/// One listener and its connections. Create with std::make_shared: its coroutines keep it
/// alive, so an io_context destroyed with sessions pending never touches a dead server.
class server : public std::enable_shared_from_this<server> {
 public:
  server(asio::any_io_executor ex, const tcp::endpoint& ep, server_options opts, handler_fn handler, error_fn on_error,
         observe_fn observe)
      : acceptor_(ex, ep),
        opts_(opts),
        table_(opts.max_connections, opts.max_connections_per_ip, opts.slow_head),
        handler_(std::move(handler)),
        on_error_(std::move(on_error)),
        observe_(std::move(observe)) {}

  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  const connection_table& connections() const noexcept { return table_; }

  void start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(shared_from_this()), asio::detached); }

  /// Stops accepting, closes connections without a request in progress; the others end
  /// after their current answer. `done(cut)` runs once every session has ended (cut = 0),
  /// or after `timeout` with the number of connections then closed with a request in progress.
  void drain(std::chrono::milliseconds timeout, std::function<void(std::size_t)> done) {
    draining_ = true;
    on_drained_ = std::move(done);
    std::error_code ec;
    acceptor_.close(ec);
    table_.reclaim_unstarted();
    drain_timer_.expires_after(timeout);
    drain_timer_.async_wait([this](std::error_code ec) {
      if (ec || !on_drained_) return;
      const std::size_t cut = table_.open();  // requests in progress (a head may be half-read)
      table_.reclaim_all();
      finish_drain(cut);
    });
    if (sessions_ == 0) finish_drain(0);
  }

  /// Stops at once: closes the acceptor and every connection; a drain in progress never
  /// calls its `done`.
  void stop() {
    on_drained_ = nullptr;
    drain_timer_.cancel();
    std::error_code ec;
    acceptor_.close(ec);
    table_.reclaim_all();
  }

 private:
  using clock = std::chrono::steady_clock;
  using entry = connection_table::entry;

  void finish_drain(std::size_t cut) {
    drain_timer_.cancel();
    if (auto done = std::exchange(on_drained_, nullptr)) done(cut);
  }

  asio::awaitable<void> accept_loop(std::shared_ptr<server> self) {
    for (;;) {
      std::error_code ec;
      tcp::socket sock = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
        log(level::warn, "http: accept failed: {}", ec.message());  // e.g. EMFILE: let sessions end
        asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      auto e = std::make_unique<entry>();
      const auto ep = sock.remote_endpoint(ec);
      if (ec) continue;
      e->ip = ep.address().to_string();
      if (const auto v = table_.admit(*e, clock::now()); v != connection_table::verdict::admitted) {
        refuse(sock, v);
        continue;
      }
      asio::co_spawn(acceptor_.get_executor(), session(self, std::move(sock), std::move(e)), asio::detached);
    }
  }

  // Closes with a reset (no TIME_WAIT kept for a flood); logged at most once a second.
  void refuse(tcp::socket& sock, connection_table::verdict v) {
    std::error_code ec;
    sock.set_option(asio::socket_base::linger(true, 0), ec);
    sock.close(ec);
    ++refused_since_log_;
    if (const auto now = clock::now(); now - last_refused_log_ >= std::chrono::seconds(1)) {
      log(level::warn, "http: refused {} connection(s) ({}; {} open)", refused_since_log_,
          v == connection_table::verdict::refused_per_ip ? "per-address limit" : "connection limit", table_.open());
      refused_since_log_ = 0;
      last_refused_log_ = now;
    }
  }

  // Per-connection deadline: when it fires the socket's operations are cancelled. The
  // state is shared with the timer's handler, which may run after the session ended.
  struct deadline {
    struct state {
      asio::steady_timer timer;
      tcp::socket* sock = nullptr;
      bool fired = false;
      unsigned generation = 0;  // stale expirations are ignored
      explicit state(const asio::any_io_executor& ex) : timer(ex) {}
    };
    std::shared_ptr<state> st;
    deadline(const asio::any_io_executor& ex, tcp::socket& sock) : st(std::make_shared<state>(ex)) { st->sock = &sock; }
    ~deadline() {
      st->sock = nullptr;
      st->timer.cancel();
    }
    bool fired() const { return st->fired; }
    void arm(std::chrono::milliseconds d) { arm_at(clock::now() + d); }
    void arm_at(clock::time_point when) {
      st->fired = false;
      st->timer.expires_at(when);
      const unsigned g = ++st->generation;
      st->timer.async_wait([s = st, g](std::error_code ec) {
        if (ec || !s->sock || s->generation != g) return;
        s->fired = true;
        std::error_code ignored;
        s->sock->cancel(ignored);
      });
    }
    void disarm() {
      ++st->generation;
      st->timer.cancel();
    }
  };

  response error(int status, std::string detail) const {
    response r = on_error_(status, std::move(detail));
    r.close = true;
    r.route = "invalid";
    return r;
  }

  enum class head_end { complete, closed, timed_out, too_large };

  // Reads until `buf` holds a complete head. `started`: when its first byte arrived.
  asio::awaitable<head_end> read_head(tcp::socket& sock, std::string& buf, deadline& dl, entry& e, bool fresh,
                                      clock::time_point& started, std::size_t& head_len) {
    const auto now = clock::now();
    if (!buf.empty()) {  // pipelined: the next request is already here
      started = now;
      table_.to_head(e, now, true);
      dl.arm(opts_.header_timeout);
    } else if (fresh) {  // in state head since the accept
      dl.arm_at(e.since + opts_.header_timeout);
    } else {
      table_.to_idle(e, now);
      dl.arm(opts_.idle_timeout);
    }
    std::size_t scanned = 0;
    for (;;) {
      if (const auto pos = buf.find("\r\n\r\n", scanned > 3 ? scanned - 3 : 0); pos != std::string::npos) {
        head_len = pos + 4;
        co_return head_len > opts_.max_header ? head_end::too_large : head_end::complete;
      }
      if (buf.size() >= opts_.max_header) co_return head_end::too_large;
      const std::size_t have = scanned = buf.size();
      // Read into the buffer's tail (no scratch array: this frame is allocated per request).
      constexpr std::size_t chunk = 4096;
      buf.resize(have + chunk);
      std::error_code ec;
      const std::size_t n = co_await sock.async_read_some(asio::buffer(buf.data() + have, chunk),
                                                          asio::redirect_error(asio::use_awaitable, ec));
      buf.resize(have + (ec ? 0 : n));
      if (ec) co_return dl.fired() && !e.reclaimed ? head_end::timed_out : head_end::closed;
      if (have == 0) {
        started = clock::now();
        if (e.st == connection_table::state::idle) {  // the head deadline starts with its first byte
          table_.to_head(e, started, true);
          dl.arm(opts_.header_timeout);
        } else {
          table_.got_bytes(e);
        }
      }
    }
  }

  asio::awaitable<void> session(std::shared_ptr<server>, tcp::socket sock, std::unique_ptr<entry> e) {
    struct guard {
      server* s;
      entry* e;
      ~guard() {
        s->table_.remove(*e);
        if (--s->sessions_ == 0 && s->draining_) s->finish_drain(0);
      }
    } g{this, e.get()};
    ++sessions_;
    std::error_code ec;
    sock.set_option(tcp::no_delay(true), ec);
    deadline dl(sock.get_executor(), sock);
    e->cancel = [&sock] {
      std::error_code ignored;
      sock.cancel(ignored);
    };
    std::string buf;
    for (bool fresh = true;; fresh = false) {
      if (draining_ && buf.empty() && !fresh) break;
      clock::time_point started = clock::now();
      std::size_t head_len = 0;
      const head_end he = co_await read_head(sock, buf, dl, *e, fresh, started, head_len);
      if (e->reclaimed) break;
      request req;
      req.remote = e->ip;
      std::optional<response> early;  // a framing error to answer instead of calling the handler
      if (he == head_end::closed) break;
      if (he == head_end::timed_out) {
        if (buf.empty()) {  // nothing of a request: a silent close
          ++(e->st == connection_table::state::idle ? table_.stats().idle_timeouts : table_.stats().head_timeouts);
          break;
        }
        ++table_.stats().head_timeouts;
        early = error(408, "request head not received in time");
      } else if (he == head_end::too_large) {
        early = error(431, fmt::format("request head exceeds {} bytes", opts_.max_header));
      }
      table_.to_busy(*e, clock::now());
      std::size_t content_length = 0;
      if (!early) {
        if (auto fe = parse_head(std::string_view(buf).substr(0, head_len - 4), req)) early = error(fe->status, fe->detail);
      }
      if (!early) {
        if (auto fe = body_length(req, opts_.max_body, content_length)) early = error(fe->status, fe->detail);
      }
      if (!early && content_length > 0 && buf.size() - head_len < content_length) {
        dl.arm(opts_.body_timeout);
        if (auto expect = req.header("expect"); expect && iequals(*expect, "100-continue")) {
          static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
          co_await asio::async_write(sock, asio::buffer(cont), asio::redirect_error(asio::use_awaitable, ec));
          if (ec) break;
        }
        co_await asio::async_read(sock, asio::dynamic_buffer(buf), asio::transfer_exactly(content_length - (buf.size() - head_len)),
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
          if (!dl.fired() || e->reclaimed) break;  // peer closed mid-body: nothing to answer
          ++table_.stats().body_timeouts;
          early = error(408, "request body not received in time");
        }
      }
      dl.disarm();
      response resp;
      if (early) {
        resp = std::move(*early);
      } else {
        req.body = buf.substr(head_len, content_length);
        buf.erase(0, head_len + content_length);
        try {
          resp = co_await handler_(req);
        } catch (const std::exception& ex) {
          log(level::error, "http: handler failed: {}", ex.what());
          resp = on_error_(500, "internal error");
        }
        resp.head = req.method == "HEAD";  // never a body in an answer to HEAD
      }
      if (e->reclaimed) break;  // the drain timed out while the handler ran
      const bool close = resp.close || draining_ || (!early && wants_close(req));
      const std::string out = serialize(resp, close);
      dl.arm(opts_.body_timeout);
      co_await asio::async_write(sock, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
      dl.disarm();
      if (ec && dl.fired()) ++table_.stats().body_timeouts;
      const double secs = std::chrono::duration<double>(clock::now() - started).count();
      if (observe_) observe_(early ? nullptr : &req, resp, secs);
      if (early)  // debug only: a flood of bad requests must not flood the log (metrics count them)
        log(level::debug, "http: {} {} from {}: {}", resp.status, reason(resp.status), e->ip,
            resp.body.size() > 200 ? resp.body.substr(0, 200) : resp.body);
      if (ec || close) break;
    }
    table_.remove(*e);  // the slot is free while the close lingers
    if (e->reclaimed) {
      sock.close(ec);
    } else {
      co_await linger_close(sock, dl);
    }
  }

  // Half-closes, then discards what the peer still sends (bounded: 1 s, 1 MiB) so that
  // closing with unread data does not reset the connection before the peer reads the
  // answer; then closes.
  asio::awaitable<void> linger_close(tcp::socket& sock, deadline& dl) {
    std::error_code ec;
    sock.shutdown(tcp::socket::shutdown_send, ec);
    if (!ec) {
      dl.arm(std::chrono::milliseconds(1000));
      std::array<char, 4096> scratch;  // on this coroutine's frame: small
      std::size_t total = 0;
      while (total < (1u << 20)) {
        std::size_t n = co_await sock.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        total += n;
      }
      dl.disarm();
    }
    sock.close(ec);
  }

  tcp::acceptor acceptor_;
  server_options opts_;
  connection_table table_;
  handler_fn handler_;
  error_fn on_error_;
  observe_fn observe_;
  std::size_t sessions_ = 0;  // session coroutines alive
  bool draining_ = false;
  asio::steady_timer drain_timer_{acceptor_.get_executor()};
  std::function<void(std::size_t)> on_drained_;
  std::size_t refused_since_log_ = 0;
  clock::time_point last_refused_log_{};
};

}  // namespace gateway::http
