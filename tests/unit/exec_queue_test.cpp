// The sans-I/O request queue: FIFO matching, batching, cancellation,
// timeouts and failing everything, without any socket.
#include <redis_ha/detail/exec_queue.hpp>

#include <asio/error.hpp>
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

using redis_ha::error;
using redis_ha::reply;
using redis_ha::response;
using namespace redis_ha::detail;

namespace {

struct outcome {
  bool done = false;
  std::error_code ec;
  response replies;
};

class test_entry final : public exec_entry {
 public:
  test_entry(outcome& o, std::function<void()> then = {}) : out_(o), then_(std::move(then)) {}

 private:
  void on_complete(std::error_code ec, response replies) override {
    REQUIRE_FALSE(out_.done);  // exactly once
    out_.done = true;
    out_.ec = ec;
    out_.replies = std::move(replies);
    if (then_) then_();
  }
  outcome& out_;
  std::function<void()> then_;
};

exec_entry* push(exec_queue& q, outcome& o, std::string_view payload, std::size_t expected = 1,
                 std::function<void()> then = {}) {
  exec_queue::entry_ptr e(new test_entry(o, std::move(then)));
  e->expected = expected;
  exec_entry* raw = e.get();
  REQUIRE_FALSE(q.push(e, payload));
  return raw;
}

}  // namespace

TEST_CASE("exec_queue sends everything unwritten in one batch and matches replies in order", "[queue]") {
  exec_queue q;
  outcome a, b, c;
  push(q, a, "A");
  push(q, b, "BB", 2);
  std::string batch;
  CHECK(q.take_unwritten(batch) == 2);
  CHECK(batch == "ABB");
  push(q, c, "C");  // queued while the first batch is in flight
  CHECK(q.has_unwritten());
  CHECK_FALSE(q.on_reply(reply::integer(1)));
  CHECK(a.done);
  CHECK(a.replies == response{reply::integer(1)});
  CHECK_FALSE(q.on_reply(reply::integer(2)));
  CHECK_FALSE(b.done);
  CHECK_FALSE(q.on_reply(reply::integer(3)));
  CHECK(b.done);
  CHECK(b.replies == response{reply::integer(2), reply::integer(3)});
  // C was never written: a reply now has nobody to go to.
  CHECK(q.on_reply(reply::integer(4)) == error::unexpected_reply);
  std::string next;
  CHECK(q.take_unwritten(next) == 1);
  CHECK(next == "C");
  CHECK_FALSE(q.on_reply(reply::integer(4)));
  CHECK(c.done);
  CHECK(q.empty());
}

TEST_CASE("exec_queue refuses work beyond its limits with queue_full", "[queue]") {
  exec_queue q{queue_limits{2, 1000}};
  outcome a, b, c;
  push(q, a, "A");
  push(q, b, "B");
  exec_queue::entry_ptr e(new test_entry(c));
  CHECK(q.push(e, "C") == error::queue_full);
  CHECK(e);  // left with the caller
  exec_queue bytes{queue_limits{100, 4}};
  outcome d;
  push(bytes, d, "1234");
  exec_queue::entry_ptr f(new test_entry(c));
  CHECK(bytes.push(f, "5") == error::queue_full);
}

TEST_CASE("exec_queue cancels an unwritten request by removing its bytes", "[queue]") {
  exec_queue q;
  outcome a, b, c;
  push(q, a, "AAA");
  auto* pb = push(q, b, "BBB");
  push(q, c, "CCC");
  CHECK(q.cancel(pb, false, asio::error::operation_aborted));
  CHECK(b.done);
  CHECK(b.ec == asio::error::operation_aborted);
  std::string batch;
  CHECK(q.take_unwritten(batch) == 2);
  CHECK(batch == "AAACCC");
  CHECK_FALSE(q.on_reply(reply::integer(1)));
  CHECK_FALSE(q.on_reply(reply::integer(3)));
  CHECK(a.replies == response{reply::integer(1)});
  CHECK(c.replies == response{reply::integer(3)});
}

TEST_CASE("exec_queue abandons a written request only when allowed, and drops its late replies", "[queue]") {
  exec_queue q;
  outcome a, b;
  auto* pa = push(q, a, "A", 2);
  push(q, b, "B");
  std::string batch;
  q.take_unwritten(batch);
  CHECK_FALSE(q.cancel(pa, false, asio::error::operation_aborted));  // total cancellation: refused
  CHECK_FALSE(a.done);
  CHECK(q.cancel(pa, true, asio::error::operation_aborted));
  CHECK(a.done);
  CHECK_FALSE(q.on_reply(reply::integer(1)));  // both replies of A are discarded
  CHECK_FALSE(q.on_reply(reply::integer(2)));
  CHECK_FALSE(b.done);
  CHECK_FALSE(q.on_reply(reply::integer(3)));
  CHECK(b.replies == response{reply::integer(3)});
  CHECK(a.replies.empty());
}

TEST_CASE("exec_queue expires requests at their deadline and reports the next one", "[queue]") {
  exec_queue q;
  outcome written, unwritten_expired, unwritten_kept;
  const auto t0 = clock::now();
  auto* w = push(q, written, "W");
  w->deadline = t0 + std::chrono::milliseconds(10);
  std::string batch;
  q.take_unwritten(batch);
  batch.clear();
  auto* u1 = push(q, unwritten_expired, "U1");
  u1->deadline = t0 + std::chrono::milliseconds(5);
  auto* u2 = push(q, unwritten_kept, "U2");
  u2->deadline = t0 + std::chrono::milliseconds(50);
  CHECK(q.expire(t0) == t0 + std::chrono::milliseconds(5));
  CHECK(q.expire(t0 + std::chrono::milliseconds(20)) == t0 + std::chrono::milliseconds(50));
  CHECK(written.ec == error::request_timeout);
  CHECK(unwritten_expired.ec == error::request_timeout);
  CHECK_FALSE(unwritten_kept.done);
  CHECK(q.take_unwritten(batch) == 1);
  CHECK(batch == "U2");  // the expired unwritten bytes never leave
  CHECK_FALSE(q.on_reply(reply::integer(1)));  // late reply of W: dropped
  CHECK_FALSE(unwritten_kept.done);
  CHECK_FALSE(q.on_reply(reply::integer(2)));
  CHECK(unwritten_kept.replies == response{reply::integer(2)});
}

TEST_CASE("exec_queue fail_all tells written from unwritten requests", "[queue]") {
  exec_queue q;
  outcome a, b;
  push(q, a, "A");
  std::string batch;
  q.take_unwritten(batch);
  push(q, b, "B");
  q.fail_all(error::connection_lost, error::connection_closed);
  CHECK(a.ec == error::connection_lost);
  CHECK(b.ec == error::connection_closed);
  CHECK(q.empty());
  CHECK_FALSE(q.has_unwritten());
}

TEST_CASE("exec_queue fail_all can blame the request whose reply was being read", "[queue]") {
  exec_queue q;
  outcome head, second, unwritten;
  push(q, head, "H", 2);
  push(q, second, "S");
  std::string batch;
  q.take_unwritten(batch);
  push(q, unwritten, "U");
  CHECK_FALSE(q.on_reply(reply::integer(1)));  // the head got one of its two replies
  q.fail_all(error::connection_lost, error::connection_closed, error::reply_too_large);
  CHECK(head.ec == error::reply_too_large);
  CHECK(head.replies.empty());
  CHECK(second.ec == error::connection_lost);
  CHECK(unwritten.ec == error::connection_closed);
  CHECK(q.empty());

  // An abandoned head is not told again, and its blame passes to no one.
  outcome abandoned, next;
  const exec_entry* pa = push(q, abandoned, "A");
  push(q, next, "N");
  q.take_unwritten(batch);
  REQUIRE(q.cancel(pa, true, asio::error::operation_aborted));
  q.fail_all(error::connection_lost, error::connection_closed, error::line_too_long);
  CHECK(abandoned.ec == asio::error::operation_aborted);
  CHECK(next.ec == error::connection_lost);

  // Nothing written: nobody is blamed.
  outcome only_unwritten;
  push(q, only_unwritten, "O");
  q.fail_all(error::connection_lost, error::connection_closed, error::protocol_error);
  CHECK(only_unwritten.ec == error::connection_closed);
}

TEST_CASE("exec_queue survives completions that re-enter it", "[queue]") {
  exec_queue q;
  outcome a, b, c, later;
  const auto t0 = clock::now();
  // A's completion queues a new request; B's completion fails everything.
  auto* pa = push(q, a, "A", 1, [&] { push(q, later, "L"); });
  auto* pb = push(q, b, "B", 1, [&] { q.fail_all(error::connection_lost, error::connection_closed); });
  auto* pc = push(q, c, "C");
  for (auto* e : {pa, pb, pc}) e->deadline = t0;
  std::string batch;
  q.take_unwritten(batch);
  q.expire(t0);
  CHECK(a.ec == error::request_timeout);
  CHECK(b.ec == error::request_timeout);
  CHECK(c.ec == error::connection_lost);  // failed by B's handler, exactly once
  CHECK(later.ec == error::connection_closed);
  CHECK(q.empty());
}
