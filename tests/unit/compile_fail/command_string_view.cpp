// expect: the reply is gone when command returns
// sync_client::command<std::string_view> would return a view into a destroyed reply.
#include <redis_ha/sync_client.hpp>

#include <string_view>

std::string_view refused(redis_ha::sync_client& redis) { return redis.command<std::string_view>("GET", "k"); }
