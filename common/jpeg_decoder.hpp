#pragma once
// RAII adapter around libjpeg-turbo, reading from memory. setjmp/longjmp stay
// inside jpeg_decoder.cpp, in frames that hold no C++ objects; the decompressor
// is destroyed on every path.
//
// Decoder settings are libjpeg-turbo's defaults (islow IDCT, fancy upsampling),
// which are Pillow's, so pixels equal Image.open(f).convert('RGB'). Gray and
// YCbCr/RGB files come out as RGBX; CMYK/YCCK files are read as CMYK and
// converted the way Pillow 9.4 does (Adobe-inverted "CMYK;I", then cmyk2rgb).
// libjpeg's corrupt-data warnings (premature end, bad Huffman code, unexpected
// marker, extraneous bytes, ...) fail the image: no partial counts.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/pixel_rows.hpp"

namespace huepool {

class JpegDecoder {
 public:
  // Rows are handed over in bands of about this many bytes (at least one
  // libjpeg output batch). Band size made no measurable difference to
  // decode+count (docs/BENCHMARKS.md "Engine"); 64 KiB keeps a band in L2.
  static constexpr std::size_t kDefaultBandBytes = 64 * 1024;
  explicit JpegDecoder(std::size_t band_bytes = kDefaultBandBytes) : band_bytes_(band_bytes) {}

  std::optional<ImageError> decode(std::span<const std::uint8_t> bytes, const DecodeLimits& limits,
                                   RowSink& sink);

 private:
  std::size_t band_bytes_;
  std::vector<std::uint8_t> rows_;  // a band of decoded rows
  std::vector<std::uint8_t> rgbx_;  // one converted row, CMYK files only
};

}  // namespace huepool
