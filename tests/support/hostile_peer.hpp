#pragma once
/// @file hostile_peer.hpp
/// A fake "Redis" on 127.0.0.1 that answers the first request with attack
/// bytes (tests/integration/hostile_test.cpp, `redis_ha_bench hostile`).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

namespace redis_ha::test {

/// What a hostile peer sends once it has read the client's first request:
/// `head`, then `fill_bytes` copies of `fill`, then `tail`.
struct attack {
  std::string head;
  std::size_t fill_bytes = 0;
  char fill = 'x';
  std::string tail;
};

/// Listens on 127.0.0.1 (a kernel-chosen port), accepts one connection,
/// reads the first request and writes the attack, in 64 KiB writes, until
/// it is all sent, the client closes, or `limit` has passed. It keeps the
/// socket open afterwards (so the client sees its own verdict, not EOF)
/// until the client closes it or the peer is destroyed.
class hostile_peer {
 public:
  explicit hostile_peer(attack a, std::chrono::milliseconds limit = std::chrono::seconds(30))
      : attack_(std::move(a)), limit_(limit) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::system_error(errno, std::generic_category(), "hostile_peer: socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 1) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      const int e = errno;
      ::close(listen_fd_);
      throw std::system_error(e, std::generic_category(), "hostile_peer: bind/listen");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~hostile_peer() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }
  hostile_peer(const hostile_peer&) = delete;
  hostile_peer& operator=(const hostile_peer&) = delete;

  /// The port to connect to (on 127.0.0.1).
  std::uint16_t port() const noexcept { return port_; }
  /// Attack bytes the kernel accepted so far.
  std::size_t bytes_sent() const noexcept { return sent_; }
  /// True once the first attack byte was sent; `attack_started()` is then valid.
  bool started() const noexcept { return started_; }
  /// When the first attack byte was sent.
  std::chrono::steady_clock::time_point attack_started() const noexcept {
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(start_ticks_.load()));
  }
  /// True once the client closed the connection.
  bool client_closed() const noexcept { return client_closed_; }

 private:
  // Waits for `events` on fd for at most 50 ms; false when the peer should stop.
  bool wait_for(int fd, short events, short& revents) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, 50);
    revents = n > 0 ? p.revents : 0;
    return !stop_ && std::chrono::steady_clock::now() < deadline_;
  }

  void run() {
    deadline_ = std::chrono::steady_clock::now() + limit_;
    short rev = 0;
    while (wait_for(listen_fd_, POLLIN, rev) && !(rev & POLLIN)) {
    }
    if (!(rev & POLLIN)) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    serve(fd);
    ::close(fd);
  }

  // Reads what is available; false when the client closed.
  bool drain(int fd) {
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      client_closed_ = true;
      return false;
    }
    return true;
  }

  void serve(int fd) {
    short rev = 0;
    // The first request: wait until something arrives.
    while (wait_for(fd, POLLIN, rev) && !(rev & (POLLIN | POLLHUP | POLLERR))) {
    }
    if (!(rev & POLLIN) || !drain(fd)) return;
    const std::size_t total = attack_.head.size() + attack_.fill_bytes + attack_.tail.size();
    std::string chunk(64 * 1024, attack_.fill);
    std::size_t pos = 0;
    while (pos < total) {
      if (!wait_for(fd, POLLOUT | POLLIN, rev)) return;
      if ((rev & POLLIN) && !drain(fd)) return;
      if (rev & (POLLHUP | POLLERR)) {
        client_closed_ = true;
        return;
      }
      if (!(rev & POLLOUT)) continue;
      // Assemble up to 64 KiB starting at `pos` of head + fill + tail.
      const std::size_t fill_end = attack_.head.size() + attack_.fill_bytes;
      std::size_t n = 0;
      while (n < chunk.size() && pos + n < total) {
        const std::size_t p = pos + n;
        if (p < attack_.head.size()) {
          const std::size_t k = std::min(attack_.head.size() - p, chunk.size() - n);
          std::copy_n(attack_.head.data() + p, k, chunk.data() + n);
          n += k;
        } else if (p < fill_end) {
          const std::size_t k = std::min(fill_end - p, chunk.size() - n);
          std::fill_n(chunk.data() + n, k, attack_.fill);
          n += k;
        } else {
          const std::size_t k = std::min(total - p, chunk.size() - n);
          std::copy_n(attack_.tail.data() + (p - fill_end), k, chunk.data() + n);
          n += k;
        }
      }
      if (!started_) {
        start_ticks_ = std::chrono::steady_clock::now().time_since_epoch().count();
        started_ = true;
      }
      const ssize_t w = ::send(fd, chunk.data(), n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        client_closed_ = true;
        return;
      }
      pos += static_cast<std::size_t>(w);
      sent_ = pos;
    }
    // Everything sent: hold the connection until the client closes it.
    while (wait_for(fd, POLLIN, rev))
      if ((rev & (POLLIN | POLLHUP | POLLERR)) && !drain(fd)) return;
  }

  attack attack_;
  std::chrono::milliseconds limit_;
  std::chrono::steady_clock::time_point deadline_{};
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> client_closed_{false};
  std::atomic<std::size_t> sent_{0};
  std::atomic<std::chrono::steady_clock::rep> start_ticks_{0};
  std::thread thread_;
};

}  // namespace redis_ha::test
