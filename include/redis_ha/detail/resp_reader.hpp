#ifndef REDIS_HA_DETAIL_RESP_READER_HPP
#define REDIS_HA_DETAIL_RESP_READER_HPP

/// @file
/// Incremental RESP2 decoding on top of hiredis's `redisReader`, building
/// `redis_ha::reply` values directly (no intermediate `redisReply`).
/// Sans-I/O: feed bytes, pull complete replies. Received bytes pass the
/// framing pre-scan of `resp_framer.hpp` first, so memory and time stay
/// proportional to the bytes received and bounded by the limits.

#include <redis_ha/detail/resp_framer.hpp>
#include <redis_ha/error.hpp>
#include <redis_ha/reply.hpp>

#include <hiredis/read.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

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
  static void set_array(reply& r, std::size_t reserve) {
    r.type_ = reply_type::array;
    r.elements_.reserve(reserve);
  }
  static void set_nil(reply& r) noexcept { r.type_ = reply_type::nil; }
  static std::vector<reply>& elements(reply& r) noexcept { return r.elements_; }
};

/// Limits enforced while decoding (see `connection_config` for their costs).
struct reader_limits {
  /// Longest bulk string, in bytes; a longer one is refused at its header.
  std::size_t max_bulk_length = std::size_t{32} << 20;
  /// Deepest array nesting (1 = flat arrays only); hiredis 0.14 caps it at 7.
  int max_nesting_depth = 7;
  /// Longest simple-string or error line, in bytes.
  std::size_t max_line_length = std::size_t{64} << 10;
  /// Budget of one decoded reply: `sizeof(reply)` per element (announced
  /// ones included) plus the bytes of its strings.
  std::size_t max_reply_size = std::size_t{128} << 20;
};

/// RESP2 decoder. Feed bytes with `feed`, then call `next` until it returns
/// false. After an error the reader stays failed until `reset`.
class resp_reader {
 public:
  /// Creates a reader with the given limits.
  explicit resp_reader(reader_limits limits = {})
      : limits_{limits}, framer_{framer_limits{limits.max_line_length, limits.max_bulk_length}} {
    create();
  }
  ~resp_reader() { destroy(); }
  resp_reader(const resp_reader&) = delete;
  resp_reader& operator=(const resp_reader&) = delete;

  /// Appends bytes. A limit the bytes break is reported by `next`, once the
  /// complete replies before the offending one were taken; `feed` itself
  /// only fails with an earlier error.
  std::error_code feed(const char* data, std::size_t size) {
    if (failed_) return failed_;
    if (deferred_ != error{}) return {};  // the rest of the stream no longer matters
    const frame_scan scan = framer_.scan(data, size);
    // Bytes of an incomplete line wait in held_: hiredis only sees whole
    // lines, so it never rescans a line that is still arriving.
    if (scan.feedable > 0) {
      if (!held_.empty()) {
        if (!feed_hiredis(held_.data(), held_.size())) return failed_;
        held_.clear();
      }
      if (!feed_hiredis(data, scan.feedable)) return failed_;
    }
    if (scan.violation != error{}) {
      deferred_ = scan.violation;
      held_.clear();
      held_.shrink_to_fit();
      return {};
    }
    held_.append(data + scan.feedable, size - scan.feedable);
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
      if (deferred_ != error{}) {
        error_text_ = framer_.detail();
        ec = fail(deferred_);
      }
      return false;
    }
    out = std::move(root_);
    root_ = reply{};
    return true;
  }

  /// What the last failure was about: the limit and the value that broke it,
  /// or hiredis's text for malformed data (may be empty).
  std::string error_text() const { return error_text_; }

  /// Drops buffered bytes and any error: ready for a new stream.
  void reset() {
    destroy();
    create();
  }

 private:
  // --- hiredis callbacks ---------------------------------------------------
  // hiredis 0.14 keeps a pointer to the object of each *open* array on its
  // task stack (at most 8: rstack[9]) and passes it as task->parent->obj
  // when that array's children arrive, in index order; it keeps no pointer
  // to a finished element (rstack entries of finished siblings are reused;
  // only the root is held, as r->reply). So elements are appended as they
  // arrive: an array's vector grows only while that array is the innermost
  // open one, and growing it moves only finished children, which no one
  // points to. Open arrays sit in a parent that is not growing, or in root_.
  // Memory therefore follows the bytes received, not the announced counts,
  // and the announced counts are charged to a per-reply budget.
  // Callbacks must not throw through C frames: failures return nullptr,
  // which hiredis turns into an error, and `violation_` tells `classify`
  // what happened.

  static_assert(std::is_nothrow_move_constructible<reply>::value, "growing an array must not copy");

  /// Elements reserved up front for an array (larger ones grow as they fill).
  static constexpr std::size_t initial_reserve = 1024;

  static resp_reader& self(const redisReadTask* task) {
    return *static_cast<resp_reader*>(task->privdata);  // hiredis copies privdata into every task
  }

  // The reply the task's value goes into, or nullptr (with violation_ set).
  static reply* slot(resp_reader& r, const redisReadTask* task) noexcept {
    if (!task->parent) {
      r.budget_ = sizeof(reply);  // a new top-level reply
      return &r.root_;
    }
    std::vector<reply>& v = reply_access::elements(*static_cast<reply*>(task->parent->obj));
    if (v.size() != static_cast<std::size_t>(task->idx)) return r.violate(error::protocol_error);
    try {
      if (v.size() == v.capacity())
        v.reserve(std::min(static_cast<std::size_t>(task->parent->elements), 2 * v.capacity()));
      v.emplace_back();
    } catch (...) {
      return r.violate(error::reply_too_large);
    }
    return &v.back();
  }

  // Charges `bytes` to the reply's budget; false when it is exhausted.
  bool charge(std::size_t bytes) noexcept {
    if (bytes > limits_.max_reply_size - std::min(budget_, limits_.max_reply_size)) return false;
    budget_ += bytes;
    return true;
  }

  static void* on_string(const redisReadTask* task, char* data, size_t len) {
    resp_reader& r = self(task);
    if (len > r.limits_.max_bulk_length) return r.violate(error::reply_too_large);  // the framer refuses it first
    reply* s = slot(r, task);
    if (!s) return nullptr;
    if (!r.charge(len)) return r.violate(error::reply_too_large, "the reply's strings exceed max_reply_size");
    reply_type t = task->type == REDIS_REPLY_ERROR    ? reply_type::error
                   : task->type == REDIS_REPLY_STATUS ? reply_type::simple_string
                                                      : reply_type::bulk_string;
    try {
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
    reply* s = slot(r, task);
    if (!s) return nullptr;
    // Each announced element will cost at least sizeof(reply): refuse now
    // what cannot fit, before any element arrives.
    const auto n = static_cast<std::size_t>(elements);
    if (n > r.limits_.max_reply_size / sizeof(reply) || !r.charge(n * sizeof(reply)))
      return r.violate(error::reply_too_large, "an array header announces more elements than max_reply_size allows");
    try {
      reply_access::set_array(*s, std::min(n, initial_reserve));
      return s;
    } catch (...) {
      return r.violate(error::reply_too_large);
    }
  }

  static void* on_integer(const redisReadTask* task, long long value) {
    resp_reader& r = self(task);
    reply* s = slot(r, task);
    if (s) reply_access::set_integer(*s, value);
    return s;
  }

  static void* on_nil(const redisReadTask* task) {
    resp_reader& r = self(task);
    reply* s = slot(r, task);
    if (s) reply_access::set_nil(*s);
    return s;
  }

  static void on_free(void* obj) {
    // Only the root is ever freed by hiredis; children belong to it.
    if (obj) *static_cast<reply*>(obj) = reply{};
  }

  std::nullptr_t violate(error e, const char* text = nullptr) noexcept {
    violation_ = e;
    violation_text_ = text                            ? text
                      : e == error::nesting_too_deep ? "arrays nested deeper than max_nesting_depth"
                      : e == error::reply_too_large  ? "a reply larger than the limits allow"
                                                      : "a malformed reply";
    return nullptr;
  }

  bool feed_hiredis(const char* data, std::size_t size) {
    if (redisReaderFeed(reader_, data, size) == REDIS_OK) return true;
    error_text_ = reader_->errstr;
    fail(error::protocol_error);
    return false;
  }

  error classify() {
    if (violation_ != error{}) {
      error_text_ = violation_text_;
      return violation_;
    }
    error_text_ = reader_->errstr;
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
    framer_.reset();
    held_.clear();
    deferred_ = error{};
    failed_.clear();
    violation_ = error{};
    violation_text_ = nullptr;
    error_text_.clear();
    root_ = reply{};
    budget_ = 0;
  }

  void destroy() noexcept {
    if (reader_) redisReaderFree(reader_);
    reader_ = nullptr;
  }

  reader_limits limits_;
  resp_framer framer_;
  redisReader* reader_ = nullptr;
  std::string held_;        // bytes of a line that is not complete yet
  error deferred_{};        // a framing violation, reported after the replies before it
  reply root_;
  std::size_t budget_ = 0;  // charged to the reply being decoded
  error violation_{};
  const char* violation_text_ = nullptr;
  std::error_code failed_;
  std::string error_text_;
};

}  // namespace detail
}  // namespace redis_ha

#endif  // REDIS_HA_DETAIL_RESP_READER_HPP
