#pragma once
// WorkerPool: N prefork worker processes, each on its own Unix socket, fed from
// one bounded FIFO queue. Contract shared by the CLI (`analyze --workers`) and
// the HTTP server; implementation owned by the pool module (issue #3).
//
// Threading: the pool lives on one boost::asio::io_context. Construct it, call
// every member function and receive every callback on the thread running that
// io_context. Nothing here blocks that thread (no waitpid without WNOHANG, no
// blocking socket call).
//
// Failure isolation: a worker that crashes or passes the deadline is killed,
// reaped and respawned (fork+exec of `worker_executable worker`, safe from a
// threaded process). A job past its deadline gets `timeout`; a job whose
// worker died is run once more on a fresh worker, and gets `worker_crashed`
// only if that one dies too. No other job is touched.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/analysis.hpp"
#include "proto/image_payload.hpp"

namespace huepool::pool {

// Defaults and bounds shared by `huepool serve` and `huepool analyze --workers`.
inline constexpr std::chrono::milliseconds kDefaultJobTimeout{10'000};
inline constexpr unsigned kMaxWorkers = 1024;

struct PoolConfig {
  unsigned workers = 0;                                  // 0: one per CPU
  std::string worker_executable;                         // empty: /proc/self/exe
  std::chrono::milliseconds job_timeout = kDefaultJobTimeout;  // per-image deadline
  unsigned max_jobs_per_worker = 0;               // recycle after M jobs; 0: never
  std::size_t max_queued_jobs = 1024;             // submit() beyond this is refused
  std::uint64_t worker_memory_limit = 2ull << 30; // RLIMIT_AS of each worker, bytes
  // Batch (batch.hpp): a request's waiting images start largest first; false
  // starts them in upload order (kept for benchmarks, bench/http_bench.cpp).
  bool largest_first = true;
  DecodeLimits decode_limits;
};

struct JobResult {
  AnalysisOutcome outcome;
  int worker_pid = 0;        // 0 when no worker ever held the job
  double elapsed_ms = 0.0;   // dispatch to reply, as seen by the pool
  // When the job was handed to a worker and when its answer (or failure) was
  // known; both default-constructed when no worker ever held the job.
  std::chrono::steady_clock::time_point dispatched{};
  std::chrono::steady_clock::time_point finished{};
  // The worker's own time on the image (decode and count), as it reports it
  // (the result frame's worker_us); 0 when it failed or no worker answered.
  double worker_ms = 0.0;
};

struct PoolStats {
  unsigned workers = 0;      // configured size
  unsigned live = 0;         // processes up and handshaken
  unsigned busy = 0;
  std::size_t queued = 0;
  std::uint64_t restarts = 0;  // respawns after crash, timeout or recycling
  std::uint64_t retries = 0;   // jobs run again because their worker died
  std::uint64_t completed = 0;
};

class WorkerPool {
 public:
  using JobId = std::uint64_t;
  using Completion = std::function<void(JobResult)>;

  WorkerPool(boost::asio::io_context& io, PoolConfig config);
  ~WorkerPool();  // kills and reaps every worker; pending completions are dropped
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues a job; `done` runs exactly once on the io thread unless the job is
  // cancelled first. Returns 0 (and never calls `done`) when the queue is full;
  // otherwise ids count 1, 2, 3, ... in submission order.
  JobId submit(proto::ImagePayload image, AnalyzeOptions options, Completion done);

  // Drops a job that has not reached a worker yet. A job already running
  // finishes and its completion is discarded. Returns whether it was found.
  bool cancel(JobId id);

  bool ready() const;  // every slot has a live, handshaken worker
  PoolStats stats() const;
  const PoolConfig& config() const;  // as given, with workers and worker_executable resolved
  boost::asio::io_context& io_context() const;

  // Process ids of the live (handshaken) workers, by slot.
  std::vector<int> worker_pids() const;
  // The pid of the worker holding job `id` right now; 0 when none does.
  int worker_of(JobId id) const;

  // Finish running jobs, refuse new ones, then stop workers (ask, SIGTERM,
  // SIGKILL after a bounded wait) and reap them; `stopped` runs once at the end.
  void shutdown(std::function<void()> stopped);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace huepool::pool
