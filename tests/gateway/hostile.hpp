#pragma once
/// @file
/// Hostile HTTP clients for the gateway tests and `redis_ha_bench gateway`, always aimed at
/// 127.0.0.1 (their source address may be any 127.x.y.z, so that the gateway sees them
/// as other clients than the well-behaved ones):
///  - slowloris: N connections, each sending one byte of an endless request head per tick
///    (1 s), reopened as soon as the server closes or answers them;
///  - flood: connections opened at a given rate that never send anything, at most `hold`
///    of them open (the oldest closed first), up to a total.

#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace gateway_hostile {

/// Raises this process's soft RLIMIT_NOFILE to its hard limit (attacks hold many sockets).
inline void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/// A socket connected to 127.0.0.1:port from `source` (any 127.x.y.z), or -1 (errno set).
/// `nonblocking`: the connect may still be in progress on return.
inline int connect_from(std::uint16_t port, const std::string& source, bool nonblocking = false) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -1;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0 && !(nonblocking && errno == EINPROGRESS))) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/// Closes with a reset: no TIME_WAIT left on this side.
inline void close_reset(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

/// A slowloris attack running on its own thread from construction to destruction.
class slowloris {
 public:
  slowloris(std::uint16_t port, std::size_t connections, std::string source,
            std::chrono::milliseconds tick = std::chrono::milliseconds(1000))
      : port_(port), source_(std::move(source)), tick_(tick), slots_(connections) {
    thread_ = std::thread([this] { run(); });
  }
  ~slowloris() { stop(); }
  slowloris(const slowloris&) = delete;
  slowloris& operator=(const slowloris&) = delete;

  /// Stops and closes every connection.
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  /// Connections opened (first time and reopened).
  std::size_t opened() const { return opened_; }
  /// Connections the server closed or answered (408, or a refusal), then reopened.
  std::size_t closed_by_server() const { return closed_by_server_; }
  /// Bytes of request heads sent.
  std::size_t bytes_sent() const { return bytes_; }
  /// Connection attempts that failed locally (e.g. out of descriptors or ports).
  std::size_t connect_errors() const { return connect_errors_; }

 private:
  struct slot {
    int fd = -1;
    std::size_t sent = 0;
  };

  static constexpr std::string_view head =
      "POST /api/v1/signals/prometheus HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "X-Slow-1: aaaaaaaa\r\nX-Slow-2: aaaaaaaa\r\nX-Slow-3: aaaaaaaa\r\nX-Slow-4: aaaaaaaa\r\n";

  void open(slot& s) {
    s.sent = 0;
    s.fd = connect_from(port_, source_, true);
    if (s.fd < 0) ++connect_errors_;
    else ++opened_;
  }

  void step(slot& s) {
    if (s.fd < 0) return open(s);
    char buf[512];
    const ssize_t n = ::recv(s.fd, buf, sizeof buf, MSG_DONTWAIT);
    const bool pending = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN);
    if (!pending) {  // EOF, reset or an answer (408): reconnect
      close_reset(s.fd);
      ++closed_by_server_;
      return open(s);
    }
    const char c = head[s.sent % head.size()];
    if (::send(s.fd, &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
      ++s.sent;
      ++bytes_;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN) {
      close_reset(s.fd);
      ++closed_by_server_;
      open(s);
    }
  }

  void run() {
    auto next = std::chrono::steady_clock::now();
    while (!stop_) {
      for (auto& s : slots_) step(s);
      next += tick_;
      while (!stop_ && std::chrono::steady_clock::now() < next) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& s : slots_)
      if (s.fd >= 0) close_reset(s.fd);
  }

  std::uint16_t port_;
  std::string source_;
  std::chrono::milliseconds tick_;
  std::vector<slot> slots_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> opened_{0}, closed_by_server_{0}, bytes_{0}, connect_errors_{0};
  std::thread thread_;
};

/// A connection flood running on its own thread from construction until `total`
/// connections were opened (or destruction).
class flood {
 public:
  flood(std::uint16_t port, std::size_t total, std::size_t per_second, std::size_t hold, std::string source)
      : port_(port), total_(total), per_second_(per_second), hold_(hold), source_(std::move(source)) {
    thread_ = std::thread([this] { run(); });
  }
  ~flood() { stop(); }
  flood(const flood&) = delete;
  flood& operator=(const flood&) = delete;

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  /// Waits until every connection was opened (and closed again).
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  std::size_t opened() const { return opened_; }
  std::size_t connect_errors() const { return connect_errors_; }

 private:
  void run() {
    std::deque<int> open;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < total_ && !stop_; ++i) {
      const auto due = start + std::chrono::microseconds(1000000 * i / per_second_);
      while (!stop_ && std::chrono::steady_clock::now() < due) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      const int fd = connect_from(port_, source_, true);
      if (fd < 0) {
        ++connect_errors_;
        continue;
      }
      ++opened_;
      open.push_back(fd);
      if (open.size() > hold_) {
        close_reset(open.front());
        open.pop_front();
      }
    }
    for (int fd : open) close_reset(fd);
  }

  std::uint16_t port_;
  std::size_t total_, per_second_, hold_;
  std::string source_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> opened_{0}, connect_errors_{0};
  std::thread thread_;
};

}  // namespace gateway_hostile
