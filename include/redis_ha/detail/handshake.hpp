#ifndef REDIS_HA_DETAIL_HANDSHAKE_HPP
#define REDIS_HA_DETAIL_HANDSHAKE_HPP

/// @file
/// What a connection sends before it is open (sans-I/O): the `AUTH`,
/// `SELECT`, `CLIENT SETNAME` and (optional) `CLIENT CAPA redirect`
/// pipeline and the reading of its replies,
/// plus the TLS customization point run before a TLS handshake.

#include <redis_ha/connection_config.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <asio/ssl/stream_base.hpp>

#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

/// True when `Stream` has a client-side TLS `async_handshake`.
template <class Stream, class = void>
struct has_tls_handshake : std::false_type {};
template <class Stream>
struct has_tls_handshake<Stream, std::void_t<decltype(std::declval<Stream&>().async_handshake(
                                     asio::ssl::stream_base::client, std::declval<void (*)(std::error_code)>()))>>
    : std::true_type {};

/// Customization point run before a TLS handshake (SNI, host name
/// verification). The primary template does nothing; `redis_ha/tls.hpp`
/// specializes it for `asio::ssl::stream<asio::ip::tcp::socket>`.
template <class Stream>
inline constexpr bool dependent_false = false;

template <class Stream, class = void>
struct tls_setup {
  static std::error_code prepare(Stream&, const std::string& /*host*/) {
    static_assert(dependent_false<Stream>,
                  "include <redis_ha/tls.hpp> (or specialize redis_ha::detail::tls_setup for this stream)");
    return {};
  }
};

/// The bytes of the handshake pipeline and what each reply means.
struct handshake_plan {
  request req;
  std::vector<error> failure;  // error for a failed reply, per required command
  /// Index of the reply to `CLIENT CAPA redirect` (after the required
  /// ones), or npos when not sent. An error there only means "unsupported".
  std::size_t capa_index = static_cast<std::size_t>(-1);
};

/// True when the reply to `CLIENT CAPA redirect` says the server took the
/// capability (`+OK`); an error reply (Redis: unknown subcommand; an ACL
/// without `client|capa`) means it did not.
inline bool redirect_accepted(const handshake_plan& plan, const response& replies) {
  return plan.capa_index < replies.size() && !replies[plan.capa_index].is_error();
}

/// Builds `AUTH`, `SELECT`, `CLIENT SETNAME` and `CLIENT CAPA redirect` as configured.
inline handshake_plan make_handshake(const connection_config& cfg) {
  handshake_plan p;
  if (!cfg.password.empty()) {
    if (cfg.username.empty())
      p.req.push("AUTH", cfg.password);
    else
      p.req.push("AUTH", cfg.username, cfg.password);
    p.failure.push_back(error::auth_failed);
  }
  if (cfg.database != 0) {
    p.req.push("SELECT", cfg.database);
    p.failure.push_back(error::select_failed);
  }
  if (!cfg.client_name.empty()) {
    p.req.push("CLIENT", "SETNAME", cfg.client_name);
    p.failure.push_back(error::handshake_failed);
  }
  if (cfg.redirect_capability) {
    p.capa_index = p.failure.size();
    p.req.push("CLIENT", "CAPA", "redirect");
  }
  return p;
}

/// Checks handshake replies; returns the first failure and its message.
/// The optional `CLIENT CAPA` reply never fails the handshake.
inline std::error_code check_handshake(const handshake_plan& plan, const response& replies, std::string& message) {
  for (std::size_t i = 0; i < replies.size() && i < plan.failure.size(); ++i) {
    if (!replies[i].is_error()) continue;
    message = std::string(replies[i].error_message());
    auto prefix = replies[i].error_prefix();
    // A server without a password answers AUTH with "ERR AUTH <password>
    // called without any password configured": still a credentials problem.
    if (prefix == "WRONGPASS" || prefix == "NOAUTH" || prefix == "NOPERM") return error::auth_failed;
    return plan.failure[i];
  }
  return {};
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_HANDSHAKE_HPP
