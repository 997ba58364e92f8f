#ifndef REDIS_HA_DETAIL_RETRY_POLICY_HPP
#define REDIS_HA_DETAIL_RETRY_POLICY_HPP

/// @file
/// The retry rule of the HA client, in one place (sans-I/O): given how a
/// request ended on a connection, complete it, resend it to the (next)
/// master, or fail it.

#include <redis_ha/address.hpp>
#include <redis_ha/detail/role.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace redis_ha {
namespace detail {

/// Why a request is refused before anything is sent (none: it may go on):
/// the client is closed, the request is empty, or it would switch the shared
/// connection into subscriber mode. Shared by the HA and the cluster client.
inline std::error_code refused_before_send(const request& req, bool closed) {
  if (closed) return error::client_closed;
  if (req.empty()) return error::empty_request;
  if (has(req.flags(), command_flags::pubsub)) return error::unsupported_command;
  return {};
}

/// What to do with a request after an attempt.
struct retry_decision {
  enum class action {
    complete,  ///< hand `ec` and the replies to the caller
    resend,    ///< queue it again for the next verified master
  };
  action what = action::complete;
  std::error_code ec;      ///< for `complete`
  bool failover_signal = false;  ///< the outcome says the node is no longer a usable master
  /// A `-REDIRECT host:port` reply named this primary (host empty: none).
  address redirect{"", 0};
};

/// True when a reply says the node is not (or no longer) a writable master:
/// `-READONLY`, `-MASTERDOWN`, or Valkey's `-REDIRECT` (sent instead of
/// `-READONLY` to a connection with `CLIENT CAPA redirect`).
inline bool is_not_master_reply(const reply& r) {
  if (!r.is_error()) return false;
  auto p = r.error_prefix();
  return p == "READONLY" || p == "MASTERDOWN" || p == "REDIRECT";
}

/// The primary named by a `-REDIRECT host:port` reply (Valkey), or nothing
/// for any other reply or a malformed address (an IPv6 host is split at
/// its last colon).
inline std::optional<address> parse_redirect(const reply& r) {
  if (!r.is_error() || r.error_prefix() != "REDIRECT") return std::nullopt;
  std::string_view rest = r.error_message().substr(8);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (auto sp = rest.find(' '); sp != std::string_view::npos) rest = rest.substr(0, sp);
  const auto colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  address a;
  a.host = std::string(rest.substr(0, colon));
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  if (!parse_port(rest.substr(colon + 1), a.port)) return std::nullopt;
  return a;
}

/// The rule:
/// - a request that never reached the wire (`connection_closed`,
///   `not_connected`) is always resent;
/// - a `-READONLY` reply means the node is a replica that did not run the
///   write: resend, and treat it as a failover signal; so does `-REDIRECT`
///   (Valkey), whose named primary is kept in `redirect` for the HA core;
/// - a request written but unanswered (`connection_lost`) is resent only
///   if idempotent (by command traits or `request_options::idempotent`),
///   otherwise it fails with `outcome_unknown`;
/// - a reply the reader rejected (`protocol_error`, `reply_too_large`,
///   `nesting_too_deep`, `line_too_long`) completes with that error and is
///   never resent: the same request would get the same reply again. (The
///   other requests in flight on that connection see `connection_lost`.)
/// - anything else (success, Redis error replies, timeouts, cancellation)
///   completes as is.
inline retry_decision decide(const request& req, std::error_code ec, const response& replies) {
  retry_decision d;
  if (!ec) {
    for (const auto& r : replies) {
      if (is_not_master_reply(r)) {
        d.what = retry_decision::action::resend;
        d.failover_signal = true;
        if (!d.redirect.host.empty()) continue;
        if (auto a = parse_redirect(r)) d.redirect = *a;
      }
    }
    return d;
  }
  if (ec == error::connection_closed || ec == error::not_connected) {
    d.what = retry_decision::action::resend;
    d.failover_signal = true;
    return d;
  }
  if (ec == error::connection_lost) {
    d.failover_signal = true;
    if (req.idempotent()) {
      d.what = retry_decision::action::resend;
    } else {
      d.ec = error::outcome_unknown;
    }
    return d;
  }
  d.ec = ec;
  return d;
}

/// Why a request is sent again (the `retry` event's detail): `ec` is what
/// ended the previous attempt, none when a reply said the node did not run it.
inline std::string resend_reason(std::error_code ec) {
  if (!ec) return "resent: the node answered -READONLY, -MASTERDOWN or -REDIRECT, so it did not run the request";
  if (ec == error::connection_lost) return "resent: the connection was lost after it was sent, and it is idempotent";
  if (ec == error::not_replicated) return "resent: WAIT did not confirm it in time, and it is idempotent";
  return "resent: it never reached the server (" + ec.message() + ")";
}

/// The error of a request that waited for a master beyond its budget: the
/// HA core's last resolution error when it explains the wait (`last`), else
/// `master_unavailable`.
inline std::error_code budget_error(std::error_code last) {
  if (last == error::no_sentinel_reachable || last == error::master_name_unknown || last == error::auth_failed ||
      last == error::sentinel_protocol_error)
    return last;
  return error::master_unavailable;
}

/// A durable write's request as sent: `req`, then `WAIT min_acked timeout`
/// in the same write, then `ROLE` when `with_role` (direct mode with
/// histories: ROLE tells whether a replica left meanwhile).
inline request durable_request(const request& req, int min_acked, std::chrono::milliseconds timeout, bool with_role) {
  request out = req;
  out.push("WAIT", min_acked, timeout.count());
  if (with_role) out.push("ROLE");
  return out;
}

/// The replies `durable_request` added, taken off the end of a response.
struct durable_replies {
  long long acked = -1;       ///< replicas that acknowledged (WAIT's reply), -1 if it is missing
  std::optional<reply> role;  ///< ROLE's reply, when it was asked for and came
};

/// Takes the trailing WAIT (and ROLE when `with_role`) replies off `resp`,
/// leaving the request's own replies.
inline durable_replies take_durable_replies(response& resp, bool with_role) {
  durable_replies out;
  if (with_role && !resp.empty()) {
    out.role = std::move(resp.back());
    resp.pop_back();
  }
  if (!resp.empty()) {
    if (resp.back().is_integer()) out.acked = resp.back().as_integer();
    resp.pop_back();
  }
  return out;
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_RETRY_POLICY_HPP
