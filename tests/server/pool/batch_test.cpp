// Batch over a real WorkerPool: input vs completion order, processes=N as a
// concurrency limit (seen in dispatch/finish times and worker pids), add_failed,
// cancel, the bounded reorder window, and largest-first dispatch (seen in the
// order the pool handed the images to the worker).
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <set>
#include <variant>

#include "common/image_size_probe.hpp"
#include "proto/wire_format.hpp"
#include "server/pool/batch.hpp"
#include "tests/server/pool/pool_test_support.hpp"

using namespace huepool;
using namespace huepool::pooltest;
using pool::Batch;
using pool::BatchItem;
using pool::Ordering;
using pool::WorkerPool;

namespace {

struct Run {
  std::vector<BatchItem> items;
  int done_calls = 0;
};

std::shared_ptr<Batch> make_batch(WorkerPool& p, Ordering o, unsigned processes, Run& run) {
  return Batch::create(
      p, o, processes, [&run](BatchItem item) { run.items.push_back(std::move(item)); },
      [&run] { ++run.done_calls; });
}

proto::ImagePayload payload(const Bytes& b) { return proto::ImagePayload::from_span(b, proto::kInlinePayloadMax); }

std::vector<std::size_t> indices(const Run& run) {
  std::vector<std::size_t> v;
  for (const auto& i : run.items) v.push_back(i.index);
  return v;
}

bool succeeded(const BatchItem& item) { return std::holds_alternative<ImageAnalysis>(item.result.outcome); }

// Big image first, five small ones after, on two workers. The worker that
// holds the big image is stopped (SIGSTOP) until the five small ones have
// finished on the other worker, so "the big one is slower" holds by
// construction, not by timing; then it is let go.
Run big_then_small(Ordering ordering) {
  boost::asio::io_context io;
  WorkerPool p(io, test_config(2));
  REQUIRE(run_until(io, [&] { return p.ready(); }));
  Run run;
  auto batch = make_batch(p, ordering, 2, run);
  CHECK(batch->add("big.png", payload(big_png()), {}) == 0);
  const WorkerPool::JobId big_job = 1;  // the pool's first job (ids count from 1)
  REQUIRE(run_until(io, [&] { return p.worker_of(big_job) != 0; }));
  const int big_worker = p.worker_of(big_job);
  REQUIRE(::kill(big_worker, SIGSTOP) == 0);
  for (int i = 1; i <= 5; ++i)
    CHECK(batch->add("small" + std::to_string(i) + ".png", payload(solid_png(3, 3, {1, 2, 3})), {}) ==
          static_cast<std::size_t>(i));
  batch->close();
  REQUIRE(run_until(io, [&] { return p.stats().completed == 5; }));
  io.restart();
  io.poll();  // deliver whatever the batch would emit now
  // In input order nothing may be emitted before the big image; in completion
  // order every small one already has been.
  CHECK(run.items.size() == (ordering == Ordering::input ? 0u : 5u));
  CHECK(run.done_calls == 0);
  REQUIRE(::kill(big_worker, SIGCONT) == 0);
  REQUIRE(run_until(io, [&] { return run.done_calls == 1; }));
  CHECK(run.items.size() == 6);
  CHECK(batch->added() == 6);
  CHECK(batch->failed() == 0);
  for (const auto& item : run.items) CHECK(succeeded(item));
  CHECK(run.items.front().name == (ordering == Ordering::input ? "big.png" : "small1.png"));
  return run;
}

}  // namespace

TEST_CASE("batch: imap keeps input order even when the first image is the slowest") {
  const Run run = big_then_small(Ordering::input);
  CHECK(indices(run) == std::vector<std::size_t>{0, 1, 2, 3, 4, 5});
  CHECK(std::get<ImageAnalysis>(run.items[0].result.outcome).colors.at(0).color == kBigColor);
}

TEST_CASE("batch: imap_unordered returns the small images before the big first one") {
  const Run run = big_then_small(Ordering::completion);
  CHECK(indices(run) == std::vector<std::size_t>{1, 2, 3, 4, 5, 0});
  // Two workers really ran at once: the small jobs ran inside the big job's window.
  const auto& big = run.items.back().result;
  std::set<int> pids;
  for (const auto& item : run.items) pids.insert(item.result.worker_pid);
  CHECK(pids.size() == 2);
  CHECK(run.items.front().result.dispatched < big.finished);
}

TEST_CASE("batch: processes=1 runs one image at a time, processes=2 overlaps") {
  boost::asio::io_context io;
  WorkerPool p(io, test_config(2));
  REQUIRE(run_until(io, [&] { return p.ready(); }));
  const Bytes medium = make_png(600, 400, [](std::uint32_t x, std::uint32_t y) {
    return Rgb{static_cast<std::uint8_t>(x ^ y), static_cast<std::uint8_t>(x), static_cast<std::uint8_t>(y)};
  });
  for (unsigned processes : {1u, 2u}) {
    CAPTURE(processes);
    Run run;
    auto batch = make_batch(p, Ordering::completion, processes, run);
    if (processes == 2) batch->add("big.png", payload(big_png()), {});
    for (int i = 0; i < 6; ++i) batch->add("m.png", payload(medium), {});
    batch->close();
    REQUIRE(run_until(io, [&] { return run.done_calls == 1; }));
    auto items = run.items;
    std::sort(items.begin(), items.end(),
              [](const BatchItem& a, const BatchItem& b) { return a.result.dispatched < b.result.dispatched; });
    bool overlapped = false;
    for (std::size_t i = 1; i < items.size(); ++i)
      if (items[i].result.dispatched < items[i - 1].result.finished) overlapped = true;
    if (processes == 1) {
      CHECK_FALSE(overlapped);
    } else {
      // The big image holds one worker while the medium ones run on the other.
      CHECK(overlapped);
    }
  }
}

TEST_CASE("batch: add_failed takes its place in the order and counts as failed") {
  boost::asio::io_context io;
  WorkerPool p(io, test_config(2));
  for (Ordering o : {Ordering::input, Ordering::completion}) {
    Run run;
    auto batch = make_batch(p, o, 0, run);
    batch->add("a.png", payload(solid_png(2, 2, {1, 1, 1})), {});
    CHECK(batch->add_failed("b.png", ImageError{ErrorCode::too_large, "over the byte limit"}) == 1);
    batch->add("c.png", payload(Bytes{'n', 'o', 'p', 'e'}), {});
    CHECK(run.items.empty());  // never emitted from inside add
    batch->close();
    REQUIRE(run_until(io, [&] { return run.done_calls == 1; }));
    REQUIRE(run.items.size() == 3);
    if (o == Ordering::input) CHECK(indices(run) == std::vector<std::size_t>{0, 1, 2});
    std::sort(run.items.begin(), run.items.end(), [](auto& a, auto& b) { return a.index < b.index; });
    CHECK(succeeded(run.items[0]));
    CHECK(std::get<ImageError>(run.items[1].result.outcome).code == ErrorCode::too_large);
    CHECK(run.items[1].name == "b.png");
    CHECK(run.items[1].result.worker_pid == 0);
    CHECK(std::get<ImageError>(run.items[2].result.outcome).code == ErrorCode::unsupported_format);
    CHECK(batch->failed() == 2);
  }
}

TEST_CASE("batch: an empty closed batch is done; cancel stops emits and Done") {
  boost::asio::io_context io;
  WorkerPool p(io, test_config(2));
  {
    Run run;
    auto batch = make_batch(p, Ordering::input, 0, run);
    batch->close();
    REQUIRE(run_until(io, [&] { return run.done_calls == 1; }));
    CHECK(run.items.empty());
  }
  {
    Run run;
    std::shared_ptr<Batch> batch;
    batch = Batch::create(
        p, Ordering::completion, 1,
        [&](BatchItem item) {
          run.items.push_back(std::move(item));
          batch->cancel();  // the client went away after the first line
        },
        [&] { ++run.done_calls; });
    for (int i = 0; i < 5; ++i) batch->add("x.png", payload(solid_png(4, 4, {2, 2, 2})), {});
    batch->close();
    REQUIRE(run_until(io, [&] { return !run.items.empty() && p.stats().busy == 0 && p.stats().queued == 0; }));
    io.restart();
    io.poll();
    CHECK(run.items.size() == 1);
    CHECK(run.done_calls == 0);
    CHECK(p.stats().completed < 5);  // processes=1: the rest never reached the pool
    batch.reset();
  }
}

TEST_CASE("batch: in input order one slow image bounds how many results wait behind it") {
  boost::asio::io_context io;
  WorkerPool p(io, test_config(2));
  REQUIRE(run_until(io, [&] { return p.ready(); }));
  Run run;
  std::uint64_t completed_at_first_emit = 0;
  auto batch = Batch::create(
      p, Ordering::input, 2,
      [&](BatchItem item) {
        if (run.items.empty()) completed_at_first_emit = p.stats().completed;
        run.items.push_back(std::move(item));
      },
      [&] { ++run.done_calls; });
  batch->add("big.png", payload(big_png()), {});
  const Bytes tiny = solid_png(1, 1, {4, 4, 4});
  const std::size_t n = pool::kMaxReorderWindow + 40;
  for (std::size_t i = 1; i + 1 < n; ++i) batch->add("t.png", payload(tiny), {});
  // The heaviest image, beyond the window: largest-first does not let it jump the window.
  const Bytes heavy = solid_png(60, 60, {5, 5, 5});
  batch->add("heavy.png", payload(heavy), {}, probe_image_pixels(heavy));
  batch->close();
  REQUIRE(run_until(io, [&] { return run.done_calls == 1; }));
  CHECK(run.items.size() == n);
  CHECK(completed_at_first_emit <= pool::kMaxReorderWindow);
  for (std::size_t i = 0; i < n; ++i) CHECK(run.items[i].index == i);
}

namespace {

// Indices in the order the pool handed them to a worker.
std::vector<std::size_t> dispatch_order(std::vector<BatchItem> items) {
  std::stable_sort(items.begin(), items.end(),
                   [](const BatchItem& a, const BatchItem& b) { return a.result.dispatched < b.result.dispatched; });
  return indices(Run{std::move(items), 0});
}

// Seven images: #0 starts at once (nothing else waits yet); the other six wait
// for the one place (processes=1), so they start by stated pixels, most first,
// ties in input order; "nope" states none and weighs its 4 bytes.
struct Sized {
  const char* name;
  Bytes bytes;
};
std::vector<Sized> seven_images() {
  return {{"first.png", solid_png(2, 2, {1, 1, 1})},   {"100.png", solid_png(10, 10, {2, 2, 2})},
          {"1200a.png", solid_png(40, 30, {3, 3, 3})}, {"nope", Bytes{'n', 'o', 'p', 'e'}},
          {"1200b.png", solid_png(30, 40, {4, 4, 4})}, {"2500.png", solid_png(50, 50, {5, 5, 5})},
          {"400.png", solid_png(20, 20, {6, 6, 6})}};
}

Run run_seven(WorkerPool& p, boost::asio::io_context& io, Ordering ordering, unsigned processes) {
  Run run;
  auto batch = make_batch(p, ordering, processes, run);
  for (auto& image : seven_images()) batch->add(image.name, payload(image.bytes), {}, probe_image_pixels(image.bytes));
  batch->close();
  REQUIRE(run_until(io, [&] { return run.done_calls == 1; }));
  REQUIRE(run.items.size() == 7);
  return run;
}

}  // namespace

TEST_CASE("batch: waiting images start largest first; map/imap still emit in input order") {
  boost::asio::io_context io;
  WorkerPool p(io, test_config(1));
  REQUIRE(run_until(io, [&] { return p.ready(); }));
  const std::vector<std::size_t> largest_first{0, 5, 2, 4, 6, 1, 3};
  {
    const Run run = run_seven(p, io, Ordering::input, 1);
    CHECK(dispatch_order(run.items) == largest_first);
    CHECK(indices(run) == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6});
    CHECK(std::get<ImageError>(run.items[3].result.outcome).code == ErrorCode::unsupported_format);
    CHECK(std::get<ImageAnalysis>(run.items[5].result.outcome).pixels == 2500);
  }
  {
    // imap_unordered: completion order, which on one worker is the dispatch order.
    const Run run = run_seven(p, io, Ordering::completion, 1);
    CHECK(indices(run) == largest_first);
    CHECK(dispatch_order(run.items) == largest_first);
  }
}

TEST_CASE("batch: largest first within processes=2 on two workers; off, upload order") {
  boost::asio::io_context io;
  {
    WorkerPool p(io, test_config(2));
    REQUIRE(run_until(io, [&] { return p.ready(); }));
    const Run run = run_seven(p, io, Ordering::completion, 2);
    // #0 and #1 start on arrival (a place was free); the rest by size as places free up.
    const auto order = dispatch_order(run.items);
    CHECK(std::set<std::size_t>(order.begin(), order.begin() + 2) == std::set<std::size_t>{0, 1});
    CHECK(std::vector<std::size_t>(order.begin() + 2, order.end()) == std::vector<std::size_t>{5, 2, 4, 6, 3});
    // Never more than two of the batch's images in the pool at once.
    for (const auto& a : run.items) {
      int overlapping = 0;
      for (const auto& b : run.items)
        if (b.result.dispatched <= a.result.dispatched && a.result.dispatched < b.result.finished) ++overlapping;
      CHECK(overlapping <= 2);
    }
  }
  {
    pool::PoolConfig config = test_config(1);
    config.largest_first = false;
    WorkerPool p(io, config);
    REQUIRE(run_until(io, [&] { return p.ready(); }));
    const Run run = run_seven(p, io, Ordering::completion, 1);
    CHECK(dispatch_order(run.items) == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6});
  }
}
