#ifndef REDIS_HA_DETAIL_EXEC_OP_HPP
#define REDIS_HA_DETAIL_EXEC_OP_HPP

/// @file
/// `exec_op`: the queue entry of one `basic_connection::async_exec`,
/// carrying the caller's handler.

#include <redis_ha/connection_stats.hpp>
#include <redis_ha/detail/completion.hpp>
#include <redis_ha/detail/exec_queue.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>

#include <asio/associated_allocator.hpp>
#include <asio/recycling_allocator.hpp>

#include <memory>
#include <new>
#include <system_error>
#include <utility>

namespace redis_ha {
namespace detail {

/// A pending async_exec: the queue entry carries the handler. Allocated
/// with the handler's associated allocator (Asio's recycling allocator by
/// default), as Asio allocates its own operations.
template <class Handler, class Executor>
class exec_op final : public exec_entry {
  using executor_type = Executor;
  using allocator_type = typename std::allocator_traits<
      asio::associated_allocator_t<Handler, asio::recycling_allocator<void>>>::template rebind_alloc<exec_op>;

 public:
  exec_op(Handler&& h, const executor_type& ex, connection_stats& stats, const bool& defer,
          const allocator_type& alloc)
      : handler_(std::move(h), ex), stats_(stats), defer_(defer), alloc_(alloc) {}

  static exec_queue::entry_ptr create(Handler&& h, const executor_type& ex, connection_stats& stats,
                                      const bool& defer) {
    allocator_type alloc(asio::get_associated_allocator(h, asio::recycling_allocator<void>()));
    exec_op* p = std::allocator_traits<allocator_type>::allocate(alloc, 1);
    try {
      ::new (static_cast<void*>(p)) exec_op(std::move(h), ex, stats, defer, alloc);
    } catch (...) {
      std::allocator_traits<allocator_type>::deallocate(alloc, p, 1);
      throw;
    }
    return exec_queue::entry_ptr(p);
  }

  void destroy() noexcept override {
    allocator_type alloc(alloc_);
    this->~exec_op();
    std::allocator_traits<allocator_type>::deallocate(alloc, this, 1);
  }

  bool has_slot = false;
  void post_error(std::error_code ec) { handler_.post(ec, response{}); }

 private:
  void on_complete(std::error_code ec, response replies) override {
    if (ec == error::request_timeout) ++stats_.timeouts;
    if (has_slot) handler_.cancellation_slot().clear();
    if (defer_)
      handler_.post(ec, std::move(replies));
    else
      handler_.dispatch(ec, std::move(replies));
  }
  stored_handler<Handler, executor_type> handler_;
  connection_stats& stats_;
  const bool& defer_;  // the owner's defer_completions_
  allocator_type alloc_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_EXEC_OP_HPP
