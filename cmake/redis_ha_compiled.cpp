// The one translation unit of redis_ha::redis_ha_compiled: compiles
// redis-ha's non-template code and its default instantiations once
// (REDIS_HA_SEPARATE_COMPILATION is a PUBLIC definition of the target).
#include <redis_ha/src.hpp>
