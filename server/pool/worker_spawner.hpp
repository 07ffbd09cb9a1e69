#pragma once
// Starts one worker process: fork+exec via posix_spawn (vfork-style, safe from
// a multi-threaded server), the worker's end of a fresh socketpair mapped to
// fd 3, stdin/stdout on /dev/null, signal mask and dispositions reset, its own
// process group (a terminal's Ctrl-C reaches the server, which then stops its
// workers). Every fd of ours is O_CLOEXEC, and the worker closes anything else
// it inherits (worker/sandbox.hpp). exec failure comes back as the error.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <variant>

#include "proto/unique_fd.hpp"

namespace huepool::pool {

struct SpawnedWorker {
  pid_t pid = 0;
  proto::UniqueFd socket;  // the server's end, non-blocking, close-on-exec
};

struct SpawnRequest {
  std::string executable;          // run as `executable worker --memory-limit N --cpu-seconds-per-job S`
  std::uint64_t memory_limit = 0;  // the worker's RLIMIT_AS; 0: inherited
  unsigned cpu_seconds_per_job = 0;  // RLIMIT_CPU armed before each job; 0: none
};

// Returns the started worker, or a message saying what failed.
std::variant<SpawnedWorker, std::string> spawn_worker(const SpawnRequest& request);

}  // namespace huepool::pool
