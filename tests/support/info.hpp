#pragma once
/// @file info.hpp
/// Parsing of INFO replies.

#include <map>
#include <sstream>
#include <string>

namespace redis_ha::test {

/// Parses the text of an INFO reply into field -> value (section headers are skipped).
inline std::map<std::string, std::string> parse_info(const std::string& text) {
  std::map<std::string, std::string> fields;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    if (const auto colon = line.find(':'); colon != std::string::npos)
      fields[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return fields;
}

/// Parses a comma-separated `key=value` INFO value (e.g. `slave0:ip=...,port=...,state=online`).
inline std::map<std::string, std::string> parse_info_value(const std::string& value) {
  std::map<std::string, std::string> fields;
  std::istringstream in(value);
  for (std::string item; std::getline(in, item, ',');)
    if (const auto eq = item.find('='); eq != std::string::npos)
      fields[item.substr(0, eq)] = item.substr(eq + 1);
  return fields;
}

}  // namespace redis_ha::test
