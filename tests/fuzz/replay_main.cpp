// The deterministic replay of a fuzz target, without libFuzzer: runs
// LLVMFuzzerTestOneInput on every file of the given corpus directories (in
// name order), then on --generate N inputs from the target's generator
// seeded with --seed S. ctest runs it on every build; the libFuzzer build
// (-DREDIS_HA_BUILD_FUZZ=ON with clang) runs the same target for longer.
//
//   <target>_replay [--generate N] [--seed S] DIR_OR_FILE...
#include "fuzz_check.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

// What is running, for the SIGABRT handler: a failing input is named and
// saved to ./fuzz-failure-input (replay it with `<target>_replay fuzz-failure-input`).
std::string current_name;
std::string current_input;

extern "C" void on_abort(int) {
  const char head[] = "fuzz replay: failing input: ";
  (void)!::write(2, head, sizeof head - 1);
  (void)!::write(2, current_name.data(), current_name.size());
  const char tail[] = " (saved as ./fuzz-failure-input)\n";
  (void)!::write(2, tail, sizeof tail - 1);
  const int fd = ::open("fuzz-failure-input", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    (void)!::write(fd, current_input.data(), current_input.size());
    ::close(fd);
  }
  std::signal(SIGABRT, SIG_DFL);
}

void run_one(const std::string& name, const std::string& input) {
  current_name = name;
  current_input = input;
  // A copy of exactly `size` bytes, so ASan (if enabled) sees overreads.
  std::vector<std::uint8_t> bytes(input.begin(), input.end());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  long generate = 0;
  std::uint64_t seed = 1;
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--generate") && i + 1 < argc) {
      generate = std::stol(argv[++i]);
    } else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = std::stoull(argv[++i]);
    } else if (std::filesystem::is_directory(argv[i])) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(argv[i]))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (std::filesystem::is_regular_file(argv[i])) {
      files.emplace_back(argv[i]);
    } else {
      std::fprintf(stderr, "usage: %s [--generate N] [--seed S] DIR_OR_FILE...\n(no such file: %s)\n", argv[0], argv[i]);
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  std::signal(SIGABRT, on_abort);
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string input((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    run_one(f.string(), input);
  }
  std::mt19937_64 rng(seed);
  for (long k = 0; k < generate; ++k) {
    run_one("generated input " + std::to_string(k) + " (seed " + std::to_string(seed) + ")",
            redis_ha::fuzz::generate(rng));
  }
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("replayed %zu corpus files and %ld generated inputs (seed %llu) in %.0f ms\n", files.size(), generate,
              static_cast<unsigned long long>(seed), ms);
  if (files.empty()) {
    std::printf("error: no corpus file found\n");
    return 1;
  }
  return 0;
}
