#include "worker/syscall_filter.hpp"

#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <initializer_list>

namespace huepool::worker {

namespace {

// RAII for the libseccomp context (the filter in the kernel outlives it).
class FilterContext {
 public:
  FilterContext() : ctx_(::seccomp_init(SCMP_ACT_KILL_PROCESS)) {}
  ~FilterContext() {
    if (ctx_ != nullptr) ::seccomp_release(ctx_);
  }
  FilterContext(const FilterContext&) = delete;
  FilterContext& operator=(const FilterContext&) = delete;
  scmp_filter_ctx get() const { return ctx_; }

 private:
  scmp_filter_ctx ctx_;
};

std::string failure(const char* what, int rc) { return std::string(what) + ": " + std::strerror(-rc); }

// The job loop's own calls, found with scripts/worker_syscalls.py: workers
// under `strace -f` over the corpus, the real-world files and damaged variants
// of each (both PNG paths and JPEG; docs/RELIABILITY.md "Seccomp worker").
// After the filter the trace shows recvmsg, sendmsg, pread64, mmap, munmap,
// brk, newfstatat, close, getpid, getrusage, prlimit64 and exit_group; the rest
// below is named with the path that needs it. What the trace showed only
// before the filter (exec, dynamic loading, the sandbox, warm-up) is not here.
constexpr int kAlwaysAllowed[] = {
    SCMP_SYS(munmap), SCMP_SYS(brk),  // allocation (mmap is below: never executable)
    SCMP_SYS(mremap),                 // glibc realloc() of a large block
    SCMP_SYS(madvise),                // the counter's tables and the payload buffer, when a tight RLIMIT_AS made warm-up skip them
    SCMP_SYS(close),                  // the job's memfd
    SCMP_SYS(exit_group),             // exit on EOF
    SCMP_SYS(clock_gettime),          // the job's worker_us (vDSO; the syscall is the fallback)
    SCMP_SYS(getpid),                 // `ready`, and the pid in a protocol-error message
    // abort() (a failed assertion, std::terminate): block signals, then
    // raise SIGABRT on itself (tgkill is allowed only for that, below), so
    // the pool names SIGABRT rather than SIGSYS.
    SCMP_SYS(rt_sigprocmask), SCMP_SYS(gettid),
};


}  // namespace

std::optional<std::string> install_syscall_filter(int socket_fd) {
  if (!kSyscallFilterApplied) return std::nullopt;
  FilterContext filter;
  if (filter.get() == nullptr) return std::string("seccomp_init failed");
  const scmp_filter_ctx ctx = filter.get();
  const auto sock = static_cast<scmp_datum_t>(socket_fd);
  int rc = 0;
  auto allow = [&](int syscall, std::initializer_list<scmp_arg_cmp> args) {
    if (rc == 0)
      rc = ::seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, syscall, static_cast<unsigned>(args.size()),
                                    args.size() == 0 ? nullptr : args.begin());
  };
  for (int sc : kAlwaysAllowed) allow(sc, {});
  // Jobs arrive and answers leave on the socket only (proto/frame_socket.cpp).
  allow(SCMP_SYS(recvmsg), {SCMP_A0(SCMP_CMP_EQ, sock)});
  allow(SCMP_SYS(sendmsg), {SCMP_A0(SCMP_CMP_EQ, sock)});
  // Diagnostics go to stderr, and nowhere else.
  allow(SCMP_SYS(write), {SCMP_A0(SCMP_CMP_EQ, STDERR_FILENO)});
  // Memory, but never executable memory: no mapping or remapping with PROT_EXEC.
  allow(SCMP_SYS(mmap), {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)});
  allow(SCMP_SYS(mprotect), {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)});
  // fstat() of the job's memfd (glibc 2.36 issues it as newfstatat(fd, "", AT_EMPTY_PATH)),
  // then its bytes, read or mapped (worker/payload_reader.cpp). The memfd's
  // number is new for every job, so pread64 cannot be tied to one fd; a
  // worker holds only its socket (pread on a socket fails: ESPIPE), stdio and
  // the job's memfd.
  allow(SCMP_SYS(newfstatat), {SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH)});
  allow(SCMP_SYS(pread64), {});
  // The per-job CPU limit (sandbox.cpp arm_cpu_limit): its own usage, and
  // RLIMIT_CPU only (glibc's setrlimit is prlimit64(0, resource, new, NULL)).
  allow(SCMP_SYS(getrusage), {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(RUSAGE_SELF))});
  allow(SCMP_SYS(prlimit64), {SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A1(SCMP_CMP_EQ, RLIMIT_CPU),
                              SCMP_A3(SCMP_CMP_EQ, 0)});
  // raise(SIGABRT) on itself, and no other signal to anyone.
  allow(SCMP_SYS(tgkill), {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid())),
                           SCMP_A2(SCMP_CMP_EQ, SIGABRT)});
  if (rc != 0) return failure("seccomp_rule_add", rc);
  rc = ::seccomp_load(ctx);
  if (rc != 0) return failure("seccomp_load", rc);
  return std::nullopt;
}

}  // namespace huepool::worker
