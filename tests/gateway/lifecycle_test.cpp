// examples/gateway's lifecycle and configuration: the SIGTERM drain (requests in progress
// finish, exit 0; a drain that times out exits 1), configuration errors answered 503 with
// the cause /readyz gives, the request-duration histogram (first byte to last byte, not
// keep-alive idle time), the remediation stream's MAXLEN, refused settings.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "gateway/gateway_support.hpp"
#include "support/redis_server.hpp"

using namespace gateway_test;
using redis_ha::test::redis_node;

namespace {

std::vector<std::string> direct(const redis_node& server, std::vector<std::string> more = {}) {
  std::vector<std::string> args{"--redis", fmt::format("127.0.0.1:{}", server.port())};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

long long xlen(redis_node& server) { return server.command({"XLEN", "remediation:requests"}).integer; }

// Sends one webhook from a thread of its own; `reply.status` is -1 if the request threw.
std::thread send_in_background(std::uint16_t port, std::string alertname, http_reply& reply) {
  return std::thread([port, alertname = std::move(alertname), &reply] {
    try {
      reply = http(port, "POST", webhook, payload({{{"alertname", alertname}}}));
    } catch (const std::exception&) {
      reply.status = -1;
    }
  });
}

}  // namespace

TEST_CASE("gateway: SIGTERM stops accepting, reports not ready, finishes requests in progress, exits 0", "[gateway]") {
  redis_node server;
  gateway_process gw(direct(server, {"--drain-timeout-ms", "10000"}), {.probe_listener = true});
  INFO("gateway log:\n" << gw.log());
  const auto port = gw.port();

  http_conn idle(port, 5s);  // a kept-alive connection between two requests
  idle.send_all(make_request("GET", "/healthz", "", "", true));
  REQUIRE(idle.read_reply().status == 200);

  // Redis holds writes for 2 s: four webhooks wait in the gateway meanwhile.
  server.command({"CLIENT", "PAUSE", "2000", "WRITE"});
  std::mutex mu;
  std::vector<int> statuses;
  std::vector<std::thread> senders;
  for (int i = 0; i < 4; ++i)
    senders.emplace_back([&, i] {
      int status = -1;  // -1: could not connect
      try {
        status = http(port, "POST", webhook, payload({{{"alertname", fmt::format("Drain{}", i)}}})).status;
      } catch (const std::exception&) {
      }
      std::lock_guard lock(mu);
      statuses.push_back(status);
    });
  // A fifth request whose body is only half sent when SIGTERM arrives.
  const std::string body = payload({{{"alertname", "DrainHalf"}}});
  http_conn half(port, 10s);
  half.send_all(fmt::format("POST {} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                            webhook, body.size(), body.substr(0, body.size() / 2)));
  // All six connections open in the gateway (and their bytes read) before SIGTERM.
  for (int i = 0; i < 100 && metric(gw.metrics(), "gateway_connections_open{listener=\"main\"}") != 6; ++i)
    std::this_thread::sleep_for(20ms);
  REQUIRE(metric(gw.metrics(), "gateway_connections_open{listener=\"main\"}") == 6);
  std::this_thread::sleep_for(200ms);

  gw.process().signal(SIGTERM);
  // Not ready as soon as the signal is handled (the probe listener stays up during the
  // drain)... The same handler closes the main listener.
  http_reply ready;
  for (int i = 0; i < 200 && ready.status != 503; ++i) {
    ready = http(gw.probe_port(), "GET", "/readyz");
    if (ready.status != 503) std::this_thread::sleep_for(10ms);
  }
  REQUIRE(is_problem(ready, 503));
  CHECK(ready.doc().value("detail", "").find("shutting down") != std::string::npos);
  // ...no longer accepting...
  const int fd = gateway_hostile::connect_from(port, "127.0.0.1");
  CHECK(fd < 0);
  if (fd >= 0) ::close(fd);
  // ...the idle connection closed, the half-sent request finished and answered.
  CHECK(idle.closed_by_peer());
  half.send_all(body.substr(body.size() / 2));
  const auto half_reply = half.read_reply();
  CHECK(half_reply.status == 201);
  CHECK(half_reply.header("connection") == "close");
  for (auto& t : senders) t.join();
  INFO("statuses: " << json(statuses).dump());
  CHECK(std::count(statuses.begin(), statuses.end(), 201) == 4);
  const auto code = gw.process().wait_for(10s);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(gw.full_log().find("drained: every request answered") != std::string::npos);
  CHECK(xlen(server) == 5);
}

TEST_CASE("gateway: a drain that outlasts --drain-timeout-ms closes what is left and exits 1", "[gateway]") {
  redis_node server;
  gateway_process gw(direct(server, {"--drain-timeout-ms", "500"}));
  INFO("gateway log:\n" << gw.log());
  server.command({"CLIENT", "PAUSE", "5000", "WRITE"});
  http_reply reply;
  std::thread sender = send_in_background(gw.port(), "TooSlow", reply);
  std::this_thread::sleep_for(300ms);
  const auto start = clock_type::now();
  gw.process().signal(SIGTERM);
  const auto code = gw.process().wait_for(10s);
  const auto took = clock_type::now() - start;
  sender.join();
  server.command({"CLIENT", "UNPAUSE"});
  REQUIRE(code.has_value());
  CHECK(*code == 1);
  CHECK(took >= 450ms);
  CHECK(took < 4s);  // well before Redis came back (5 s)
  CHECK(reply.status == 0);  // closed without an answer
  CHECK(gw.full_log().find("drain timed out: closed 1 connection(s)") != std::string::npos);
}

TEST_CASE("gateway: a second signal during the drain stops at once with exit 1", "[gateway]") {
  redis_node server;
  gateway_process gw(direct(server, {"--drain-timeout-ms", "20000"}));
  INFO("gateway log:\n" << gw.log());
  server.command({"CLIENT", "PAUSE", "5000", "WRITE"});
  http_reply reply;
  std::thread sender = send_in_background(gw.port(), "Interrupted", reply);
  std::this_thread::sleep_for(300ms);
  gw.process().signal(SIGTERM);
  for (int i = 0; i < 200 && gw.full_log().find("draining") == std::string::npos; ++i) std::this_thread::sleep_for(10ms);
  const auto start = clock_type::now();
  gw.process().signal(SIGINT);
  const auto code = gw.process().wait_for(10s);
  const auto took = clock_type::now() - start;
  sender.join();
  server.command({"CLIENT", "UNPAUSE"});
  REQUIRE(code.has_value());
  CHECK(*code == 1);
  CHECK(took < 4s);  // neither the 20 s drain nor Redis (5 s) was waited for
  CHECK(reply.status == 0);
  CHECK(gw.full_log().find("during the drain: stopping now") != std::string::npos);
}

TEST_CASE("gateway: a wrong master name or password answers 503 with the cause /readyz gives", "[gateway]") {
  redis_node data({.requirepass = "secret"});
  redis_node sentinel({.master_port = data.port(), .quorum = 1, .auth_pass = "secret"});
  const std::string sentinels = fmt::format("127.0.0.1:{}", sentinel.port());
  auto gateway = [&](const std::string& master, const std::string& password, bool ready) {
    return std::make_unique<gateway_process>(
        std::vector<std::string>{"--sentinels", sentinels, "--master-name", master, "--redis-password", password,
                                 "--failover-budget-ms", "1000"},
        gateway_options{.wait_ready = ready});
  };
  struct bad_case {
    std::string master, password, cause;
  };
  for (const auto& c : {bad_case{"nosuch", "secret", "master name"}, bad_case{"mymaster", "wrong", "authentication"}}) {
    SECTION("master " + c.master + ", password " + c.password) {
      auto gw = gateway(c.master, c.password, false);
      INFO("gateway log:\n" << gw->log());
      const auto r = http(gw->port(), "POST", webhook, payload({{{"alertname", "Misconfigured"}}}));
      const auto ready = http(gw->port(), "GET", "/readyz");
      INFO("webhook: " << r.body << "\nreadyz: " << ready.body);
      CHECK(is_problem(r, 503));
      CHECK_FALSE(r.header("retry-after").empty());
      CHECK(r.doc().value("cause", "").find(c.cause) != std::string::npos);
      CHECK(is_problem(ready, 503));
      CHECK(r.doc().value("detail", "") == ready.doc().value("detail", "?"));
      CHECK(ready.doc().value("detail", "").find(c.cause) != std::string::npos);
    }
  }
  SECTION("the right settings: 201 (the two above fail for their configuration only)") {
    auto gw = gateway("mymaster", "secret", true);
    CHECK(http(gw->port(), "POST", webhook, payload({{{"alertname", "Configured"}}})).status == 201);
  }
}

TEST_CASE("gateway: request duration runs from a request's first byte to its answer's last", "[gateway]") {
  redis_node server;
  gateway_process gw(direct(server), {.probe_listener = true});
  INFO("gateway log:\n" << gw.log());
  // One /metrics snapshot; bucket(m, le): its cumulative count of requests <= le seconds.
  auto bucket = [](const std::string& m, const std::string& le) {
    return metric(m, fmt::format("gateway_request_duration_seconds_bucket{{le=\"{}\"}}", le)).value_or(-1);
  };
  const double count_before = bucket(gw.metrics(), "+Inf");
  // Two quick requests on one connection, 3 s of keep-alive idle time between them.
  {
    http_conn c(gw.port());
    c.send_all(make_request("GET", "/healthz", "", "", true));
    REQUIRE(c.read_reply().status == 200);
    std::this_thread::sleep_for(3s);
    c.send_all(make_request("POST", webhook, payload({{{"alertname", "AfterIdle"}}}), "application/json", true));
    REQUIRE(c.read_reply().status == 201);
  }
  const auto after_idle = gw.metrics();
  INFO(after_idle);
  CHECK(bucket(after_idle, "+Inf") >= count_before + 2);
  CHECK(bucket(after_idle, "2.5") == bucket(after_idle, "+Inf"));  // the idle 3 s are in no request
  // A request whose body arrives 1.2 s after its head lasted that long.
  {
    const std::string body = payload({{{"alertname", "SlowBody"}}});
    http_conn c(gw.port());
    c.send_all(fmt::format("POST {} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                           webhook, body.size()));
    std::this_thread::sleep_for(1200ms);
    c.send_all(body);
    REQUIRE(c.read_reply().status == 201);
  }
  const auto after_slow = gw.metrics();
  INFO(after_slow);
  CHECK(bucket(after_slow, "1") == bucket(after_slow, "+Inf") - 1);
  CHECK(bucket(after_slow, "2.5") == bucket(after_slow, "+Inf"));
}

TEST_CASE("gateway: the remediation stream is trimmed to about --stream-maxlen records", "[gateway]") {
  redis_node server;
  gateway_process gw(direct(server, {"--stream-maxlen", "10"}));
  INFO("gateway log:\n" << gw.log());
  std::vector<json> alerts;
  for (int i = 0; i < 250; ++i) alerts.push_back({{"alertname", fmt::format("Trim{}", i)}});
  const auto r = http(gw.port(), "POST", webhook, payload(alerts));
  REQUIRE(r.status == 201);
  CHECK(r.doc()["created"] == 250);
  // MAXLEN ~: Redis trims whole stream nodes (stream-node-max-entries, 100 by default).
  const auto n = xlen(server);
  CHECK(n >= 10);
  CHECK(n <= 110);
}

TEST_CASE("gateway: settings that were replaced, or contradict each other, are refused", "[gateway]") {
  redis_ha::test::temp_dir dir("gateway-flags-");
  auto run = [&](std::vector<std::string> args, const std::string& env = "GATEWAY_LOG_LEVEL=info") {
    std::vector<std::string> argv{"env", env, REDIS_HA_GATEWAY_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::remove((dir.path() / "out.log").c_str());
    auto p = redis_ha::test::child_process::spawn(argv, {.output_path = (dir.path() / "out.log").string()});
    const auto code = p.wait_for(10s);
    std::ifstream in(dir.path() / "out.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return std::pair{code.value_or(-1), ss.str()};
  };
  auto [c1, out1] = run({"--redis", "127.0.0.1:1", "--rate-limit", "100"});
  CHECK(c1 == 2);
  CHECK(out1.find("--rate-limit-burst") != std::string::npos);
  auto [c2, out2] = run({"--redis", "127.0.0.1:1"}, "GATEWAY_READ_TIMEOUT_MS=1000");
  CHECK(c2 == 2);
  CHECK(out2.find("--header-timeout-ms") != std::string::npos);
  auto [c3, out3] = run({"--redis", "127.0.0.1:1", "--header-timeout-ms", "5000", "--body-timeout-ms", "5000"});
  CHECK(c3 == 2);
  CHECK(out3.find("shorter than") != std::string::npos);
  auto [c4, out4] = run({"--help"});
  CHECK(c4 == 0);
  CHECK(out4.find("--drain-timeout-ms") != std::string::npos);
  CHECK(out4.find("--probe-listen") != std::string::npos);
}
