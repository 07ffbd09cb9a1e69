#pragma once
// The worker's seccomp filter (issue #14): installed once the worker is set
// up and warmed (worker_loop.cpp, before it reports `ready`), it leaves the
// process only the system calls its job loop makes: receive a job and its
// memfd on the socket, map and unmap memory, answer on the socket, write a
// diagnostic to stderr, exit. Anything else kills the whole process with
// SIGSYS (SCMP_ACT_KILL_PROCESS), which the pool reports as `worker_crashed`
// "worker killed by signal 31 (SIGSYS)". So code that a hostile image takes
// over cannot open a file or a network socket, exec, fork, ptrace or signal
// another process. The list, and how it was found, is in syscall_filter.cpp
// and docs/RELIABILITY.md "Seccomp worker".
//
// Needs PR_SET_NO_NEW_PRIVS (worker/sandbox.cpp sets it first); irreversible.

#include <optional>
#include <string>

namespace huepool::worker {

// Sanitizer builds (HUEPOOL_SANITIZE, tests only) run without the filter, as
// they run without RLIMIT_AS (worker/sandbox.hpp): the ASan/UBSan/LSan runtime
// makes calls of its own on a report and at exit (LeakSanitizer stops the
// world with a ptrace-ing thread), and a finding must be reported, not turned
// into SIGSYS. GCC defines __SANITIZE_ADDRESS__; clang reports __has_feature.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSyscallFilterApplied = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kSyscallFilterApplied = false;
#else
inline constexpr bool kSyscallFilterApplied = true;
#endif
#else
inline constexpr bool kSyscallFilterApplied = true;
#endif

// Returns what failed, or std::nullopt once the filter is in force.
// `socket_fd` is the worker's one socket: the only fd it may send or receive on.
std::optional<std::string> install_syscall_filter(int socket_fd);

}  // namespace huepool::worker
