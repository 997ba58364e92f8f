#ifndef REDIS_HA_IMPL_TLS_LAYER_IPP
#define REDIS_HA_IMPL_TLS_LAYER_IPP

/// @file
/// The OpenSSL implementation of `detail::tls_layer`. Compiled in by
/// `src.hpp` (separate compilation, when `REDIS_HA_HAS_TLS` is defined), by
/// `any_stream.hpp` in header-only mode with `REDIS_HA_HAS_TLS`, and by
/// `tls.hpp`. Including it registers the maker at static initialization.

#include <redis_ha/detail/tls_layer.hpp>

#include <asio/ip/address.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <asio/ssl/stream.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace redis_ha {
namespace detail {

/// `asio::ssl::stream` over the `any_stream`'s socket.
class openssl_layer final : public tls_layer {
 public:
  openssl_layer(asio::generic::stream_protocol::socket& socket, std::shared_ptr<asio::ssl::context> owned,
                asio::ssl::context& ctx)
      : owned_(std::move(owned)), stream_(socket, ctx) {}

  /// SNI (host names only: RFC 6066 forbids IP literals) and RFC 6125 host
  /// name verification (enforced when the context verifies peers).
  std::error_code prepare(const std::string& name, bool verify) {
    std::error_code ec;
    (void)asio::ip::make_address(name, ec);
    if (ec && !name.empty()) {
      ::ERR_clear_error();
      if (SSL_set_tlsext_host_name(stream_.native_handle(), const_cast<char*>(name.c_str())) != 1) {
        if (const unsigned long err = ::ERR_get_error())
          return std::error_code(static_cast<int>(err), asio::error::get_ssl_category());
        return asio::ssl::error::unspecified_system_error;
      }
    }
    ec.clear();
    if (verify) stream_.set_verify_callback(asio::ssl::host_name_verification(name), ec);
    return ec;
  }

  void async_handshake(any_completion<std::error_code> done) override {
    stream_.async_handshake(asio::ssl::stream_base::client,
                            [d = std::move(done)](std::error_code ec) mutable { d.dispatch(ec); });
  }
  void async_read_some(asio::mutable_buffer b, any_completion<std::error_code, std::size_t> done) override {
    stream_.async_read_some(b, [d = std::move(done)](std::error_code ec, std::size_t n) mutable { d.dispatch(ec, n); });
  }
  void async_write_some(asio::const_buffer b, any_completion<std::error_code, std::size_t> done) override {
    stream_.async_write_some(b,
                             [d = std::move(done)](std::error_code ec, std::size_t n) mutable { d.dispatch(ec, n); });
  }
  void* native_handle() noexcept override { return stream_.native_handle(); }

 private:
  std::shared_ptr<asio::ssl::context> owned_;  // null when the caller gave a context
  asio::ssl::stream<asio::generic::stream_protocol::socket&> stream_;
};

/// Builds the context from the files of `cfg` (or takes `cfg.context`) and
/// the session for `host`.
inline std::unique_ptr<tls_layer> make_openssl_layer(asio::generic::stream_protocol::socket& socket,
                                                     const tls_config& cfg, const std::string& host,
                                                     std::error_code& ec) {
  ec.clear();
  std::shared_ptr<asio::ssl::context> owned;
  asio::ssl::context* ctx = cfg.context;
  if (!ctx) {
    owned = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    if (cfg.verify_peer) {
      owned->set_verify_mode(asio::ssl::verify_peer, ec);
      if (!ec) cfg.ca_file.empty() ? (void)owned->set_default_verify_paths(ec) : (void)owned->load_verify_file(cfg.ca_file, ec);
    } else {
      owned->set_verify_mode(asio::ssl::verify_none, ec);
    }
    if (!ec && !cfg.cert_file.empty()) owned->use_certificate_chain_file(cfg.cert_file, ec);
    if (!ec && !cfg.key_file.empty()) owned->use_private_key_file(cfg.key_file, asio::ssl::context::pem, ec);
    if (ec) return nullptr;
    ctx = owned.get();
  }
  auto layer = std::make_unique<openssl_layer>(socket, std::move(owned), *ctx);
  const std::string& name = cfg.server_name.empty() ? host : cfg.server_name;
  if ((ec = layer->prepare(name, cfg.context != nullptr || cfg.verify_peer))) return nullptr;
  return layer;
}

/// Registers the OpenSSL maker when this file is part of the program.
inline const bool openssl_layer_registered = (tls_layer_registry() = &make_openssl_layer, true);

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_IMPL_TLS_LAYER_IPP
