#pragma once
/// @file proc_memory.hpp
/// This process's memory as Linux reports it in /proc/self/status, for
/// tests and benchmarks that bound what an input may cost.

#include <fstream>
#include <string>

namespace redis_ha::test {

/// A field of /proc/self/status in KiB (`"VmRSS"`, `"VmHWM"`), or -1.
inline long proc_status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, field.size() + 1, field + ":") == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

/// Resets VmHWM (peak RSS) to the current RSS (Linux ≥ 4.0); false if refused.
inline bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

/// Peak-RSS growth of the process during a measured interval: construct
/// before, call `mib()` after. Uses VmHWM, reset at the start.
class peak_rss_growth {
 public:
  peak_rss_growth() : reset_ok_(reset_peak_rss()), start_kib_(proc_status_kib("VmRSS")) {}
  /// False if VmHWM could not be reset (then `mib()` may include older peaks).
  bool exact() const noexcept { return reset_ok_; }
  /// MiB the peak RSS rose above the RSS at construction.
  double mib() const { return static_cast<double>(proc_status_kib("VmHWM") - start_kib_) / 1024.0; }

 private:
  bool reset_ok_;
  long start_kib_;
};

}  // namespace redis_ha::test
