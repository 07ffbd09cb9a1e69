#pragma once
// Test-only image factory: encodes PNG (libpng) and JPEG (libjpeg-turbo) into
// memory from sample arrays, plus byte-damaging helpers and a Pillow bridge.
// Used by the common/ tests and the fuzz seed generator.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/analysis.hpp"

namespace huepool::test {

using Bytes = std::vector<std::uint8_t>;

struct PngSpec {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  int color_type = 2;  // PNG_COLOR_TYPE_*: 0 gray, 2 rgb, 3 palette, 4 gray+alpha, 6 rgba
  int bit_depth = 8;
  bool interlaced = false;
  std::vector<Rgb> palette;                  // color type 3
  std::vector<std::uint8_t> palette_alpha;   // tRNS for palette images
  std::optional<std::vector<std::uint16_t>> trns_color;  // tRNS for gray (1 value) / rgb (3 values)
};

// samples: width*height*channels values at the spec's bit depth, row-major.
Bytes encode_png(const PngSpec& spec, const std::vector<std::uint16_t>& samples);

int png_channels(int color_type);

enum class JpegColor { rgb, gray, cmyk, ycck };
struct JpegSpec {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  JpegColor color = JpegColor::rgb;
  int quality = 90;
  bool progressive = false;
  bool subsample = true;  // 4:2:0 when true, 4:4:4 when false (color images)
  unsigned restart_interval = 0;  // MCUs between RSTn markers; 0: none
};

// samples: width*height*{3,1,4} bytes (RGB, gray, or CMYK as libjpeg takes it).
Bytes encode_jpeg(const JpegSpec& spec, const std::vector<std::uint8_t>& samples);

// Deterministic pseudo-random bytes (xorshift), for noise images.
std::vector<std::uint8_t> noise(std::size_t n, std::uint32_t seed);
// A smooth photo-like RGB image with some noise: many distinct colors, repeats too.
std::vector<std::uint8_t> photo_like_rgb(std::uint32_t width, std::uint32_t height, std::uint32_t seed);

// The obvious answer: Counter(pixels).most_common(k) over RGB triples, skipping
// pixels whose alpha (when given, one byte per pixel) is 0. Returns the list and
// sets *counted.
std::vector<ColorCount> naive_most_common(const std::vector<std::uint8_t>& rgb,
                                          const std::vector<std::uint8_t>* alpha, unsigned k,
                                          std::uint64_t* counted);

// Decodes with the engine's own PNG/JPEG adapters into packed RGB (for pixel
// comparisons with Pillow), or the error.
struct Decoded {
  std::uint32_t width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
};
std::optional<Decoded> engine_decode_rgb(const Bytes& bytes, std::string* error = nullptr);

std::uint32_t crc32(const std::uint8_t* data, std::size_t n);
// Byte offset of the first chunk of `type` in a PNG, or npos.
std::size_t find_png_chunk(const Bytes& png, const char type[4]);
// Rewrites the CRC of the chunk starting at `chunk_offset` (its length field).
void fix_png_crc(Bytes& png, std::size_t chunk_offset);

std::optional<Bytes> read_file(const std::string& path);
std::string env_or(const char* name, const std::string& fallback);

// A python3 that can import PIL, or nothing (tests then skip Pillow checks).
std::optional<std::string> pillow_python();
// Pillow's Image.open(path).convert('RGB').tobytes() for each path, or nothing
// when the bridge failed (the test then fails: Pillow was found).
std::optional<std::vector<Bytes>> pillow_rgb(const std::string& python, const std::vector<std::string>& paths);

// A fresh directory under /tmp, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const Bytes& bytes) const;

 private:
  std::string path_;
};

}  // namespace huepool::test
