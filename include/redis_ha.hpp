#ifndef REDIS_HA_HPP
#define REDIS_HA_HPP

/// @file
/// Umbrella header: everything public in redis-ha.

#include <redis_ha/address.hpp>
#include <redis_ha/client.hpp>
#include <redis_ha/client_config.hpp>
#include <redis_ha/client_event.hpp>
#include <redis_ha/cluster_client.hpp>
#include <redis_ha/cluster_config.hpp>
#include <redis_ha/cluster_subscriber.hpp>
#include <redis_ha/command_traits.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_config.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/connection_stats.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/logger.hpp>
#include <redis_ha/reply.hpp>
#include <redis_ha/reply_converter.hpp>
#include <redis_ha/request.hpp>
#include <redis_ha/script.hpp>
#include <redis_ha/sentinel.hpp>
#include <redis_ha/subscriber.hpp>
#include <redis_ha/sync_client.hpp>
#include <redis_ha/sync_cluster_client.hpp>
#include <redis_ha/sync_subscriber.hpp>
#include <redis_ha/typed.hpp>

#endif  // REDIS_HA_HPP
