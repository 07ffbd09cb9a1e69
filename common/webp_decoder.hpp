#pragma once
// WebP through libwebp (ImageDecoder): lossy, lossless, alpha, and the first
// frame of an animation.
//
// Pixels are Pillow 9.4's Image.open(f).convert('RGB'): Pillow (built with
// libwebp's demux API, as Debian's is) reads every WebP file through
// WebPAnimDecoder, which decodes a frame with WebPDecode into RGBA. huepool
// does the same: the file is first parsed by WebPDemux (so the files Pillow
// refuses as containers are refused too), a still image is decoded with
// WebPDecode into RGBA exactly as WebPAnimDecoder would decode it, and an
// animation's first frame is taken from WebPAnimDecoder itself (the canvas,
// transparent black outside the first frame). Alpha is real only when the
// file says it has alpha (WebPGetFeatures), as in Pillow, whose image is RGB
// otherwise.
//
// Not banded: libwebp's decode API writes into one output buffer of the whole
// image (4 bytes a pixel; an animation holds two canvases of that size), and
// a lossless image also holds its whole ARGB image inside the codec. See
// webp_buffer_bytes() and docs/INPUTS.md "WebP".

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/image_decoder.hpp"

namespace huepool {

class WebpDecoder final : public ImageDecoder {
 public:
  // Rows are handed to the sink in bands of about this many bytes.
  static constexpr std::size_t kBandBytes = 64 * 1024;

  std::optional<ImageError> decode(std::span<const std::uint8_t> bytes, const DecodeRequest& request,
                                   RowSink& sink) override;
};

}  // namespace huepool
