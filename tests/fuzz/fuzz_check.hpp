// Shared by the fuzz targets: a check that stops the run (libFuzzer reports
// the input; the replay driver prints which input) and the hook the replay
// driver uses to generate inputs.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

/// Fails the current input: prints `what` and aborts (libFuzzer then saves it).
#define FUZZ_CHECK(cond, what)                                                     \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", what, __FILE__, __LINE__); \
      std::abort();                                                                \
    }                                                                              \
  } while (0)

namespace redis_ha::fuzz {

/// Defined by each target: one structured, mutated input for the replay
/// driver (deterministic for a given generator state).
std::string generate(std::mt19937_64& rng);

}  // namespace redis_ha::fuzz
