// Compile-time benchmark TU (iii): minimal blocking use.
#include <redis_ha/sync_client.hpp>

int main() {
  redis_ha::client_config cfg;
  cfg.addresses.push_back({"127.0.0.1", 6379});
  redis_ha::sync_client redis{cfg};
  redis.set("k", "v");
  auto v = redis.get("k");
  return v ? 0 : 1;
}
