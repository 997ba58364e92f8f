#ifndef REDIS_HA_SCRIPT_HPP
#define REDIS_HA_SCRIPT_HPP

/// @file
/// `redis_ha::script`: a Lua script run by its SHA1 digest (`EVALSHA`), with
/// a `NOSCRIPT` fallback for servers whose script cache lacks it (a new
/// master right after a failover, a restart, `SCRIPT FLUSH`).

#include <redis_ha/detail/completion.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <asio/async_result.hpp>

#include <charconv>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace redis_ha {

/// A Lua script: its source, and its SHA1 digest once a server told it
/// (`SCRIPT LOAD` answers it; nothing is hashed locally).
///
/// Thread safety: the digest cache is protected by a mutex, so one `script`
/// (e.g. a `static` one) may be run concurrently from several threads and
/// clients. Assigning to a `script` while it is being run is not safe.
class script {
 public:
  /// A script with the given Lua source.
  explicit script(std::string source) : source_(std::move(source)) {}

  /// Copies the source and the known digest.
  script(const script& other) : source_(other.source_), sha_(other.sha()) {}
  /// Copies the source and the known digest.
  script& operator=(const script& other) {
    if (this != &other) {
      std::string sha = other.sha();
      source_ = other.source_;
      std::lock_guard<std::mutex> lock(mutex_);
      sha_ = std::move(sha);
    }
    return *this;
  }
  /// Moves the source and the known digest.
  script(script&& other) noexcept : source_(std::move(other.source_)), sha_(std::move(other.sha_)) {}
  /// Moves the source and the known digest.
  script& operator=(script&& other) noexcept {
    if (this != &other) {
      source_ = std::move(other.source_);
      sha_ = std::move(other.sha_);
    }
    return *this;
  }

  /// The Lua source.
  const std::string& source() const noexcept { return source_; }

  /// The SHA1 digest (40 hex digits) once known, else empty.
  std::string sha() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sha_;
  }

  /// Sets the digest, e.g. one computed at build time. It must be the SHA1
  /// of `source()`: a wrong one makes every run take the fallback.
  void set_sha(std::string sha) {
    std::lock_guard<std::mutex> lock(mutex_);
    sha_ = std::move(sha);
  }

  /// Forgets the digest: the next run sends `SCRIPT LOAD` first.
  void forget_sha() { set_sha({}); }

 private:
  std::string source_;
  mutable std::mutex mutex_;
  std::string sha_;
};

namespace detail {
/// True for a range whose elements are request arguments.
template <class R, class = void>
struct is_value_range : std::false_type {};
template <class R>
struct is_value_range<R, std::void_t<decltype(std::begin(std::declval<const R&>()) != std::end(std::declval<const R&>()))>>
    : std::bool_constant<is_request_argument_v<std::decay_t<decltype(*std::begin(std::declval<const R&>()))>>> {};
}  // namespace detail

/// The keys or the arguments of a script run: strings, `char` or numbers
/// (the values `request::push` takes, see `is_request_argument_v`).
///
/// Converts implicitly from a braced list of values (`{"k1", "k2"}`,
/// `{"rate:alice", 1000}`), from one value, and from any range of strings or
/// numbers (`std::vector<std::string>`, `std::array<int, 2>`, ...). A `char`
/// is a one-character string, as in a request: `'x'` is `"x"`, not `"120"`.
///
/// The braced list is taken by a variadic constructor, not an
/// `std::initializer_list`: GCC 12 cannot compile an initializer list inside
/// a `co_await` expression ("array used as initializer"), and this shape
/// has no such array, so `co_await async_run(c, s, {"k"}, {"1"}, use_awaitable)`
/// compiles and runs.
class script_args {
 public:
  /// No values.
  script_args() = default;
  /// Values given one by one (also a braced list of them).
  template <class... T, std::enable_if_t<(sizeof...(T) >= 1) && (is_request_argument_v<T> && ...), int> = 0>
  script_args(const T&... values) {
    values_.reserve(sizeof...(T));
    (values_.push_back(to_text(values)), ...);
  }
  /// Values from a range of strings or numbers.
  template <class Range, std::enable_if_t<!is_request_argument_v<Range> && detail::is_value_range<Range>::value &&
                                              !std::is_same_v<std::decay_t<Range>, script_args>,
                                          int> = 0>
  script_args(const Range& values) {
    for (const auto& v : values) values_.push_back(to_text(v));
  }

  /// The values as strings.
  const std::vector<std::string>& values() const noexcept { return values_; }
  /// Number of values.
  std::size_t size() const noexcept { return values_.size(); }

 private:
  template <class T>
  static std::string to_text(const T& value) {
    static_assert(is_request_argument_v<T>, "script values must be strings, char or numbers (see is_request_argument_v)");
    if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      return std::string(std::string_view(value));
    } else if constexpr (std::is_same_v<T, char>) {
      return std::string(1, value);
    } else {
      char buf[64];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
      (void)ec;  // 64 chars hold any integer or shortest double
      return std::string(buf, static_cast<std::size_t>(end - buf));
    }
  }

  std::vector<std::string> values_;
};

namespace detail {

/// The requests of one script run and the reading of their replies
/// (sans-I/O), shared by `async_run` and `run`.
class script_call {
 public:
  script_call(script& s, const script_args& keys, const script_args& args, const request_options& options)
      : script_(&s), options_(options) {
    argv_.reserve(3 + keys.size() + args.size());
    argv_.emplace_back("EVALSHA");
    argv_.emplace_back();  // the digest, filled in when known
    argv_.push_back(std::to_string(keys.size()));
    argv_.insert(argv_.end(), keys.values().begin(), keys.values().end());
    argv_.insert(argv_.end(), args.values().begin(), args.values().end());
  }

  /// The cached digest, if any; true when known.
  bool know_sha() {
    argv_[1] = script_->sha();
    return !argv_[1].empty();
  }

  /// `SCRIPT LOAD <source>` alone (idempotent by its traits; only the timeout applies).
  request load() const {
    request req;
    req.push("SCRIPT", "LOAD", script_->source());
    req.options().timeout = options_.timeout;
    return req;
  }

  /// Reads the reply to `load()`: true when the digest is now known, else
  /// `result` holds the server's error reply (e.g. a compile error).
  bool on_load(response& resp, reply& result) {
    if (resp.empty() || !resp[0].is_string() || resp[0].as_string().empty()) {
      result = resp.empty() ? reply::error("ERR empty reply to SCRIPT LOAD") : std::move(resp[0]);
      return false;
    }
    argv_[1] = std::string(resp[0].as_string());
    script_->set_sha(argv_[1]);
    return true;
  }

  /// `EVALSHA <sha> numkeys keys... args...` with the caller's options.
  request eval() const {
    request req;
    req.push_argv(argv_);
    req.options() = options_;
    return req;
  }

  /// True when the reply to `eval()` says the server lacks the script.
  static bool noscript(const response& resp) {
    return !resp.empty() && resp[0].is_error() && resp[0].error_prefix() == "NOSCRIPT";
  }

  /// The first reply (nil when there is none).
  static reply first(response& resp) { return resp.empty() ? reply{} : std::move(resp[0]); }

  /// `SCRIPT LOAD <source>` and `EVALSHA ...` in one request, with the caller's options.
  request reload() const {
    request req;
    req.push("SCRIPT", "LOAD", script_->source());
    req.push_argv(argv_);
    req.options() = options_;
    return req;
  }

  /// The result of `reload()`: the `EVALSHA` reply, or `SCRIPT LOAD`'s
  /// error reply when the script could not be loaded.
  reply on_reload(response& resp) {
    if (resp.size() < 2) return reply::error("ERR incomplete reply to SCRIPT LOAD + EVALSHA");
    if (resp[0].is_error()) return std::move(resp[0]);
    if (resp[0].is_string() && !resp[0].as_string().empty()) script_->set_sha(std::string(resp[0].as_string()));
    return std::move(resp[1]);
  }

 private:
  script* script_;
  request_options options_;
  std::vector<std::string> argv_;
};

/// One `async_run` in progress; owned by the completion handlers of the
/// client operations it starts.
template <class Client>
class script_run_op : public std::enable_shared_from_this<script_run_op<Client>> {
 public:
  script_run_op(Client& redis, script_call call, any_completion<std::error_code, reply> handler)
      : redis_(&redis), call_(std::move(call)), handler_(std::move(handler)) {}

  void start() {
    if (call_.know_sha()) return eval();
    redis_->async_exec(call_.load(), [self = this->shared_from_this()](std::error_code ec, response resp) {
      if (ec) return self->handler_.dispatch(ec, reply{});
      reply failure;
      if (!self->call_.on_load(resp, failure)) return self->handler_.dispatch(std::error_code{}, std::move(failure));
      self->eval();
    });
  }

 private:
  void eval() {
    redis_->async_exec(call_.eval(), [self = this->shared_from_this()](std::error_code ec, response resp) {
      if (ec) return self->handler_.dispatch(ec, reply{});
      if (!script_call::noscript(resp)) return self->handler_.dispatch(std::error_code{}, script_call::first(resp));
      self->reload();
    });
  }

  void reload() {
    redis_->async_exec(call_.reload(), [self = this->shared_from_this()](std::error_code ec, response resp) {
      if (ec) return self->handler_.dispatch(ec, reply{});
      self->handler_.dispatch(std::error_code{}, self->call_.on_reload(resp));
    });
  }

  Client* redis_;
  script_call call_;
  any_completion<std::error_code, reply> handler_;
};

}  // namespace detail

/// Runs `s` with `keys` and `args` through `redis`, by digest:
///
/// 1. If the digest is unknown, `SCRIPT LOAD <source>` first, and the digest
///    it returns is cached in `s` (once; later runs skip this step).
/// 2. `EVALSHA <sha> numkeys keys... args...`.
/// 3. On a `NOSCRIPT` reply (the server's cache lacks the script: a new
///    master after a failover, a restart, `SCRIPT FLUSH`), one request with
///    `SCRIPT LOAD <source>` and `EVALSHA ...` pipelined; its `EVALSHA`
///    reply is the result.
///
/// `redis` is a `basic_client` (or anything with `get_executor()` and
/// `async_exec(request, token)` completing with
/// `void(std::error_code, response)`, such as a `basic_connection`).
/// `options` apply to every `EVALSHA` request: the HA client treats
/// `EVALSHA` as a non-idempotent write, so a run whose connection is lost
/// after sending completes with `error::outcome_unknown` unless
/// `options.idempotent = true` declares the script safe to run twice.
/// `options.timeout` also bounds the `SCRIPT LOAD` step.
///
/// Completion: `void(std::error_code, reply)`: the script's reply. A Redis
/// error reply (an error raised by the script, or `SCRIPT LOAD`'s error when
/// the source does not compile) is a reply, not an error code. Errors: those
/// of `redis.async_exec`.
///
/// `redis` and `s` must outlive the operation; `keys` and `args` are
/// copied. Cancellation: not supported.
template <class Client, class CompletionToken>
auto async_run(Client& redis, script& s, const script_args& keys, const script_args& args,
               const request_options& options, CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(std::error_code, reply)>(
      [](auto handler, Client* c, detail::script_call call) {
        detail::any_completion<std::error_code, reply> h(std::move(handler), c->get_executor());
        auto op = std::make_shared<detail::script_run_op<Client>>(*c, std::move(call), std::move(h));
        op->start();
      },
      token, &redis, detail::script_call(s, keys, args, options));
}

/// As above, with default `request_options`.
template <class Client, class CompletionToken>
auto async_run(Client& redis, script& s, const script_args& keys, const script_args& args,
               CompletionToken&& token) {
  return async_run(redis, s, keys, args, request_options{}, std::forward<CompletionToken>(token));
}

class sync_client;

namespace detail {
template <class T>
using if_sync_client = std::enable_if_t<std::is_same_v<T, sync_client>, int>;
}  // namespace detail

/// Blocking `async_run` through a `sync_client` (include
/// `<redis_ha/sync_client.hpp>`; a template only so that this header does
/// not include it). Errors through `ec`; a Redis error reply (from the
/// script, or from `SCRIPT LOAD`) is returned as a reply. Safe to call from
/// several threads at once, on one `script`.
template <class SyncClient, detail::if_sync_client<SyncClient> = 0>
reply run(SyncClient& redis, script& s, const script_args& keys, const script_args& args, std::error_code& ec,
          const request_options& options = {}) {
  detail::script_call call(s, keys, args, options);
  if (!call.know_sha()) {
    auto resp = redis.exec(call.load(), ec);
    if (ec) return reply{};
    reply failure;
    if (!call.on_load(resp, failure)) return failure;
  }
  auto resp = redis.exec(call.eval(), ec);
  if (ec) return reply{};
  if (!detail::script_call::noscript(resp)) return detail::script_call::first(resp);
  resp = redis.exec(call.reload(), ec);
  if (ec) return reply{};
  return call.on_reload(resp);
}

/// Blocking run; throws `redis_ha::system_error` on an error and on a Redis
/// error reply (`error::server_error`, with the server's message).
template <class SyncClient, detail::if_sync_client<SyncClient> = 0>
reply run(SyncClient& redis, script& s, const script_args& keys, const script_args& args,
          const request_options& options = {}) {
  std::error_code ec;
  reply r = run(redis, s, keys, args, ec, options);
  throw_if(ec);
  if (r.is_error()) throw system_error(make_error_code(error::server_error), std::string(r.error_message()));
  return r;
}

}  // namespace redis_ha

#endif  // REDIS_HA_SCRIPT_HPP
