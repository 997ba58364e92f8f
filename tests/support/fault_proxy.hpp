#pragma once
/// @file fault_proxy.hpp
/// A loopback TCP proxy with switchable faults (delay, blackhole, reset, refuse), running
/// on its own thread.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <asio.hpp>

#include "support/free_port.hpp"

namespace redis_ha::test {

/// Listens on a free 127.0.0.1 port and forwards each accepted connection to one of the
/// upstream 127.0.0.1 ports (round-robin per connection, like a Kubernetes Service).
/// Fault modes switch at runtime; every public member is thread-safe and returns once the
/// change is in effect.
class fault_proxy {
public:
  /// Forwards to a single upstream port.
  explicit fault_proxy(std::uint16_t upstream_port) : fault_proxy(std::vector<std::uint16_t>{upstream_port}) {}

  /// Forwards to `upstream_ports`, round-robin per new connection.
  explicit fault_proxy(std::vector<std::uint16_t> upstream_ports)
      : upstreams_(std::move(upstream_ports)), port_(free_port()) {
    if (upstreams_.empty()) throw std::invalid_argument("fault_proxy: no upstream port");
    open_listener();
    thread_ = std::thread([this] { io_.run(); });
  }

  fault_proxy(const fault_proxy&) = delete;
  fault_proxy& operator=(const fault_proxy&) = delete;

  /// Closes every connection and the listener, then joins the proxy thread.
  ~fault_proxy() {
    try {
      call([this] {
        close_listener();
        while (!sessions_.empty()) (*sessions_.begin())->close(false);
      });
    } catch (...) {
    }
    work_.reset();
    thread_.join();
  }

  /// Port the proxy listens on (127.0.0.1; kept across refuse()).
  std::uint16_t port() const noexcept { return port_; }

  /// Number of connections accepted so far (in every mode).
  std::size_t accepted() const noexcept { return accepted_.load(); }

  /// Number of client connections currently open through the proxy (including blackholed ones).
  std::size_t open_connections() {
    return call([this] {
      accept_pending();
      return sessions_.size();
    });
  }

  /// Forward data immediately (also ends delay/reset/refuse; blackholed connections stay
  /// blackholed, new ones are forwarded).
  void pass() { set_mode(mode::pass); }

  /// Forward data in both directions `latency` after it arrived, for current and new
  /// connections.
  void delay(std::chrono::milliseconds latency) { set_mode(mode::pass, latency); }

  /// Emulate a partition / hung host: every current connection and every new one silently
  /// swallows data in both directions and is never closed by the proxy. A connection
  /// blackholed once stays so even after pass(); clients must reconnect.
  void blackhole() {
    set_mode(mode::blackhole, {}, [](session& s) { s.swallow(); });
  }

  /// Reset (RST) every current connection, and every new one right after accepting it.
  void reset() {
    set_mode(mode::reset, {}, [](session& s) { s.close(true); });
  }

  /// Close the listener so new connects are refused; current connections keep working.
  void refuse() {
    call([this] {
      accept_pending();
      mode_ = mode::refuse;
      close_listener();
    });
  }

  /// Reset (RST) every current connection once; the mode is unchanged.
  void drop_all() {
    call([this] {
      accept_pending();
      for_each_session([](session& s) { s.close(true); });
    });
  }

  /// Replaces the upstream ports used for new connections.
  void set_upstreams(std::vector<std::uint16_t> upstream_ports) {
    if (upstream_ports.empty()) throw std::invalid_argument("fault_proxy: no upstream port");
    call([&] {
      upstreams_ = std::move(upstream_ports);
      next_upstream_ = 0;
    });
  }

private:
  using tcp = asio::ip::tcp;
  using clock = std::chrono::steady_clock;
  enum class mode { pass, blackhole, reset, refuse };

  /// One direction of a session: reads from `from`, queues chunks until their due time,
  /// writes them to `to`.
  struct direction {
    direction(tcp::socket& source, tcp::socket& sink) : from(source), to(sink), timer(source.get_executor()) {}
    tcp::socket& from;
    tcp::socket& to;
    std::array<char, 16384> buffer{};
    std::deque<std::pair<clock::time_point, std::string>> queue;
    asio::steady_timer timer;
    bool reading = false;
    bool writing = false;
    bool eof = false;
  };

  /// A client connection and its upstream connection.
  struct session : std::enable_shared_from_this<session> {
    session(fault_proxy& proxy, tcp::socket client_socket)
        : owner(proxy), client(std::move(client_socket)), upstream(client.get_executor()),
          to_upstream(client, upstream), to_client(upstream, client) {}

    void connect(std::uint16_t port) {
      upstream.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port),
                             [self = shared_from_this()](std::error_code ec) {
                               if (self->closed) return;
                               if (ec && self->blackholed) return;  // keep swallowing, never close
                               if (ec) return self->close(true);     // upstream down: reset the client
                               self->read(self->to_upstream);
                               self->read(self->to_client);
                             });
    }

    /// Swallow everything from now on (reads continue, nothing is forwarded).
    /// Data already queued is never written either (see write()).
    void swallow() {
      blackholed = true;
      read(to_upstream);  // no-op if already reading from the client
    }

    void read(direction& d) {
      if (d.reading) return;
      d.reading = true;
      d.from.async_read_some(asio::buffer(d.buffer), [self = shared_from_this(), &d](std::error_code ec, std::size_t n) {
        d.reading = false;
        if (self->closed) return;
        if (ec) return self->on_read_error(d, ec);
        if (!self->blackholed) {
          d.queue.emplace_back(clock::now() + self->owner.delay_, std::string(d.buffer.data(), n));
          self->write(d);
        }
        self->read(d);
      });
    }

    void write(direction& d) {
      if (d.writing || closed || blackholed) return;
      if (d.queue.empty()) {
        if (d.eof) finish(d);
        return;
      }
      d.writing = true;
      if (d.queue.front().first > clock::now()) {
        d.timer.expires_at(d.queue.front().first);
        d.timer.async_wait([self = shared_from_this(), &d](std::error_code) {
          d.writing = false;
          self->write(d);
        });
        return;
      }
      asio::async_write(d.to, asio::buffer(d.queue.front().second),
                        [self = shared_from_this(), &d](std::error_code ec, std::size_t) {
                          d.writing = false;
                          if (self->closed) return;
                          if (ec) return self->close(true);
                          if (!d.queue.empty()) d.queue.pop_front();
                          self->write(d);
                        });
    }

    void on_read_error(direction& d, std::error_code ec) {
      const bool from_client = &d.from == &client;
      if (blackholed) {
        if (from_client) close(false);  // client gone; never close towards the client
        return;
      }
      if (ec != asio::error::eof) return close(true);
      d.eof = true;  // half-close once the queued data is written
      write(d);
    }

    void finish(direction& d) {
      std::error_code ignored;
      d.to.shutdown(tcp::socket::shutdown_send, ignored);
      if (to_upstream.eof && to_client.eof && to_upstream.queue.empty() && to_client.queue.empty()) close(false);
    }

    /// Closes both sockets, with RST (SO_LINGER 0) when `rst`.
    void close(bool rst) {
      if (closed) return;
      closed = true;
      const auto self = shared_from_this();  // keeps *this alive until the end of close()
      std::error_code ignored;
      to_upstream.timer.cancel();
      to_client.timer.cancel();
      for (tcp::socket* s : {&client, &upstream}) {
        if (!s->is_open()) continue;
        if (rst) s->set_option(asio::socket_base::linger(true, 0), ignored);
        s->close(ignored);
      }
      owner.sessions_.erase(self);
    }

    fault_proxy& owner;
    tcp::socket client;
    tcp::socket upstream;
    direction to_upstream;
    direction to_client;
    bool blackholed = false;
    bool closed = false;
  };

  /// Runs `f` on the proxy thread and waits for its result.
  template <typename F>
  auto call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

  template <typename F>
  void for_each_session(F f) {
    for (const auto& s : std::vector<std::shared_ptr<session>>(sessions_.begin(), sessions_.end())) f(*s);
  }

  template <typename F = void (*)(session&)>
  void set_mode(mode m, std::chrono::milliseconds latency = {}, F on_existing = [](session&) {}) {
    call([&] {
      accept_pending();
      mode_ = m;
      delay_ = latency;
      for_each_session(on_existing);
      if (!acceptor_.is_open()) open_listener();
    });
  }

  void open_listener() {
    const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port_);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    acceptor_.non_blocking(true);
    accept(++generation_);
  }

  /// Accepts every connection the kernel has completed (the listener is non-blocking), so
  /// that a mode change applies to every connection whose connect() has returned.
  void accept_pending() {
    if (!acceptor_.is_open()) return;
    std::error_code ec;
    while (!ec) {
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (!ec) on_accept(std::move(socket));
    }
  }

  void close_listener() {
    ++generation_;
    std::error_code ignored;
    acceptor_.close(ignored);
  }

  /// Waits for the listener to become readable, then accepts with accept_pending(). The
  /// proxy never accepts asynchronously, so a mode change sees every connection the kernel
  /// has completed.
  void accept(std::uint64_t generation) {
    acceptor_.async_wait(tcp::acceptor::wait_read, [this, generation](std::error_code ec) {
      if (ec || generation != generation_) return;  // listener closed (and maybe reopened) since
      accept_pending();
      accept(generation);
    });
  }

  void on_accept(tcp::socket socket) {
    ++accepted_;
    auto s = std::make_shared<session>(*this, std::move(socket));
    sessions_.insert(s);
    switch (mode_) {
      case mode::blackhole: s->swallow(); break;
      case mode::reset:
      case mode::refuse: s->close(true); break;
      case mode::pass: s->connect(upstreams_[next_upstream_++ % upstreams_.size()]); break;
    }
  }

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{io_.get_executor()};
  tcp::acceptor acceptor_{io_};
  std::vector<std::uint16_t> upstreams_;
  std::size_t next_upstream_ = 0;
  std::uint16_t port_;
  mode mode_ = mode::pass;
  std::chrono::milliseconds delay_{0};
  std::uint64_t generation_ = 0;
  std::set<std::shared_ptr<session>> sessions_;
  std::atomic<std::size_t> accepted_{0};
  std::thread thread_;
};

}  // namespace redis_ha::test
