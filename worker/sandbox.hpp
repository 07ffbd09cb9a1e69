#pragma once
// What a worker gives up before it takes its first job (DESIGN.md §3): every
// inherited fd except stdio and its socket, the ability to gain privileges
// (PR_SET_NO_NEW_PRIVS), core dumps, and address space beyond the configured
// limit. It also asks the kernel to kill it if the server dies, so no worker
// outlives its pool. Called once, single-threaded, at worker start.

#include <cstdint>
#include <optional>
#include <string>

namespace huepool::worker {

// AddressSanitizer reserves terabytes of address space for its shadow memory,
// so an RLIMIT_AS build cannot run under it: sanitizer builds skip that limit.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSpaceLimitApplied = false;
#else
inline constexpr bool kAddressSpaceLimitApplied = true;
#endif

struct SandboxConfig {
  int socket_fd = 3;               // the one fd above stderr that stays open
  std::uint64_t memory_limit = 0;  // RLIMIT_AS in bytes; 0: leave as inherited
};

// Returns what failed, or std::nullopt when every step succeeded.
std::optional<std::string> enter_sandbox(const SandboxConfig& config);

}  // namespace huepool::worker
