#ifndef REDIS_HA_CONNECTION_FACTORY_HPP
#define REDIS_HA_CONNECTION_FACTORY_HPP

/// @file
/// `redis_ha::connection_factory<Stream>`: how the HA client and the
/// Sentinel resolver create connections, so that data nodes and sentinels
/// can use different streams settings (e.g. separate TLS contexts).

#include <redis_ha/connection_config.hpp>
#include <redis_ha/detail/stream_traits.hpp>

#include <functional>
#include <memory>
#include <type_traits>

namespace redis_ha {

template <class Stream>
class basic_connection;

/// Which kind of node a connection is for.
enum class node_kind {
  data,      ///< a Redis master or replica
  sentinel,  ///< a Redis Sentinel
};

/// Creates a connection for a node of the given kind.
template <class Stream>
using connection_factory = std::function<std::shared_ptr<basic_connection<Stream>>(
    const detail::stream_executor_t<Stream>&, const connection_config&, node_kind)>;

/// The factory for streams constructible from an executor alone
/// (`any_stream`, plain TCP). Needs `<redis_ha/connection.hpp>` where used.
template <class Stream>
connection_factory<Stream> default_connection_factory() {
  if constexpr (std::is_constructible_v<Stream, const detail::stream_executor_t<Stream>&>) {
    return [](const detail::stream_executor_t<Stream>& ex, const connection_config& cfg, node_kind) {
      return std::make_shared<basic_connection<Stream>>(ex, cfg);
    };
  } else {
    return {};  // e.g. TLS streams: pass a factory (see tls.hpp)
  }
}

}  // namespace redis_ha

#endif  // REDIS_HA_CONNECTION_FACTORY_HPP
