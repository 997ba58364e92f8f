#pragma once
// A minimal HTTP/1.1 server over Asio coroutines: keep-alive, pipelining-safe framing,
// Content-Length bodies only (Transfer-Encoding is answered with 411 and the connection
// closed), header block <= max_header bytes (else 431), body <= max_body (else 413,
// answered without reading the body), one deadline per request covering the headers and
// the body (slowloris: 408 and close), "Expect: 100-continue" honoured.

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "log.hpp"

namespace gateway::http {

using asio::ip::tcp;

struct request {
  std::string method;
  std::string target;   // as sent (path + query)
  std::string path;     // target without the query
  std::string version;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote;   // peer IP address

  // First value of a header (name lower-case), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return std::string_view(v);
    return std::nullopt;
  }
};

struct response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close = false;          // close the connection after this response
  bool head = false;           // answer to HEAD: Content-Length of `body`, body not sent
  std::string route = "other"; // metrics label, set by the application
};

inline const char* reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
  }
  return "Unknown";
}

struct server_options {
  std::size_t max_header = 8 * 1024;
  std::size_t max_body = 100 * 1024;
  std::chrono::milliseconds read_timeout{10000};
  std::size_t max_connections = 512;  // beyond: accepted and closed at once
};

// The application: answers one request (never throws: the server maps exceptions to 500).
using handler_fn = std::function<asio::awaitable<response>(const request&)>;
// Builds an error response for framing errors found by the server (status, detail).
using error_fn = std::function<response(int, std::string)>;
// Observes every response written (request is null for framing errors), with its duration.
using observe_fn = std::function<void(const request*, const response&, double)>;

class server {
 public:
  server(asio::any_io_executor ex, const tcp::endpoint& ep, server_options opts, handler_fn handler, error_fn on_error,
         observe_fn observe)
      : acceptor_(ex, ep),
        opts_(opts),
        handler_(std::move(handler)),
        on_error_(std::move(on_error)),
        observe_(std::move(observe)) {}

  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  void start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached); }

  void stop() {
    std::error_code ec;
    acceptor_.close(ec);
  }

 private:
  using clock = std::chrono::steady_clock;

  asio::awaitable<void> accept_loop() {
    for (;;) {
      std::error_code ec;
      tcp::socket sock = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
        log(level::warn, "http: accept failed: {}", ec.message());
        asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      if (*active_ >= opts_.max_connections) {
        // Logged at most once per second, with the number refused since.
        ++refused_;
        if (const auto now = clock::now(); now - last_refused_log_ >= std::chrono::seconds(1)) {
          log(level::warn, "http: {} connections open (the limit): refused {} connection(s)", *active_, refused_);
          refused_ = 0;
          last_refused_log_ = now;
        }
        sock.close(ec);
        continue;
      }
      asio::co_spawn(acceptor_.get_executor(), session(std::move(sock)), asio::detached);
    }
  }

  // Per-connection deadline: when it fires the socket's operations are cancelled. The
  // state is shared with the timer's handler, which may run after the session ended.
  struct deadline {
    struct state {
      asio::steady_timer timer;
      tcp::socket* sock = nullptr;
      bool fired = false;
      unsigned generation = 0;  // stale expirations are ignored
      explicit state(const asio::any_io_executor& ex) : timer(ex) {}
    };
    std::shared_ptr<state> st;
    deadline(const asio::any_io_executor& ex, tcp::socket& sock) : st(std::make_shared<state>(ex)) { st->sock = &sock; }
    ~deadline() {
      st->sock = nullptr;
      st->timer.cancel();
    }
    bool fired() const { return st->fired; }
    void arm(std::chrono::milliseconds d) {
      st->fired = false;
      st->timer.expires_after(d);
      const unsigned g = ++st->generation;
      st->timer.async_wait([s = st, g](std::error_code ec) {
        if (ec || !s->sock || s->generation != g) return;
        s->fired = true;
        std::error_code ignored;
        s->sock->cancel(ignored);
      });
    }
    void disarm() {
      ++st->generation;
      st->timer.cancel();
    }
  };

  static bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
  }
  static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  }
  static bool has_token(std::string_view list, std::string_view token) {
    while (!list.empty()) {
      auto comma = list.find(',');
      if (iequals(trim(list.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    return false;
  }

  // Parses the head (request line + headers, without the final CRLFCRLF). Returns 0 or
  // an error status with `detail`.
  static int parse_head(std::string_view head, request& req, std::string& detail) {
    auto eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
      detail = "malformed request line";
      return 400;
    }
    req.method = std::string(line.substr(0, sp1));
    req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    req.version = std::string(line.substr(sp2 + 1));
    if (req.method.empty() || req.target.empty() || req.target.front() != '/') {
      detail = "malformed request line";
      return 400;
    }
    for (char c : req.method)
      if (!std::isupper(static_cast<unsigned char>(c))) {
        detail = "malformed method";
        return 400;
      }
    if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0") {
      detail = "only HTTP/1.0 and HTTP/1.1 are supported";
      return req.version.rfind("HTTP/", 0) == 0 ? 505 : 400;
    }
    req.path = req.target.substr(0, req.target.find('?'));
    std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
    while (!rest.empty()) {
      eol = rest.find("\r\n");
      std::string_view h = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
      if (h.empty()) continue;
      const auto colon = h.find(':');
      if (h.front() == ' ' || h.front() == '\t' || colon == std::string_view::npos || colon == 0) {
        detail = "malformed header line";
        return 400;
      }
      std::string name(h.substr(0, colon));
      for (char& c : name) {
        if (c == ' ' || c == '\t') {
          detail = "whitespace in header name";
          return 400;
        }
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      req.headers.emplace_back(std::move(name), std::string(trim(h.substr(colon + 1))));
    }
    return 0;
  }

  response error(int status, std::string detail) const {
    response r = on_error_(status, std::move(detail));
    r.close = true;
    r.route = "invalid";
    return r;
  }

  static std::string serialize(const response& r, bool close) {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n", r.status,
                                  reason(r.status), r.content_type, r.body.size());
    for (const auto& [k, v] : r.headers) out += fmt::format("{}: {}\r\n", k, v);
    if (close) out += "Connection: close\r\n";
    out += "\r\n";
    if (!r.head) out += r.body;
    return out;
  }

  asio::awaitable<void> session(tcp::socket sock) {
    ++*active_;
    struct guard {
      std::shared_ptr<std::size_t> n;
      ~guard() { --*n; }
    } g{active_};
    std::error_code ec;
    std::string remote;
    {
      auto ep = sock.remote_endpoint(ec);
      if (ec) co_return;
      remote = ep.address().to_string();
    }
    sock.set_option(tcp::no_delay(true), ec);
    deadline dl(sock.get_executor(), sock);
    std::string buf;
    for (;;) {
      const auto started = clock::now();
      dl.arm(opts_.read_timeout);
      request req;
      req.remote = remote;
      std::optional<response> early;  // a framing error to answer instead of calling the handler
      std::size_t head_len = co_await asio::async_read_until(
          sock, asio::dynamic_buffer(buf, opts_.max_header), "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::not_found) {
          early = error(431, fmt::format("request head exceeds {} bytes", opts_.max_header));
        } else if (dl.fired() && !buf.empty()) {
          early = error(408, "request head not received in time");
        } else {
          break;  // EOF between requests, idle timeout, reset
        }
      }
      if (!early) {
        std::string detail;
        if (int st = parse_head(std::string_view(buf).substr(0, head_len - 4), req, detail)) early = error(st, detail);
      }
      std::size_t content_length = 0;
      if (!early) {
        const auto te = req.header("transfer-encoding");
        const auto cl = req.header("content-length");
        std::size_t cl_count = 0;
        for (const auto& [k, v] : req.headers) cl_count += k == "content-length";
        if (te) {
          early = error(411, "Transfer-Encoding (chunked) bodies are not supported; send Content-Length");
        } else if (cl_count > 1) {
          early = error(400, "several Content-Length headers");
        } else if (cl) {
          if (cl->empty() || cl->size() > 18 ||
              !std::all_of(cl->begin(), cl->end(), [](char c) { return c >= '0' && c <= '9'; })) {
            early = error(400, "invalid Content-Length");
          } else {
            content_length = std::stoull(std::string(*cl));
            if (content_length > opts_.max_body)
              early = error(413, fmt::format("body of {} bytes exceeds the limit of {} bytes", content_length,
                                             opts_.max_body));
          }
        } else if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
          early = error(411, "Content-Length required");
        }
      }
      if (!early && content_length > 0) {
        const std::size_t have = buf.size() - head_len;
        if (have < content_length) {
          if (auto expect = req.header("expect"); expect && iequals(*expect, "100-continue")) {
            static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
            co_await asio::async_write(sock, asio::buffer(cont), asio::redirect_error(asio::use_awaitable, ec));
            if (ec) break;
          }
          co_await asio::async_read(sock, asio::dynamic_buffer(buf), asio::transfer_exactly(content_length - have),
                                    asio::redirect_error(asio::use_awaitable, ec));
          if (ec) {
            if (dl.fired()) early = error(408, "request body not received in time");
            else break;  // peer closed mid-body: nothing to answer
          }
        }
      }
      dl.disarm();
      response resp;
      if (early) {
        resp = std::move(*early);
      } else {
        req.body = buf.substr(head_len, content_length);
        buf.erase(0, head_len + content_length);
        try {
          resp = co_await handler_(req);
        } catch (const std::exception& e) {
          log(level::error, "http: handler failed: {}", e.what());
          resp = on_error_(500, "internal error");
        }
      }
      bool close = resp.close;
      if (!early) {
        resp.head = req.method == "HEAD";  // never a body in an answer to HEAD
        const auto conn = req.header("connection");
        if (req.version == "HTTP/1.0")
          close = close || !conn || !has_token(*conn, "keep-alive");
        else
          close = close || (conn && has_token(*conn, "close"));
      }
      const std::string out = serialize(resp, close);
      dl.arm(opts_.read_timeout);
      co_await asio::async_write(sock, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
      dl.disarm();
      const double secs = std::chrono::duration<double>(clock::now() - started).count();
      if (observe_) observe_(early ? nullptr : &req, resp, secs);
      if (early)  // debug only: a flood of bad requests must not flood the log (metrics count them)
        log(level::debug, "http: {} {} from {}: {}", resp.status, reason(resp.status), remote,
            resp.body.size() > 200 ? resp.body.substr(0, 200) : resp.body);
      if (ec || close) break;
    }
    co_await linger_close(sock, dl);
  }

  // Half-closes, then discards what the peer still sends (bounded: 1 s, 1 MiB) so that
  // closing with unread data does not reset the connection before the peer reads the
  // answer; then closes.
  asio::awaitable<void> linger_close(tcp::socket& sock, deadline& dl) {
    std::error_code ec;
    sock.shutdown(tcp::socket::shutdown_send, ec);
    if (!ec) {
      dl.arm(std::chrono::milliseconds(1000));
      std::array<char, 16384> scratch;
      std::size_t total = 0;
      while (total < (1u << 20)) {
        std::size_t n = co_await sock.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        total += n;
      }
      dl.disarm();
    }
    sock.close(ec);
  }

  tcp::acceptor acceptor_;
  server_options opts_;
  handler_fn handler_;
  error_fn on_error_;
  observe_fn observe_;
  std::shared_ptr<std::size_t> active_ = std::make_shared<std::size_t>(0);
  std::size_t refused_ = 0;
  clock::time_point last_refused_log_{};
};

}  // namespace gateway::http
