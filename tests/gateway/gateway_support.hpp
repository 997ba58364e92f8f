#pragma once
/// @file
/// What the gateway tests share: a tiny blocking HTTP/1.1 client over POSIX sockets (with a
/// choice of source address in 127.0.0.0/8, so that tests can play several clients while
/// only ever sending to 127.0.0.1), Alertmanager payloads, and the redis_ha_gateway process.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gateway/hostile.hpp"
#include "support/free_port.hpp"
#include "support/process.hpp"
#include "support/sync_client.hpp"
#include "support/temp_dir.hpp"
#include "support/topology.hpp"

#ifndef REDIS_HA_GATEWAY_BINARY
#error "REDIS_HA_GATEWAY_BINARY must name the redis_ha_gateway executable"
#endif

namespace gateway_test {

using gateway_hostile::connect_from;
using gateway_hostile::raise_fd_limit;

using namespace std::chrono_literals;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

struct http_reply {
  int status = 0;  ///< 0: the connection closed (or timed out) without a complete response
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
  double seconds = 0;
  json doc() const { return json::parse(body, nullptr, false); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

/// One blocking client connection.
class http_conn {
 public:
  explicit http_conn(std::uint16_t port, std::chrono::milliseconds timeout = 20s, const std::string& source = "127.0.0.1") {
    fd_ = connect_from(port, source);
    if (fd_ < 0) throw std::runtime_error(fmt::format("connect to 127.0.0.1:{} from {} failed: {}", port, source, errno));
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~http_conn() { ::close(fd_); }
  http_conn(const http_conn&) = delete;
  http_conn& operator=(const http_conn&) = delete;

  /// False if the peer closed / reset.
  bool send_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  /// Reads one response (status 0 when the connection ends first or the read times out).
  /// `head_request`: the answer to HEAD carries Content-Length but no body.
  http_reply read_reply(bool head_request = false) {
    const auto start = clock_type::now();
    http_reply r;
    for (;;) {
      const auto end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::istringstream head(buf_.substr(0, end));
        std::string line;
        std::getline(head, line);
        int status = 0;
        if (std::sscanf(line.c_str(), "HTTP/1.%*d %d", &status) != 1) break;
        while (std::getline(head, line)) {
          if (!line.empty() && line.back() == '\r') line.pop_back();
          const auto colon = line.find(':');
          if (colon == std::string::npos) continue;
          std::string name = line.substr(0, colon);
          for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          r.headers[name] = value;
        }
        const std::size_t length =
            head_request || !r.headers.count("content-length") ? 0 : std::stoul(r.headers["content-length"]);
        if (buf_.size() >= end + 4 + length) {
          r.status = status;
          r.body = buf_.substr(end + 4, length);
          buf_.erase(0, end + 4 + length);
          break;
        }
      }
      char chunk[16384];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
    r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    return r;
  }

  /// True when the peer has closed the connection (EOF or reset within the read timeout).
  bool closed_by_peer() {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

inline std::string make_request(const std::string& method, const std::string& path, const std::string& body,
                                const std::string& content_type = "application/json", bool keep_alive = false) {
  std::string req = fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\n", method, path);
  if (!content_type.empty()) req += fmt::format("Content-Type: {}\r\n", content_type);
  if (method == "POST" || !body.empty()) req += fmt::format("Content-Length: {}\r\n", body.size());
  if (!keep_alive) req += "Connection: close\r\n";
  return req + "\r\n" + body;
}

/// One request on a new connection (Connection: close).
inline http_reply http(std::uint16_t port, const std::string& method, const std::string& path,
                       const std::string& body = {}, const std::string& content_type = "application/json",
                       const std::string& source = "127.0.0.1") {
  const auto start = clock_type::now();
  http_conn c(port, 20s, source);
  c.send_all(make_request(method, path, body, content_type));
  auto r = c.read_reply();
  r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  return r;
}

inline const std::string webhook = "/api/v1/signals/prometheus";

/// An Alertmanager v4 payload with one alert per label set.
inline std::string payload(const std::vector<json>& label_sets, const json& common_labels = json::object()) {
  json alerts = json::array();
  for (const auto& labels : label_sets)
    alerts.push_back({{"status", "firing"},
                      {"labels", labels},
                      {"annotations", {{"summary", "test alert"}}},
                      {"startsAt", "2024-05-01T10:00:00Z"},
                      {"endsAt", "0001-01-01T00:00:00Z"},
                      {"generatorURL", "http://prometheus/graph"}});
  json doc = {{"version", "4"},       {"groupKey", "{}:{}"}, {"status", "firing"},     {"receiver", "gateway"},
              {"groupLabels", {}},    {"commonLabels", common_labels},               {"commonAnnotations", {}},
              {"externalURL", "http://alertmanager"}, {"alerts", alerts}};
  return doc.dump();
}

inline std::string sha256_hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

inline bool is_problem(const http_reply& r, int status) {
  if (r.header("content-type") != "application/problem+json") return false;
  auto d = r.doc();
  return d.is_object() && d.value("status", 0) == status && d.contains("type") && d.contains("title") &&
         d.contains("detail");
}

/// The value of the sample `series` (name with its labels, as printed) in a Prometheus text
/// exposition, or nullopt.
inline std::optional<double> metric(const std::string& text, const std::string& series) {
  const auto pos = text.find("\n" + series + " ");
  if (pos == std::string::npos) return std::nullopt;
  return std::stod(text.substr(pos + series.size() + 2));
}

/// "--sentinels ... --master-name ..." of a topology.
inline std::vector<std::string> sentinel_args(redis_ha::test::topology& topo) {
  std::string sentinels;
  for (auto p : topo.sentinel_ports()) sentinels += fmt::format("{}127.0.0.1:{}", sentinels.empty() ? "" : ",", p);
  return {"--sentinels", sentinels, "--master-name", topo.master_name()};
}

/// How to start a gateway.
struct gateway_options {
  std::vector<std::string> env{};  ///< "NAME=value" settings passed through env(1)
  bool probe_listener = false;     ///< --probe-listen on a free port
  bool wait_ready = true;          ///< wait for /readyz 200 (else only for /healthz 200)
};

/// The redis_ha_gateway binary as a child process on free 127.0.0.1 ports.
class gateway_process {
 public:
  /// `args`: the Redis settings (sentinel_args() or --redis ...) and any other flags.
  explicit gateway_process(const std::vector<std::string>& args, const gateway_options& o = {}) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = redis_ha::test::free_port();
      probe_port_ = o.probe_listener ? redis_ha::test::free_port() : 0;
      std::vector<std::string> argv{"env"};
      argv.insert(argv.end(), o.env.begin(), o.env.end());
      argv.insert(argv.end(), {REDIS_HA_GATEWAY_BINARY, "--listen", fmt::format("127.0.0.1:{}", port_)});
      if (o.probe_listener) argv.insert(argv.end(), {"--probe-listen", fmt::format("127.0.0.1:{}", probe_port_)});
      argv.insert(argv.end(), args.begin(), args.end());
      redis_ha::test::spawn_options so;
      so.output_path = log_path().string();
      proc_ = redis_ha::test::child_process::spawn(argv, so);
      const auto deadline = clock_type::now() + 10s;
      while (clock_type::now() < deadline && proc_.running()) {
        try {
          if (http(port_, "GET", o.wait_ready ? "/readyz" : "/healthz").status == 200) return;
        } catch (const std::exception&) {
        }
        std::this_thread::sleep_for(50ms);
      }
      if (proc_.running()) break;  // up but never ready: report
    }
    throw std::runtime_error("gateway did not become ready; log:\n" + log());
  }
  std::uint16_t port() const { return port_; }
  std::uint16_t probe_port() const { return probe_port_; }
  bool running() { return proc_.running(); }
  redis_ha::test::child_process& process() { return proc_; }
  std::filesystem::path log_path() const { return dir_.path() / "gateway.log"; }
  std::string full_log() const {
    std::ifstream in(log_path());
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string log() const {
    std::string s = full_log();
    return s.size() > 6000 ? "..." + s.substr(s.size() - 6000) : s;
  }
  /// GET /metrics (on the probe listener when there is one).
  std::string metrics() { return http(probe_port_ ? probe_port_ : port_, "GET", "/metrics").body; }

 private:
  redis_ha::test::temp_dir dir_{"gateway-test-"};
  std::uint16_t port_ = 0, probe_port_ = 0;
  redis_ha::test::child_process proc_;
};

}  // namespace gateway_test
