#pragma once
// What the engine benchmarks share: the corpus as bytes, thread CPU time, medians.

#include <string>
#include <vector>

#include "common/analysis.hpp"

namespace huepool::bench {

struct CorpusImage {
  std::string name;  // file name, without the directory
  ImageFormat format;
  std::vector<std::uint8_t> bytes;
  std::uint64_t pixels = 0;  // filled in by whoever decodes it
};

// Every PNG/JPEG file directly in `dir` (sniffed, not by extension), by name.
std::vector<CorpusImage> load_corpus(const std::string& dir);

// Thread CPU time in seconds, not wall time: on a shared 2-core box a
// descheduled slice would otherwise land in whichever column was running.
double cpu_now();

double median(std::vector<double> v);

}  // namespace huepool::bench
