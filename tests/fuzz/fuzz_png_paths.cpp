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

#include "common/png_decoder.hpp"
#include "common/png_fast_decoder.hpp"
#include "tests/fuzz/png_crc_repair.hpp"

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
  if (data[0] & 2) repair_png_crcs(png);

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
