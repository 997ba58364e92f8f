// A scripted RESP server on 127.0.0.1 for hostile and disagreement cases
// (never a stand-in for Redis in an ordinary integration test). Each command
// (an array of bulk strings) is passed to the handler, whose return value is
// written back verbatim (raw RESP). Stopped and joined in the destructor.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace redis_ha::test {

class fake_server {
 public:
  using handler = std::function<std::string(const std::vector<std::string>& argv)>;

  explicit fake_server(handler h) : handler_(std::move(h)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 64) != 0)
      throw std::runtime_error("fake_server: cannot listen");
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  ~fake_server() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int fd : clients_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : sessions_) t.join();
  }

  std::uint16_t port() const noexcept { return port_; }
  /// Connections accepted so far.
  std::size_t accepted() const noexcept { return accepted_; }

 private:
  void accept_loop() {
    while (!stopping_) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      ++accepted_;
      std::lock_guard<std::mutex> lock(mutex_);
      clients_.push_back(fd);
      sessions_.emplace_back([this, fd] { serve(fd); });
    }
  }

  void serve(int fd) {
    std::string in;
    char buf[4096];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      in.append(buf, static_cast<std::size_t>(n));
      std::vector<std::string> argv;
      while (parse(in, argv)) {
        const std::string out = handler_(argv);
        if (!out.empty() && ::write(fd, out.data(), out.size()) < 0) break;
        argv.clear();
      }
    }
    ::close(fd);
  }

  // Takes one complete `*N $len arg ...` command off the front of `in`.
  static bool parse(std::string& in, std::vector<std::string>& argv) {
    std::size_t pos = 0;
    auto line = [&](std::string& out) {
      auto e = in.find("\r\n", pos);
      if (e == std::string::npos) return false;
      out = in.substr(pos, e - pos);
      pos = e + 2;
      return true;
    };
    std::string l;
    if (!line(l) || l.empty() || l[0] != '*') return false;
    const long n = std::stol(l.substr(1));
    for (long i = 0; i < n; ++i) {
      if (!line(l) || l.empty() || l[0] != '$') return false;
      const auto len = static_cast<std::size_t>(std::stol(l.substr(1)));
      if (in.size() < pos + len + 2) return false;
      argv.push_back(in.substr(pos, len));
      pos += len + 2;
    }
    in.erase(0, pos);
    return true;
  }

  handler handler_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> accepted_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> clients_;
  std::vector<std::thread> sessions_;
};

/// Raw RESP helpers for fake_server handlers.
inline std::string resp_bulk(const std::string& s) { return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n"; }
inline std::string resp_ok() { return "+OK\r\n"; }

}  // namespace redis_ha::test
