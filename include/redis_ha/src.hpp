#ifndef REDIS_HA_SRC_HPP
#define REDIS_HA_SRC_HPP

/// @file
/// Separate compilation: include this in exactly one .cpp of the program,
/// with `REDIS_HA_SEPARATE_COMPILATION` defined there and in every other
/// file that includes redis-ha (or link `redis_ha::redis_ha_compiled`,
/// which does both). It compiles the non-template code once and explicitly
/// instantiates the default types (`client`, `connection`, `sentinel`,
/// `subscriber`, `cluster_client`, `cluster_subscriber`, `sync_client`, `sync_subscriber`), which the headers
/// declare `extern template`. Define `REDIS_HA_HAS_TLS` here (and link
/// OpenSSL) to compile in TLS for the default stream.

#if !defined(REDIS_HA_SEPARATE_COMPILATION)
#error "redis_ha/src.hpp is for separate compilation: define REDIS_HA_SEPARATE_COMPILATION in every file"
#endif

#include <redis_ha.hpp>

#include <redis_ha/impl/any_stream.ipp>
#include <redis_ha/impl/client.ipp>
#include <redis_ha/impl/cluster_client.ipp>
#include <redis_ha/impl/cluster_subscriber.ipp>
#include <redis_ha/impl/subscriber.ipp>
#include <redis_ha/impl/sync_client.ipp>
#if defined(REDIS_HA_HAS_TLS)
#include <redis_ha/impl/tls_layer.ipp>
#endif

namespace redis_ha {

template void any_stream::async_connect(asio::ip::tcp::resolver&, const address&, const connection_config&,
                                        detail::connect_progress&, std::function<void(std::error_code)>);
template class detail::connection_impl<any_stream>;
template class basic_connection<any_stream>;
template struct detail::client_ops<any_stream>;
template struct detail::cluster_ops<any_stream>;
template struct detail::cluster_subscriber_ops<any_stream>;
template struct detail::subscriber_ops<any_stream>;
template class basic_sentinel<any_stream>;

}  // namespace redis_ha

#endif  // REDIS_HA_SRC_HPP
