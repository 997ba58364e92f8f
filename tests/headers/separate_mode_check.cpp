// Separate compilation (REDIS_HA_SEPARATE_COMPILATION): what a user's file no longer
// parses. Compiled (never run) as part of the header check; a failure is a build error.
#include <redis_ha/sync_client.hpp>

// The blocking facade includes neither Asio nor the client templates.
#if defined(ASIO_DETAIL_CONFIG_HPP)
#error "sync_client.hpp includes Asio in separate compilation"
#endif
#if defined(REDIS_HA_CLIENT_HPP) || defined(REDIS_HA_DETAIL_CLIENT_IMPL_HPP) || defined(REDIS_HA_DETAIL_CONNECTION_IMPL_HPP)
#error "sync_client.hpp includes the client in separate compilation"
#endif
#if defined(REDIS_HA_DETAIL_LOG_FORMAT_HPP) || defined(FMT_FORMAT_H_)
#error "sync_client.hpp includes fmt in separate compilation"
#endif

#include <redis_ha/client.hpp>
#include <redis_ha/subscriber.hpp>

// The async client and the subscriber reach their implementation through
// client_ops / subscriber_ops: the HA machinery and the sockets stay out.
#if defined(REDIS_HA_DETAIL_CLIENT_IMPL_HPP) || defined(REDIS_HA_DETAIL_MASTER_DRIVER_HPP) || \
    defined(REDIS_HA_DETAIL_SUBSCRIBER_IMPL_HPP) || defined(REDIS_HA_DETAIL_CONNECTION_IMPL_HPP) || \
    defined(REDIS_HA_ANY_STREAM_HPP)
#error "client.hpp / subscriber.hpp include their implementation in separate compilation"
#endif

#include <redis_ha/cluster_subscriber.hpp>

// The cluster client and its subscriber likewise (cluster_ops, cluster_subscriber_ops).
#if defined(REDIS_HA_DETAIL_CLUSTER_IMPL_HPP) || defined(REDIS_HA_DETAIL_CLUSTER_SUBSCRIBER_IMPL_HPP) || \
    defined(REDIS_HA_DETAIL_SUBSCRIBER_IMPL_HPP) || defined(REDIS_HA_DETAIL_CONNECTION_IMPL_HPP)
#error "cluster_client.hpp / cluster_subscriber.hpp include their implementation in separate compilation"
#endif

int redis_ha_separate_mode_check() { return 0; }
