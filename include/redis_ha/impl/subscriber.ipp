#ifndef REDIS_HA_IMPL_SUBSCRIBER_IPP
#define REDIS_HA_IMPL_SUBSCRIBER_IPP

/// @file
/// The definitions behind `basic_subscriber` (`detail::subscriber_ops`):
/// included by subscriber.hpp in header-only mode, by src.hpp and tls.hpp
/// in separate compilation.

#include <redis_ha/connection.hpp>
#include <redis_ha/detail/client_impl.hpp>
#include <redis_ha/detail/subscriber_impl.hpp>
#include <redis_ha/subscriber.hpp>

#include <memory>
#include <utility>

namespace redis_ha {
namespace detail {

template <class Stream>
std::shared_ptr<subscriber_impl<Stream>> subscriber_ops<Stream>::create(const executor_type& ex, client_config cfg,
                                                                        connection_factory<Stream> factory) {
  if (!factory) factory = default_connection_factory<Stream>();
  auto impl = std::make_shared<impl_type>(ex, std::move(cfg), std::move(factory));
  impl->start();
  return impl;
}

template <class Stream>
std::shared_ptr<subscriber_impl<Stream>> subscriber_ops<Stream>::create_on(client_impl<Stream>& client) {
  auto impl = std::make_shared<impl_type>(client.driver(), client.config(), client.factory());
  impl->start();
  return impl;
}

template <class Stream>
void subscriber_ops<Stream>::close(impl_type& impl) {
  impl.close();
}

template <class Stream>
typename subscriber_ops<Stream>::executor_type subscriber_ops<Stream>::executor(const impl_type& impl) {
  return impl.executor();
}

template <class Stream>
void subscriber_ops<Stream>::set_message_handler(impl_type& impl, std::function<void(const message&)> h) {
  impl.set_message_handler(std::move(h));
}

template <class Stream>
void subscriber_ops<Stream>::set_event_handler(impl_type& impl, std::function<void(const subscriber_event&)> h) {
  impl.set_event_handler(std::move(h));
}

template <class Stream>
void subscriber_ops<Stream>::change(impl_type& impl, subscription_kind kind, bool add,
                                    std::vector<std::string> names) {
  impl.change(kind, add, std::move(names));
}

template <class Stream>
const std::set<std::string>& subscriber_ops<Stream>::channels(const impl_type& impl) {
  return impl.channels();
}

template <class Stream>
const std::set<std::string>& subscriber_ops<Stream>::patterns(const impl_type& impl) {
  return impl.patterns();
}

template <class Stream>
const std::set<std::string>& subscriber_ops<Stream>::shard_channels(const impl_type& impl) {
  return impl.shard_channels();
}

template <class Stream>
bool subscriber_ops<Stream>::subscribed(const impl_type& impl) {
  return impl.subscribed();
}

template <class Stream>
std::optional<address> subscriber_ops<Stream>::node(const impl_type& impl) {
  return impl.node();
}

template <class Stream>
const subscriber_stats& subscriber_ops<Stream>::stats(const impl_type& impl) {
  return impl.stats();
}

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_IMPL_SUBSCRIBER_IPP
