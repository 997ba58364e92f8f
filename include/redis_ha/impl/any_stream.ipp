#ifndef REDIS_HA_IMPL_ANY_STREAM_IPP
#define REDIS_HA_IMPL_ANY_STREAM_IPP

/// @file
/// Out-of-line part of `any_stream`: connecting (inline in header-only
/// mode, compiled once by src.hpp otherwise).

#include <redis_ha/any_stream.hpp>

#include <asio/ip/address.hpp>
#include <asio/local/stream_protocol.hpp>

#include <memory>
#include <string>
#include <vector>

namespace redis_ha {

template <class Resolver>
void any_stream::async_connect(Resolver& resolver, const address& addr, const connection_config& cfg,
                               detail::connect_progress& progress, std::function<void(std::error_code)> done) {
  using endpoint = asio::generic::stream_protocol::endpoint;
  tls_.reset();
  if (addr.is_unix()) {
#if defined(ASIO_HAS_LOCAL_SOCKETS)
    progress.phase = error::connect_timeout;
    socket_.async_connect(endpoint(asio::local::stream_protocol::endpoint(addr.unix_path())),
                          [&progress, done = std::move(done)](std::error_code ec) {
                            if (!progress.cancelled) done(ec);
                          });
#else
    done(asio::error::operation_not_supported);
#endif
    return;
  }
  auto connect = [this, &progress, host = addr.host, tls = cfg.tls, done](std::vector<endpoint> eps) {
    progress.phase = error::connect_timeout;
    detail::connect_each(socket_, std::make_shared<std::vector<endpoint>>(std::move(eps)), 0,
                         asio::error::host_not_found, progress, [this, &progress, host, tls, done](std::error_code ec) {
                           if (ec) return done(ec);
                           detail::set_tcp_options(socket_);
                           if (!tls.enabled) return done(std::error_code{});
                           progress.phase = error::tls_handshake_timeout;
                           tls_ = detail::make_tls_layer(socket_, tls, host, ec);
                           if (ec) return done(ec);
                           tls_->async_handshake(detail::any_completion<std::error_code>(
                               [&progress, done](std::error_code ec) {
                                 if (!progress.cancelled) done(ec);
                               },
                               socket_.get_executor()));
                         });
  };
  std::error_code ec;
  auto ip = asio::ip::make_address(addr.host, ec);
  if (!ec) return connect({endpoint(asio::ip::tcp::endpoint(ip, addr.port))});
  progress.phase = error::resolve_timeout;
  resolver.async_resolve(addr.host, std::to_string(addr.port),
                         [&progress, connect, done](std::error_code ec, typename Resolver::results_type r) {
                           if (progress.cancelled) return;
                           if (ec) return done(ec);
                           std::vector<endpoint> eps;
                           for (const auto& entry : r) eps.emplace_back(entry.endpoint());
                           connect(std::move(eps));
                         });
}

}  // namespace redis_ha

#endif  // REDIS_HA_IMPL_ANY_STREAM_IPP
