#include "server/pool/worker_spawner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proto/wire_format.hpp"

extern char** environ;

namespace huepool::pool {

namespace {

std::string failure(const std::string& what, int err) { return what + ": " + std::strerror(err); }

// RAII for the two posix_spawn attribute objects.
struct SpawnAttributes {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnAttributes() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnAttributes() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
};

}  // namespace

std::variant<SpawnedWorker, std::string> spawn_worker(const SpawnRequest& request) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return failure("socketpair", errno);
  proto::UniqueFd parent(sv[0]);
  proto::UniqueFd child(sv[1]);
  // dup2(fd, fd) would leave FD_CLOEXEC set, so keep the child's end off fd 3.
  if (child.get() == proto::kWorkerSocketFd) {
    const int moved = ::fcntl(child.get(), F_DUPFD_CLOEXEC, proto::kWorkerSocketFd + 1);
    if (moved < 0) return failure("fcntl F_DUPFD_CLOEXEC", errno);
    child.reset(moved);
  }
  if (::fcntl(parent.get(), F_SETFL, O_NONBLOCK) != 0) return failure("fcntl O_NONBLOCK", errno);

  SpawnAttributes sa;
  int rc = posix_spawn_file_actions_addopen(&sa.actions, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0) rc = posix_spawn_file_actions_addopen(&sa.actions, 1, "/dev/null", O_WRONLY, 0);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&sa.actions, child.get(), proto::kWorkerSocketFd);
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&sa.attr, &empty);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&sa.attr, &all);
  if (rc == 0) rc = posix_spawnattr_setpgroup(&sa.attr, 0);
  if (rc == 0)
    rc = posix_spawnattr_setflags(&sa.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                POSIX_SPAWN_SETPGROUP);
  if (rc != 0) return failure("posix_spawn attributes", rc);

  std::string limit = std::to_string(request.memory_limit);
  std::string cpu = std::to_string(request.cpu_seconds_per_job);
  char arg_worker[] = "worker";
  char arg_limit[] = "--memory-limit";
  char arg_cpu[] = "--cpu-seconds-per-job";
  char* argv[] = {const_cast<char*>(request.executable.c_str()), arg_worker, arg_limit,
                  limit.data(), arg_cpu, cpu.data(), nullptr};
  pid_t pid = 0;
  // glibc's posix_spawn waits for the exec and returns its errno on failure.
  rc = ::posix_spawn(&pid, request.executable.c_str(), &sa.actions, &sa.attr, argv, environ);
  if (rc != 0) return failure("spawn " + request.executable, rc);
  return SpawnedWorker{pid, std::move(parent)};
}

}  // namespace huepool::pool
