// Fuzz target: detail::resp_reader (the framing pre-scan and hiredis).
//
// Input: byte 0 picks how the stream is cut into chunks, the rest is what
// the "server" sent. Checked for every input:
//  1. With limits wide open, the reader decodes exactly what hiredis alone
//     decodes (same replies; an error wherever hiredis fails, once the line
//     hiredis failed on is complete; the pre-scan may only refuse earlier an
//     item hiredis would refuse or never finish).
//  2. With tight limits, whatever is decoded is a prefix of (1), within the
//     limits, and an error is one of the protocol errors with a text that
//     names the cause (never hiredis's "Out of memory").
//  3. Memory: the reader's buffers stay bounded by the limits (checked
//     indirectly: ASan/libFuzzer's -rss_limit_mb and -malloc_limit_mb).
#include <redis_ha/detail/resp_reader.hpp>

#include <hiredis/read.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"

using redis_ha::error;
using redis_ha::reply;
using redis_ha::detail::reader_limits;
using redis_ha::detail::reply_access;
using redis_ha::detail::resp_reader;

namespace {

struct decoded {
  std::vector<reply> replies;
  std::error_code ec;
  std::string text;
};

decoded decode(std::string_view in, std::size_t chunk, const reader_limits& limits) {
  resp_reader r{limits};
  decoded out;
  reply x;
  for (std::size_t pos = 0; pos < in.size() && !out.ec; pos += chunk) {
    if ((out.ec = r.feed(in.data() + pos, std::min(chunk, in.size() - pos)))) break;
    while (r.next(x, out.ec)) out.replies.push_back(std::move(x));
  }
  out.text = r.error_text();
  return out;
}

// The oracle: hiredis's reader with minimal callbacks (no pre-scan, no
// limits but hiredis's own), fed everything at once.
struct oracle {
  reply root;
  static reply* slot(const redisReadTask* t) {
    if (!t->parent) return &static_cast<oracle*>(t->privdata)->root;
    auto& v = reply_access::elements(*static_cast<reply*>(t->parent->obj));
    v.emplace_back();
    return &v.back();
  }
  static void* on_string(const redisReadTask* t, char* s, size_t n) {
    reply* r = slot(t);
    auto type = t->type == REDIS_REPLY_ERROR    ? redis_ha::reply_type::error
                : t->type == REDIS_REPLY_STATUS ? redis_ha::reply_type::simple_string
                                                : redis_ha::reply_type::bulk_string;
    reply_access::set_string(*r, type, s, n);
    return r;
  }
  static void* on_array(const redisReadTask* t, int) {
    reply* r = slot(t);
    reply_access::set_array(*r, 0);
    return r;
  }
  static void* on_integer(const redisReadTask* t, long long v) {
    reply* r = slot(t);
    reply_access::set_integer(*r, v);
    return r;
  }
  static void* on_nil(const redisReadTask* t) {
    reply* r = slot(t);
    reply_access::set_nil(*r);
    return r;
  }
  static void on_free(void* obj) { *static_cast<reply*>(obj) = reply{}; }

  std::vector<reply> replies;
  bool failed = false;

  explicit oracle(std::string_view in) {
    static redisReplyObjectFunctions fns{&on_string, &on_array, &on_integer, &on_nil, &on_free};
    redisReader* r = redisReaderCreateWithFunctions(&fns);
    FUZZ_CHECK(r, "redisReaderCreateWithFunctions");
    r->privdata = this;
    if (!in.empty()) FUZZ_CHECK(redisReaderFeed(r, in.data(), in.size()) == REDIS_OK, "redisReaderFeed");
    for (;;) {
      void* obj = nullptr;
      if (redisReaderGetReply(r, &obj) != REDIS_OK) {
        failed = true;
        break;
      }
      if (!obj) break;
      replies.push_back(std::move(root));
      root = reply{};
    }
    redisReaderFree(r);
  }
};

bool is_decode_error(std::error_code ec) {
  return ec == error::protocol_error || ec == error::reply_too_large || ec == error::nesting_too_deep ||
         ec == error::line_too_long;
}

// Every string within max_len, every array within the depth.
bool within(const reply& r, const reader_limits& l, int depth = 1) {
  if (r.is_array()) {
    if (depth > l.max_nesting_depth) return false;
    for (const auto& e : r.as_array())
      if (!within(e, l, depth + 1)) return false;
    return true;
  }
  if (r.type() == redis_ha::reply_type::bulk_string) return r.as_string().size() <= l.max_bulk_length;
  if (r.type() == redis_ha::reply_type::simple_string) return r.as_string().size() <= l.max_line_length;
  if (r.is_error()) return r.error_message().size() <= l.max_line_length;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = data[0] >= 0xf0 ? std::size_t{1} << 20 : std::size_t{1} + data[0] % 23;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  const oracle truth(in);

  // 1. Limits wide open: the pre-scan must not change what hiredis decodes.
  reader_limits open;
  open.max_bulk_length = std::numeric_limits<std::size_t>::max();
  open.max_line_length = std::numeric_limits<std::size_t>::max();
  open.max_reply_size = std::numeric_limits<std::size_t>::max();
  open.max_nesting_depth = 100;  // hiredis's own cap (8 levels of arrays) applies
  const decoded wide = decode(in, chunk, open);
  FUZZ_CHECK(wide.replies.size() == truth.replies.size(), "open limits: a different number of replies than hiredis");
  FUZZ_CHECK(wide.replies == truth.replies, "open limits: replies differ from hiredis's");
  if (truth.failed && !wide.ec) {
    // hiredis refuses a 9th array level at its '*', before the line ends;
    // the reader hands hiredis whole lines only, so it fails once the line does.
    const std::string completed = std::string(in) + "\r\n";
    FUZZ_CHECK(decode(completed, chunk, open).ec, "hiredis fails but the reader does not");
  }
  if (wide.ec) {
    FUZZ_CHECK(is_decode_error(wide.ec), "open limits: not a decode error");
    FUZZ_CHECK(wide.ec != error::reply_too_large, "open limits: reply_too_large");
  }

  // 2. Tight limits: a prefix of the truth, within the limits, a real cause.
  reader_limits tight;
  tight.max_bulk_length = 64;
  tight.max_line_length = 32;
  tight.max_reply_size = 4096;
  tight.max_nesting_depth = 3;
  const decoded small = decode(in, chunk, tight);
  FUZZ_CHECK(small.replies.size() <= truth.replies.size(), "tight limits: more replies than hiredis");
  for (std::size_t i = 0; i < small.replies.size(); ++i) {
    FUZZ_CHECK(small.replies[i] == truth.replies[i], "tight limits: a reply differs from hiredis's");
    FUZZ_CHECK(within(small.replies[i], tight), "tight limits: a reply breaks the limits");
  }
  if (small.ec) {
    FUZZ_CHECK(is_decode_error(small.ec), "tight limits: not a decode error");
    FUZZ_CHECK(!small.text.empty(), "an error without a text");
    FUZZ_CHECK(small.text.find("Out of memory") == std::string::npos, "hiredis's 'Out of memory' as the cause");
  } else {
    FUZZ_CHECK(small.replies.size() == truth.replies.size(), "tight limits: replies missing without an error");
  }
  return 0;
}

// --- generator for the replay driver ---------------------------------------

namespace {

struct resp_gen {
  std::mt19937_64& rng;
  std::string out;

  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }
  bool chance(int percent) { return pick(100) < static_cast<std::size_t>(percent); }

  std::string text(std::size_t max) {
    static const char alphabet[] = "abcOK ERR\r\n\t0-9:$*+";
    std::string s(pick(max + 1), 'x');
    for (char& c : s) c = chance(90) ? static_cast<char>('a' + pick(26)) : alphabet[pick(sizeof alphabet - 1)];
    return s;
  }

  std::string number() {
    switch (pick(8)) {
      case 0: return "-1";
      case 1: return "0";
      case 2: return std::to_string(pick(100));
      case 3: return std::to_string(pick(1000000));
      case 4: return "9223372036854775807";
      case 5: return "-9223372036854775808";
      case 6: return std::string(21 + pick(10), '7');  // too long
      default: return chance(50) ? "00" + std::to_string(pick(10)) : "1" + text(3);  // malformed
    }
  }

  void item(int depth) {
    switch (pick(depth > 9 ? 5 : 7)) {
      case 0: out += "+" + (chance(90) ? text(40) : std::string(pick(200), 's')) + "\r\n"; break;
      case 1: out += "-" + std::string(chance(50) ? "ERR " : "WRONGTYPE ") + text(40) + "\r\n"; break;
      case 2: out += ":" + (chance(80) ? std::to_string(static_cast<long long>(rng())) : number()) + "\r\n"; break;
      case 3: {
        if (chance(10)) {
          out += "$" + number() + "\r\n";
          break;
        }
        const std::string payload = chance(85) ? text(50) : std::string(pick(300), 'b');
        out += "$" + std::to_string(payload.size() + (chance(5) ? 1 : 0)) + "\r\n" + payload + "\r\n";
        break;
      }
      case 4:
        if (chance(50)) {
          out += "$-1\r\n";
        } else {
          out += "*-1\r\n";
        }
        break;
      default: {
        if (chance(8)) {
          out += "*" + number() + "\r\n";  // huge, negative or malformed counts
          break;
        }
        const std::size_t n = chance(90) ? pick(5) : pick(200);
        out += "*" + std::to_string(n) + "\r\n";
        // Past 4 KiB, elements are integers: inputs stay small (and truncated arrays are fine).
        for (std::size_t i = 0; i < n; ++i) {
          if (out.size() < 4096)
            item(depth + 1);
          else
            out += ":" + std::to_string(i) + "\r\n";
        }
      }
    }
  }

  void mutate() {
    if (out.empty()) return;
    const std::size_t edits = chance(60) ? 0 : 1 + pick(4);
    for (std::size_t e = 0; e < edits && !out.empty(); ++e) {
      const std::size_t at = pick(out.size());
      switch (pick(5)) {
        case 0: out[at] = static_cast<char>(rng()); break;
        case 1: out.insert(at, 1, chance(50) ? '\r' : '\n'); break;
        case 2: out.erase(at, 1 + pick(3)); break;
        case 3: out.insert(at, "*10000000\r\n"); break;
        default: out.resize(at); break;  // truncated
      }
    }
  }
};

}  // namespace

std::string redis_ha::fuzz::generate(std::mt19937_64& rng) {
  resp_gen g{rng, {}};
  g.out.push_back(static_cast<char>(rng()));  // chunking
  const std::size_t items = 1 + g.pick(6);
  for (std::size_t i = 0; i < items && g.out.size() < 4096; ++i) g.item(0);
  g.mutate();
  return g.out;
}
