// libFuzzer target (issues #2, 14): arbitrary bytes into Analyzer::analyze,
// the worker's own entry (format sniffing, every decoder, the counter), so a
// format added behind sniff_format() is fuzzed here without a change. Built
// only with clang and -DHUEPOOL_FUZZ=ON (tests/fuzz/CMakeLists.txt); its long
// runs are in docs/RELIABILITY.md.
//
// The first two bytes pick the options, so one target covers every one:
//   byte 0  bit 0     alpha=ignore (else keep)
//           bit 1     PNG through libpng alone (else the fast path)
//           bit 2     repair every PNG chunk CRC first, so that mutations get
//                     past the chunk walk into zlib, the filters and the
//                     palette (a bad CRC sends the fast path to libpng whole)
//           bits 3-4  max_pixels: 4,000,000 / 1,000,000 / 4,096 / 1
//           bits 5-6  max_buffer_bytes: 64 MiB / 1 MiB / 16 KiB / 64
//           bit 7     added to byte 1 for top
//   byte 1  top (0..255, +1 from byte 0 bit 7: 0..256 = kMaxTop)
//   byte 2  palette: odd = 1 + (byte 2 >> 1) % kMaxPalette, even = none
// The rest is the image. Every answer is checked for the shape DESIGN.md
// promises (limits respected, colours sorted, counts consistent, palette
// clusters covering every counted pixel, a stable error code other than
// internal); anything else traps.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "common/analyzer.hpp"
#include "tests/fuzz/png_crc_repair.hpp"

namespace {

using namespace huepool;

constexpr std::uint64_t kMaxPixelsChoices[4] = {4'000'000, 1'000'000, 4'096, 1};
constexpr std::uint64_t kMaxBufferChoices[4] = {64u << 20, 1u << 20, 16u << 10, 64};

void check(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Reused across inputs, as a worker reuses its one Analyzer for every job.
  static Analyzer fast_path({}, PngPath::fast);
  static Analyzer libpng_path({}, PngPath::libpng);
  if (size < 3) return 0;
  const std::uint8_t flags = data[0];
  AnalyzeOptions options;
  options.alpha = (flags & 1) ? AlphaMode::ignore : AlphaMode::keep;
  options.top = data[1] + (flags >> 7);
  options.palette = (data[2] & 1) ? 1 + (data[2] >> 1) % kMaxPalette : 0;
  const DecodeLimits limits{kMaxPixelsChoices[(flags >> 3) & 3], kMaxBufferChoices[(flags >> 5) & 3]};
  Analyzer& analyzer = (flags & 2) ? libpng_path : fast_path;
  analyzer.set_limits(limits);

  std::vector<std::uint8_t> image(data + 3, data + size);
  const auto format = sniff_format(image);
  if ((flags & 4) && format == ImageFormat::png) repair_png_crcs(image);

  const auto outcome = analyzer.analyze(image, options);
  if (const auto* a = std::get_if<ImageAnalysis>(&outcome)) {
    check(format && a->format == *format);
    check(a->width > 0 && a->height > 0);
    check(std::uint64_t{a->width} * a->height <= limits.max_pixels);
    check(a->pixels > 0 && a->pixels <= std::uint64_t{a->width} * a->height);
    check(!a->colors.empty() && a->colors.size() <= std::max(1u, options.top));
    std::uint64_t listed = 0;
    for (std::size_t i = 0; i < a->colors.size(); ++i) {
      check(a->colors[i].count > 0);
      if (i > 0) check(a->colors[i - 1].count >= a->colors[i].count);
      listed += a->colors[i].count;
    }
    check(listed <= a->pixels);
    // palette=K: at most K clusters, largest first, every counted pixel in exactly one.
    check(a->palette.size() <= options.palette && (options.palette == 0 || !a->palette.empty()));
    std::uint64_t clustered = 0;
    for (std::size_t i = 0; i < a->palette.size(); ++i) {
      check(i == 0 || a->palette[i - 1].count >= a->palette[i].count);
      check(a->palette[i].dominant.count >= 1 && a->palette[i].dominant.count <= a->palette[i].count);
      clustered += a->palette[i].count;
    }
    check(options.palette == 0 || clustered == a->pixels);
    check(a->warnings.size() <= kMaxWarnings);
    for (const auto& w : a->warnings) check(!w.empty() && w.size() <= kMaxWarningBytes);
  } else {
    const auto& e = std::get<ImageError>(outcome);
    check(e.code != ErrorCode::internal && !e.message.empty());
    check(format || e.code == ErrorCode::unsupported_format);
  }
  return 0;
}
