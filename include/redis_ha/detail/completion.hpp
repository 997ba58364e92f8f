#ifndef REDIS_HA_DETAIL_COMPLETION_HPP
#define REDIS_HA_DETAIL_COMPLETION_HPP

/// @file
/// Storing an Asio completion handler for later: the handler, a
/// work-tracking copy of its associated executor (so `run()` does not
/// return while it is pending), and the Asio rules for invoking it
/// (`dispatch` from an I/O completion, `post` from an initiating function).

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/dispatch.hpp>
#include <asio/any_io_executor.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>

#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace redis_ha {
namespace detail {

/// A handler plus its associated executor, for invoking it later.
/// Outstanding work is tracked on the handler's executor only when it
/// differs from the I/O executor: while an operation is pending the
/// connection itself always has I/O outstanding on its own executor, so
/// tracking it there would only cost two atomic operations per request.
template <class Handler, class IoExecutor>
class stored_handler {
  using handler_executor = asio::associated_executor_t<Handler, IoExecutor>;
  using tracked_executor = std::decay_t<decltype(asio::prefer(std::declval<const handler_executor&>(),
                                                              asio::execution::outstanding_work.tracked))>;

 public:
  stored_handler(Handler&& h, const IoExecutor& io_ex)
      : handler_(std::move(h)), executor_(asio::get_associated_executor(handler_, io_ex)) {
    bool same = false;
    if constexpr (std::is_same_v<handler_executor, IoExecutor>) same = executor_ == io_ex;
    if (!same) work_.emplace(asio::prefer(executor_, asio::execution::outstanding_work.tracked));
  }

  /// The handler's cancellation slot (may be unconnected).
  auto cancellation_slot() const noexcept { return asio::get_associated_cancellation_slot(handler_); }

  /// Invokes on the handler's executor, inline when already running there.
  /// Use from I/O completions only.
  template <class... Args>
  void dispatch(Args&&... args) {
    // Fast path: the handler runs on the I/O object's own io_context and we
    // are inside it: call it here, as asio::dispatch would, without
    // wrapping it in a type-erased function object.
    if constexpr (std::is_same_v<handler_executor, asio::any_io_executor>) {
      if (!work_) {
        using io_executor = asio::io_context::executor_type;
        if (const io_executor* io = executor_.template target<io_executor>(); io && io->running_in_this_thread()) {
          Handler h(std::move(handler_));
          std::move(h)(std::forward<Args>(args)...);
          return;
        }
      }
    }
    auto work = std::move(work_);
    asio::dispatch(executor_, [h = std::move(handler_), a = std::make_tuple(std::forward<Args>(args)...)]() mutable {
      std::apply(std::move(h), std::move(a));
    });
  }

  /// Invokes later on the handler's executor, never inline. Use when
  /// completing from inside an initiating function.
  template <class... Args>
  void post(Args&&... args) {
    auto work = std::move(work_);
    asio::post(executor_, [h = std::move(handler_), a = std::make_tuple(std::forward<Args>(args)...)]() mutable {
      std::apply(std::move(h), std::move(a));
    });
  }

 private:
  Handler handler_;
  handler_executor executor_;
  std::optional<tracked_executor> work_;
};

/// Type-erased one-shot completion with signature `void(Args...)`.
template <class... Args>
class any_completion {
 public:
  any_completion() = default;

  /// Stores `handler`, to run on its associated executor (default `io_ex`).
  template <class Handler, class IoExecutor,
            std::enable_if_t<!std::is_same_v<std::decay_t<Handler>, any_completion>, int> = 0>
  any_completion(Handler&& handler, const IoExecutor& io_ex)
      : impl_(std::make_unique<impl<std::decay_t<Handler>, IoExecutor>>(std::forward<Handler>(handler), io_ex)) {}
  /// Takes over an already type-erased completion (no second wrapper).
  template <class IoExecutor>
  any_completion(any_completion&& other, const IoExecutor&) noexcept : impl_(std::move(other.impl_)) {}

  /// True while a handler is stored.
  explicit operator bool() const noexcept { return static_cast<bool>(impl_); }

  /// Completes through `dispatch` and empties this object.
  void dispatch(Args... args) {
    auto p = std::move(impl_);
    if (p) p->dispatch(std::move(args)...);
  }
  /// Completes through `post` and empties this object.
  void post(Args... args) {
    auto p = std::move(impl_);
    if (p) p->post(std::move(args)...);
  }

 private:
  struct base {
    virtual ~base() = default;
    virtual void dispatch(Args... args) = 0;
    virtual void post(Args... args) = 0;
  };
  template <class Handler, class IoExecutor>
  struct impl final : base {
    impl(Handler&& h, const IoExecutor& ex) : stored(std::move(h), ex) {}
    void dispatch(Args... args) override { stored.dispatch(std::move(args)...); }
    void post(Args... args) override { stored.post(std::move(args)...); }
    stored_handler<Handler, IoExecutor> stored;
  };
  std::unique_ptr<base> impl_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_COMPLETION_HPP
