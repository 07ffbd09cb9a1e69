#pragma once
// Test-only fault injection for the worker (issue #14). Compiled in only when
// HUEPOOL_WORKER_TEST_HOOKS is defined, which only the test binary
// `huepool_test_hooks` (tests/worker/CMakeLists.txt) does; in the product the
// calls below are empty inline functions and no hook code exists.
//
// A job whose payload contains "huepool-test-hook:<action>" triggers:
//   crash    a SIGSEGV (a write through a bad pointer), every time;
//   syscall  a system call the seccomp filter forbids (socket(AF_INET)), every time;
//   block    the first such job in the whole test (claimed through the shared
//            page) never finishes: the worker waits on its socket until it is
//            killed or the pool closes it; any later one is analysed normally.
// The payload can be a valid image carrying the marker in an ancillary PNG
// chunk, so that a job that was blocked succeeds when it is retried.
//
// Tests observe the hooks by protocol through a shared page: a file named by
// HUEPOOL_TEST_HOOK_PAGE (at least sizeof(TestHookPage) bytes, zeroed), which
// each worker maps at start-up, before its sandbox and filter.

#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>

namespace huepool::worker::test_hooks {

inline constexpr std::string_view kMarker = "huepool-test-hook:";
inline constexpr const char* kPageEnv = "HUEPOOL_TEST_HOOK_PAGE";

struct TestHookPage {
  std::atomic<std::uint32_t> attempts;  // jobs that carried a marker, summed over workers
  std::atomic<std::int32_t> blocked_pid;  // the worker blocked on `block`; 0 before
};

#if defined(HUEPOOL_WORKER_TEST_HOOKS)
void prepare();  // at start-up, before the sandbox: maps the shared page if named
void before_job(int socket_fd, std::span<const std::uint8_t> payload);
#else
inline void prepare() {}
inline void before_job(int, std::span<const std::uint8_t>) {}
#endif

}  // namespace huepool::worker::test_hooks
