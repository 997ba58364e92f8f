#ifndef REDIS_HA_IMPL_CLIENT_IPP
#define REDIS_HA_IMPL_CLIENT_IPP

/// @file
/// The definitions behind `basic_client` (`detail::client_ops`): included
/// by client.hpp in header-only mode, by src.hpp (for `any_stream`) and by
/// tls.hpp (for `tls_stream`) in separate compilation.

#include <redis_ha/client.hpp>
#include <redis_ha/connection.hpp>
#include <redis_ha/detail/client_impl.hpp>

#include <memory>
#include <utility>

namespace redis_ha {
namespace detail {

template <class Stream>
std::shared_ptr<client_impl<Stream>> client_ops<Stream>::create(const executor_type& ex, client_config cfg,
                                                                connection_factory<Stream> factory) {
  if (!factory) factory = default_connection_factory<Stream>();
  auto impl = std::make_shared<impl_type>(ex, std::move(cfg), std::move(factory));
  impl->start();
  return impl;
}

template <class Stream>
void client_ops<Stream>::exec(impl_type& impl, request req, any_completion<std::error_code, response> handler) {
  impl.start_exec(std::move(req), std::move(handler));
}

template <class Stream>
void client_ops<Stream>::wait_ready(impl_type& impl, any_completion<std::error_code> handler) {
  impl.start_wait_ready(std::move(handler));
}

template <class Stream>
void client_ops<Stream>::close(impl_type& impl) {
  impl.close();
}

template <class Stream>
typename client_ops<Stream>::executor_type client_ops<Stream>::executor(const impl_type& impl) {
  return impl.executor();
}

template <class Stream>
bool client_ops<Stream>::ready(const impl_type& impl) {
  return impl.ready();
}

template <class Stream>
std::optional<address> client_ops<Stream>::master(const impl_type& impl) {
  return impl.master();
}

template <class Stream>
const client_stats& client_ops<Stream>::stats(const impl_type& impl) {
  return impl.stats();
}

template <class Stream>
const std::string& client_ops<Stream>::last_error_detail(const impl_type& impl) {
  return impl.last_error_detail();
}

template <class Stream>
std::string client_ops<Stream>::master_replication_id(const impl_type& impl) {
  return impl.master_replication_id();
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_IMPL_CLIENT_IPP
