#pragma once
// The one shape of a format decoder. Analyzer picks the decoder from the magic
// bytes (sniff_format) and calls decode(); a new format, or a second decoder
// for one, is one new class behind this interface.
//
// Contract of decode():
// - Precondition: sniff_format(bytes) named this decoder's format, so the
//   signature is already checked.
// - The header is probed first; the decoder estimates its row buffers, runs
//   check_limits() (too_large) and calls sink.on_header() before it
//   allocates any pixel buffer.
// - Rows go to sink.on_rows() top to bottom, a band at a time; defects that
//   change no counted pixel go to sink.on_warning().
// - Returns std::nullopt when every row was delivered and nothing in the file
//   makes the counted pixels doubtful; otherwise an ImageError (decode_failed
//   for damaged data, too_large, internal for our own resource failures).
//   Rows already delivered must then be discarded by the caller.
// - Never throws for bad input. One decoder per thread; it keeps its scratch
//   buffers between calls.

#include <cstdint>
#include <optional>
#include <span>

#include "common/analysis.hpp"
#include "common/pixel_rows.hpp"

namespace huepool {

struct DecodeRequest {
  DecodeLimits limits;
  // Rows must carry real alpha (PixelLayout::rgba) whenever the image has
  // alpha or transparency (tRNS); otherwise the 4th byte may be padding.
  bool want_alpha = false;
};

class ImageDecoder {
 public:
  virtual ~ImageDecoder() = default;
  virtual std::optional<ImageError> decode(std::span<const std::uint8_t> bytes,
                                           const DecodeRequest& request, RowSink& sink) = 0;
};

}  // namespace huepool
