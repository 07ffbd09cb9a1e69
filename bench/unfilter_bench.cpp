// unfilter_bench (issue 13): each PNG filter type alone, SIMD against scalar,
// in ns per pixel, for the pixel sizes the SIMD loops take. 400 rows of 1800
// bytes of noise (a 600-pixel RGB row, coffee's width), each row unfiltered
// against the one before, as the decoder does; thread CPU time, median and
// fastest of 31 runs. Build it at two commits to compare two versions of a
// loop (docs/BENCHMARKS.md "PNG").
//   unfilter_bench
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "common/png_unfilter.hpp"

namespace {

double thread_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

constexpr std::size_t kRowBytes = 1800, kRows = 400;
constexpr int kRuns = 31;
const char* const kFilterNames[] = {"None", "Sub", "Up", "Average", "Paeth"};

// Median and fastest ns per pixel of `filter` over kRows rows.
std::pair<double, double> time_filter(const huepool::RowUnfilter& unfilter, std::uint8_t filter, unsigned bpp,
                                      const std::vector<std::uint8_t>& noise) {
  std::vector<double> runs;
  std::vector<std::uint8_t> rows;
  for (int r = 0; r < kRuns; ++r) {
    rows = noise;
    const double t0 = thread_ns();
    for (std::size_t y = 1; y <= kRows; ++y)
      unfilter.apply(filter, &rows[y * kRowBytes], &rows[(y - 1) * kRowBytes], kRowBytes);
    runs.push_back((thread_ns() - t0) / (static_cast<double>(kRows * kRowBytes) / bpp));
  }
  std::sort(runs.begin(), runs.end());
  return {runs[runs.size() / 2], runs.front()};
}

}  // namespace

int main() {
  std::vector<std::uint8_t> noise((kRows + 1) * kRowBytes);
  std::uint32_t x = 2463534242u;  // xorshift32: the same bytes every run
  for (auto& b : noise) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  std::printf("%-8s %4s %14s %14s %8s\n", "filter", "bpp", "simd ns/px", "scalar ns/px", "scalar/simd");
  for (const unsigned bpp : {3u, 4u, 6u, 8u}) {
    const huepool::RowUnfilter simd(bpp), scalar(bpp, false);
    for (std::uint8_t filter = 1; filter < huepool::kPngFilterCount; ++filter) {
      const auto [simd_med, simd_min] = time_filter(simd, filter, bpp, noise);
      const auto [scalar_med, scalar_min] = time_filter(scalar, filter, bpp, noise);
      std::printf("%-8s %4u %7.3f (%5.3f) %7.3f (%5.3f) %7.2fx\n", kFilterNames[filter], bpp, simd_med, simd_min,
                  scalar_med, scalar_min, scalar_med / simd_med);
    }
  }
  return 0;
}
