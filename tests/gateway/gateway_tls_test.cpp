// The gateway over TLS to Redis (--tls, CA file, client certificate and key, SNI): the
// same redis_ha::client type as plain TCP, TLS chosen by flags at run time.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "gateway/gateway_support.hpp"
#include "support/tls.hpp"

using namespace gateway_test;
using redis_ha::test::tls_certificates;
using redis_ha::test::tls_client_auth;
using redis_ha::test::tls_node_options;
using redis_ha::test::tls_server;

TEST_CASE("gateway: --tls with a CA, a client certificate and SNI, and refused without the CA", "[gateway][tls]") {
  const auto& certs = tls_certificates::shared();
  tls_server server{certs, tls_node_options{.auth_clients = tls_client_auth::yes}};
  const std::string tls_address = "127.0.0.1:" + std::to_string(server.tls_port());
  {
    gateway_process gw({"--redis", tls_address, "--tls", "1", "--tls-ca-file", certs.ca_cert().string(),
                        "--tls-cert-file", certs.client().cert.string(), "--tls-key-file",
                        certs.client().key.string(), "--tls-server-name", "localhost"});
    INFO("gateway log:\n" << gw.log());
    const json labels = {{"alertname", "DiskFull"}, {"pod", "db-0"}, {"severity", "warning"}};
    auto created = http(gw.port(), "POST", webhook, payload({labels}, {{"namespace", "prod"}}));
    CHECK(created.status == 201);
    // Stored through TLS: the record is there (read over the harness's plaintext port), and
    // the gateway's connection arrived on the TLS port.
    CHECK(server.node().command({"XLEN", "remediation:requests"}).integer == 1);
    CHECK(redis_ha::test::client_ports(server.node(), "redis_ha_gateway") ==
          std::vector<std::uint16_t>{server.tls_port()});
  }
  {  // The CA is not given (the system's CAs do not know the test CA): never ready, never plaintext.
    gateway_process gw({"--redis", tls_address, "--tls", "1", "--tls-cert-file", certs.client().cert.string(),
                        "--tls-key-file", certs.client().key.string(), "--failover-budget-ms", "500"},
                       gateway_options{.wait_ready = false});
    INFO("gateway log:\n" << gw.log());
    CHECK(http(gw.port(), "GET", "/readyz").status == 503);
    const json labels = {{"alertname", "DiskFull"}, {"pod", "db-1"}};
    CHECK(http(gw.port(), "POST", webhook, payload({labels}, {{"namespace", "prod"}})).status == 503);
  }
}
