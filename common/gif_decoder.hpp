#pragma once
// GIF through giflib, the first frame only, reading from memory (ImageDecoder).
//
// Pixels are Pillow 9.4's Image.open(f).convert('RGB') (GifImagePlugin):
// - The image is the logical screen, grown to hold the first frame when the
//   frame's descriptor reaches past it.
// - Outside the first frame every pixel is colour index 0, or the
//   transparent index when the frame's graphic control extension names one
//   (transparent there too). The screen's background colour is not used.
// - The frame's local colour table if it has one, else the global one; with
//   neither, index i is the gray (i,i,i). An index at or beyond the table's
//   size fails the image (decode_failed), as a PNG palette index beyond the
//   PLTE does; Pillow would read it as gray (i,i,i).
// - Under alpha=ignore the transparent index is transparent (alpha 0).
// Non-interlaced frames are decoded a line at a time and handed over in
// bands; an interlaced frame's lines arrive out of order, so its colour
// indices (one byte a pixel) are held whole. After the first frame the rest
// of the file is walked block by block, without decoding, to count its
// frames (RowSink::on_frame_count). giflib's DGifSlurp, which would decode
// every frame into memory, is not used.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/image_decoder.hpp"

namespace huepool {

class GifDecoder final : public ImageDecoder {
 public:
  // Rows are handed over in bands of about this many bytes, as for JPEG.
  static constexpr std::size_t kDefaultBandBytes = 64 * 1024;
  explicit GifDecoder(std::size_t band_bytes = kDefaultBandBytes) : band_bytes_(band_bytes) {}

  std::optional<ImageError> decode(std::span<const std::uint8_t> bytes, const DecodeRequest& request,
                                   RowSink& sink) override;

 private:
  std::size_t band_bytes_;
  std::vector<std::uint8_t> band_;     // a band of RGBA rows
  std::vector<std::uint8_t> indices_;  // one frame row, or the whole frame if interlaced
};

// Frames in `bytes` from `offset` (just after a frame's data) to the trailer,
// walked as Pillow's GifImagePlugin walks them for n_frames: extensions and
// image data skipped by their sub-block lengths, a byte that starts no block
// skipped. Nothing is decoded or allocated.
struct GifTail {
  std::uint32_t frames = 0;  // image descriptors after `offset`
  bool truncated = false;    // the bytes end inside a block
  bool trailer = false;      // a trailer (';') ends the walk
  std::uint32_t stray_bytes = 0;
};
GifTail walk_gif_tail(std::span<const std::uint8_t> bytes, std::size_t offset);

}  // namespace huepool
