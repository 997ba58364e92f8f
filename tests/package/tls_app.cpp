// Builds against redis_ha::tls of an installed redis-ha (the find_package
// consumer): a TLS connection and a TLS HA client can be declared and linked.
#include <redis_ha/tls.hpp>

#include <asio/io_context.hpp>

int main() {
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  redis_ha::tls_connection conn(io.get_executor(), {}, ctx);
  redis_ha::client_config cfg;
  cfg.addresses = {{"127.0.0.1", 6379}};
  redis_ha::tls_client client(io.get_executor(), cfg, redis_ha::tls_connection_factory(ctx));
  client.close();
  return 0;
}
