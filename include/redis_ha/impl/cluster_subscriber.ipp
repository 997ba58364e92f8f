#ifndef REDIS_HA_IMPL_CLUSTER_SUBSCRIBER_IPP
#define REDIS_HA_IMPL_CLUSTER_SUBSCRIBER_IPP

/// @file
/// The definitions behind `basic_cluster_subscriber`
/// (`detail::cluster_subscriber_ops`): included by cluster_subscriber.hpp in
/// header-only mode, by src.hpp in separate compilation.

#include <redis_ha/cluster_subscriber.hpp>
#include <redis_ha/detail/cluster_subscriber_impl.hpp>

#include <memory>
#include <utility>

namespace redis_ha {
namespace detail {

template <class Stream>
std::shared_ptr<cluster_subscriber_impl<Stream>> cluster_subscriber_ops<Stream>::create(cluster_impl<Stream>& cluster) {
  auto impl = std::make_shared<impl_type>(cluster.shared_from_this());
  impl->start();
  return impl;
}

template <class Stream>
void cluster_subscriber_ops<Stream>::close(impl_type& impl) {
  impl.close();
}

template <class Stream>
typename cluster_subscriber_ops<Stream>::executor_type cluster_subscriber_ops<Stream>::executor(const impl_type& impl) {
  return impl.executor();
}

template <class Stream>
void cluster_subscriber_ops<Stream>::set_message_handler(impl_type& impl, std::function<void(const message&)> h) {
  impl.set_message_handler(std::move(h));
}

template <class Stream>
void cluster_subscriber_ops<Stream>::set_event_handler(impl_type& impl,
                                                       std::function<void(const subscriber_event&)> h) {
  impl.set_event_handler(std::move(h));
}

template <class Stream>
void cluster_subscriber_ops<Stream>::change(impl_type& impl, bool add, std::vector<std::string> names) {
  impl.change(add, std::move(names));
}

template <class Stream>
const std::set<std::string>& cluster_subscriber_ops<Stream>::channels(const impl_type& impl) {
  return impl.channels();
}

template <class Stream>
std::optional<address> cluster_subscriber_ops<Stream>::node(const impl_type& impl, const std::string& channel) {
  return impl.node(channel);
}

template <class Stream>
subscriber_stats cluster_subscriber_ops<Stream>::stats(const impl_type& impl) {
  return impl.stats();
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_IMPL_CLUSTER_SUBSCRIBER_IPP
