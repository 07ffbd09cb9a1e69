// libFuzzer target: arbitrary bytes into Analyzer::analyze. Built only with
// clang and -DHUEPOOL_FUZZ=ON (tests/fuzz/CMakeLists.txt); see docs/BENCHMARKS.md
// "Engine" for how it was run. The first byte picks the options; the rest is
// the image. Limits are small so a lying header cannot make one run slow, and
// every answer is checked for the shape DESIGN.md promises.
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "common/analyzer.hpp"

namespace {

constexpr huepool::DecodeLimits kFuzzLimits{4'000'000, 64u << 20};

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static huepool::Analyzer analyzer(kFuzzLimits);  // reused, as a worker reuses it
  if (size == 0) return 0;
  huepool::AnalyzeOptions options;
  options.top = data[0] % 4 == 0 ? 0u : (data[0] >> 2) % (huepool::kMaxTop + 1);
  options.alpha = (data[0] & 1) ? huepool::AlphaMode::ignore : huepool::AlphaMode::keep;
  options.palette = (data[0] & 2) ? (data[0] >> 2) % huepool::kMaxPalette + 1 : 0;
  const std::span<const std::uint8_t> image(data + 1, size - 1);
  const auto outcome = analyzer.analyze(image, options);
  if (const auto* a = std::get_if<huepool::ImageAnalysis>(&outcome)) {
    check(a->pixels > 0 && a->pixels <= std::uint64_t{a->width} * a->height);
    check(!a->colors.empty() && a->colors.size() <= std::max(1u, options.top));
    for (std::size_t i = 1; i < a->colors.size(); ++i) check(a->colors[i - 1].count >= a->colors[i].count);
    check(a->colors.front().count <= a->pixels);
    // palette=K: at most K clusters, largest first, every counted pixel in exactly one.
    check(a->palette.size() <= options.palette && (options.palette == 0 || !a->palette.empty()));
    std::uint64_t clustered = 0;
    for (std::size_t i = 0; i < a->palette.size(); ++i) {
      check(i == 0 || a->palette[i - 1].count >= a->palette[i].count);
      check(a->palette[i].dominant.count >= 1 && a->palette[i].dominant.count <= a->palette[i].count);
      clustered += a->palette[i].count;
    }
    check(options.palette == 0 || clustered == a->pixels);
  } else {
    const auto& e = std::get<huepool::ImageError>(outcome);
    check(e.code != huepool::ErrorCode::internal && !e.message.empty());
  }
  return 0;
}
