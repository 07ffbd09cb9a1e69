#include "worker/sandbox.hpp"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace huepool::worker {

namespace {

std::string failure(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// close_range() is the cheap way; the /proc walk covers kernels without it.
bool close_fds_except(int keep) {
  bool ok = true;
  if (keep > 3 && ::close_range(3, static_cast<unsigned>(keep) - 1, 0) != 0) ok = false;
  if (ok && ::close_range(static_cast<unsigned>(keep) + 1, ~0u, 0) == 0) return true;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return false;
  std::vector<int> fds;
  const int dir_fd = ::dirfd(dir);
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    if (fd > 2 && fd != keep && fd != dir_fd) fds.push_back(static_cast<int>(fd));
  }
  ::closedir(dir);
  for (int fd : fds) ::close(fd);
  return true;
}

}  // namespace

std::optional<std::string> enter_sandbox(const SandboxConfig& config) {
  if (!close_fds_except(config.socket_fd)) return failure("close inherited fds");
  // The spawner is the pool's io thread, which lives as long as the pool.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return failure("PR_SET_PDEATHSIG");
  // The server may have died before PDEATHSIG was armed. getppid() == 1 cannot
  // tell: in a container the server itself is PID 1. Its end of our socket can.
  pollfd peer{config.socket_fd, POLLRDHUP, 0};
  if (::poll(&peer, 1, 0) > 0 && (peer.revents & (POLLHUP | POLLRDHUP)) != 0)
    return std::string("parent already gone");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failure("PR_SET_NO_NEW_PRIVS");
  const rlimit no_core{0, 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) return failure("RLIMIT_CORE");
  const rlimit few_files{kOpenFilesLimit, kOpenFilesLimit};
  if (::setrlimit(RLIMIT_NOFILE, &few_files) != 0) return failure("RLIMIT_NOFILE");
  if (kAddressSpaceLimitApplied && config.memory_limit != 0) {
    const rlimit as{config.memory_limit, config.memory_limit};
    if (::setrlimit(RLIMIT_AS, &as) != 0) return failure("RLIMIT_AS");
  }
  return std::nullopt;
}

bool arm_cpu_limit(unsigned seconds) {
  rusage used{};
  if (::getrusage(RUSAGE_SELF, &used) != 0) return false;
  // The kernel compares whole seconds of user + system time; round up.
  const rlim_t spent = static_cast<rlim_t>(used.ru_utime.tv_sec + used.ru_stime.tv_sec) + 1;
  // The hard limit stays where it is (lowering it could never be undone).
  const rlimit cpu{spent + seconds, RLIM_INFINITY};
  return ::setrlimit(RLIMIT_CPU, &cpu) == 0;
}

}  // namespace huepool::worker
