#pragma once
/// @file temp_dir.hpp
/// RAII temporary directory (under /tmp unless told otherwise).

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace redis_ha::test {

/// A fresh directory created with mkdtemp (under /tmp by default), removed recursively on destruction.
class temp_dir {
public:
  /// Creates `<parent>/<prefix>XXXXXX`; throws std::system_error on failure.
  explicit temp_dir(const std::string& prefix = "redis-ha-test-", const std::string& parent = "/tmp") {
    std::string pattern = parent + "/" + prefix + "XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  temp_dir(temp_dir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  temp_dir& operator=(temp_dir&& other) noexcept {
    if (this != &other) {
      remove();
      path_ = std::exchange(other.path_, {});
    }
    return *this;
  }
  ~temp_dir() { remove(); }

  /// Absolute path of the directory (empty once moved from).
  const std::filesystem::path& path() const noexcept { return path_; }

private:
  void remove() noexcept {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
    path_.clear();
  }

  std::filesystem::path path_;
};

}  // namespace redis_ha::test
