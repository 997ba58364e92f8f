#ifndef REDIS_HA_IMPL_CLUSTER_CLIENT_IPP
#define REDIS_HA_IMPL_CLUSTER_CLIENT_IPP

/// @file
/// The definitions behind `basic_cluster_client` (`detail::cluster_ops`):
/// included by cluster_client.hpp in header-only mode, by src.hpp (for
/// `any_stream`) in separate compilation.

#include <redis_ha/cluster_client.hpp>
#include <redis_ha/detail/cluster_impl.hpp>

#include <memory>
#include <utility>

namespace redis_ha {
namespace detail {

template <class Stream>
std::shared_ptr<cluster_impl<Stream>> cluster_ops<Stream>::create(const executor_type& ex, cluster_config cfg,
                                                                  connection_factory<Stream> factory) {
  if (!factory) factory = default_connection_factory<Stream>();
  auto impl = std::make_shared<impl_type>(ex, std::move(cfg), std::move(factory));
  impl->start();
  return impl;
}

template <class Stream>
void cluster_ops<Stream>::exec(impl_type& impl, request req, any_completion<std::error_code, response> handler) {
  impl.start_exec(std::move(req), std::move(handler));
}

template <class Stream>
void cluster_ops<Stream>::close(impl_type& impl) {
  impl.close();
}

template <class Stream>
typename cluster_ops<Stream>::executor_type cluster_ops<Stream>::executor(const impl_type& impl) {
  return impl.executor();
}

template <class Stream>
bool cluster_ops<Stream>::ready(const impl_type& impl) {
  return impl.ready();
}

template <class Stream>
std::optional<address> cluster_ops<Stream>::master_for(const impl_type& impl, int slot) {
  return impl.master_for(slot);
}

template <class Stream>
const cluster_stats& cluster_ops<Stream>::stats(const impl_type& impl) {
  return impl.stats();
}

template <class Stream>
const std::string& cluster_ops<Stream>::last_error_detail(const impl_type& impl) {
  return impl.last_error_detail();
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_IMPL_CLUSTER_CLIENT_IPP
