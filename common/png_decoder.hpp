#pragma once
// RAII adapter around libpng, reading from memory. setjmp/longjmp stay inside
// png_decoder.cpp, in frames that hold no C++ objects; the libpng structs are
// destroyed on every path. Transforms (DESIGN.md §1): palette expanded, gray
// replicated, 1/2/4-bit gray scaled to 8, 16-bit reduced to the high byte,
// Adam7 de-interlaced, tRNS turned into alpha only when alpha is wanted.
//
// Non-interlaced images are streamed to the sink one row at a time; an Adam7
// image needs the whole image in a buffer (reused between calls).

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/pixel_rows.hpp"

namespace huepool {

class PngDecoder {
 public:
  // want_alpha: rows carry real alpha (PixelLayout::rgba) whenever the image has
  // alpha or tRNS; otherwise alpha may be absent or padding.
  std::optional<ImageError> decode(std::span<const std::uint8_t> bytes, const DecodeLimits& limits,
                                   bool want_alpha, RowSink& sink);

 private:
  std::vector<std::uint8_t> rows_;           // one padded row, or the whole Adam7 image
  std::vector<std::uint8_t*> row_pointers_;  // Adam7 only
};

}  // namespace huepool
