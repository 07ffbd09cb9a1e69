// WorkerPool against the real worker binary (HUEPOOL_BIN): round trips,
// payload kinds, crash and deadline isolation, recycling, start-up failure
// back-off, shutdown, and the process's books afterwards (live workers == N,
// no zombies, fd count back where it started).
#include <doctest/doctest.h>
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <map>
#include <optional>
#include <set>
#include <variant>

#include "common/color_counter.hpp"
#include "proto/wire_format.hpp"
#include "server/pool/worker_pool.hpp"
#include "tests/server/pool/pool_test_support.hpp"
#include "worker/sandbox.hpp"
#include "worker/worker_loop.hpp"

using namespace huepool;
using namespace huepool::pooltest;
using pool::JobResult;
using pool::WorkerPool;

namespace {

// Makes asio create its lazily opened descriptors (reactor, signal pipe) so
// that the fd baseline measures the pool alone.
int fd_baseline(boost::asio::io_context& io) {
  {
    boost::asio::signal_set s(io, SIGCHLD);
    boost::asio::steady_timer t(io);
    t.expires_after(std::chrono::milliseconds(1));
    t.async_wait([](auto) {});
    io.run();
    io.restart();
  }
  return open_fd_count();
}

struct Collected {
  std::map<WorkerPool::JobId, JobResult> results;
  std::vector<WorkerPool::JobId> order;
};


// Submits and records the completion under the returned id.
WorkerPool::JobId submit(WorkerPool& p, proto::ImagePayload payload, Collected& into, AnalyzeOptions o = {}) {
  auto holder = std::make_shared<WorkerPool::JobId>(0);
  const auto id = p.submit(std::move(payload), o, [&into, holder](JobResult r) {
    into.order.push_back(*holder);
    into.results.emplace(*holder, std::move(r));
  });
  *holder = id;
  return id;
}

const ImageAnalysis& ok(const JobResult& r) {
  if (auto* e = std::get_if<ImageError>(&r.outcome)) FAIL("unexpected error: " << error_code_name(e->code) << " " << e->message);
  return std::get<ImageAnalysis>(r.outcome);
}

std::optional<ErrorCode> error_of(const JobResult& r) {
  if (auto* e = std::get_if<ImageError>(&r.outcome)) return e->code;
  return std::nullopt;
}

}  // namespace

TEST_CASE("pool: workers start, answer inline and fd payloads, and leave nothing behind") {
  boost::asio::io_context io;
  const int fds = fd_baseline(io);
  {
    WorkerPool p(io, test_config(2));
    REQUIRE(run_until(io, [&] { return p.ready(); }));
    CHECK(p.stats().live == 2);
    const auto pids = p.worker_pids();
    REQUIRE(pids.size() == 2);
    CHECK(children().total == 2);

    const Bytes small = solid_png(4, 3, {1, 2, 3});
    const Bytes large = make_png(300, 300, [](std::uint32_t x, std::uint32_t y) {
      return Rgb{static_cast<std::uint8_t>(x * 7 + y), static_cast<std::uint8_t>(y), 9};
    });
    REQUIRE(small.size() <= proto::kInlinePayloadMax);
    REQUIRE(large.size() > proto::kInlinePayloadMax);

    Collected c;
    const auto a = submit(p, proto::ImagePayload::from_bytes(small), c);
    const auto b = submit(p, proto::ImagePayload::from_span(large, proto::kInlinePayloadMax), c);
    const auto d = submit(p, proto::ImagePayload::from_bytes(large), c);  // inline but too big: becomes a memfd
    const auto e = submit(p, proto::ImagePayload::from_bytes({1, 2, 3}), c);
    AnalyzeOptions top3;
    top3.top = 3;
    const auto f = submit(p, proto::ImagePayload::from_bytes(small), c, top3);
    REQUIRE(run_until(io, [&] { return c.results.size() == 5; }));

    const auto& ra = ok(c.results[a]);
    CHECK(ra.width == 4);
    CHECK(ra.pixels == 12);
    CHECK(ra.colors.at(0).color == Rgb{1, 2, 3});
    CHECK(ra.colors.at(0).count == 12);
    CHECK(ok(c.results[b]).pixels == 90000);
    CHECK(ok(c.results[b]).colors == ok(c.results[d]).colors);
    CHECK(error_of(c.results[e]) == ErrorCode::unsupported_format);
    CHECK(ok(c.results[f]).colors.size() == 1);  // one color in the image, top=3
    for (auto& [id, r] : c.results) {
      CHECK(std::set<int>(pids.begin(), pids.end()).count(r.worker_pid) == 1);
      CHECK(r.finished >= r.dispatched);
    }
    CHECK(p.stats().completed == 5);
    CHECK(p.stats().restarts == 0);
    CHECK(children().zombies == 0);
  }
  io.restart();
  io.poll();
  CHECK(children().total == 0);
  CHECK(open_fd_count() == fds);
}

TEST_CASE("pool: SIGKILL of a worker mid-job costs that image a retry on a fresh worker; the slot is respawned") {
  boost::asio::io_context io;
  const int fds = fd_baseline(io);
  const Bytes& big = big_png();
  {
    WorkerPool p(io, test_config(2));
    REQUIRE(run_until(io, [&] { return p.ready(); }));
    const int fds_live = open_fd_count();
    const auto before = p.worker_pids();

    Collected c;
    const auto victim = submit(p, proto::ImagePayload::from_span(big, proto::kInlinePayloadMax), c);
    std::vector<WorkerPool::JobId> others;
    for (int i = 0; i < 8; ++i)
      others.push_back(submit(p, proto::ImagePayload::from_bytes(solid_png(5 + i, 5, {7, 7, 7})), c));
    // Dispatch is synchronous: the big job is on a worker now, not yet answered.
    const int pid = p.worker_of(victim);
    REQUIRE(pid != 0);
    REQUIRE(::kill(pid, SIGKILL) == 0);
    REQUIRE(run_until(io, [&] { return c.results.size() == 9; }));

    // The image ran again on another worker (worker_faults_test.cpp pins this
    // down with a worker that says when it holds the image).
    CHECK(ok(c.results[victim]).colors.at(0).color == kBigColor);
    CHECK(c.results[victim].worker_pid != pid);
    CHECK(p.stats().retries == 1);
    for (auto id : others) CHECK(ok(c.results[id]).colors.at(0).color == Rgb{7, 7, 7});

    REQUIRE(run_until(io, [&] { return p.stats().live == 2; }));
    CHECK(p.stats().restarts == 1);
    const auto after = p.worker_pids();
    CHECK(std::set<int>(after.begin(), after.end()).count(pid) == 0);
    CHECK(children().total == 2);
    CHECK(children().zombies == 0);
    CHECK(open_fd_count() == fds_live);

    // The respawned slot works.
    Collected c2;
    for (int i = 0; i < 4; ++i) submit(p, proto::ImagePayload::from_bytes(solid_png(3, 3, {1, 1, 1})), c2);
    REQUIRE(run_until(io, [&] { return c2.results.size() == 4; }));
    for (auto& [id, r] : c2.results) ok(r);
  }
  io.restart();
  io.poll();
  CHECK(children().total == 0);
  CHECK(open_fd_count() == fds);
}

TEST_CASE("pool: a job past its deadline gets timeout for that image only") {
  boost::asio::io_context io;
  const int fds = fd_baseline(io);
  const Bytes& big = big_png();
  {
    auto config = test_config(2);
    config.job_timeout = std::chrono::milliseconds(300);
    WorkerPool p(io, config);
    REQUIRE(run_until(io, [&] { return p.ready(); }));
    const int fds_live = open_fd_count();

    Collected c;
    const auto slow = submit(p, proto::ImagePayload::from_span(big, proto::kInlinePayloadMax), c);
    // The worker holding the big image is stopped (SIGSTOP), so it is late by
    // construction, however fast the engine gets; the pool's SIGKILL at the
    // deadline ends a stopped process as any other.
    const int slow_worker = p.worker_of(slow);
    REQUIRE(slow_worker != 0);
    REQUIRE(::kill(slow_worker, SIGSTOP) == 0);
    std::vector<WorkerPool::JobId> quick;
    for (int i = 0; i < 6; ++i) quick.push_back(submit(p, proto::ImagePayload::from_bytes(solid_png(1, 1, {3, 2, 1})), c));
    REQUIRE(run_until(io, [&] { return c.results.size() == 7; }));
    CHECK(error_of(c.results[slow]) == ErrorCode::timeout);
    CHECK(p.stats().retries == 0);  // a deadline is not retried
    for (auto id : quick) CHECK(ok(c.results[id]).colors.at(0).color == Rgb{3, 2, 1});

    REQUIRE(run_until(io, [&] { return p.stats().live == 2; }));
    CHECK(p.stats().restarts == 1);
    Collected c2;
    const auto again = submit(p, proto::ImagePayload::from_bytes(solid_png(2, 2, {0, 0, 0})), c2);
    REQUIRE(run_until(io, [&] { return c2.results.size() == 1; }));
    ok(c2.results[again]);
    CHECK(children().total == 2);
    CHECK(children().zombies == 0);
    CHECK(open_fd_count() == fds_live);
  }
  io.restart();
  io.poll();
  CHECK(children().total == 0);
  CHECK(open_fd_count() == fds);
}

TEST_CASE("pool: an idle worker that dies (SIGSEGV) is replaced without touching any job") {
  boost::asio::io_context io;
  WorkerPool p(io, test_config(2));
  REQUIRE(run_until(io, [&] { return p.ready(); }));
  const int victim = p.worker_pids().at(0);
#if defined(HUEPOOL_ASAN)
  // ASan's SEGV handler turns a SIGSEGV sent with kill() into a report ("SEGV
  // on unknown address <sender's pid>") and exit(1), which the sanitizer pass
  // counts as a finding; SIGILL, which ASan leaves alone, kills the same way.
  const int crash_signal = SIGILL;
#else
  const int crash_signal = SIGSEGV;
#endif
  REQUIRE(::kill(victim, crash_signal) == 0);
  REQUIRE(run_until(io, [&] { return p.stats().restarts == 1 && p.ready(); }));
  const auto pids = p.worker_pids();
  CHECK(std::set<int>(pids.begin(), pids.end()).count(victim) == 0);
  CHECK(children().total == 2);
  CHECK(children().zombies == 0);
  Collected c;
  for (int i = 0; i < 4; ++i) submit(p, proto::ImagePayload::from_bytes(solid_png(2, 2, {6, 6, 6})), c);
  REQUIRE(run_until(io, [&] { return c.results.size() == 4; }));
  for (auto& [id, r] : c.results) ok(r);
}

TEST_CASE("pool: an image that needs more memory than the worker's limit gets a typed error from a worker that lives on") {
  boost::asio::io_context io;
  auto config = test_config(2);
  // Enough for the process and a small image, not for a 90 MP decode.
  config.worker_memory_limit = 160ull << 20;
  WorkerPool p(io, config);
  REQUIRE(run_until(io, [&] { return p.ready(); }));
  Collected c;
  const auto big = submit(p, proto::ImagePayload::from_span(big_png(), proto::kInlinePayloadMax), c);
  std::vector<WorkerPool::JobId> small;
  for (int i = 0; i < 4; ++i) small.push_back(submit(p, proto::ImagePayload::from_bytes(solid_png(3, 3, {8, 8, 8})), c));
  REQUIRE(run_until(io, [&] { return c.results.size() == 5; }));
  if (worker::kAddressSpaceLimitApplied) {
    // The allocation fails inside the worker (RLIMIT_AS; the decode budget is
    // left wide open) and becomes that image's error: the worker neither dies
    // nor is replaced, and nothing is retried.
    REQUIRE(error_of(c.results[big]).has_value());
    const ImageError& e = std::get<ImageError>(c.results[big].outcome);
    MESSAGE("over the limit: " << error_code_name(e.code) << ": " << e.message);
    CHECK(e.code != ErrorCode::worker_crashed);
    CHECK(p.stats().restarts == 0);
    CHECK(p.stats().retries == 0);
  }
  for (auto id : small) ok(c.results[id]);
  REQUIRE(run_until(io, [&] { return p.ready(); }));
  CHECK(children().zombies == 0);
}

TEST_CASE("pool: workers are recycled after max_jobs_per_worker jobs, without leaking fds") {
  boost::asio::io_context io;
  const int fds = fd_baseline(io);
  auto config = test_config(1);
  config.max_jobs_per_worker = 2;
  WorkerPool p(io, config);
  REQUIRE(run_until(io, [&] { return p.ready(); }));
  const int fds_live = open_fd_count();
  Collected c;
  for (int i = 0; i < 6; ++i) submit(p, proto::ImagePayload::from_bytes(solid_png(2, 2, {5, 5, 5})), c);
  REQUIRE(run_until(io, [&] { return c.results.size() == 6; }));
  std::map<int, int> per_pid;
  for (auto& [id, r] : c.results) {
    ok(r);
    ++per_pid[r.worker_pid];
  }
  CHECK(per_pid.size() == 3);
  for (auto& [pid, n] : per_pid) CHECK(n == 2);
  REQUIRE(run_until(io, [&] { return p.ready(); }));
  CHECK(p.stats().restarts == 3);
  CHECK(children().zombies == 0);
  CHECK(children().total == 1);
  CHECK(open_fd_count() == fds_live);
  CHECK(fds_live > fds);
}

// Resident memory of a process in KiB (VmRSS), or -1.
static long resident_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

TEST_CASE("pool: a fresh or recycled worker has its counter table resident before its first image") {
  // Issue 13: a worker commits its counter tables and runs its decode path
  // once before it reports ready, so no image pays the ~65 ms of page faults
  // a cold 64 MiB table cost (32 MiB since the counts are 16-bit). Checked by
  // protocol, not by timing: once the pool says ready, the worker's resident
  // memory already holds the table.
  // (How long first and next images take is a benchmark: bench/first_request.py.)
  constexpr long kTableKib = ColorCounter::kDenseTableBytes / 1024;
  boost::asio::io_context io;
  auto config = test_config(1);
  config.max_jobs_per_worker = 4;
  WorkerPool p(io, config);
  const Bytes photo = make_png(600, 400, [](std::uint32_t x, std::uint32_t y) {
    return Rgb{static_cast<std::uint8_t>(x * 3 + y), static_cast<std::uint8_t>(y * 5 + x / 7),
               static_cast<std::uint8_t>((x * y) >> 5)};
  });
  int previous = 0;
  for (int w = 0; w < 2; ++w) {  // the first worker, then its replacement after 4 images
    std::vector<int> live;
    REQUIRE(run_until(io, [&] {
      live = children().live;
      return p.ready() && live.size() == 1 && live[0] != previous;
    }));
    CAPTURE(w);
    CHECK(resident_kib(live[0]) >= kTableKib);
    Collected c;
    std::vector<WorkerPool::JobId> ids;
    for (int i = 0; i < 4; ++i) ids.push_back(submit(p, proto::ImagePayload::from_bytes(photo), c));
    REQUIRE(run_until(io, [&] { return c.results.size() == 4; }));
    for (auto id : ids) CHECK(c.results[id].worker_pid == live[0]);
    MESSAGE("worker " << w << ": first image " << c.results[ids[0]].elapsed_ms << " ms, then "
                      << c.results[ids[1]].elapsed_ms << ", " << c.results[ids[2]].elapsed_ms << " ms");
    previous = live[0];
  }
}

TEST_CASE("pool: a worker that cannot start is retried with back-off, then its slot is given up") {
  boost::asio::io_context io;
  const int fds = fd_baseline(io);
  for (const char* exe : {"/bin/false", "/nonexistent/huepool"}) {
    CAPTURE(exe);
    auto config = test_config(1);
    config.worker_executable = exe;
    {
      WorkerPool p(io, config);
      Collected c;
      submit(p, proto::ImagePayload::from_bytes(solid_png(1, 1, {0, 0, 0})), c);
      // Five failures with 100..800 ms pauses between them, then the queue fails.
      REQUIRE(run_until(io, [&] { return c.results.size() == 1; }));
      CHECK(error_of(c.results.begin()->second) == ErrorCode::internal);
      CHECK_FALSE(p.ready());
      CHECK(p.stats().live == 0);
      CHECK(children().total == 0);
      // Later submissions fail at once instead of waiting forever.
      Collected c2;
      submit(p, proto::ImagePayload::from_bytes(solid_png(1, 1, {0, 0, 0})), c2);
      REQUIRE(run_until(io, [&] { return c2.results.size() == 1; }));
      CHECK(error_of(c2.results.begin()->second) == ErrorCode::internal);
    }
    io.restart();
    io.poll();
    CHECK(open_fd_count() == fds);
  }
}

TEST_CASE("pool: a worker that exits with kExitSetupFailed is not respawned; its slot is given up at once") {
  // A stand-in worker that fails its set-up the way `huepool worker` does
  // (bad arguments, sandbox): it would fail the same way every time.
  char path[] = "/tmp/huepool-setup-fails-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  const std::string script = "#!/bin/sh\nexit " + std::to_string(worker::kExitSetupFailed) + "\n";
  REQUIRE(::write(fd, script.data(), script.size()) == static_cast<ssize_t>(script.size()));
  ::fchmod(fd, 0700);
  ::close(fd);
  boost::asio::io_context io;
  {
    auto config = test_config(1);
    config.worker_executable = path;
    WorkerPool p(io, config);
    Collected c;
    submit(p, proto::ImagePayload::from_bytes(solid_png(1, 1, {0, 0, 0})), c);
    REQUIRE(run_until(io, [&] { return c.results.size() == 1; }));
    CHECK(error_of(c.results.begin()->second) == ErrorCode::internal);
    CHECK(p.stats().restarts == 0);  // one start, no back-off loop
    CHECK(children().total == 0);
  }
  ::unlink(path);
}

TEST_CASE("pool: cancel drops a queued job; a full queue refuses") {
  boost::asio::io_context io;
  auto config = test_config(1);
  config.max_queued_jobs = 3;
  WorkerPool p(io, config);
  REQUIRE(run_until(io, [&] { return p.ready(); }));
  Collected c;
  const auto running = submit(p, proto::ImagePayload::from_bytes(solid_png(8, 8, {1, 1, 1})), c);
  const auto q1 = submit(p, proto::ImagePayload::from_bytes(solid_png(1, 1, {1, 1, 1})), c);
  const auto q2 = submit(p, proto::ImagePayload::from_bytes(solid_png(1, 1, {1, 1, 1})), c);
  const auto q3 = submit(p, proto::ImagePayload::from_bytes(solid_png(1, 1, {1, 1, 1})), c);
  CHECK(p.stats().queued == 3);
  CHECK(submit(p, proto::ImagePayload::from_bytes(solid_png(1, 1, {1, 1, 1})), c) == 0);
  CHECK(p.cancel(q2));
  CHECK_FALSE(p.cancel(q2));
  CHECK(p.stats().queued == 2);
  REQUIRE(run_until(io, [&] { return c.results.size() == 3; }));
  CHECK(c.results.count(running) == 1);
  CHECK(c.results.count(q1) == 1);
  CHECK(c.results.count(q3) == 1);
  CHECK(c.results.count(q2) == 0);
}

TEST_CASE("pool: shutdown finishes running and queued jobs, then stops every worker") {
  boost::asio::io_context io;
  const int fds = fd_baseline(io);
  {
    WorkerPool p(io, test_config(2));
    Collected c;
    for (int i = 0; i < 5; ++i) submit(p, proto::ImagePayload::from_bytes(solid_png(16, 16, {9, 9, 9})), c);
    bool stopped = false;
    std::size_t results_at_stop = 0;
    p.shutdown([&] {
      stopped = true;
      results_at_stop = c.results.size();
    });
    CHECK(submit(p, proto::ImagePayload::from_bytes(solid_png(1, 1, {1, 1, 1})), c) == 0);
    REQUIRE(run_until(io, [&] { return stopped; }));
    CHECK(results_at_stop == 5);
    CHECK(children().total == 0);
    CHECK_FALSE(p.ready());
  }
  io.restart();
  io.poll();
  CHECK(open_fd_count() == fds);
}
