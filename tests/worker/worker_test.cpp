// The worker process on its own, started through the pool's spawner but
// driven by hand over its socket: handshake, inline and fd jobs, sandbox
// (fds, no-new-privs, RLIMIT_AS, core limit), clean exit on EOF, exit on a
// malformed frame or a missing fd.
#include <doctest/doctest.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/frame_socket.hpp"
#include "proto/image_payload.hpp"
#include "proto/messages.hpp"
#include "server/pool/worker_spawner.hpp"
#include "tests/server/pool/pool_test_support.hpp"
#include "worker/payload_reader.hpp"
#include "worker/sandbox.hpp"
#include "worker/syscall_filter.hpp"
#include "worker/worker_loop.hpp"

using namespace huepool;
using namespace huepool::proto;
using Bytes = std::vector<std::uint8_t>;

namespace {

constexpr std::uint64_t kLimit = 1536ull << 20;

struct Worker {
  pid_t pid = 0;
  UniqueFd sock;
  FrameReceiver rx;

  explicit Worker(std::uint64_t memory_limit = kLimit, unsigned cpu_seconds_per_job = 0) {
    auto r = pool::spawn_worker({pooltest::huepool_bin(), memory_limit, cpu_seconds_per_job});
    REQUIRE(std::holds_alternative<pool::SpawnedWorker>(r));
    auto& w = std::get<pool::SpawnedWorker>(r);
    pid = w.pid;
    sock = std::move(w.socket);
    // The tests talk to it with blocking calls.
    REQUIRE(::fcntl(sock.get(), F_SETFL, 0) == 0);
  }
  ~Worker() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  FrameDecode read_frame() {
    for (;;) {
      FrameDecode d = rx.next();
      if (d.status != DecodeStatus::need_more) return d;
      REQUIRE(rx.read_some(sock.get()) == FrameReceiver::ReadStatus::data);
    }
  }
  void expect_ready() {
    const FrameDecode d = read_frame();
    REQUIRE(d.status == DecodeStatus::complete);
    REQUIRE(d.type == MessageType::ready);
    ReadyMessage m;
    REQUIRE_FALSE(parse_ready(d.body, m));
    CHECK(static_cast<pid_t>(m.pid) == pid);
    rx.consume(d.consumed);
  }
  // Sends a job and returns the reply's type and body bytes.
  std::pair<MessageType, Bytes> run(const ImagePayload& payload, std::uint64_t id, AnalyzeOptions o = {}) {
    JobMessage j;
    j.job_id = id;
    j.options = o;
    j.payload_size = payload.size();
    j.payload_kind = payload.is_fd() ? PayloadKind::fd : PayloadKind::inline_bytes;
    j.inline_bytes = payload.inline_bytes();
    Bytes f;
    encode_job(f, j);
    REQUIRE(send_all(sock.get(), f, payload.fd()));
    const FrameDecode d = read_frame();
    REQUIRE(d.status == DecodeStatus::complete);
    std::pair<MessageType, Bytes> out{d.type, Bytes(d.body.begin(), d.body.end())};
    rx.consume(d.consumed);
    return out;
  }
  int wait_exit() {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    pid = 0;
    return status;
  }
};

std::string proc_text(pid_t pid, const char* file) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The "Seccomp_filters:" count of a /proc/PID/status text; -1 if absent.
int seccomp_filters(const std::string& status) {
  const std::string key = "Seccomp_filters:\t";
  const std::size_t at = status.find(key);
  return at == std::string::npos ? -1 : std::atoi(status.c_str() + at + key.size());
}

std::set<int> proc_fds(pid_t pid) {
  std::set<int> fds;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  REQUIRE(d != nullptr);
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') fds.insert(std::atoi(e->d_name));
  ::closedir(d);
  return fds;
}

}  // namespace

TEST_CASE("worker: handshake, inline and fd jobs, then a clean exit on EOF") {
  Worker w;
  w.expect_ready();
  const Bytes small = pooltest::solid_png(3, 2, {4, 5, 6});
  auto [t1, b1] = w.run(ImagePayload::from_bytes(small), 1);
  REQUIRE(t1 == MessageType::result);
  ResultMessage r;
  REQUIRE_FALSE(parse_result(b1, r));
  CHECK(r.job_id == 1);
  CHECK(r.analysis.pixels == 6);
  CHECK(r.analysis.colors.at(0).color == Rgb{4, 5, 6});

  const Bytes large = pooltest::make_png(400, 300, [](std::uint32_t x, std::uint32_t y) {
    return Rgb{static_cast<std::uint8_t>(x), static_cast<std::uint8_t>(y), static_cast<std::uint8_t>(x + y)};
  });
  REQUIRE(large.size() > kInlinePayloadMax);
  AnalyzeOptions top;
  top.top = 5;
  auto [t2, b2] = w.run(ImagePayload::from_span(large, kInlinePayloadMax), 2, top);
  REQUIRE(t2 == MessageType::result);
  REQUIRE_FALSE(parse_result(b2, r));
  CHECK(r.job_id == 2);
  CHECK(r.analysis.pixels == 120000);
  CHECK(r.analysis.colors.size() == 5);

  // A payload larger than the worker's kept buffer is mapped, not copied:
  // both ways run under the system-call filter. Noise does not compress.
  const Bytes noise = pooltest::make_png(1300, 1100, [](std::uint32_t x, std::uint32_t y) {
    std::uint32_t h = (x * 0x9E3779B1u) ^ (y * 0x85EBCA77u);
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 13;
    return Rgb{static_cast<std::uint8_t>(h), static_cast<std::uint8_t>(h >> 8), static_cast<std::uint8_t>(h >> 16)};
  });
  REQUIRE(noise.size() > worker::PayloadReader::kCopiedPayloadBytes);
  auto [t4, b4] = w.run(ImagePayload::from_span(noise, kInlinePayloadMax), 4);
  REQUIRE(t4 == MessageType::result);
  REQUIRE_FALSE(parse_result(b4, r));
  CHECK(r.analysis.pixels == 1300u * 1100u);
  auto [t5, b5] = w.run(ImagePayload::from_span(large, kInlinePayloadMax), 5, top);
  REQUIRE(t5 == MessageType::result);
  REQUIRE_FALSE(parse_result(b5, r));
  CHECK(r.analysis.pixels == 120000);

  auto [t3, b3] = w.run(ImagePayload::from_bytes({'G', 'I', 'F', '8'}), 3);
  REQUIRE(t3 == MessageType::error);
  ErrorMessage e;
  REQUIRE_FALSE(parse_error(b3, e));
  CHECK(e.job_id == 3);
  CHECK(e.error.code == ErrorCode::unsupported_format);

  w.sock.reset();
  const int status = w.wait_exit();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == worker::kExitOk);
}

TEST_CASE("worker: sandbox: only stdio and its socket, no new privileges, a seccomp filter, memory, file and core limits") {
  // An fd leaked without O_CLOEXEC by some other part of the process.
  int leaked[2];
  REQUIRE(::pipe(leaked) == 0);
  Worker w;
  w.expect_ready();  // sent after the sandbox is in place
  ::close(leaked[0]);
  ::close(leaked[1]);
  CHECK(proc_fds(w.pid) == std::set<int>{0, 1, 2, 3});
  char target[256] = {};
  const std::string fd3 = "/proc/" + std::to_string(w.pid) + "/fd/3";
  REQUIRE(::readlink(fd3.c_str(), target, sizeof(target) - 1) > 0);
  CHECK(std::string(target).rfind("socket:", 0) == 0);
  const std::string status = proc_text(w.pid, "status");
  CHECK(status.find("NoNewPrivs:\t1") != std::string::npos);
  if (worker::kSyscallFilterApplied) {
    CHECK(status.find("Seccomp:\t2\n") != std::string::npos);  // 2: filter mode
    // One filter more than this test process has: a container runtime
    // (Docker's default profile) may already have stacked one on both.
    CHECK(seccomp_filters(status) == seccomp_filters(proc_text(::getpid(), "status")) + 1);
  }
  const std::string limits = proc_text(w.pid, "limits");
  CHECK(limits.find("Max open files            " + std::to_string(worker::kOpenFilesLimit) + " ") != std::string::npos);
  if (worker::kAddressSpaceLimitApplied)
    CHECK(limits.find("Max address space         " + std::to_string(kLimit)) != std::string::npos);
  CHECK(limits.find("Max core file size        0") != std::string::npos);
  // Its own process group: a terminal's Ctrl-C goes to the server, not straight to workers.
  CHECK(::getpgid(w.pid) == w.pid);
}

// The soft RLIMIT_CPU of a process, from /proc/PID/limits ("unlimited": 0).
static unsigned long cpu_soft_limit(pid_t pid) {
  const std::string limits = proc_text(pid, "limits");
  const auto at = limits.find("Max cpu time");
  REQUIRE(at != std::string::npos);
  return std::strtoul(limits.c_str() + at + std::string_view("Max cpu time").size(), nullptr, 10);
}

TEST_CASE("worker: a CPU-time limit is armed before each job, above the time already used") {
  Worker w(kLimit, 5);
  w.expect_ready();
  CHECK(cpu_soft_limit(w.pid) == 0);  // none until the first job
  auto [t, b] = w.run(ImagePayload::from_bytes(pooltest::solid_png(2, 2, {1, 1, 1})), 1);
  REQUIRE(t == MessageType::result);
  // Used so far (under a second, rounded up) + 1 + 5.
  const unsigned long soft = cpu_soft_limit(w.pid);
  CHECK(soft >= 6);
  CHECK(soft <= 8);
}

TEST_CASE("worker: a malformed frame ends it with the protocol error status") {
  Worker w;
  w.expect_ready();
  const Bytes garbage{'H', 'P', 9, 2, 0, 0, 0, 0};  // version 9
  REQUIRE(send_all(w.sock.get(), garbage, -1));
  const int status = w.wait_exit();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == worker::kExitProtocolError);
}

TEST_CASE("worker: a job that announces an fd but carries none ends it") {
  Worker w;
  w.expect_ready();
  JobMessage j;
  j.job_id = 1;
  j.payload_kind = PayloadKind::fd;
  j.payload_size = 100;
  Bytes f;
  encode_job(f, j);
  REQUIRE(send_all(w.sock.get(), f, -1));
  const int status = w.wait_exit();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == worker::kExitProtocolError);
}

TEST_CASE("worker: a socket closed inside a frame ends it with the protocol error status") {
  Worker w;
  w.expect_ready();
  const Bytes image{1, 2, 3};
  Bytes f;
  encode_job(f, JobMessage{7, {}, {}, PayloadKind::inline_bytes, 3, image});
  f.resize(kHeaderLength + 5);  // cut inside the body
  REQUIRE(send_all(w.sock.get(), f, -1));
  w.sock.reset();
  const int status = w.wait_exit();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == worker::kExitProtocolError);
}

TEST_CASE("worker: an fd shorter than announced is an error result, not a crash") {
  Worker w;
  w.expect_ready();
  MemfdWriter mw;
  mw.append(Bytes(10, 1));
  ImagePayload p = std::move(mw).finish();
  JobMessage j;
  j.job_id = 4;
  j.payload_kind = PayloadKind::fd;
  j.payload_size = 1000;  // the memfd holds 10
  Bytes f;
  encode_job(f, j);
  REQUIRE(send_all(w.sock.get(), f, p.fd()));
  const FrameDecode d = w.read_frame();
  REQUIRE(d.status == DecodeStatus::complete);
  REQUIRE(d.type == MessageType::error);
  ErrorMessage e;
  REQUIRE_FALSE(parse_error(d.body, e));
  CHECK(e.job_id == 4);
  CHECK(e.error.code == ErrorCode::internal);
}

TEST_CASE("worker: `huepool worker` refuses unknown arguments") {
  const std::string cmd = pooltest::huepool_bin() + " worker --bogus 2>/dev/null";
  const int status = std::system(cmd.c_str());
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == worker::kExitSetupFailed);
}
