// libFuzzer target (issue 13): the fast PNG path against libpng on the same
// bytes. Built only with clang and -DHUEPOOL_FUZZ=ON (tests/fuzz/CMakeLists.txt);
// docs/BENCHMARKS.md "PNG" records its runs.
//
// The first byte picks the options: bit 0 alpha=ignore; bit 1 repairs every
// chunk's CRC before decoding, so that mutations get past the chunk walk into
// the zlib stream, the filters and the palette (a bad CRC sends the file to
// libpng whole, which is the same decoder twice). The rest is the file; the
// PNG signature is put in front when it is missing. Both decoders must agree:
// the same error code and message, or the same warnings and the same rows
// (RGB, and which pixels are transparent when alpha is wanted). Anything else
// traps.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common/png_chunks.hpp"
#include "common/png_decoder.hpp"
#include "common/png_fast_decoder.hpp"

namespace {

using namespace huepool;

constexpr DecodeLimits kFuzzLimits{4'000'000, 64u << 20};
constexpr std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

class RecordingSink final : public RowSink {
 public:
  std::optional<ImageError> on_header(const ImageHeader& header) noexcept override {
    width_ = header.width;
    pixels.clear();
    return std::nullopt;
  }
  void on_rows(const std::uint8_t* first, std::size_t stride, std::uint32_t count,
               PixelLayout layout) noexcept override {
    const std::size_t bpp = bytes_per_pixel(layout);
    for (std::uint32_t r = 0; r < count; ++r)
      for (std::uint32_t x = 0; x < width_; ++x) {
        const std::uint8_t* p = first + r * stride + x * bpp;
        pixels.insert(pixels.end(), p, p + 3);
        pixels.push_back(layout == PixelLayout::rgba && p[3] == 0);
      }
  }
  void on_warning(std::string_view message) noexcept override { warnings.emplace_back(message); }
  std::vector<std::uint8_t> pixels;
  std::vector<std::string> warnings;

 private:
  std::uint32_t width_ = 0;
};

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void repair_crcs(std::vector<std::uint8_t>& png) {
  for (std::size_t pos = 8; pos + 12 <= png.size();) {
    const std::uint32_t length = (std::uint32_t{png[pos]} << 24) | (std::uint32_t{png[pos + 1]} << 16) |
                                 (std::uint32_t{png[pos + 2]} << 8) | png[pos + 3];
    if (length > png.size() - pos - 12) return;
    const std::uint32_t crc = png_crc32(png.data() + pos + 4, 4 + std::size_t{length});
    std::uint8_t* p = png.data() + pos + 8 + length;
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
    pos += 12 + std::size_t{length};
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static PngDecoder libpng;
  static PngDecoder oracle;
  static FastPngDecoder fast(oracle);
  if (size == 0) return 0;
  const bool want_alpha = data[0] & 1;
  std::vector<std::uint8_t> png;
  if (size - 1 < 8 || std::memcmp(data + 1, kSignature, 8) != 0) png.assign(kSignature, kSignature + 8);
  png.insert(png.end(), data + 1, data + size);
  if (data[0] & 2) repair_crcs(png);

  const DecodeRequest request{kFuzzLimits, want_alpha};
  RecordingSink a, b;
  const auto ea = libpng.decode(png, request, a);
  const auto eb = fast.decode(png, request, b);
  check(ea.has_value() == eb.has_value());
  if (ea) {
    check(ea->code == eb->code && ea->message == eb->message);
  } else {
    check(a.warnings == b.warnings);
    check(a.pixels == b.pixels);
  }
  return 0;
}
