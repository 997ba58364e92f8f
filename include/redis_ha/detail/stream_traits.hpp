#ifndef REDIS_HA_DETAIL_STREAM_TRAITS_HPP
#define REDIS_HA_DETAIL_STREAM_TRAITS_HPP

/// @file
/// The executor type of a stream, known for `any_stream` without its
/// definition: the public class templates name it, so that with separate
/// compilation a file using `redis_ha::client` does not parse the socket
/// headers.

#include <asio/any_io_executor.hpp>

namespace redis_ha {

class any_stream;

namespace detail {

/// `Stream::executor_type`.
template <class Stream>
struct stream_executor {
  using type = typename Stream::executor_type;
};
/// `any_stream::executor_type`, without the definition of `any_stream`.
template <>
struct stream_executor<any_stream> {
  using type = asio::any_io_executor;
};
/// The executor type of `Stream`.
template <class Stream>
using stream_executor_t = typename stream_executor<Stream>::type;

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_STREAM_TRAITS_HPP
