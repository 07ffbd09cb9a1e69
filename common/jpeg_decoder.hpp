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

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/pixel_rows.hpp"

namespace huepool {

class JpegDecoder {
 public:
  std::optional<ImageError> decode(std::span<const std::uint8_t> bytes, const DecodeLimits& limits,
                                   RowSink& sink);

 private:
  std::vector<std::uint8_t> rows_;  // a batch of decoded rows (rec_outbuf_height)
  std::vector<std::uint8_t> rgbx_;  // one converted row, CMYK files only
};

}  // namespace huepool
