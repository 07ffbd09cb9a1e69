// `huepool worker`: the entry point the pool execs for each worker process.
// Not meant to be run by hand: it expects its socket on fd 3 (kWorkerSocketFd).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "proto/wire_format.hpp"
#include "server/cli/commands.hpp"
#include "worker/sandbox.hpp"
#include "worker/test_hooks.hpp"
#include "worker/worker_loop.hpp"

namespace huepool::cli {

int run_worker(int argc, char** argv) {
  worker::SandboxConfig sandbox;
  sandbox.socket_fd = proto::kWorkerSocketFd;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--memory-limit" && i + 1 < argc) {
      char* end = nullptr;
      sandbox.memory_limit = std::strtoull(argv[++i], &end, 10);
      if (*end != '\0') {
        std::fprintf(stderr, "huepool worker: bad --memory-limit '%s'\n", argv[i]);
        return worker::kExitSetupFailed;
      }
    } else if (arg == "--cpu-seconds-per-job" && i + 1 < argc) {
      char* end = nullptr;
      const unsigned long seconds = std::strtoul(argv[++i], &end, 10);
      if (*end != '\0' || seconds > 1'000'000) {
        std::fprintf(stderr, "huepool worker: bad --cpu-seconds-per-job '%s'\n", argv[i]);
        return worker::kExitSetupFailed;
      }
      sandbox.cpu_seconds_per_job = static_cast<unsigned>(seconds);
    } else if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: huepool worker [--memory-limit BYTES] [--cpu-seconds-per-job S]\n"
          "Internal: the pool's worker process. Reads jobs from fd %d (proto/PROTOCOL.md).\n",
          proto::kWorkerSocketFd);
      return 0;
    } else {
      std::fprintf(stderr, "huepool worker: unknown argument '%s'\n", argv[i]);
      return worker::kExitSetupFailed;
    }
  }
  worker::test_hooks::prepare();  // nothing outside the test build
  if (auto err = worker::enter_sandbox(sandbox)) {
    std::fprintf(stderr, "huepool worker: sandbox: %s\n", err->c_str());
    return worker::kExitSetupFailed;
  }
  return worker::run_worker_loop(proto::kWorkerSocketFd, sandbox.cpu_seconds_per_job);
}

}  // namespace huepool::cli
