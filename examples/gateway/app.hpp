#pragma once
/// @file
/// Routes of the gateway: the webhook, health, readiness and metrics.

#include <redis_ha/client.hpp>

#include <asio/awaitable.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <random>
#include <string>
#include <string_view>

#include "alerts.hpp"
#include "config.hpp"
#include "http_message.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "store.hpp"

namespace gateway {

/// An RFC 7807 problem document.
inline http::response problem(int status, std::string detail) {
  const char* slug = "error";
  switch (status) {
    case 400: slug = "invalid-payload"; break;
    case 404: slug = "not-found"; break;
    case 405: slug = "method-not-allowed"; break;
    case 408: slug = "request-timeout"; break;
    case 411: slug = "length-required"; break;
    case 413: slug = "payload-too-large"; break;
    case 415: slug = "unsupported-media-type"; break;
    case 429: slug = "rate-limited"; break;
    case 431: slug = "header-too-large"; break;
    case 500: slug = "internal-error"; break;
    case 503: slug = "redis-unavailable"; break;
    case 505: slug = "http-version-not-supported"; break;
  }
  http::response r;
  r.status = status;
  r.content_type = "application/problem+json";
  json body = {{"type", std::string("urn:redis-ha-gateway:problem:") + slug},
               {"title", http::reason(status)},
               {"status", status},
               {"detail", std::move(detail)}};
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

class app {
 public:
  app(const config& cfg, redis_ha::client& client, store& st, metrics& m)
      : cfg_(cfg), client_(client), store_(st), metrics_(m), rng_(std::random_device{}()) {}

  /// SIGTERM received: /readyz answers 503 from now on.
  void set_draining() { draining_ = true; }

  /// Why the gateway is not ready (the `detail` of /readyz's 503, and of a webhook's 503
  /// when Redis cannot be used).
  std::string unready_detail() const {
    if (draining_) return "shutting down: SIGTERM received, finishing the requests in progress";
    return "no verified Redis master: " + client_.last_error_detail();
  }

  /// The main listener: the webhook and the probe routes.
  asio::awaitable<http::response> handle(const http::request& req) {
    const std::string& p = req.path;
    if (p == "/api/v1/signals/prometheus" || p == "/webhook/prometheus") {
      http::response r;
      if (req.method != "POST") {
        r = problem(405, fmt::format("{} is not allowed on {}", req.method, p));
        r.headers.emplace_back("Allow", "POST");
      } else {
        r = co_await webhook(req);
      }
      r.route = p;
      co_return r;
    }
    co_return probe(req);
  }

  /// The probe listener (--probe-listen): /healthz, /readyz and /metrics only.
  asio::awaitable<http::response> handle_probe(const http::request& req) { co_return probe(req); }

 private:
  http::response probe(const http::request& req) const {
    const std::string& p = req.path;
    if (p == "/healthz" || p == "/readyz" || p == "/metrics") {
      http::response r;
      if (req.method != "GET" && req.method != "HEAD") {
        r = problem(405, fmt::format("{} is not allowed on {}", req.method, p));
        r.headers.emplace_back("Allow", "GET, HEAD");
      } else if (p == "/healthz") {
        r.body = "ok\n";
      } else if (p == "/readyz") {
        if (client_.ready() && !draining_) {
          r.body = "ready\n";
        } else {
          r = problem(503, unready_detail());
          r.headers.emplace_back("Retry-After", "1");
        }
      } else {
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = metrics_.render(client_);
      }
      r.route = p;
      return r;
    }
    http::response r = problem(404, fmt::format("no route for {}", p));
    r.route = "other";
    return r;
  }

  static bool is_json_content_type(std::string_view ct) {
    auto semi = ct.find(';');
    std::string_view media = ct.substr(0, semi);
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    std::string lower(media);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower == "application/json";
  }

  std::string new_op_id() {
    return fmt::format("{:016x}{:016x}", rng_(), rng_());
  }

  asio::awaitable<http::response> webhook(const http::request& req) {
    const auto ct = req.header("content-type");
    if (!ct || !is_json_content_type(*ct))
      co_return problem(415, fmt::format("Content-Type must be application/json (got '{}')", ct ? *ct : ""));
    try {
      const rate_result rl = co_await store_.rate_limit(req.remote);
      if (!rl.allowed) {
        http::response r = problem(429, fmt::format("{} sent more than {} requests at once or {} per second", req.remote,
                                                    cfg_.rate_burst, cfg_.rate_per_s));
        r.headers.emplace_back("Retry-After", std::to_string(rl.retry_after));
        co_return r;
      }
      parse_error perr;
      auto alerts = parse_webhook(req.body, perr);
      if (!alerts) co_return problem(400, perr.detail);

      const auto now = std::chrono::system_clock::now();
      const std::string base = new_op_id();
      json results = json::array();
      int created = 0, duplicates = 0, storms = 0;
      for (std::size_t i = 0; i < alerts->size(); ++i) {
        const alert& a = (*alerts)[i];
        const std::string op = fmt::format("{}:{}", base, i);
        const outcome o = co_await store_.record(a, op, now);
        json item;
        switch (o.what) {
          case outcome::kind::created:
            ++created;
            metrics_.alert("created");
            item = {{"status", "created"}, {"fingerprint", a.fingerprint}, {"recordId", o.id}, {"priority", a.priority}};
            log(level::info, "alert created: {} {}/{} {}/{} {} record {}", a.alertname, a.ns, a.kind, a.name,
                a.priority, a.fingerprint.substr(0, 12), o.id);
            break;
          case outcome::kind::duplicate:
            ++duplicates;
            metrics_.alert("duplicate");
            item = {{"status", "duplicate"}, {"fingerprint", a.fingerprint}, {"count", o.count}};
            log(level::debug, "alert duplicate: {} {} count {}", a.alertname, a.fingerprint.substr(0, 12), o.count);
            break;
          case outcome::kind::storm:
            ++storms;
            metrics_.alert("storm");
            item = {{"status", "accepted"}, {"isStorm", true}, {"stormId", o.id}, {"count", o.count},
                    {"fingerprint", a.fingerprint}};
            if (o.count == 1) log(level::warn, "alert storm started: {}", o.id);
            break;
        }
        results.push_back(std::move(item));
      }
      http::response r;
      r.status = created > 0 ? 201 : 202;
      r.content_type = "application/json";
      json body;
      if (results.size() == 1) {
        body = results[0];
      } else {
        body = {{"status", created > 0 ? "created" : "accepted"},
                {"created", created},
                {"duplicates", duplicates},
                {"storm", storms},
                {"results", results}};
      }
      r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
      co_return r;
    } catch (const redis_failure& e) {
      if (e.unavailable()) {
        // Not ready (no master, wrong master name or password, no sentinel): the text of
        // /readyz. Ready but this request failed (e.g. its timeout): the error itself.
        const std::string detail = client_.ready() ? e.what() : unready_detail();
        log(level::warn, "webhook: Redis unavailable: {} ({})", e.what(), detail);
        http::response r = problem(503, detail);
        with_cause(r, e.code());
        r.headers.emplace_back("Retry-After", "5");
        co_return r;
      }
      log(level::error, "webhook: Redis failure: {} [{}]", e.what(), e.code().message());
      http::response r = problem(500, fmt::format("unexpected Redis failure: {}", e.what()));
      with_cause(r, e.code());
      co_return r;
    }
  }

  // Adds the error code's message to a problem document (extension member "cause").
  static void with_cause(http::response& r, std::error_code ec) {
    json doc = json::parse(r.body);
    doc["cause"] = ec.message();
    r.body = doc.dump(-1, ' ', false, json::error_handler_t::replace);
  }

  const config& cfg_;
  redis_ha::client& client_;
  store& store_;
  metrics& metrics_;
  std::mt19937_64 rng_;
  bool draining_ = false;
};

}  // namespace gateway
