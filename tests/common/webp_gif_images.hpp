#pragma once
// WebP and GIF files for the C++ tests, written by the same libraries'
// encoders (libwebp's WebPEncode*, giflib's EGif*), so that the decoders are
// tested against files another implementation wrote from known pixels.

#include <cstdint>
#include <optional>
#include <vector>

#include "common/analysis.hpp"
#include "tests/common/test_images.hpp"

namespace huepool::test {

// RGBA samples (4 a pixel) to WebP. quality < 0: lossless (exact: the RGB
// of transparent pixels is kept).
Bytes encode_webp(std::uint32_t width, std::uint32_t height, const std::vector<std::uint8_t>& rgba, int quality);

struct GifFrame {
  std::uint32_t left = 0, top = 0, width = 0, height = 0;
  std::vector<std::uint8_t> indices;       // width*height, row-major
  std::vector<Rgb> local_table;            // empty: the global one
  std::optional<std::uint8_t> transparent;
  bool interlaced = false;
};

struct GifSpec {
  std::uint32_t width = 0, height = 0;     // the logical screen
  std::vector<Rgb> global_table;           // empty: none
  std::uint8_t background = 0;
  std::vector<GifFrame> frames;
};

Bytes encode_gif(const GifSpec& spec);

}  // namespace huepool::test
