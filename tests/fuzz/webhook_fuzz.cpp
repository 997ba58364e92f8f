// Fuzz target: the example gateway's Alertmanager webhook parser
// (examples/gateway/alerts.hpp, gateway::parse_webhook), included as is.
//
// Checked for every input: parse_webhook never throws; a refusal carries a
// reason; every accepted alert is complete (alert name, namespace, kind and
// name, a priority P0..P3, a 64-digit hex fingerprint that matches its
// fields, labels and annotations that are objects of strings). The status
// is kept as sent, so it may be empty (`"status": ""`): not checked.
#include "alerts.hpp"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

namespace {

bool is_hex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool strings_only(const gateway::json& o) {
  if (!o.is_object()) return false;
  for (const auto& [k, v] : o.items())
    if (!v.is_string()) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  gateway::parse_error err;
  std::optional<std::vector<gateway::alert>> alerts;
  try {
    alerts = gateway::parse_webhook(body, err);
  } catch (...) {
    FUZZ_CHECK(false, "parse_webhook threw");
  }
  if (!alerts) {
    FUZZ_CHECK(!err.detail.empty(), "a refusal without a reason");
    return 0;
  }
  FUZZ_CHECK(!alerts->empty(), "accepted, but no alert");
  for (const auto& a : *alerts) {
    FUZZ_CHECK(!a.alertname.empty(), "an alert without alertname");
    FUZZ_CHECK(!a.ns.empty() && !a.kind.empty() && !a.name.empty(), "an alert without namespace, kind or name");
    FUZZ_CHECK(a.priority.size() == 2 && a.priority[0] == 'P' && a.priority[1] >= '0' && a.priority[1] <= '3',
               "a priority outside P0..P3");
    FUZZ_CHECK(is_hex64(a.fingerprint), "a fingerprint that is not 64 hex digits");
    FUZZ_CHECK(a.fingerprint == gateway::fingerprint(a.alertname, a.ns, a.kind, a.name),
               "a fingerprint that does not match the alert");
    FUZZ_CHECK(strings_only(a.labels) && strings_only(a.annotations), "labels or annotations not strings");
  }
  return 0;
}

// --- generator for the replay driver ---------------------------------------

namespace {

struct json_gen {
  std::mt19937_64& rng;

  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }
  bool chance(int percent) { return pick(100) < static_cast<std::size_t>(percent); }

  std::string str() {
    static const char* words[] = {"HighCPU", "prod", "production", "staging", "critical", "warning", "info",
                                  "web-1",   "",     "firing",     "resolved", "\\u00e9", "\\ud800", "a\\\"b"};
    return "\"" + std::string(words[pick(sizeof words / sizeof *words)]) + "\"";
  }

  // Any JSON value, sometimes deeply nested.
  std::string value(int depth) {
    switch (pick(depth > 6 ? 4 : 6)) {
      case 0: return str();
      case 1: return std::to_string(static_cast<long long>(rng()) % 1000);
      case 2: return chance(50) ? "null" : "true";
      case 3: return "1e309";
      case 4: {
        std::string s = "[";
        for (std::size_t i = 0, n = pick(4); i < n; ++i) s += (i ? "," : "") + value(depth + 1);
        return s + "]";
      }
      default: {
        std::string s = "{";
        for (std::size_t i = 0, n = pick(4); i < n; ++i) s += std::string(i ? "," : "") + str() + ":" + value(depth + 1);
        return s + "}";
      }
    }
  }

  std::string labels() {
    static const char* keys[] = {"alertname", "namespace", "exported_namespace", "pod", "deployment",
                                 "statefulset", "daemonset", "node", "service", "severity", "environment"};
    std::string s = "{";
    for (std::size_t i = 0, n = pick(6); i < n; ++i)
      s += std::string(i ? "," : "") + "\"" + keys[pick(sizeof keys / sizeof *keys)] + "\":" +
           (chance(90) ? str() : value(3));
    return s + "}";
  }

  std::string alert() {
    if (chance(5)) return value(2);
    std::string s = "{\"labels\":" + (chance(95) ? labels() : value(2));
    if (chance(60)) s += ",\"annotations\":" + (chance(90) ? labels() : value(2));
    if (chance(60)) s += ",\"status\":" + (chance(90) ? str() : value(2));
    if (chance(60)) s += ",\"startsAt\":\"2026-01-01T00:00:00Z\"";
    return s + "}";
  }

  std::string webhook() {
    if (chance(3)) return std::string(70 + pick(40), '[');  // beyond the depth limit
    std::string s = "{\"version\":\"4\",\"status\":" + str();
    if (chance(50)) s += ",\"commonLabels\":" + (chance(90) ? labels() : value(2));
    if (chance(30)) s += ",\"commonAnnotations\":" + (chance(90) ? labels() : value(2));
    if (chance(95)) {
      s += ",\"alerts\":[";
      for (std::size_t i = 0, n = pick(5); i < n; ++i) s += (i ? "," : "") + alert();
      s += "]";
    }
    return s + "}";
  }

  void mutate(std::string& s) {
    for (std::size_t e = 0, n = chance(60) ? 0 : 1 + pick(3); e < n && !s.empty(); ++e) {
      const std::size_t at = pick(s.size());
      switch (pick(4)) {
        case 0: s[at] = static_cast<char>(rng()); break;
        case 1: s.erase(at, 1 + pick(4)); break;
        case 2: s.insert(at, chance(50) ? "{\"a\":" : "[["); break;
        default: s.resize(at); break;
      }
    }
  }
};

}  // namespace

std::string redis_ha::fuzz::generate(std::mt19937_64& rng) {
  json_gen g{rng};
  std::string s = g.webhook();
  g.mutate(s);
  return s;
}
