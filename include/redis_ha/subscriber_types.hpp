#ifndef REDIS_HA_SUBSCRIBER_TYPES_HPP
#define REDIS_HA_SUBSCRIBER_TYPES_HPP

/// @file
/// What a `basic_subscriber` delivers and reports: messages, events, counters.

#include <redis_ha/address.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>

namespace redis_ha {

/// The three Pub/Sub namespaces a subscriber can join.
enum class subscription_kind {
  channel,        ///< `SUBSCRIBE`: a channel
  pattern,        ///< `PSUBSCRIBE`: a glob-style pattern
  shard_channel,  ///< `SSUBSCRIBE`: a sharded channel (Redis 7), served by the node owning its slot
};

/// One Pub/Sub message.
struct message {
  /// The channel it was published to.
  std::string channel;
  /// The pattern that matched it (`psubscribe`); empty for a channel subscription.
  std::string pattern;
  /// The published payload.
  std::string payload;
  /// True for a message of a sharded channel (`ssubscribe`, `SPUBLISH`).
  bool sharded = false;
};

/// Counters of a subscriber.
///
/// "Deaf" time is how long the subscriber had no working subscription during
/// a reconnection: from the moment the loss was detected (connection closed,
/// health check failed, Sentinel announced another master) until every
/// channel and pattern was confirmed on the new connection. Messages
/// published in that window are not received (Pub/Sub keeps no history).
struct subscriber_stats {
  /// Subscriptions established on a new connection, the first one included.
  std::uint64_t connects = 0;
  /// Subscriptions re-established after a loss (each one measures a deaf time).
  std::uint64_t reconnects = 0;
  /// Messages delivered to the message handler.
  std::uint64_t messages = 0;
  /// Resolution, connection or verification attempts that failed.
  std::uint64_t failed_attempts = 0;
  /// Deaf time of the last reconnection.
  std::chrono::milliseconds last_deaf_ms{0};
  /// Longest deaf time so far.
  std::chrono::milliseconds max_deaf_ms{0};
  /// Sum of all deaf times.
  std::chrono::milliseconds total_deaf_ms{0};
};

/// One observable step of a subscriber.
struct subscriber_event {
  /// What happened.
  enum class kind {
    subscribed,        ///< every channel and pattern is confirmed on `node`; `deaf` is set after a loss
    lost,              ///< the working subscription on `node` was lost (`ec`, `detail` say why)
    attempt_failed,    ///< resolving, connecting or `ROLE` failed (`ec`, `detail`); retried after a backoff
    subscribe_failed,  ///< the server refused a (P|S)SUBSCRIBE (`channel`; `detail`: its error reply, e.g. `NOPERM ...`)
    shard_moved,       ///< the server ended the sharded subscription to `channel` (its slot left the node)
  };
  /// What happened.
  kind type = kind::subscribed;
  /// The node concerned (empty host when none).
  address node{"", 0};
  /// Why (lost, attempt_failed, subscribe_failed).
  std::error_code ec;
  /// More text: the error, or the Sentinel channel that announced a new master.
  std::string detail;
  /// `subscribed` after a loss: how long the subscriber was deaf.
  std::chrono::milliseconds deaf{0};
  /// `subscribe_failed`, `shard_moved`: the channel or pattern concerned.
  std::string channel;
};

/// Name of a subscriber event kind ("subscribed", "lost", ...).
inline const char* to_string(subscriber_event::kind k) noexcept {
  switch (k) {
    case subscriber_event::kind::subscribed: return "subscribed";
    case subscriber_event::kind::lost: return "lost";
    case subscriber_event::kind::attempt_failed: return "attempt_failed";
    case subscriber_event::kind::subscribe_failed: return "subscribe_failed";
    case subscriber_event::kind::shard_moved: return "shard_moved";
  }
  return "unknown";
}

}  // namespace redis_ha

#endif  // REDIS_HA_SUBSCRIBER_TYPES_HPP
