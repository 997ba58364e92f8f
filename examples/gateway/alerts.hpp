#pragma once
/// @file
/// Alertmanager webhook (version 4) parsing, fingerprints (SHA-256) and priorities.

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

namespace gateway {

using json = nlohmann::json;

inline constexpr int max_json_depth = 64;

struct alert {
  std::string alertname;
  std::string ns;          // namespace
  std::string kind;        // Pod, Deployment, ..., Unknown
  std::string name;        // resource name, or "unknown"
  std::string severity;    // label "severity", lower-cased ("" if none); priority treats unknown as info
  std::string environment; // label "environment", else "unknown"
  std::string priority;    // P0..P3
  std::string status;      // firing | resolved (as sent)
  std::string starts_at;   // as sent, may be empty
  std::string fingerprint; // lowercase hex SHA-256 of alertname:namespace:kind:name
  json labels = json::object();       // commonLabels merged with the alert's labels
  json annotations = json::object();  // commonAnnotations merged with the alert's annotations
};

inline std::string hex_digest(const EVP_MD* md, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1)
    throw std::runtime_error("EVP_Digest failed");
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex += digits[out[i] >> 4];
    hex += digits[out[i] & 15];
  }
  return hex;
}

inline std::string sha256_hex(std::string_view data) { return hex_digest(EVP_sha256(), data); }

inline std::string fingerprint(std::string_view alertname, std::string_view ns, std::string_view kind,
                               std::string_view name) {
  std::string input;
  input.reserve(alertname.size() + ns.size() + kind.size() + name.size() + 3);
  input.append(alertname).append(":").append(ns).append(":").append(kind).append(":").append(name);
  return sha256_hex(input);
}

// Priority from severity x environment (see README).
inline std::string priority(std::string_view severity, std::string_view environment) {
  const int env = environment == "production" ? 0 : environment == "staging" ? 1 : environment == "development" ? 2 : 3;
  static constexpr const char* critical[] = {"P0", "P1", "P2", "P1"};
  static constexpr const char* warning[] = {"P1", "P2", "P2", "P2"};
  static constexpr const char* info[] = {"P2", "P2", "P2", "P3"};
  if (severity == "critical") return critical[env];
  if (severity == "warning") return warning[env];
  return info[env];
}

struct parse_error {
  std::string detail;
};

namespace detail {

inline std::string label(const json& labels, const char* key) {
  auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// Merges `extra` (object of strings) under `base` (base wins). Returns false if a value
// is not a string.
inline bool merge_strings(json& base, const json& extra) {
  for (auto it = extra.begin(); it != extra.end(); ++it) {
    if (!it.value().is_string()) return false;
    if (!base.contains(it.key())) base[it.key()] = it.value();
  }
  return true;
}

}  // namespace detail

// Parses a webhook body. Returns the alerts, or sets `err` and returns nullopt.
// Never throws on any input (exceptions disabled in the parser, depth bounded).
inline std::optional<std::vector<alert>> parse_webhook(std::string_view body, parse_error& err) {
  bool too_deep = false;
  json::parser_callback_t cb = [&too_deep](int depth, json::parse_event_t ev, json&) {
    if ((ev == json::parse_event_t::object_start || ev == json::parse_event_t::array_start) && depth >= max_json_depth)
      too_deep = true;
    return !too_deep;  // once too deep, everything is discarded
  };
  json doc = json::parse(body.begin(), body.end(), cb, /*allow_exceptions=*/false);
  if (too_deep) {
    err.detail = "JSON nesting exceeds " + std::to_string(max_json_depth) + " levels";
    return std::nullopt;
  }
  if (doc.is_discarded()) {
    err.detail = "malformed JSON (syntax error or invalid UTF-8)";
    return std::nullopt;
  }
  if (!doc.is_object()) {
    err.detail = "payload must be a JSON object";
    return std::nullopt;
  }
  auto alerts_it = doc.find("alerts");
  if (alerts_it == doc.end() || alerts_it->is_null()) {
    err.detail = "no alerts: field 'alerts' is missing";
    return std::nullopt;
  }
  if (!alerts_it->is_array()) {
    err.detail = "field 'alerts' must be an array";
    return std::nullopt;
  }
  if (alerts_it->empty()) {
    err.detail = "no alerts: 'alerts' is empty";
    return std::nullopt;
  }
  json common_labels = json::object(), common_annotations = json::object();
  for (auto [field, target] : {std::pair{"commonLabels", &common_labels}, std::pair{"commonAnnotations", &common_annotations}}) {
    auto it = doc.find(field);
    if (it == doc.end() || it->is_null()) continue;
    if (!it->is_object() || !detail::merge_strings(*target, *it)) {
      err.detail = std::string("field '") + field + "' must be an object of strings";
      return std::nullopt;
    }
  }
  std::vector<alert> out;
  out.reserve(alerts_it->size());
  std::size_t index = 0;
  for (const auto& a : *alerts_it) {
    const std::string where = "alerts[" + std::to_string(index++) + "]";
    if (!a.is_object()) {
      err.detail = where + " must be an object";
      return std::nullopt;
    }
    alert al;
    auto labels_it = a.find("labels");
    if (labels_it == a.end() || !labels_it->is_object()) {
      err.detail = where + ".labels must be an object";
      return std::nullopt;
    }
    if (!detail::merge_strings(al.labels, *labels_it)) {
      err.detail = where + ".labels values must be strings";
      return std::nullopt;
    }
    detail::merge_strings(al.labels, common_labels);  // alert labels win
    if (auto ann = a.find("annotations"); ann != a.end() && !ann->is_null()) {
      if (!ann->is_object() || !detail::merge_strings(al.annotations, *ann)) {
        err.detail = where + ".annotations must be an object of strings";
        return std::nullopt;
      }
    }
    detail::merge_strings(al.annotations, common_annotations);
    for (auto [field, target] : {std::pair{"startsAt", &al.starts_at}, std::pair{"status", &al.status}}) {
      auto it = a.find(field);
      if (it == a.end() || it->is_null()) continue;
      if (!it->is_string()) {
        err.detail = where + "." + field + " must be a string";
        return std::nullopt;
      }
      *target = it->get<std::string>();
    }
    if (al.status.empty()) al.status = doc.value("status", json()).is_string() ? doc["status"].get<std::string>() : "firing";
    al.alertname = detail::label(al.labels, "alertname");
    if (al.alertname.empty()) {
      err.detail = where + ": label 'alertname' is missing";
      return std::nullopt;
    }
    al.ns = detail::label(al.labels, "namespace");
    if (al.ns.empty()) al.ns = detail::label(al.labels, "exported_namespace");
    if (al.ns.empty()) al.ns = "default";
    al.kind = "Unknown";
    al.name = "unknown";
    // Kubernetes kinds, spelled as Kubernetes spells them.
    static constexpr std::pair<const char*, const char*> kinds[] = {
        {"pod", "Pod"},         {"deployment", "Deployment"}, {"statefulset", "StatefulSet"},
        {"daemonset", "DaemonSet"}, {"node", "Node"},         {"service", "Service"}};
    for (const auto& [label, kind] : kinds) {
      std::string v = detail::label(al.labels, label);
      if (v.empty()) continue;
      al.kind = kind;
      al.name = std::move(v);
      break;
    }
    al.severity = detail::label(al.labels, "severity");
    for (char& c : al.severity) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    al.environment = detail::label(al.labels, "environment");
    if (al.environment.empty()) al.environment = "unknown";
    al.priority = priority(al.severity, al.environment);
    al.fingerprint = fingerprint(al.alertname, al.ns, al.kind, al.name);
    out.push_back(std::move(al));
  }
  return out;
}

}  // namespace gateway
