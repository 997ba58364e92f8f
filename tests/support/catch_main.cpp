// The main() of every test program. When the environment asks for a server family
// (REDIS_HA_TEST_SERVER, set by the `valkey` registrations in tests/integration) whose binaries
// are missing, the program prints why and exits with 77, which ctest reports as skipped
// (SKIP_RETURN_CODE 77); listing the tests (test discovery) is never skipped.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <string_view>

#include "support/server_kind.hpp"

int main(int argc, char** argv) {
  bool listing = false;
  for (int i = 1; i < argc; ++i) listing = listing || std::string_view(argv[i]).rfind("--list", 0) == 0;
  if (!listing && std::getenv("REDIS_HA_TEST_SERVER")) {
    if (auto reason = redis_ha::test::server_unavailable_reason()) {
      std::cout << "SKIPPED: " << *reason << std::endl;
      return 77;
    }
  }
  return Catch::Session().run(argc, argv);
}
