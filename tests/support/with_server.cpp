// redis_ha_with_server [--requirepass PW] -- <cmd> [args...]
//
// Starts a redis-server on a free 127.0.0.1 port, runs <cmd> with REDIS_HA_TEST_PORT (and
// REDIS_HA_TEST_PASSWORD) in its environment, stops the server and exits with <cmd>'s exit
// code (128 + signal if it was killed, 125 if the harness itself failed).

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.hpp"
#include "support/redis_server.hpp"

namespace {

constexpr int harness_failure = 125;

int usage() {
  std::cerr << "usage: redis_ha_with_server [--requirepass PW] -- <cmd> [args...]\n";
  return harness_failure;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace redis_ha::test;
  server_options options;
  int i = 1;
  for (; i < argc && std::string_view(argv[i]) != "--"; ++i) {
    if (std::string_view(argv[i]) == "--requirepass" && i + 1 < argc)
      options.requirepass = argv[++i];
    else
      return usage();
  }
  if (i + 1 >= argc) return usage();
  const std::vector<std::string> command(argv + i + 1, argv + argc);

  try {
    redis_node server(options);
    ::setenv("REDIS_HA_TEST_PORT", std::to_string(server.port()).c_str(), 1);
    if (!options.requirepass.empty()) ::setenv("REDIS_HA_TEST_PASSWORD", options.requirepass.c_str(), 1);
    const int code = child_process::spawn(command).wait();
    server.stop();
    return code;
  } catch (const std::exception& e) {
    std::cerr << "redis_ha_with_server: " << e.what() << '\n';
    return harness_failure;
  }
}
