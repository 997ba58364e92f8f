#ifndef REDIS_HA_DETAIL_TLS_LAYER_HPP
#define REDIS_HA_DETAIL_TLS_LAYER_HPP

/// @file
/// The TLS alternative of `any_stream`, behind an interface so that the
/// stream's layout and code do not depend on OpenSSL being there. The
/// OpenSSL implementation (`impl/tls_layer.ipp`) registers its maker when it
/// is compiled into the program; without it, `make_tls_layer` reports
/// `error::tls_unavailable`.

#include <redis_ha/detail/completion.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/tls_config.hpp>

#include <asio/buffer.hpp>
#include <asio/generic/stream_protocol.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>

namespace redis_ha {
namespace detail {

/// A client TLS session over a connected socket it does not own.
class tls_layer {
 public:
  virtual ~tls_layer() = default;
  /// The client handshake (SNI and host name verification are set up already).
  virtual void async_handshake(any_completion<std::error_code> done) = 0;
  /// Reads decrypted bytes.
  virtual void async_read_some(asio::mutable_buffer b, any_completion<std::error_code, std::size_t> done) = 0;
  /// Writes bytes (encrypted on the wire).
  virtual void async_write_some(asio::const_buffer b, any_completion<std::error_code, std::size_t> done) = 0;
  /// OpenSSL's `SSL*`.
  virtual void* native_handle() noexcept = 0;
};

/// Creates a TLS session for `host` over `socket`.
using tls_layer_maker = std::unique_ptr<tls_layer> (*)(asio::generic::stream_protocol::socket& socket,
                                                       const tls_config& cfg, const std::string& host,
                                                       std::error_code& ec);

/// The registered maker (none while no TLS implementation is linked in).
inline tls_layer_maker& tls_layer_registry() noexcept {
  static tls_layer_maker maker = nullptr;
  return maker;
}

/// Creates a TLS session, or fails with `error::tls_unavailable` when the
/// program has no TLS implementation, or with OpenSSL's error.
inline std::unique_ptr<tls_layer> make_tls_layer(asio::generic::stream_protocol::socket& socket,
                                                 const tls_config& cfg, const std::string& host,
                                                 std::error_code& ec) {
  if (tls_layer_maker maker = tls_layer_registry()) return maker(socket, cfg, host, ec);
  ec = error::tls_unavailable;
  return nullptr;
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_TLS_LAYER_HPP
