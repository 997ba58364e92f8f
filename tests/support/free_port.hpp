#pragma once
/// @file free_port.hpp
/// Free TCP ports on 127.0.0.1 for test servers.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <set>
#include <stdexcept>
#include <system_error>

namespace redis_ha::test {

/// Returns a TCP port that is currently free on 127.0.0.1 (the kernel's choice for a bind to
/// port 0). Never returns the same port twice within one process.
inline std::uint16_t free_port() {
  static std::mutex mutex;
  static std::set<std::uint16_t> handed_out;
  std::lock_guard lock(mutex);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "free_port: socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    const int error = errno;
    ::close(fd);
    if (!ok) throw std::system_error(error, std::generic_category(), "free_port: bind/getsockname");
    const std::uint16_t port = ntohs(addr.sin_port);
    if (handed_out.insert(port).second) return port;
  }
  throw std::runtime_error("free_port: no unused port found after 100 attempts");
}

}  // namespace redis_ha::test
