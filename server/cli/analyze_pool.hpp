#pragma once
// `huepool analyze --workers N`: the files go through a WorkerPool + Batch
// (io_context on the calling thread) instead of this process's own Analyzer.
// map prints every line at the end in input order; imap prints each line in
// input order as soon as it and all before it are done; imap_unordered prints
// each line the moment it is done. Every line is flushed when written.

#include <chrono>
#include <string>
#include <vector>

#include "common/analysis.hpp"
#include "server/pool/mode.hpp"
#include "server/pool/worker_pool.hpp"

namespace huepool::cli {

struct PoolAnalyzeArgs {
  unsigned workers = 0;     // 0: one per CPU
  pool::Mode mode = pool::Mode::map;
  unsigned processes = 0;   // per-call limit; 0: the pool's size
  std::chrono::milliseconds timeout = pool::kDefaultJobTimeout;
  AnalyzeOptions options;
  DecodeLimits limits;
  std::vector<std::string> files;
};

// Returns the exit status: 0 every image succeeded, 1 some failed.
int analyze_with_pool(const PoolAnalyzeArgs& args);

}  // namespace huepool::cli
