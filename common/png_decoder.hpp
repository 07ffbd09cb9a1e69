#pragma once
// RAII adapter around libpng, reading from memory. setjmp/longjmp stay inside
// png_decoder.cpp, in frames that hold no C++ objects; the libpng structs are
// destroyed on every path. Transforms (DESIGN.md §1): palette expanded, gray
// replicated, 1/2/4-bit gray scaled to 8, 16-bit reduced to the high byte,
// Adam7 de-interlaced, tRNS turned into alpha only when alpha is wanted.
//
// Non-interlaced images are streamed to the sink a band of rows at a time; an
// Adam7 image needs the whole image in a buffer.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/pixel_rows.hpp"

namespace huepool {

class PngDecoder {
 public:
  // Non-interlaced rows are handed over in bands of about this many bytes (at
  // least one row); see docs/BENCHMARKS.md "Engine" for what band size does.
  static constexpr std::size_t kDefaultBandBytes = 64 * 1024;
  explicit PngDecoder(std::size_t band_bytes = kDefaultBandBytes) : band_bytes_(band_bytes) {}

  // want_alpha: rows carry real alpha (PixelLayout::rgba) whenever the image has
  // alpha or tRNS; otherwise alpha may be absent or padding.
  std::optional<ImageError> decode(std::span<const std::uint8_t> bytes, const DecodeLimits& limits,
                                   bool want_alpha, RowSink& sink);

 private:
  std::size_t band_bytes_;
  std::vector<std::uint8_t> rows_;           // a band of padded rows, or the whole Adam7 image
  std::vector<std::uint8_t*> row_pointers_;  // Adam7 only
};

}  // namespace huepool
