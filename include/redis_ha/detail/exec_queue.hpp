#ifndef REDIS_HA_DETAIL_EXEC_QUEUE_HPP
#define REDIS_HA_DETAIL_EXEC_QUEUE_HPP

/// @file
/// The sans-I/O heart of a connection: requests waiting to be written,
/// requests waiting for replies, FIFO reply matching, automatic pipelining
/// (all unwritten bytes leave in one batch), timeouts, cancellation and
/// failing everything on connection loss. No sockets, no timers: the
/// connection drives it, unit tests drive it directly.

#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redis_ha {
namespace detail {

using clock = std::chrono::steady_clock;

/// One queued request. The I/O layer derives from it to carry the
/// completion handler; `complete` is called exactly once.
class exec_entry {
 public:
  virtual ~exec_entry() = default;

  /// Destroys and frees this entry; an entry allocated with a custom
  /// allocator (the handler's, as Asio does) overrides it.
  virtual void destroy() noexcept { delete this; }

  /// Replies this entry waits for (one per command).
  std::size_t expected = 1;
  /// When the request times out (`time_point::max()`: never).
  clock::time_point deadline = clock::time_point::max();

  /// True once its bytes were handed to the writer.
  bool written() const noexcept { return written_; }
  /// True once `complete` ran (an abandoned entry still waits for its
  /// replies, which are then discarded).
  bool done() const noexcept { return done_; }

 protected:
  /// Delivers the outcome. Called exactly once, never while the queue is
  /// in an inconsistent state, so it may push new requests.
  virtual void on_complete(std::error_code ec, response replies) = 0;

 private:
  friend class exec_queue;
  void finish(std::error_code ec, response replies) {
    done_ = true;
    on_complete(ec, std::move(replies));
  }

  std::size_t offset_ = 0;  // position of its bytes in the unwritten buffer
  std::size_t length_ = 0;
  bool written_ = false;
  bool done_ = false;
  response replies_;
};

/// Limits on what may be queued.
struct queue_limits {
  std::size_t max_requests = std::size_t{1} << 20;  ///< entries, written or not
  std::size_t max_bytes = std::size_t{64} << 20;    ///< unwritten bytes
};

/// Deleter of queue entries: calls `exec_entry::destroy`.
struct entry_deleter {
  void operator()(exec_entry* e) const noexcept { e->destroy(); }
};

/// FIFO of requests on one connection.
class exec_queue {
 public:
  /// Owning pointer to an entry.
  using entry_ptr = std::unique_ptr<exec_entry, entry_deleter>;

  /// An empty queue.
  explicit exec_queue(queue_limits limits = {}) : limits_{limits} {}

  /// Queues `entry` whose encoded commands are `payload`. On
  /// `error::queue_full` the entry is left with the caller.
  std::error_code push(entry_ptr& entry, std::string_view payload) {
    if (entries_.size() >= limits_.max_requests || unwritten_.size() + payload.size() > limits_.max_bytes)
      return error::queue_full;
    entry->offset_ = unwritten_.size();
    entry->length_ = payload.size();
    unwritten_.append(payload.data(), payload.size());
    entries_.push_back(std::move(entry));
    ++unwritten_count_;
    return {};
  }

  /// True when some bytes wait to be written.
  bool has_unwritten() const noexcept { return !unwritten_.empty(); }
  /// Bytes waiting to be written.
  std::size_t unwritten_bytes() const noexcept { return unwritten_.size(); }
  /// Entries in the queue, written or not, including abandoned ones.
  std::size_t size() const noexcept { return entries_.size(); }
  /// True when nothing is queued.
  bool empty() const noexcept { return entries_.empty(); }

  /// Hands every unwritten byte to the writer in one batch: swaps the
  /// internal buffer with `out` (which must be empty; capacities are kept
  /// on both sides) and marks those entries written. Returns how many
  /// requests the batch holds.
  std::size_t take_unwritten(std::string& out) {
    out.swap(unwritten_);
    unwritten_.clear();
    std::size_t n = unwritten_count_;
    for (std::size_t i = entries_.size() - n; i < entries_.size(); ++i) entries_[i]->written_ = true;
    unwritten_count_ = 0;
    return n;
  }

  /// Delivers the next reply read from the server to the oldest written
  /// request. Completes it when its last reply arrived. Returns
  /// `error::unexpected_reply` if no written request waits.
  std::error_code on_reply(reply&& r) {
    if (entries_.size() == unwritten_count_) return error::unexpected_reply;
    exec_entry& head = *entries_.front();
    if (!head.done_) {
      if (head.replies_.empty()) head.replies_.reserve(head.expected);
      head.replies_.push_back(std::move(r));
      if (head.replies_.size() < head.expected) return {};
    } else if (++head.length_ < head.expected) {
      return {};  // abandoned: count and drop (length_ is free once written)
    }
    entry_ptr e = std::move(entries_.front());
    entries_.pop_front();
    if (!e->done_) e->finish({}, std::move(e->replies_));
    return {};
  }

  /// Cancels one request. An unwritten request is removed (its bytes never
  /// reach the server). A written one is abandoned only if `allow_written`:
  /// it completes now and its replies are discarded when they arrive.
  /// Returns true if the entry completed with `ec`.
  bool cancel(const exec_entry* target, bool allow_written, std::error_code ec) {
    completion_scope scope{*this};
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      exec_entry& e = *entries_[i];
      if (&e != target) continue;
      if (e.done_) return false;
      if (e.written_) {
        if (!allow_written) return false;
        abandon(e);
        e.finish(ec, {});
        return true;
      }
      unwritten_.erase(e.offset_, e.length_);
      for (std::size_t j = i + 1; j < entries_.size(); ++j) entries_[j]->offset_ -= e.length_;
      entry_ptr owned = std::move(entries_[i]);
      entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
      --unwritten_count_;
      owned->finish(ec, {});
      return true;
    }
    return false;
  }

  /// Completes every request whose deadline is at or before `now` with
  /// `error::request_timeout` (unwritten ones are removed, written ones
  /// abandoned). Returns the earliest deadline still pending.
  clock::time_point expire(clock::time_point now) {
    // Usually the timer fires for requests that completed meanwhile: then
    // nothing is rebuilt, only the next deadline is found.
    const std::size_t first_unwritten = entries_.size() - unwritten_count_;
    bool any_expired = false, unwritten_expired = false;
    clock::time_point next = clock::time_point::max();
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      const exec_entry& e = *entries_[i];
      if (e.done_) continue;
      if (e.deadline <= now) {
        any_expired = true;
        unwritten_expired = unwritten_expired || i >= first_unwritten;
      } else if (e.deadline < next) {
        next = e.deadline;
      }
    }
    if (!any_expired) return next;

    completion_scope scope{*this};
    std::vector<entry_ptr> removed;
    std::vector<exec_entry*> abandoned;
    std::deque<entry_ptr> kept;
    std::string compacted;  // the unwritten bytes that stay, when some leave
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      entry_ptr& e = entries_[i];
      const bool expired = !e->done_ && e->deadline <= now;
      if (expired && i >= first_unwritten) {
        --unwritten_count_;
        removed.push_back(std::move(e));
        continue;
      }
      if (expired) {
        abandon(*e);
        abandoned.push_back(e.get());
      }
      if (unwritten_expired && i >= first_unwritten) {
        std::size_t offset = compacted.size();
        compacted.append(unwritten_, e->offset_, e->length_);
        e->offset_ = offset;
      }
      kept.push_back(std::move(e));
    }
    entries_.swap(kept);
    if (unwritten_expired) unwritten_.swap(compacted);
    const std::error_code ec = error::request_timeout;
    for (exec_entry* e : abandoned)
      if (!e->done_) e->finish(ec, {});  // a completion may have closed the queue
    for (auto& e : removed) e->finish(ec, {});
    return next;
  }

  /// Empties the queue: written requests complete with `written_ec`
  /// (outcome unknown), unwritten ones with `unwritten_ec` (never sent).
  /// When `head_ec` is set, the oldest written request, whose reply was
  /// being read (e.g. the reply that broke a limit), completes with it
  /// instead; an abandoned head is not told anything.
  void fail_all(std::error_code written_ec, std::error_code unwritten_ec, std::error_code head_ec = {}) {
    std::deque<entry_ptr> all;
    all.swap(entries_);
    unwritten_.clear();
    unwritten_count_ = 0;
    completion_scope scope{*this};
    for (std::size_t i = 0; i < all.size(); ++i) {
      exec_entry& e = *all[i];
      if (e.done_) continue;
      e.finish(!e.written_ ? unwritten_ec : (i == 0 && head_ec) ? head_ec : written_ec, {});
    }
    for (auto& e : all) graveyard_.push_back(std::move(e));
  }

 private:
  // A completion may re-enter the queue (e.g. a handler closes the
  // connection, which calls fail_all). Entries removed while completions
  // run are kept in the graveyard until the outermost completing call
  // returns, so no caller is left holding a dangling pointer.
  struct completion_scope {
    exec_queue& q;
    explicit completion_scope(exec_queue& queue) : q{queue} { ++q.completing_; }
    ~completion_scope() {
      if (--q.completing_ == 0) q.graveyard_.clear();
    }
  };

  static void abandon(exec_entry& e) {
    // Once written, length_ is reused to count the replies still to drop.
    e.length_ = e.replies_.size();
    e.replies_.clear();
  }

  queue_limits limits_;
  std::deque<entry_ptr> entries_;
  std::string unwritten_;
  std::size_t unwritten_count_ = 0;
  int completing_ = 0;
  std::vector<entry_ptr> graveyard_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_EXEC_QUEUE_HPP
