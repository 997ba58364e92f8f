#pragma once
/// @file
/// HTTP/1.1 messages of the gateway's server: the parsed request, the response, the
/// parsing of a request head, the framing checks (Content-Length only) and the
/// serialization of a response. Sans-I/O: the server in http_server.hpp does the reading.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gateway::http {

/// A parsed request.
struct request {
  std::string method;
  std::string target;   ///< as sent (path + query)
  std::string path;     ///< target without the query
  std::string version;  ///< "HTTP/1.1" or "HTTP/1.0"
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;
  std::string remote;   ///< peer IP address

  /// First value of a header (name lower-case), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return std::string_view(v);
    return std::nullopt;
  }
};

/// A response, as built by the application.
struct response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close = false;           ///< close the connection after this response
  bool head = false;            ///< answer to HEAD: Content-Length of `body`, body not sent
  std::string route = "other";  ///< metrics label, set by the application
};

/// The reason phrase of a status code.
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

/// A framing error found before the application runs: answered, then the connection closes.
struct framing_error {
  int status;
  std::string detail;
};

/// Case-insensitive ASCII comparison.
inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

/// `s` without leading and trailing blanks.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// True when the comma-separated `list` holds `token` (case-insensitive).
inline bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

/// Parses a head (request line + headers, without the final CRLFCRLF) into `req`.
inline std::optional<framing_error> parse_head(std::string_view head, request& req) {
  auto eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return framing_error{400, "malformed request line"};
  req.method = std::string(line.substr(0, sp1));
  req.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  req.version = std::string(line.substr(sp2 + 1));
  if (req.method.empty() || req.target.empty() || req.target.front() != '/')
    return framing_error{400, "malformed request line"};
  for (char c : req.method)
    if (!std::isupper(static_cast<unsigned char>(c))) return framing_error{400, "malformed method"};
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0")
    return framing_error{req.version.rfind("HTTP/", 0) == 0 ? 505 : 400, "only HTTP/1.0 and HTTP/1.1 are supported"};
  req.path = req.target.substr(0, req.target.find('?'));
  std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
  while (!rest.empty()) {
    eol = rest.find("\r\n");
    std::string_view h = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    if (h.empty()) continue;
    const auto colon = h.find(':');
    if (h.front() == ' ' || h.front() == '\t' || colon == std::string_view::npos || colon == 0)
      return framing_error{400, "malformed header line"};
    std::string name(h.substr(0, colon));
    for (char& c : name) {
      if (c == ' ' || c == '\t') return framing_error{400, "whitespace in header name"};
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    req.headers.emplace_back(std::move(name), std::string(trim(h.substr(colon + 1))));
  }
  return std::nullopt;
}

/// The body length a parsed head announces (Content-Length only; chunked is refused with
/// 411), checked against `max_body` (413).
inline std::optional<framing_error> body_length(const request& req, std::size_t max_body, std::size_t& length) {
  length = 0;
  std::size_t cl_count = 0;
  for (const auto& [k, v] : req.headers) cl_count += k == "content-length";
  const auto cl = req.header("content-length");
  if (req.header("transfer-encoding"))
    return framing_error{411, "Transfer-Encoding (chunked) bodies are not supported; send Content-Length"};
  if (cl_count > 1) return framing_error{400, "several Content-Length headers"};
  if (!cl) {
    if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH")
      return framing_error{411, "Content-Length required"};
    return std::nullopt;
  }
  if (cl->empty() || cl->size() > 18 || !std::all_of(cl->begin(), cl->end(), [](char c) { return c >= '0' && c <= '9'; }))
    return framing_error{400, "invalid Content-Length"};
  length = std::stoull(std::string(*cl));
  if (length > max_body)
    return framing_error{413, fmt::format("body of {} bytes exceeds the limit of {} bytes", length, max_body)};
  return std::nullopt;
}

/// True when the request asks for the connection to close after its response.
inline bool wants_close(const request& req) {
  const auto conn = req.header("connection");
  if (req.version == "HTTP/1.0") return !conn || !has_token(*conn, "keep-alive");
  return conn && has_token(*conn, "close");
}

/// The bytes of a response (the body left out for HEAD).
inline std::string serialize(const response& r, bool close) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n", r.status,
                                reason(r.status), r.content_type, r.body.size());
  for (const auto& [k, v] : r.headers) out += fmt::format("{}: {}\r\n", k, v);
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  if (!r.head) out += r.body;
  return out;
}

}  // namespace gateway::http
