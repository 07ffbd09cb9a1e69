#pragma once
// The engine's entry point: bytes of one image in, its exact color counts out.
//
// Contract:
// - sniff_format() looks only at magic bytes (never a name or a MIME type).
// - Analyzer::analyze() never throws for bad input and never returns a partial
//   count: every failure is an ImageError with a stable ErrorCode
//   (unsupported_format, decode_failed, too_large, no_pixels; internal only for
//   resource failures on our side). Limits are checked from the image header
//   before any pixel buffer is allocated.
// - An Analyzer keeps its counter memory (tables, scratch rows) between calls,
//   so a worker should hold one for its whole life and call it for every job.
//   It is not thread-safe: one Analyzer per thread or process.
// - Pixels are exactly Pillow 9.4's Image.open(f).convert('RGB') for 8-bit PNG,
//   JPEG, WebP and GIF's first frame (see DESIGN.md §1, docs/INPUTS.md); ties go
//   to the first color in row-major order.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "common/analysis.hpp"

namespace huepool {

std::optional<ImageFormat> sniff_format(std::span<const std::uint8_t> bytes);

// Which decoder takes PNG files: the fast path (png_fast_decoder.hpp, which
// hands what it does not decode itself to libpng), or libpng alone. Both
// answer every file the same; `libpng` is for tests and benchmarks
// (`huepool analyze --png-decoder libpng`).
enum class PngPath : std::uint8_t { fast, libpng };

class Analyzer {
 public:
  explicit Analyzer(DecodeLimits limits = {}, PngPath png_path = PngPath::fast);
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;
  Analyzer(Analyzer&&) noexcept;
  Analyzer& operator=(Analyzer&&) noexcept;

  AnalysisOutcome analyze(std::span<const std::uint8_t> bytes, const AnalyzeOptions& options);

  const DecodeLimits& limits() const { return limits_; }
  // Changes the limits; the tables and scratch buffers stay.
  void set_limits(const DecodeLimits& limits) { limits_ = limits; }
  // Makes the first image as fast as the next: commits the counter's tables
  // (ColorCounter::prefault) and runs a small generated PNG through the fast
  // path and the dense counter, so that their code, the ISA-L state and the
  // band buffers are in memory before any real image. A worker calls it
  // before it reports ready. Throws std::bad_alloc.
  void warm_up();

 private:
  struct State;  // decoders' scratch rows and the counter's tables, reused
  DecodeLimits limits_;
  PngPath png_path_;
  std::unique_ptr<State> state_;
};

}  // namespace huepool
