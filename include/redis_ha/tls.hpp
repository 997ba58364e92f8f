#ifndef REDIS_HA_TLS_HPP
#define REDIS_HA_TLS_HPP

/// @file
/// TLS for redis-ha with a stream type of its own: `tls_connection`,
/// `tls_client`, `tls_sentinel` over `asio::ssl::stream<asio::ip::tcp::socket>`,
/// and `tls_connection_factory`, which gives data nodes and sentinels their
/// own `asio::ssl::context`. Including it also compiles in the OpenSSL part
/// of the default stream, so `redis_ha::client` with
/// `connection_config::tls.enabled` works (the simpler way: see
/// `tls_config.hpp`; one client type for TCP, TLS and UNIX sockets).
///
/// Needs OpenSSL: link `redis_ha::tls` (CMake) or `-lssl -lcrypto`.
///
/// ```cpp
/// asio::ssl::context tls{asio::ssl::context::tls_client};
/// tls.load_verify_file("ca.crt");                 // or set_default_verify_paths()
/// tls.set_verify_mode(asio::ssl::verify_peer);    // verification is off without it
/// redis_ha::tls_client redis{ioc.get_executor(), cfg, redis_ha::tls_connection_factory(tls)};
/// ```
///
/// What a TLS connection does, in order: TCP connect, then
/// `detail::tls_setup::prepare` (SNI and host name verification, below),
/// then the TLS handshake, and only then the Redis handshake (AUTH, SELECT,
/// CLIENT SETNAME) over TLS. There is never a plaintext fallback: a failed
/// TLS handshake closes the connection with the OpenSSL error (e.g.
/// "certificate verify failed (SSL routines)"), before any Redis command is
/// sent. A TLS connection to a plaintext Redis port fails too: Redis never
/// answers a ClientHello, so it ends with `error::handshake_timeout` after
/// `connection_config::connect_timeout` (a server that answers gives an
/// OpenSSL error such as "wrong version number (SSL routines)").
///
/// Include this header in every translation unit that uses the TLS types
/// (`redis_ha.hpp` does not include it): the `tls_setup` specialization it
/// declares must be visible wherever `basic_connection<tls_stream>` is
/// instantiated, or no host name check is made.

#include <redis_ha/client.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/connection_config.hpp>
#include <redis_ha/connection_factory.hpp>
#include <redis_ha/detail/connection_impl.hpp>
#include <redis_ha/impl/client.ipp>
#include <redis_ha/impl/subscriber.ipp>
#include <redis_ha/impl/tls_layer.ipp>
#include <redis_ha/sentinel.hpp>

#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <asio/ssl/stream.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <system_error>

namespace redis_ha {

/// The TLS stream: OpenSSL over a TCP socket.
using tls_stream = asio::ssl::stream<asio::ip::tcp::socket>;

namespace detail {

/// Prepares a client TLS handshake to `host` (the host of the address given
/// to `async_connect`, before any name resolution):
///
/// - **SNI**: when `host` is a host name, it is sent as the TLS server name
///   (`SSL_set_tlsext_host_name`). IP literals are not sent: RFC 6066 forbids
///   them in SNI.
/// - **Host name verification**: the peer certificate must match `host`
///   (`asio::ssl::host_name_verification`, RFC 6125). For a host name, a DNS
///   subjectAltName (wildcards allowed) or, without any, the common name; for
///   an IP literal (`127.0.0.1`, `::1`), an IP subjectAltName equal to it.
///   This check is part of certificate verification, so it is enforced only
///   when the `asio::ssl::context` (or the stream) uses
///   `asio::ssl::verify_peer`; with `verify_none` the handshake succeeds
///   whatever the certificate says.
///
/// Returns the OpenSSL error if SNI cannot be set (the connection is then
/// closed with it).
template <>
struct tls_setup<tls_stream> {
  /// Sets SNI and the verification callback on `stream` for `host`.
  static std::error_code prepare(tls_stream& stream, const std::string& host) {
    std::error_code ec;
    (void)asio::ip::make_address(host, ec);
    const bool ip_literal = !ec;
    if (!ip_literal && !host.empty()) {
      ::ERR_clear_error();
      // A macro around SSL_ctrl taking a non-const char*; it copies the name.
      if (SSL_set_tlsext_host_name(stream.native_handle(), const_cast<char*>(host.c_str())) != 1) {
        if (const unsigned long err = ::ERR_get_error())
          return std::error_code(static_cast<int>(err), asio::error::get_ssl_category());
        return asio::ssl::error::unspecified_system_error;
      }
    }
    ec.clear();
    stream.set_verify_callback(asio::ssl::host_name_verification(host), ec);
    return ec;
  }
};

}  // namespace detail

/// One connection to one Redis server over TLS. Construct it with the
/// executor, the settings and an `asio::ssl::context&` that outlives it:
/// `tls_connection conn{ex, cfg, ctx};`.
using tls_connection = basic_connection<tls_stream>;

/// The HA client over TLS. Construct it with a factory from
/// `tls_connection_factory` (the default factory cannot create TLS streams).
using tls_client = basic_client<tls_stream>;

/// Sentinel discovery over TLS. Construct it with a factory from
/// `tls_connection_factory`.
using tls_sentinel = basic_sentinel<tls_stream>;

/// A factory for `tls_client` / `tls_sentinel` with separate TLS settings:
/// connections to data nodes (masters, replicas) use `data_nodes`,
/// connections to sentinels use `sentinels` (e.g. another CA, another
/// client certificate).
///
/// Both contexts are taken by reference and must outlive the client (or
/// sentinel) and every connection it creates. Configure them before the
/// first connection and do not change them afterwards (OpenSSL contexts may
/// be shared between threads once set up).
///
/// Certificates are verified, including the host name check described in
/// `detail::tls_setup<tls_stream>`, **only if the context says so**: call
/// `ctx.set_verify_mode(asio::ssl::verify_peer)` and give it the trusted
/// CA (`load_verify_file`, `add_certificate_authority` or
/// `set_default_verify_paths`). This is strongly recommended; without it any
/// certificate is accepted and the connection is encrypted but not
/// authenticated.
///
/// For `tls-auth-clients yes` servers, load a client certificate and key
/// into the context (`use_certificate_chain_file`, `use_private_key_file`).
///
/// Names are checked against the address actually connected to, after
/// `client_config::address_map`. With Sentinel that is the address Sentinel
/// announces, usually an IP: the data nodes' certificates then need that IP
/// as a subjectAltName, unless the sentinels announce host names
/// (`sentinel resolve-hostnames yes` + `sentinel announce-hostnames yes`) or
/// `address_map` maps the IPs to names. Sentinels learned through
/// `SENTINEL sentinels` are likewise reached (and checked) by their IP.
inline connection_factory<tls_stream> tls_connection_factory(asio::ssl::context& data_nodes,
                                                             asio::ssl::context& sentinels) {
  asio::ssl::context* data_ctx = &data_nodes;
  asio::ssl::context* sentinel_ctx = &sentinels;
  return [data_ctx, sentinel_ctx](const tls_stream::executor_type& ex, const connection_config& cfg,
                                  node_kind kind) {
    return std::make_shared<tls_connection>(ex, cfg, kind == node_kind::sentinel ? *sentinel_ctx : *data_ctx);
  };
}

/// A factory using one context for data nodes and sentinels alike. The
/// context must outlive the client; see the two-context overload for
/// verification.
inline connection_factory<tls_stream> tls_connection_factory(asio::ssl::context& ctx) {
  return tls_connection_factory(ctx, ctx);
}

}  // namespace redis_ha

#endif  // REDIS_HA_TLS_HPP
