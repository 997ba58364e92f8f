#ifndef REDIS_HA_ANY_STREAM_HPP
#define REDIS_HA_ANY_STREAM_HPP

/// @file
/// `redis_ha::any_stream`: the default stream of every redis-ha type. Plain
/// TCP, TLS over TCP or a UNIX-domain socket, chosen at connect time from
/// the address (`unix:/path`) and `connection_config::tls`, so one client
/// type serves all three.

#include <redis_ha/address.hpp>
#include <redis_ha/connection_config.hpp>
#include <redis_ha/detail/completion.hpp>
#include <redis_ha/detail/config.hpp>
#include <redis_ha/detail/stream_connect.hpp>
#include <redis_ha/detail/tls_layer.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <system_error>
#include <utility>

namespace redis_ha {

/// A connected byte stream over TCP, TLS or a UNIX-domain socket (an Asio
/// AsyncReadStream / AsyncWriteStream). `basic_connection` connects it;
/// until then it is closed. Plain TCP and UNIX reads and writes go straight
/// to the socket; TLS ones through OpenSSL (one type-erased handler per
/// operation).
class any_stream {
 public:
  /// The executor type.
  using executor_type = asio::any_io_executor;
  /// The socket: TCP or UNIX (`asio::generic::stream_protocol`).
  using lowest_layer_type = asio::generic::stream_protocol::socket;

  /// A closed stream.
  explicit any_stream(const executor_type& ex) : socket_(ex) {}
  any_stream(any_stream&&) noexcept = default;
  any_stream& operator=(any_stream&&) noexcept = default;
  ~any_stream() = default;

  /// The executor.
  executor_type get_executor() noexcept { return socket_.get_executor(); }
  /// The socket (TCP or UNIX), e.g. for socket options.
  lowest_layer_type& lowest_layer() noexcept { return socket_; }
  /// True once connected with TLS.
  bool is_tls() const noexcept { return tls_ != nullptr; }
  /// OpenSSL's `SSL*` of a TLS stream (null otherwise).
  void* tls_native_handle() noexcept { return tls_ ? tls_->native_handle() : nullptr; }

  /// Reads some bytes.
  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(*asio::buffer_sequence_begin(buffers),
                            detail::any_completion<std::error_code, std::size_t>(std::forward<Handler>(handler),
                                                                                 socket_.get_executor()));
    } else {
      socket_.async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  /// Writes some bytes.
  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_write_some(*asio::buffer_sequence_begin(buffers),
                             detail::any_completion<std::error_code, std::size_t>(std::forward<Handler>(handler),
                                                                                  socket_.get_executor()));
    } else {
      socket_.async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

  /// Connects to `addr`: a `unix:` path, or TCP (resolving host names) with
  /// TCP_NODELAY and keep-alive, then the TLS handshake when `cfg.tls` says
  /// so. `done(ec)` runs unless `progress.cancelled` was set meanwhile.
  /// (A template only so that a file that does not connect one does not
  /// instantiate it; `Resolver` is `asio::ip::tcp::resolver`.)
  template <class Resolver>
  void async_connect(Resolver& resolver, const address& addr, const connection_config& cfg,
                     detail::connect_progress& progress, std::function<void(std::error_code)> done);

 private:
  lowest_layer_type socket_;
  std::unique_ptr<detail::tls_layer> tls_;
};

namespace detail {

/// `any_stream` connects itself.
template <>
struct stream_connector<any_stream> {
  template <class Resolver>
  static void async_connect(any_stream& stream, Resolver& resolver, const address& addr,
                            const connection_config& cfg, connect_progress& progress,
                            std::function<void(std::error_code)> done) {
    stream.async_connect(resolver, addr, cfg, progress, std::move(done));
  }
};

}  // namespace detail
}  // namespace redis_ha

#if !defined(REDIS_HA_HEADER_ONLY)
namespace redis_ha {
extern template void any_stream::async_connect(asio::ip::tcp::resolver&, const address&, const connection_config&,
                                               detail::connect_progress&, std::function<void(std::error_code)>);
}  // namespace redis_ha
#endif

#if defined(REDIS_HA_HEADER_ONLY)
#include <redis_ha/impl/any_stream.ipp>
#if defined(REDIS_HA_HAS_TLS)
#include <redis_ha/impl/tls_layer.ipp>
#endif
#endif

#endif  // REDIS_HA_ANY_STREAM_HPP
