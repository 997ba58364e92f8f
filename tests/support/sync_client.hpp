#pragma once
/// @file sync_client.hpp
/// Minimal synchronous Redis client (hiredis sync API) for setting up and checking test
/// state. Independent of the library under test.

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace redis_ha::test {

/// Default connect/read/write timeout of the sync client.
inline constexpr std::chrono::milliseconds default_command_timeout{2000};

/// An owned copy of a RESP2 reply.
struct reply {
  /// Kind of reply.
  enum class type { nil, string, status, integer, array, error };

  type kind = type::nil;         ///< Kind of reply.
  std::string str;               ///< Payload of string, status and error replies.
  long long integer = 0;         ///< Value of integer replies.
  std::vector<reply> elements;   ///< Elements of array replies.

  /// True for a nil reply.
  bool is_nil() const noexcept { return kind == type::nil; }

  /// For a flat key/value array (e.g. one entry of SENTINEL REPLICAS): the value following
  /// `key`, or std::nullopt.
  std::optional<std::string> field(std::string_view key) const {
    for (std::size_t i = 0; i + 1 < elements.size(); i += 2)
      if (elements[i].str == key) return elements[i + 1].str;
    return std::nullopt;
  }
};

/// Connecting, sending or receiving failed (including timeouts).
class connection_error : public std::runtime_error {
public:
  /// `timed_out` tells whether the failure was a timeout.
  connection_error(const std::string& what, bool timed_out)
      : std::runtime_error(what), timed_out_(timed_out) {}
  /// True when the connect, read or write timed out.
  bool timed_out() const noexcept { return timed_out_; }

private:
  bool timed_out_;
};

/// The server answered with an error reply (e.g. NOAUTH, WRONGTYPE).
class reply_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// One blocking hiredis connection to 127.0.0.1:port. Not thread-safe.
/// Constructing one ignores SIGPIPE process-wide (hiredis writes with plain write()).
class sync_connection {
public:
  /// Connects (and AUTHs when `password` is non-empty). Every connect, read and write is
  /// bounded by `timeout`. Throws connection_error or reply_error.
  explicit sync_connection(std::uint16_t port,
                           std::chrono::milliseconds timeout = default_command_timeout,
                           const std::string& password = {})
      : port_(port) {
    ::signal(SIGPIPE, SIG_IGN);
    const timeval tv = to_timeval(timeout);
    context_.reset(redisConnectWithTimeout("127.0.0.1", port, tv));
    if (!context_) throw connection_error("hiredis: out of memory", false);
    if (const int error = errno; context_->err) fail("connect", error);
    if (redisSetTimeout(context_.get(), tv) != REDIS_OK) fail("set timeout", 0);
    if (!password.empty()) command({"AUTH", password});
  }

  /// Sends one command and waits for its reply. Throws connection_error on I/O errors or
  /// timeouts (the connection is unusable afterwards) and reply_error on error replies.
  reply command(const std::vector<std::string>& args) {
    if (context_->err) fail(describe(args), 0);
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& arg : args) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    std::unique_ptr<redisReply, reply_deleter> raw(static_cast<redisReply*>(
        redisCommandArgv(context_.get(), static_cast<int>(args.size()), argv.data(), lengths.data())));
    if (!raw) {
      const int error = errno;  // hiredis leaves errno from the failed syscall in place
      fail(describe(args), error);
    }
    reply result = convert(*raw);
    if (result.kind == reply::type::error)
      throw reply_error(fmt::format("127.0.0.1:{}: {}: {}", port_, describe(args), result.str));
    return result;
  }

  /// Port this connection talks to.
  std::uint16_t port() const noexcept { return port_; }

private:
  struct context_deleter {
    void operator()(redisContext* c) const noexcept { redisFree(c); }
  };
  struct reply_deleter {
    void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
  };

  static timeval to_timeval(std::chrono::milliseconds timeout) {
    return timeval{static_cast<time_t>(timeout.count() / 1000),
                   static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  }

  static std::string describe(const std::vector<std::string>& args) {
    std::string text;
    for (std::size_t i = 0; i < args.size() && i < 3; ++i) text += (i ? " " : "") + args[i];
    return args.size() > 3 ? text + " ..." : text;
  }

  static reply convert(const redisReply& raw) {
    reply result;
    switch (raw.type) {
      case REDIS_REPLY_STRING: result.kind = reply::type::string; break;
      case REDIS_REPLY_STATUS: result.kind = reply::type::status; break;
      case REDIS_REPLY_ERROR: result.kind = reply::type::error; break;
      case REDIS_REPLY_INTEGER: result.kind = reply::type::integer; break;
      case REDIS_REPLY_ARRAY: result.kind = reply::type::array; break;
      default: result.kind = reply::type::nil; break;
    }
    if (raw.str != nullptr) result.str.assign(raw.str, raw.len);
    result.integer = raw.integer;
    for (std::size_t i = 0; i < raw.elements; ++i) result.elements.push_back(convert(*raw.element[i]));
    return result;
  }

  /// Throws connection_error for the context's error; `error` is the errno of the failed
  /// call (0 when the context failed earlier: the first failure's timeout flag is kept).
  [[noreturn]] void fail(const std::string& what, int error) {
    timed_out_ = timed_out_ || (context_->err == REDIS_ERR_IO &&
                                (error == EAGAIN || error == EWOULDBLOCK || error == ETIMEDOUT ||
                                 std::string_view(context_->errstr).find("timed out") != std::string_view::npos));
    throw connection_error(
        fmt::format("127.0.0.1:{}: {}: {}{}", port_, what, context_->errstr, timed_out_ ? " (timeout)" : ""),
        timed_out_);
  }

  std::uint16_t port_;
  bool timed_out_ = false;
  std::unique_ptr<redisContext, context_deleter> context_;
};

/// Runs one command on a fresh connection to 127.0.0.1:port (AUTH first when `password` is
/// non-empty). Throws connection_error or reply_error.
inline reply command(std::uint16_t port, const std::vector<std::string>& args,
                     const std::string& password = {},
                     std::chrono::milliseconds timeout = default_command_timeout) {
  return sync_connection(port, timeout, password).command(args);
}

}  // namespace redis_ha::test
