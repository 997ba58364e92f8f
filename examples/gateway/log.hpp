#pragma once
// One-line log records on stderr: "<UTC time> <level> <message>".

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

namespace gateway {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };

inline level& min_level() {
  static level l = level::info;
  return l;
}

inline bool parse_level(std::string_view s, level& out) {
  if (s == "debug") out = level::debug;
  else if (s == "info") out = level::info;
  else if (s == "warn" || s == "warning") out = level::warn;
  else if (s == "error") out = level::error;
  else return false;
  return true;
}

inline const char* level_name(level l) {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "?";
}

inline void write_line(level l, std::string_view msg) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  // Keep one record on one line: newlines in messages are replaced.
  std::string clean(msg);
  for (auto& c : clean)
    if (c == '\n' || c == '\r') c = ' ';
  fmt::print(stderr, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {} {}\n", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ms, level_name(l), clean);
}

template <class... Args>
void log(level l, fmt::format_string<Args...> f, Args&&... args) {
  if (l < min_level()) return;
  write_line(l, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace gateway
