// Only in the test binary huepool_test_hooks (see test_hooks.hpp).
#include "worker/test_hooks.hpp"

#if !defined(HUEPOOL_WORKER_TEST_HOOKS)
#error "test_hooks.cpp belongs to the test build only"
#endif

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "worker/sandbox.hpp"  // HUEPOOL_ASAN

namespace huepool::worker::test_hooks {

namespace {

TestHookPage* page = nullptr;
pid_t own_pid = 0;

// Set a volatile so the compiler cannot see the fault coming and fold it away.
volatile std::uintptr_t bad_address = 16;

std::string_view action_of(std::span<const std::uint8_t> payload) {
  const std::string_view bytes(reinterpret_cast<const char*>(payload.data()), payload.size());
  const auto at = bytes.find(kMarker);
  if (at == std::string_view::npos) return {};
  const std::string_view rest = bytes.substr(at + kMarker.size());
  return rest.substr(0, std::min<std::size_t>(rest.size(), rest.find_first_not_of("abcdefghijklmnopqrstuvwxyz")));
}

}  // namespace

void prepare() {
  own_pid = ::getpid();
  const char* path = std::getenv(kPageEnv);
  if (path == nullptr) return;
  const int fd = ::open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  void* p = ::mmap(nullptr, sizeof(TestHookPage), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping stays
  if (p != MAP_FAILED) page = static_cast<TestHookPage*>(p);
}

void before_job(int socket_fd, std::span<const std::uint8_t> payload) {
  const std::string_view action = action_of(payload);
  if (action.empty()) return;
  if (page != nullptr) page->attempts.fetch_add(1);
  if (action == "crash") {
#if defined(HUEPOOL_ASAN)
    // ASan would turn the fault into a report (and exit 1), which the
    // sanitizer pass rightly counts as a finding; this death is the test's
    // intent. Give SIGSEGV back its default action, past ASan's interceptor.
    struct kernel_sigaction {
      void (*handler)(int);
      unsigned long flags;
      void (*restorer)();
      unsigned long mask;
    } default_action{SIG_DFL, 0, nullptr, 0};
    ::syscall(SYS_rt_sigaction, SIGSEGV, &default_action, nullptr, sizeof default_action.mask);
#endif
    *reinterpret_cast<volatile int*>(bad_address) = 1;  // SIGSEGV
  } else if (action == "syscall") {
    // What code taken over by an image would try first; the filter kills us here.
    ::socket(AF_INET, SOCK_STREAM, 0);
  } else if (action == "block") {
    std::int32_t none = 0;
    if (page == nullptr || !page->blocked_pid.compare_exchange_strong(none, own_pid)) return;
    // The pool sends nothing while this job is outstanding: this read returns
    // only when the socket is closed (or never, until SIGKILL). recvmsg: the
    // one receive call the filter allows.
    char c = 0;
    iovec iov{&c, 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    while (::recvmsg(socket_fd, &msg, 0) > 0) {
    }
    std::_Exit(0);
  }
}

}  // namespace huepool::worker::test_hooks
