// Faults outside and inside an image, through the real pool and the test-hook
// worker (huepool_test_hooks, worker/test_hooks.hpp): a worker killed from
// outside costs its image a retry, not a result; an image that kills its
// worker is reported after exactly two attempts; the seccomp filter kills a
// worker that makes a forbidden system call with SIGSYS; a deadline is never
// retried. (A worker over its memory limit: worker_pool_test.cpp.) Attempts are counted by the hooked workers themselves (the shared
// page) and by the pool's retry counter, never inferred from timing.
#include <doctest/doctest.h>
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <variant>

#include "proto/wire_format.hpp"
#include "server/pool/worker_pool.hpp"
#include "tests/server/pool/pool_test_support.hpp"
#include "tests/worker/test_hook_support.hpp"
#include "worker/syscall_filter.hpp"

using namespace huepool;
using namespace huepool::pooltest;
using hooktest::HookPage;
using pool::JobResult;
using pool::WorkerPool;

namespace {

struct Collected {
  std::map<WorkerPool::JobId, JobResult> results;
};

WorkerPool::JobId submit(WorkerPool& p, const Bytes& bytes, Collected& into) {
  auto holder = std::make_shared<WorkerPool::JobId>(0);
  const auto id = p.submit(proto::ImagePayload::from_bytes(bytes), {},
                           [&into, holder](JobResult r) { into.results.emplace(*holder, std::move(r)); });
  *holder = id;
  return id;
}

pool::PoolConfig hooked_config(unsigned workers) {
  auto config = test_config(workers);
  config.worker_executable = hooktest::hooks_bin();
  return config;
}

const ImageError* error_in(const JobResult& r) { return std::get_if<ImageError>(&r.outcome); }

std::optional<Rgb> top_color(const JobResult& r) {
  if (auto* a = std::get_if<ImageAnalysis>(&r.outcome)) return a->colors.at(0).color;
  if (auto* e = error_in(r)) FAIL_CHECK("unexpected error: " << error_code_name(e->code) << ": " << e->message);
  return std::nullopt;
}

}  // namespace

TEST_CASE("pool: a worker SIGKILLed while it holds an image: the image is retried on a fresh worker and succeeds") {
  HookPage page;
  boost::asio::io_context io;
  WorkerPool p(io, hooked_config(2));
  REQUIRE(run_until(io, [&] { return p.ready(); }));

  Collected c;
  // The first `block` job of the test blocks its worker until it is killed;
  // the same image on the next worker is analysed normally.
  const auto target = submit(p, hooktest::png_with_hook(solid_png(6, 4, {40, 50, 60}), "block"), c);
  std::vector<WorkerPool::JobId> others;
  for (int i = 0; i < 8; ++i) others.push_back(submit(p, solid_png(3 + i, 3, {7, 8, 9}), c));
  // The worker says it holds the image (and will never answer it by itself).
  REQUIRE(run_until(io, [&] { return page.blocked_pid() != 0; }));
  const int victim = page.blocked_pid();
  CHECK(p.worker_of(target) == victim);
  REQUIRE(::kill(victim, SIGKILL) == 0);

  REQUIRE(run_until(io, [&] { return c.results.size() == 9; }));
  CHECK(top_color(c.results[target]) == Rgb{40, 50, 60});
  CHECK(c.results[target].worker_pid != victim);
  for (auto id : others) CHECK(top_color(c.results[id]) == Rgb{7, 8, 9});
  CHECK(page.attempts() == 2);  // blocked once, answered once
  CHECK(p.stats().retries == 1);
  REQUIRE(run_until(io, [&] { return p.ready(); }));
  CHECK(p.stats().restarts == 1);
  CHECK(children().zombies == 0);
}

TEST_CASE("pool: an image that crashes every worker gets worker_crashed after exactly two attempts") {
  HookPage page;
  boost::asio::io_context io;
  WorkerPool p(io, hooked_config(2));
  REQUIRE(run_until(io, [&] { return p.ready(); }));

  Collected c;
  const auto bad = submit(p, hooktest::png_with_hook(solid_png(4, 4, {1, 2, 3}), "crash"), c);
  std::vector<WorkerPool::JobId> others;
  for (int i = 0; i < 6; ++i) others.push_back(submit(p, solid_png(2 + i, 2, {9, 9, 9}), c));
  REQUIRE(run_until(io, [&] { return c.results.size() == 7; }));

  const ImageError* e = error_in(c.results[bad]);
  REQUIRE(e != nullptr);
  CHECK(e->code == ErrorCode::worker_crashed);
  CHECK(e->message == "worker killed by signal 11 (SIGSEGV), on both attempts");
  CHECK(page.attempts() == 2);
  CHECK(p.stats().retries == 1);
  for (auto id : others) CHECK(top_color(c.results[id]) == Rgb{9, 9, 9});
  REQUIRE(run_until(io, [&] { return p.ready(); }));
  CHECK(p.stats().restarts == 2);  // one replacement per death, no more

  // The pool has recovered: the next images succeed.
  Collected after;
  const auto next = submit(p, solid_png(5, 5, {4, 4, 4}), after);
  REQUIRE(run_until(io, [&] { return after.results.size() == 1; }));
  CHECK(top_color(after.results[next]) == Rgb{4, 4, 4});
  CHECK(page.attempts() == 2);
}

TEST_CASE("pool: a forbidden system call kills the worker with SIGSYS; the image is reported, the pool recovers") {
  if (!worker::kSyscallFilterApplied) return;  // sanitizer builds run without the filter
  HookPage page;
  boost::asio::io_context io;
  WorkerPool p(io, hooked_config(1));
  REQUIRE(run_until(io, [&] { return p.ready(); }));

  Collected c;
  // Inline and memfd payloads: the filter holds on both paths of the job loop.
  const auto small = submit(p, hooktest::hook_only("syscall"), c);
  Bytes big = hooktest::png_with_hook(solid_png(8, 8, {0, 0, 0}), "syscall");
  big.resize(proto::kInlinePayloadMax + 1000, 0);  // bytes after IEND: never read
  const auto large = submit(p, big, c);
  const auto fine = submit(p, solid_png(3, 3, {5, 6, 7}), c);
  REQUIRE(run_until(io, [&] { return c.results.size() == 3; }));

  for (auto id : {small, large}) {
    const ImageError* e = error_in(c.results[id]);
    REQUIRE(e != nullptr);
    CHECK(e->code == ErrorCode::worker_crashed);
    CHECK(e->message == "worker killed by signal 31 (SIGSYS), on both attempts");
  }
  CHECK(page.attempts() == 4);
  CHECK(p.stats().retries == 2);
  CHECK(top_color(c.results[fine]) == Rgb{5, 6, 7});
  REQUIRE(run_until(io, [&] { return p.ready(); }));
  CHECK(children().zombies == 0);
}

TEST_CASE("pool: an image past its deadline gets timeout and is not retried") {
  HookPage page;
  boost::asio::io_context io;
  auto config = hooked_config(1);
  config.job_timeout = std::chrono::milliseconds(300);
  WorkerPool p(io, config);
  REQUIRE(run_until(io, [&] { return p.ready(); }));

  Collected c;
  // Blocked for good: only the deadline ends it.
  const auto stuck = submit(p, hooktest::png_with_hook(solid_png(2, 2, {1, 1, 1}), "block"), c);
  const auto after = submit(p, solid_png(2, 2, {3, 3, 3}), c);
  REQUIRE(run_until(io, [&] { return c.results.size() == 2; }));
  const ImageError* e = error_in(c.results[stuck]);
  REQUIRE(e != nullptr);
  CHECK(e->code == ErrorCode::timeout);
  CHECK(page.attempts() == 1);
  CHECK(p.stats().retries == 0);
  CHECK(top_color(c.results[after]) == Rgb{3, 3, 3});
}
