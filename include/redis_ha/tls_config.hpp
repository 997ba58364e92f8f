#ifndef REDIS_HA_TLS_CONFIG_HPP
#define REDIS_HA_TLS_CONFIG_HPP

/// @file
/// `redis_ha::tls_config`: TLS as a run-time setting of a connection
/// (`connection_config::tls` for data nodes, `sentinel_config::tls` for
/// sentinels). Needs no OpenSSL header: the TLS code itself is compiled in
/// where OpenSSL is (docs/configuration.md, "TLS").

#include <string>

namespace asio {
namespace ssl {
class context;
}  // namespace ssl
}  // namespace asio

namespace redis_ha {

/// TLS settings of the default stream (`redis_ha::any_stream`). With
/// `enabled`, every connection made with these settings runs a TLS
/// handshake after the TCP connect and before the Redis handshake; there is
/// never a plaintext fallback. Ignored for `unix:` addresses.
///
/// TLS needs OpenSSL in the program: link `redis_ha::tls` (header-only) or
/// `redis_ha::redis_ha_compiled` built with OpenSSL, or define
/// `REDIS_HA_HAS_TLS` and link `-lssl -lcrypto`. Without it a connection
/// with `enabled` fails with `error::tls_unavailable`.
struct tls_config {
  /// Use TLS.
  bool enabled = false;
  /// Verify the server's certificate chain and host name (RFC 6125: the
  /// name below, or the host connected to). Turning this off encrypts
  /// without authenticating the server.
  bool verify_peer = true;
  /// PEM file of trusted CAs; empty: the system's default paths.
  std::string ca_file;
  /// PEM client certificate chain (for `tls-auth-clients yes`); empty: none.
  std::string cert_file;
  /// PEM private key of `cert_file`.
  std::string key_file;
  /// Name sent as SNI and checked against the certificate; empty: the host
  /// of the address connected to (IP literals are checked as IPs and never
  /// sent as SNI).
  std::string server_name;
  /// A context set up by the caller, used instead of the files above (which
  /// are then ignored; `verify_peer` still applies to the host name check
  /// only as the context's verify mode says). Must outlive every connection.
  asio::ssl::context* context = nullptr;
};

}  // namespace redis_ha

#endif  // REDIS_HA_TLS_CONFIG_HPP
