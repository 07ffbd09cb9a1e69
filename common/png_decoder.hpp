#pragma once
// PNG through libpng, reading from memory (ImageDecoder). setjmp/longjmp stay
// inside png_decoder.cpp, in frames that hold no C++ objects; the libpng
// structs are destroyed on every path.
//
// Transforms (DESIGN.md §1): gray replicated, 1/2/4-bit gray scaled to 8,
// 16-bit reduced to the high byte, Adam7 de-interlaced, tRNS turned into alpha
// only when alpha is wanted. Palette images are expanded here, not by libpng,
// so that an index beyond the PLTE fails the image with the index named
// (libpng would give black).
//
// What libpng tolerates is judged here (docs/INPUTS.md has the table):
// every warning and benign error libpng raises is either a defect that
// changes no counted pixel (reported through RowSink::on_warning) or one that
// changes pixels or the alpha mask (the image fails). Metadata chunks (text,
// iCCP, eXIf, every ancillary chunk but tRNS, unknown chunks) are skipped
// unread: their bytes are CRC-checked, never decompressed or kept.
//
// Non-interlaced images are streamed to the sink a band of rows at a time; an
// Adam7 image needs the whole image in a buffer.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/image_decoder.hpp"

namespace huepool {

class PngDecoder final : public ImageDecoder {
 public:
  // Non-interlaced rows are handed over in bands of about this many bytes (at
  // least one row); see docs/BENCHMARKS.md "Engine" for what band size does.
  static constexpr std::size_t kDefaultBandBytes = 64 * 1024;
  explicit PngDecoder(std::size_t band_bytes = kDefaultBandBytes) : band_bytes_(band_bytes) {}

  std::optional<ImageError> decode(std::span<const std::uint8_t> bytes, const DecodeRequest& request,
                                   RowSink& sink) override;

 private:
  std::size_t band_bytes_;
  std::vector<std::uint8_t> rows_;           // a band of padded rows, or the whole Adam7 image
  std::vector<std::uint8_t> expanded_;       // one palette row expanded to RGBA
  std::vector<std::uint8_t*> row_pointers_;  // Adam7 only
};

}  // namespace huepool
