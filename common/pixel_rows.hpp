#pragma once
// What a decoder hands to whoever consumes its pixels: the header once, then
// rows in top-to-bottom order. A decoder never holds a whole non-interlaced
// image; it calls on_rows() for each batch of rows it has just decoded, while
// they are still in cache.
//
// Row memory belongs to the decoder and is valid only during the call. Every
// row buffer has at least kRowPadding readable bytes after its last pixel, so a
// consumer may load 4 bytes at the last 3-byte pixel.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/analysis.hpp"

namespace huepool {

inline constexpr std::size_t kRowPadding = 16;

enum class PixelLayout : std::uint8_t {
  rgb,   // R,G,B
  rgbx,  // R,G,B,pad: the 4th byte means nothing
  rgba,  // R,G,B,A: alpha 0 means transparent
};

inline constexpr std::size_t bytes_per_pixel(PixelLayout layout) {
  return layout == PixelLayout::rgb ? 3 : 4;
}

struct ImageHeader {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  // What the decoder will hold in row buffers for this image (DecodeLimits::
  // max_buffer_bytes), estimated from the header by the decoder.
  std::uint64_t buffer_bytes = 0;
};

// Called from inside the codec adapters (between C library calls, and from
// their warning callbacks), so it must not throw: on_header() reports failure
// as a value, on_rows() and on_warning() cannot fail.
class RowSink {
 public:
  // Called after the header is read and checked against the limits and
  // before any pixel buffer is allocated. A returned error stops decoding.
  // Called again when a decoder starts the image over (the fast PNG path
  // handing a file to libpng after some rows, png_fast_decoder.hpp): every
  // row delivered before is then forgotten. Warnings are not: a decoder that
  // may start over reports none before it has decided not to.
  virtual std::optional<ImageError> on_header(const ImageHeader& header) noexcept = 0;
  // `count` rows of `width` pixels each, `stride` bytes apart.
  virtual void on_rows(const std::uint8_t* first, std::size_t stride, std::uint32_t count,
                       PixelLayout layout) noexcept = 0;
  // A defect in the file that changes no counted pixel (DESIGN.md §1): the
  // text says what and where, for the result's "warnings". May come at any
  // point, also before on_header(); only a decode that succeeds reports them.
  virtual void on_warning(std::string_view message) noexcept = 0;
  // How many frames the file holds, for formats that can animate (GIF,
  // WebP: only the first is decoded); a decoder calls it at most once, before
  // it returns success. Not called for PNG or JPEG.
  virtual void on_frame_count(std::uint32_t /*frames*/) noexcept {}

 protected:
  ~RowSink() = default;
};

// The limits check every decoder runs on its header: too_large, or nothing.
std::optional<ImageError> check_limits(const ImageHeader& header, const DecodeLimits& limits);

}  // namespace huepool
