#pragma once
/// @file tls.hpp
/// TLS for the real-server harness: test certificates generated with the `openssl` CLI,
/// the configuration lines that put redis-server / redis-sentinel in TLS mode, a TLS
/// server and a TLS Sentinel topology.
///
/// **Plaintext admin port.** redis_node waits for readiness and runs admin commands through
/// the plaintext hiredis helper (sync_client.hpp) on its `port()`. So every TLS node here
/// keeps that plaintext port, *for the harness only* (readiness, INFO, CLIENT LIST,
/// SENTINEL FAILOVER, ...), and additionally listens with TLS on `tls_port`. Clients under
/// test must be given the TLS port only; tests can prove it with client_ports().

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "support/free_port.hpp"
#include "support/info.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/sync_client.hpp"
#include "support/temp_dir.hpp"

#ifndef REDIS_HA_TEST_OPENSSL
#define REDIS_HA_TEST_OPENSSL "openssl"
#endif

namespace redis_ha::test {

/// A key and the certificate for it.
struct tls_identity {
  std::filesystem::path cert;  ///< PEM certificate.
  std::filesystem::path key;   ///< PEM private key (unencrypted).
};

/// Test PKI generated with the openssl CLI into a fresh temp dir (EC P-256 keys, valid
/// 2 days), removed on destruction:
/// - ca(): a self-signed CA that signed everything below;
/// - server(): CN=localhost, SAN `DNS:localhost, IP:127.0.0.1` (serverAuth + clientAuth,
///   so nodes can also present it on their outgoing replication / Sentinel links);
/// - wrong_server(): signed by the same CA but with SAN `DNS:wrong.example` only: the
///   chain is valid, the name is not (host name verification must reject it);
/// - client(): CN=redis-ha-test-client (clientAuth), for `tls-auth-clients yes`.
class tls_certificates {
public:
  /// Generates everything; throws std::runtime_error with openssl's output on failure.
  tls_certificates() : dir_("redis-ha-tls-") {
    const auto d = dir_.path();
    run({"req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-keyout",
         (d / "ca.key").string(), "-out", (d / "ca.crt").string(), "-days", "2", "-subj", "/CN=redis-ha test CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
    issue("server", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", "serverAuth,clientAuth");
    issue("wrong", "/CN=wrong.example", "DNS:wrong.example", "serverAuth,clientAuth");
    issue("client", "/CN=redis-ha-test-client", "", "clientAuth");
  }

  /// The CA certificate (what clients trust).
  std::filesystem::path ca_cert() const { return dir_.path() / "ca.crt"; }
  /// The server identity: SAN `DNS:localhost, IP:127.0.0.1`.
  tls_identity server() const { return identity("server"); }
  /// A valid certificate of the same CA for `wrong.example` only.
  tls_identity wrong_server() const { return identity("wrong"); }
  /// A client certificate of the same CA.
  tls_identity client() const { return identity("client"); }
  /// The directory holding the files.
  const std::filesystem::path& dir() const noexcept { return dir_.path(); }

  /// One set of certificates per test process (generating takes ~50 ms).
  static const tls_certificates& shared() {
    static const tls_certificates instance;
    return instance;
  }

private:
  tls_identity identity(const std::string& name) const {
    return {dir_.path() / (name + ".crt"), dir_.path() / (name + ".key")};
  }

  void issue(const std::string& name, const std::string& subject, const std::string& san, const std::string& eku) {
    const auto d = dir_.path();
    const auto ext = d / (name + ".ext");
    {
      std::ofstream out(ext);
      out << "basicConstraints=CA:FALSE\n"
          << "keyUsage=critical,digitalSignature,keyEncipherment\n"
          << "extendedKeyUsage=" << eku << "\n";
      if (!san.empty()) out << "subjectAltName=" << san << "\n";
    }
    run({"req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-keyout",
         (d / (name + ".key")).string(), "-out", (d / (name + ".csr")).string(), "-subj", subject});
    run({"x509", "-req", "-in", (d / (name + ".csr")).string(), "-CA", (d / "ca.crt").string(), "-CAkey",
         (d / "ca.key").string(), "-set_serial", std::to_string(++serial_), "-days", "2", "-extfile", ext.string(),
         "-out", (d / (name + ".crt")).string()});
  }

  void run(std::vector<std::string> args) const {
    args.insert(args.begin(), REDIS_HA_TEST_OPENSSL);
    const auto log = dir_.path() / "openssl.log";
    auto child = child_process::spawn(args, {.output_path = log.string()});
    const auto code = child.wait_for(std::chrono::seconds(20));
    if (code == 0) return;
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    std::string cmd;
    for (const auto& a : args) cmd += a + ' ';
    throw std::runtime_error(fmt::format("tls_certificates: `{}` failed ({}):\n{}", cmd,
                                         code ? fmt::format("exit code {}", *code) : std::string("timeout"),
                                         text.str()));
  }

  temp_dir dir_;
  mutable int serial_ = 1;
};

/// `tls-auth-clients` of a TLS node.
enum class tls_client_auth {
  no,        ///< Clients need no certificate.
  optional,  ///< A client certificate is verified if presented.
  yes,       ///< A client certificate of the CA is required.
};

/// Settings of a TLS node.
struct tls_node_options {
  /// TLS port (the plaintext `port` of redis_node stays, for the harness only).
  std::uint16_t tls_port = 0;
  /// `tls-auth-clients`.
  tls_client_auth auth_clients = tls_client_auth::no;
  /// Present wrong_server() instead of server().
  bool wrong_certificate = false;
  /// `tls-replication yes`: replicas connect to their master over TLS, and a sentinel uses
  /// TLS on all its outgoing links (data nodes and other sentinels) and announces its TLS
  /// port to the other sentinels. Replicas then also announce their TLS port.
  bool tls_replication = true;
};

namespace detail_tls {
inline std::string quoted(const std::filesystem::path& p) {
  std::string q = "\"";
  for (const char c : p.string()) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + '"';
}
inline const char* to_string(tls_client_auth a) {
  switch (a) {
    case tls_client_auth::no: return "no";
    case tls_client_auth::optional: return "optional";
    case tls_client_auth::yes: return "yes";
  }
  return "no";
}
}  // namespace detail_tls

/// The extra_config lines that make a redis-server (or redis-sentinel: the directives are
/// the same) listen with TLS on `options.tls_port`: `tls-port`, `tls-cert-file`,
/// `tls-key-file`, `tls-ca-cert-file`, `tls-auth-clients`, `tls-replication`. The node keeps
/// its plaintext `port` (written first by redis_node) as the harness' admin port; a
/// TLS-only production node would use `port 0`.
inline std::vector<std::string> tls_config(const tls_certificates& certs, const tls_node_options& options) {
  if (options.tls_port == 0) throw std::invalid_argument("tls_config: tls_port is required");
  const auto id = options.wrong_certificate ? certs.wrong_server() : certs.server();
  return {fmt::format("tls-port {}", options.tls_port),
          "tls-cert-file " + detail_tls::quoted(id.cert),
          "tls-key-file " + detail_tls::quoted(id.key),
          "tls-ca-cert-file " + detail_tls::quoted(certs.ca_cert()),
          fmt::format("tls-auth-clients {}", detail_tls::to_string(options.auth_clients)),
          fmt::format("tls-replication {}", options.tls_replication ? "yes" : "no")};
}

/// Ports (local side, i.e. the server's listening port) of the connections whose
/// `CLIENT SETNAME` is `name` on `node`, from `CLIENT LIST` (`laddr=`), queried over the
/// plaintext admin port.
inline std::vector<std::uint16_t> client_ports(const redis_node& node, const std::string& name) {
  std::vector<std::uint16_t> ports;
  std::istringstream in(node.command({"CLIENT", "LIST"}).str);
  for (std::string line; std::getline(in, line);) {
    std::map<std::string, std::string> fields;
    std::istringstream words(line);
    for (std::string w; words >> w;)
      if (const auto eq = w.find('='); eq != std::string::npos) fields[w.substr(0, eq)] = w.substr(eq + 1);
    if (fields["name"] != name) continue;
    const auto& laddr = fields["laddr"];
    if (const auto colon = laddr.rfind(':'); colon != std::string::npos)
      ports.push_back(static_cast<std::uint16_t>(std::stoi(laddr.substr(colon + 1))));
  }
  return ports;
}

/// A redis-server listening with TLS on tls_port() and, for the harness only, in plaintext
/// on node().port().
class tls_server {
public:
  /// Starts it. `extra` lines are appended after the TLS lines.
  explicit tls_server(const tls_certificates& certs, tls_node_options options = {},
                      std::vector<std::string> extra = {}) {
    if (options.tls_port == 0) options.tls_port = free_port();
    tls_port_ = options.tls_port;
    server_options server;
    server.extra_config = tls_config(certs, options);
    server.extra_config.insert(server.extra_config.end(), extra.begin(), extra.end());
    node_.emplace(server);
  }

  /// The TLS port: the only one clients under test may use.
  std::uint16_t tls_port() const noexcept { return tls_port_; }
  /// The plaintext admin port (harness only).
  std::uint16_t admin_port() const noexcept { return node_->port(); }
  /// The process (admin commands go over the plaintext port).
  redis_node& node() { return *node_; }
  /// As above.
  const redis_node& node() const { return *node_; }

private:
  std::uint16_t tls_port_ = 0;
  std::optional<redis_node> node_;
};

/// Options of a tls_topology.
struct tls_topology_options {
  std::string master_name = "mymaster";  ///< Name the sentinels monitor the master under.
  int down_after_ms = 1000;              ///< `sentinel down-after-milliseconds`.
  int failover_timeout_ms = 5000;        ///< `sentinel failover-timeout`.
  std::vector<std::string> extra_server_config{};    ///< Extra lines for every data node.
  std::vector<std::string> extra_sentinel_config{};  ///< Extra lines for every sentinel.
  int sentinel_publish_period_ms = 500;  ///< SENTINEL DEBUG publish-period (see topology.hpp).
  int sentinel_info_period_ms = 1000;    ///< SENTINEL DEBUG info-period.
  int sentinel_ping_period_ms = 250;     ///< SENTINEL DEBUG ping-period.
  std::chrono::milliseconds ready_timeout{20000};  ///< Bound of the wait for the topology.
};

/// 1 master + 2 replicas + 3 sentinels (quorum 2) where everything Redis talks to Redis is
/// TLS:
/// - data nodes listen on a TLS port; replicas replicate from the master's TLS port
///   (`replicaof 127.0.0.1 <master tls port>`, `tls-replication yes`) and announce their
///   TLS port, so Sentinel lists replicas (and promotes) by TLS port;
/// - sentinels listen on a TLS port, monitor the master's TLS port and use TLS on every
///   outgoing link (`tls-replication yes`: to data nodes and to the other sentinels), and
///   announce their TLS port in hellos, so `SENTINEL sentinels` lists TLS ports.
/// What is not TLS: each process' plaintext admin port, used by the harness alone (the
/// readiness PING, INFO, CLIENT LIST, SENTINEL DEBUG / FAILOVER). Nothing but the harness
/// is ever told about those ports.
class tls_topology {
public:
  /// Starts everything and waits until replication and the sentinels are up.
  explicit tls_topology(const tls_certificates& certs, tls_topology_options options = {})
      : options_(std::move(options)) {
    data_.reserve(3);
    sentinels_.reserve(3);
    for (int i = 0; i < 3; ++i) {
      std::vector<std::string> extra = options_.extra_server_config;
      if (i > 0) extra.push_back(fmt::format("replicaof 127.0.0.1 {}", data_[0].tls_port()));
      data_.emplace_back(certs, tls_node_options{}, std::move(extra));
    }
    wait_until("replicas linked over TLS", options_.ready_timeout, [&] {
      for (std::size_t i = 1; i < 3; ++i) {
        auto info = parse_info(data_[i].node().command({"INFO", "replication"}, query_timeout).str);
        if (info["master_link_status"] != "up" || info["master_port"] != std::to_string(data_[0].tls_port()))
          return false;
      }
      return true;
    });
    for (int i = 0; i < 3; ++i) {
      const auto tls_port = free_port();
      sentinel_options s{.master_port = data_[0].tls_port(),  // monitored over TLS
                         .master_name = options_.master_name,
                         .down_after_ms = options_.down_after_ms,
                         .failover_timeout_ms = options_.failover_timeout_ms,
                         .extra_config = tls_config(certs, tls_node_options{.tls_port = tls_port})};
      s.extra_config.insert(s.extra_config.end(), options_.extra_sentinel_config.begin(),
                            options_.extra_sentinel_config.end());
      sentinels_.emplace_back(s);
      sentinel_tls_ports_.push_back(tls_port);
      tune_sentinel(sentinels_.back(), options_.sentinel_publish_period_ms, options_.sentinel_info_period_ms,
                    options_.sentinel_ping_period_ms);
    }
    wait_until("sentinels ready", options_.ready_timeout, [&] { return sentinels_ready(data_[0].tls_port()); });
  }

  /// Name the master is monitored under.
  const std::string& master_name() const noexcept { return options_.master_name; }
  /// Data node `i` (0 is the initial master).
  tls_server& data_node(std::size_t i) { return data_.at(i); }
  /// TLS ports of the data nodes.
  std::vector<std::uint16_t> data_tls_ports() const {
    std::vector<std::uint16_t> p;
    for (const auto& d : data_) p.push_back(d.tls_port());
    return p;
  }
  /// Sentinel `i` (admin commands over its plaintext port).
  redis_node& sentinel(std::size_t i) { return sentinels_.at(i); }
  /// TLS ports of the sentinels: what clients under test are given.
  const std::vector<std::uint16_t>& sentinel_tls_ports() const noexcept { return sentinel_tls_ports_; }

  /// The data node whose TLS port is `port`.
  tls_server& data_node_by_tls_port(std::uint16_t port) {
    for (auto& d : data_)
      if (d.tls_port() == port) return d;
    throw std::out_of_range(fmt::format("no data node with TLS port {}", port));
  }

  /// The master's TLS port according to the first sentinel that answers.
  std::uint16_t master_tls_port() {
    std::string errors;
    for (auto& s : sentinels_) {
      try {
        if (auto p = sentinel_master_port(s, options_.master_name, query_timeout)) return *p;
      } catch (const std::exception& e) {
        errors += fmt::format("\n  {}", e.what());
      }
    }
    throw std::runtime_error("tls_topology: no sentinel reports a master" + errors);
  }

  /// `SENTINEL FAILOVER` once sentinel 0 sees both replicas healthy; returns the old
  /// master's TLS port.
  std::uint16_t failover(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto old_port = master_tls_port();
    wait_until("SENTINEL FAILOVER accepted", timeout, [&] {
      if (!replicas_healthy(sentinels_[0], old_port)) return false;
      sentinels_[0].command({"SENTINEL", "FAILOVER", options_.master_name});
      return true;
    });
    return old_port;
  }

  /// Waits until all sentinels agree on a master other than `old_port` and it answers ROLE
  /// master; returns its TLS port.
  std::uint16_t wait_for_master_change(std::uint16_t old_port,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::uint16_t result = 0;
    wait_until(fmt::format("master change away from TLS port {}", old_port), timeout, [&] {
      std::optional<std::uint16_t> agreed;
      for (auto& s : sentinels_) {
        const auto p = sentinel_master_port(s, options_.master_name, query_timeout);
        if (!p || *p == old_port || (agreed && *agreed != *p)) return false;
        agreed = p;
      }
      const auto role = data_node_by_tls_port(*agreed).node().command({"ROLE"}, query_timeout);
      if (role.elements.empty() || role.elements[0].str != "master") return false;
      result = *agreed;
      return true;
    });
    return result;
  }

  /// Polls `ready` every 25 ms until true (exceptions count as "not yet"); throws with
  /// diagnostics() after `timeout`.
  void wait_until(const std::string& what, std::chrono::milliseconds timeout, const std::function<bool()>& ready) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last_error;
    while (true) {
      try {
        if (ready()) return;
      } catch (const std::exception& e) {
        last_error = e.what();
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    throw std::runtime_error(fmt::format("tls_topology: timed out after {} ms waiting for {}{}\n{}", timeout.count(),
                                         what, last_error.empty() ? "" : " (last error: " + last_error + ")",
                                         diagnostics()));
  }

  /// State of every node, for failure messages.
  std::string diagnostics() {
    std::string text;
    for (auto& d : data_) {
      text += fmt::format("data node tls={} admin={}: ", d.tls_port(), d.admin_port());
      try {
        auto info = parse_info(d.node().command({"INFO", "replication"}, query_timeout).str);
        text += fmt::format("role={} master_port={} link={}\n", info["role"], info["master_port"],
                            info["master_link_status"]);
      } catch (const std::exception& e) {
        text += fmt::format("error: {}\n{}", e.what(), d.node().log_tail(10));
      }
    }
    for (std::size_t i = 0; i < sentinels_.size(); ++i) {
      auto& s = sentinels_[i];
      text += fmt::format("sentinel tls={} admin={}: ", sentinel_tls_ports_[i], s.port());
      try {
        const auto m = s.command({"SENTINEL", "MASTER", options_.master_name}, query_timeout);
        const auto r = s.command({"SENTINEL", "REPLICAS", options_.master_name}, query_timeout);
        const auto o = s.command({"SENTINEL", "SENTINELS", options_.master_name}, query_timeout);
        text += fmt::format("master={} flags={} replicas=[", m.field("port").value_or("?"),
                            m.field("flags").value_or("?"));
        for (const auto& e : r.elements)
          text += fmt::format(" {}({})", e.field("port").value_or("?"), e.field("flags").value_or("?"));
        text += " ] sentinels=[";
        for (const auto& e : o.elements)
          text += fmt::format(" {}({})", e.field("port").value_or("?"), e.field("flags").value_or("?"));
        text += " ]\n" + s.log_tail(15);
      } catch (const std::exception& e) {
        text += fmt::format("error: {}\n{}", e.what(), s.log_tail(15));
      }
    }
    return text;
  }

private:
  static constexpr std::chrono::milliseconds query_timeout{500};

  bool replicas_healthy(redis_node& s, std::uint16_t master_port) {
    const auto replicas = s.command({"SENTINEL", "REPLICAS", options_.master_name}, query_timeout);
    for (auto& d : data_) {
      if (d.tls_port() == master_port) continue;
      bool ok = false;
      for (const auto& r : replicas.elements)
        if (r.field("port") == std::to_string(d.tls_port()))
          ok = r.field("flags") == "slave" && r.field("role-reported") == "slave" &&
               r.field("master-link-status") == "ok" && r.field("master-port") == std::to_string(master_port);
      if (!ok) return false;
    }
    return true;
  }

  bool sentinels_ready(std::uint16_t master_port) {
    for (auto& s : sentinels_) {
      if (sentinel_master_port(s, options_.master_name, query_timeout) != master_port || !replicas_healthy(s, master_port)) return false;
      const auto others = s.command({"SENTINEL", "SENTINELS", options_.master_name}, query_timeout);
      if (others.elements.size() != 2) return false;
      for (const auto& o : others.elements) {
        if (o.field("flags") != "sentinel") return false;
        // Announced (and reached) by TLS port.
        const auto port = static_cast<std::uint16_t>(std::stoi(o.field("port").value_or("0")));
        if (std::find(sentinel_tls_ports_.begin(), sentinel_tls_ports_.end(), port) == sentinel_tls_ports_.end())
          return false;
      }
    }
    return true;
  }

  tls_topology_options options_;
  std::vector<tls_server> data_;
  std::vector<redis_node> sentinels_;
  std::vector<std::uint16_t> sentinel_tls_ports_;
};

}  // namespace redis_ha::test
