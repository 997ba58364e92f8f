#ifndef REDIS_HA_DETAIL_RETRY_POLICY_HPP
#define REDIS_HA_DETAIL_RETRY_POLICY_HPP

/// @file
/// The retry rule of the HA client, in one place (sans-I/O): given how a
/// request ended on a connection, complete it, resend it to the (next)
/// master, or fail it.

#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/request.hpp>

namespace redis_ha {
namespace detail {

/// What to do with a request after an attempt.
struct retry_decision {
  enum class action {
    complete,  ///< hand `ec` and the replies to the caller
    resend,    ///< queue it again for the next verified master
  };
  action what = action::complete;
  std::error_code ec;      ///< for `complete`
  bool failover_signal = false;  ///< the outcome says the node is no longer a usable master
};

/// True when a reply says the node is not (or no longer) a writable master.
inline bool is_not_master_reply(const reply& r) {
  if (!r.is_error()) return false;
  auto p = r.error_prefix();
  return p == "READONLY" || p == "MASTERDOWN";
}

/// The rule:
/// - a request that never reached the wire (`connection_closed`,
///   `not_connected`) is always resent;
/// - a `-READONLY` reply means the node is a replica that did not run the
///   write: resend, and treat it as a failover signal;
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
        return d;
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

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_RETRY_POLICY_HPP
