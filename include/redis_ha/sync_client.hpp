#ifndef REDIS_HA_SYNC_CLIENT_HPP
#define REDIS_HA_SYNC_CLIENT_HPP

/// @file
/// `redis_ha::sync_client`: a blocking facade over `basic_client`, with its
/// own I/O thread. Thread-safe: any number of threads may share one.
///
/// This header includes neither Asio nor the client templates (a pimpl):
/// with separate compilation (`REDIS_HA_SEPARATE_COMPILATION`, the
/// `redis_ha::redis_ha_compiled` target) a file using only the blocking API
/// costs about what `<string>`, `<chrono>` and `<system_error>` cost
/// (docs/consuming.md). Header-only, the implementation
/// (`impl/sync_client.ipp`) is included here.

#include <redis_ha/client_config.hpp>
#include <redis_ha/client_event.hpp>
#include <redis_ha/detail/config.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>
#include <redis_ha/detail/sync_typed.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(REDIS_HA_HEADER_ONLY)
#include <redis_ha/typed.hpp>  // the typed forms work as they always did
#endif

namespace redis_ha {

class any_stream;
template <class Stream>
class basic_client;
class sync_client;

namespace detail {
/// For `sync_subscriber(sync_client&)`: the `sync_client`'s asynchronous
/// client (use it on that client's executor only).
struct sync_client_access {
  REDIS_HA_DECL static basic_client<any_stream>& client(sync_client& c);
};

/// What `sync_client` asks of its I/O side: the io_context, the client and
/// the I/O thread (`sync_client_io`, in impl/sync_client.ipp). An interface,
/// so that `sync_client`'s members instantiate nothing of the client.
struct sync_client_core {
  virtual ~sync_client_core() = default;
  /// Runs `req` on the I/O thread and waits for its completion.
  virtual response exec(request req, std::error_code& ec) = 0;
  /// Waits for a verified master, within the budget.
  virtual std::error_code wait_ready() = 0;
  /// The client's counters, read on the I/O thread.
  virtual client_stats stats() = 0;
  /// The asynchronous client.
  virtual basic_client<any_stream>& client() = 0;
};

/// The `sync_client_core` over a `basic_client<Stream>` (impl/sync_client.ipp).
template <class Stream>
class sync_client_io;
}  // namespace detail

/// A blocking HA client. Each call hands the request to the I/O thread and
/// waits for its completion; calls from many threads are pipelined on the
/// same master connection.
///
/// `exec` and `command` have two forms: one reporting errors through a
/// `std::error_code&` (a Redis error reply is then a `reply` with
/// `is_error()`, or `error::server_error` once converted to another type),
/// one throwing `redis_ha::system_error` (also for Redis error replies,
/// with the server's message). Both convert replies to standard types on
/// request (`command<std::vector<std::string>>(...)`, see `typed.hpp`;
/// with separate compilation, include `typed.hpp` for these forms).
/// The helpers (`set`, `get`, `incr`, `eval`, ...), `wait_ready` and
/// `stats` only throw.
///
/// Construction, destruction and every member function may be called from
/// any thread except the client's own I/O thread (where `on_event` and the
/// logger run): a call from there would wait for itself.
class sync_client {
 public:
  /// Starts the I/O thread and the client (which starts resolving at once).
  /// Plain TCP, TLS (`cfg.connection.tls`, `cfg.sentinel.tls`) or UNIX
  /// sockets (`unix:/path` addresses), as the config says.
#if defined(REDIS_HA_HEADER_ONLY)
  // A template only to defer instantiating the client to the files that
  // build a sync_client (`Io` is not for users to choose).
  template <class Io = detail::sync_client_io<any_stream>>
  explicit sync_client(client_config cfg) : impl_(std::make_unique<Io>(std::move(cfg))) {}
#else
  REDIS_HA_DECL explicit sync_client(client_config cfg);
#endif

  /// Closes the client and joins the I/O thread.
  REDIS_HA_DECL ~sync_client();
  sync_client(const sync_client&) = delete;
  sync_client& operator=(const sync_client&) = delete;

  /// Runs a request; returns one reply per command.
  REDIS_HA_DECL response exec(request req, std::error_code& ec);

  /// Runs a request; throws on a transport/HA error or if any reply is an
  /// error reply.
  REDIS_HA_DECL response exec(request req);

  /// Runs a request and converts its replies, one type per command:
  /// `auto [ok, n] = redis.exec<redis_ha::ignore_t, long long>(req);`.
  /// Throws on a transport/HA error, an error reply, or a reply that does
  /// not convert (`error::wrong_reply_type`, with the details in `what()`).
  template <class T0, class... Ts>
  std::tuple<T0, Ts...> exec(request req) {
    using typed = detail::sync_typed<std::tuple<T0, Ts...>>;
    static_assert(!typed::has_view,
                  "sync_client::exec<...>: the replies are gone when exec returns: use std::string, not std::string_view");
    return typed::convert(exec(std::move(req)));
  }

  /// Runs a request and converts its replies; errors through `ec`: a
  /// transport/HA error, `error::server_error` for an error reply, or
  /// `error::wrong_reply_type`. On an error the values are default ones.
  template <class T0, class... Ts>
  std::tuple<T0, Ts...> exec(request req, std::error_code& ec) {
    using typed = detail::sync_typed<std::tuple<T0, Ts...>>;
    static_assert(!typed::has_view,
                  "sync_client::exec<...>: the replies are gone when exec returns: use std::string, not std::string_view");
    auto resp = exec(std::move(req), ec);
    if (ec) return {};
    return typed::convert(resp, ec);
  }

  /// Runs one command given as arguments (strings, `char` or numbers: see
  /// `is_request_argument_v`). Returns its reply, or with `T` the reply
  /// converted (`command<long long>("INCR", "n")`,
  /// `command<std::vector<std::string>>("LRANGE", "l", 0, -1)`). Throws on
  /// a transport/HA error, an error reply or a reply that does not convert.
  template <class T = reply, class... Args>
  T command(std::string_view name, const Args&... args) {
    request req;
    req.push(name, args...);
    reply r = std::move(exec(std::move(req)).front());
    if constexpr (std::is_same_v<T, reply>) {
      return r;
    } else {
      using typed = detail::sync_typed<std::tuple<T>>;
      static_assert(!typed::has_view,
                    "sync_client::command<T>: the reply is gone when command returns: use std::string, not "
                    "std::string_view");
      return typed::convert_one(r);
    }
  }

  /// Runs one command; errors through `ec`. As `reply` (the default), a
  /// Redis error is a reply; converted to another `T`, it is
  /// `error::server_error`, and a reply that does not convert is
  /// `error::wrong_reply_type` (the value is then a default `T`).
  template <class T = reply, class... Args>
  T command(std::error_code& ec, std::string_view name, const Args&... args) {
    request req;
    req.push(name, args...);
    auto resp = exec(std::move(req), ec);
    reply r = resp.empty() ? reply{} : std::move(resp.front());
    if constexpr (std::is_same_v<T, reply>) {
      return r;
    } else {
      using typed = detail::sync_typed<std::tuple<T>>;
      static_assert(!typed::has_view,
                    "sync_client::command<T>: the reply is gone when command returns: use std::string, not "
                    "std::string_view");
      if (ec) return T{};
      return typed::convert_one(r, ec);
    }
  }

  /// `SET key value [PX ttl]`.
  REDIS_HA_DECL void set(std::string_view key, std::string_view value,
                         std::optional<std::chrono::milliseconds> ttl = std::nullopt);
  /// `GET key`: the value, or nothing when the key does not exist.
  REDIS_HA_DECL std::optional<std::string> get(std::string_view key);
  /// `DEL key`: number of keys removed.
  REDIS_HA_DECL long long del(std::string_view key);
  /// `INCR key`: the new value. Not idempotent: after a connection loss
  /// during the call it throws `outcome_unknown` rather than risk counting twice.
  REDIS_HA_DECL long long incr(std::string_view key);
  /// `INCRBY key by`.
  REDIS_HA_DECL long long incrby(std::string_view key, long long by);
  /// `EXPIRE key seconds`: true if the timeout was set.
  REDIS_HA_DECL bool expire(std::string_view key, std::chrono::seconds ttl);
  /// `HSET key field value`: number of fields added.
  REDIS_HA_DECL long long hset(std::string_view key, std::string_view field, std::string_view value);
  /// `HGET key field`.
  REDIS_HA_DECL std::optional<std::string> hget(std::string_view key, std::string_view field);
  /// `EVAL script numkeys keys... args...`: the script's reply.
  template <class Keys, class Args>
  reply eval(std::string_view script, const Keys& keys, const Args& args) {
    request req;
    std::vector<std::string> argv{"EVAL", std::string(script), std::to_string(std::size(keys))};
    for (const auto& k : keys) argv.emplace_back(k);
    for (const auto& a : args) argv.emplace_back(a);
    req.push_argv(argv);
    return std::move(exec(std::move(req)).front());
  }

  /// Blocks until a verified master is connected; throws after the budget.
  REDIS_HA_DECL void wait_ready();

  /// Counters of the underlying client (read on the I/O thread).
  REDIS_HA_DECL client_stats stats();

 private:
  friend struct detail::sync_client_access;
  std::unique_ptr<detail::sync_client_core> impl_;  // the io_context, the client and the I/O thread
};

}  // namespace redis_ha

#if defined(REDIS_HA_HEADER_ONLY)
#include <redis_ha/impl/sync_client.ipp>
#endif

#endif  // REDIS_HA_SYNC_CLIENT_HPP
