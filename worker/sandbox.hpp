#pragma once
// What a worker gives up before it takes its first job (DESIGN.md §3): every
// inherited fd except stdio and its socket, the ability to gain privileges
// (PR_SET_NO_NEW_PRIVS), core dumps, all but a few file descriptors
// (RLIMIT_NOFILE), and address space beyond the configured limit. The
// system-call filter comes later, after warm-up (worker/syscall_filter.hpp).
// It also asks the kernel to kill it if the server dies, so no worker
// outlives its pool. Called once, single-threaded, at worker start.

#include <sys/resource.h>

#include <cstdint>
#include <optional>
#include <string>

namespace huepool::worker {

// AddressSanitizer reserves terabytes of address space for its shadow memory,
// so an RLIMIT_AS build cannot run under it: sanitizer builds skip that limit
// (`huepool serve` says so on stderr at start; docs/RELIABILITY.md). GCC
// defines __SANITIZE_ADDRESS__; clang reports it through __has_feature.
#if defined(__SANITIZE_ADDRESS__)
#define HUEPOOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HUEPOOL_ASAN 1
#endif
#endif
#if defined(HUEPOOL_ASAN)
inline constexpr bool kAddressSpaceLimitApplied = false;
#else
inline constexpr bool kAddressSpaceLimitApplied = true;
#endif

// RLIMIT_NOFILE: stdio, the socket, the job's memfd, and room for the
// protocol's bound on fds per read (4) and a sanitizer runtime's reads of /proc.
inline constexpr rlim_t kOpenFilesLimit = 16;

struct SandboxConfig {
  int socket_fd = 3;               // the one fd above stderr that stays open
  std::uint64_t memory_limit = 0;  // RLIMIT_AS in bytes; 0: leave as inherited
  unsigned cpu_seconds_per_job = 0;  // for arm_cpu_limit(); 0: no CPU limit
};

// Returns what failed, or std::nullopt when every step succeeded.
std::optional<std::string> enter_sandbox(const SandboxConfig& config);

// RLIMIT_CPU: before each job, the soft limit is set to the CPU time used so
// far plus `seconds`, so a job that spins past it gets SIGXCPU. A backstop for
// the pool's wall-clock deadline, set just above it (the kernel counts whole
// seconds). Returns false if the limit could not be set.
bool arm_cpu_limit(unsigned seconds);

}  // namespace huepool::worker
