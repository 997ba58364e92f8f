#ifndef REDIS_HA_DETAIL_RESP_READER_HPP
#define REDIS_HA_DETAIL_RESP_READER_HPP

/// @file
/// Incremental RESP2 decoding on top of hiredis's `redisReader`, building
/// `redis_ha::reply` values directly (no intermediate `redisReply`).
/// Sans-I/O: feed bytes, pull complete replies.

#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>

#include <hiredis/read.h>

#include <climits>
#include <cstddef>
#include <new>
#include <string>
#include <utility>

namespace redis_ha {
namespace detail {

/// Gives the decoder write access to `reply` internals.
struct reply_access {
  static void set_string(reply& r, reply_type t, const char* data, std::size_t len) {
    r.type_ = t;
    r.str_.assign(data, len);
  }
  static void set_integer(reply& r, long long v) noexcept {
    r.type_ = reply_type::integer;
    r.integer_ = v;
  }
  static void set_array(reply& r, std::size_t n) {
    r.type_ = reply_type::array;
    r.elements_.resize(n);
  }
  static void set_nil(reply& r) noexcept { r.type_ = reply_type::nil; }
  static reply& element(reply& r, std::size_t i) noexcept { return r.elements_[i]; }
  static std::size_t element_count(const reply& r) noexcept { return r.elements_.size(); }
};

/// Limits enforced while decoding.
struct reader_limits {
  /// Longest bulk string / line, in bytes.
  std::size_t max_bulk_length = std::size_t{512} << 20;
  /// Deepest array nesting (1 = flat arrays only); hiredis 0.14 caps it at 7.
  int max_nesting_depth = 7;
};

/// RESP2 decoder. Feed bytes with `feed`, then call `next` until it returns
/// false. After an error the reader stays failed until `reset`.
class resp_reader {
 public:
  /// Creates a reader with the given limits.
  explicit resp_reader(reader_limits limits = {}) : limits_{limits} { create(); }
  ~resp_reader() { destroy(); }
  resp_reader(const resp_reader&) = delete;
  resp_reader& operator=(const resp_reader&) = delete;

  /// Appends bytes. Fails with `reply_too_large` when the incomplete reply
  /// already buffered exceeds the bulk limit (checked in `next`), or with the
  /// reader's earlier error.
  std::error_code feed(const char* data, std::size_t size) {
    if (failed_) return failed_;
    if (redisReaderFeed(reader_, data, size) != REDIS_OK) return fail(error::protocol_error);
    return {};
  }

  /// Moves the next complete reply into `out` and returns true; returns
  /// false when more bytes are needed or on error (then `ec` is set).
  bool next(reply& out, std::error_code& ec) {
    ec = failed_;
    if (failed_) return false;
    void* obj = nullptr;
    if (redisReaderGetReply(reader_, &obj) != REDIS_OK) {
      ec = fail(classify());
      return false;
    }
    if (obj == nullptr) {
      // Incomplete: bound what an unfinished item may buffer. The slack
      // covers the `$<length>\r\n` header and the trailing CRLF.
      if (reader_->len - reader_->pos > limits_.max_bulk_length + 32) ec = fail(error::reply_too_large);
      return false;
    }
    out = std::move(root_);
    root_ = reply{};
    return true;
  }

  /// The hiredis error text of the last failure (may be empty).
  std::string error_text() const { return error_text_; }

  /// Drops buffered bytes and any error: ready for a new stream.
  void reset() {
    destroy();
    create();
  }

 private:
  // --- hiredis callbacks ---------------------------------------------------
  // Child values live inside their parent's element vector, which is sized
  // once when the array header is read, so pointers to elements stay valid.
  // Only the top-level value lives in `root_`. Callbacks must not throw
  // through C frames: failures return nullptr, which hiredis turns into an
  // error, and `violation_` tells `classify` what happened.

  static resp_reader& self(const redisReadTask* task) {
    const redisReadTask* t = task;
    while (t->parent) t = t->parent;
    return *static_cast<resp_reader*>(t->privdata);
  }

  static reply* slot(const redisReadTask* task) {
    if (!task->parent) return &self(task).root_;
    return &reply_access::element(*static_cast<reply*>(task->parent->obj), static_cast<std::size_t>(task->idx));
  }

  static void* on_string(const redisReadTask* task, char* data, size_t len) {
    resp_reader& r = self(task);
    if (len > r.limits_.max_bulk_length) return r.violate(error::reply_too_large);
    reply_type t = task->type == REDIS_REPLY_ERROR    ? reply_type::error
                   : task->type == REDIS_REPLY_STATUS ? reply_type::simple_string
                                                      : reply_type::bulk_string;
    try {
      reply* s = slot(task);
      reply_access::set_string(*s, t, data, len);
      return s;
    } catch (...) {
      return r.violate(error::reply_too_large);
    }
  }

  static void* on_array(const redisReadTask* task, int elements) {
    resp_reader& r = self(task);
    if (elements < 0) return r.violate(error::protocol_error);
    int depth = 1;
    for (const redisReadTask* t = task->parent; t; t = t->parent) ++depth;
    if (depth > r.limits_.max_nesting_depth) return r.violate(error::nesting_too_deep);
    if (static_cast<std::size_t>(elements) > r.limits_.max_bulk_length) return r.violate(error::reply_too_large);
    try {
      reply* s = slot(task);
      reply_access::set_array(*s, static_cast<std::size_t>(elements));
      return s;
    } catch (...) {
      return r.violate(error::reply_too_large);
    }
  }

  static void* on_integer(const redisReadTask* task, long long value) {
    reply* s = slot(task);
    reply_access::set_integer(*s, value);
    return s;
  }

  static void* on_nil(const redisReadTask* task) {
    reply* s = slot(task);
    reply_access::set_nil(*s);
    return s;
  }

  static void on_free(void* obj) {
    // Only the root is ever freed by hiredis; children belong to it.
    if (obj) *static_cast<reply*>(obj) = reply{};
  }

  void* violate(error e) {
    violation_ = e;
    return nullptr;
  }

  error classify() {
    error_text_ = reader_->errstr;
    if (violation_ != error{}) return violation_;
    if (error_text_.find("nested") != std::string::npos) return error::nesting_too_deep;
    return error::protocol_error;
  }

  std::error_code fail(error e) {
    failed_ = make_error_code(e);
    return failed_;
  }

  void create() {
    static redisReplyObjectFunctions functions{&on_string, &on_array, &on_integer, &on_nil, &on_free};
    reader_ = redisReaderCreateWithFunctions(&functions);
    if (!reader_) throw std::bad_alloc{};
    reader_->privdata = this;
    reader_->maxbuf = 256 * 1024;  // keep up to 256 KiB of buffer between reads
    failed_.clear();
    violation_ = error{};
    error_text_.clear();
    root_ = reply{};
  }

  void destroy() noexcept {
    if (reader_) redisReaderFree(reader_);
    reader_ = nullptr;
  }

  reader_limits limits_;
  redisReader* reader_ = nullptr;
  reply root_;
  error violation_{};
  std::error_code failed_;
  std::string error_text_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_RESP_READER_HPP
