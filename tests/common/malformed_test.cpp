// Bad input always ends in a typed error, never a crash, an abort, a partial
// count or an unbounded allocation: truncation at every offset, flipped bytes,
// lying headers, empty input, garbage after a valid header. Run under ASan+UBSan
// by scripts/test.sh.
#include <doctest/doctest.h>

#include <cstring>
#include <variant>

#include "common/analyzer.hpp"
#include "tests/common/malformed_checks.hpp"
#include "tests/common/test_images.hpp"

using namespace huepool;
using namespace huepool::test;

namespace {

constexpr std::uint32_t kW = 64, kH = 40;

Bytes png_rgb() {
  const auto rgb = photo_like_rgb(kW, kH, 3);
  PngSpec spec;
  spec.width = kW;
  spec.height = kH;
  return encode_png(spec, std::vector<std::uint16_t>(rgb.begin(), rgb.end()));
}

Bytes png_palette_interlaced() {
  PngSpec spec;
  spec.width = kW;
  spec.height = kH;
  spec.color_type = 3;
  spec.bit_depth = 4;
  spec.interlaced = true;
  for (int i = 0; i < 16; ++i) spec.palette.push_back(Rgb{static_cast<std::uint8_t>(i * 16), 1, 2});
  spec.palette_alpha = {0, 255, 100};
  std::vector<std::uint16_t> s(kW * kH);
  const auto r = noise(s.size(), 9);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = r[i] % 16;
  return encode_png(spec, s);
}

Bytes png_rgba16() {
  PngSpec spec;
  spec.width = kW;
  spec.height = kH;
  spec.color_type = 6;
  spec.bit_depth = 16;
  const auto r = noise(kW * kH * 8, 4);
  std::vector<std::uint16_t> s(kW * kH * 4);
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint16_t>(r[2 * i] << 8 | r[2 * i + 1]);
  return encode_png(spec, s);
}

Bytes jpeg_of(JpegColor color, bool progressive) {
  const auto rgb = photo_like_rgb(kW, kH, 6);
  std::vector<std::uint8_t> samples;
  if (color == JpegColor::rgb) samples = rgb;
  for (std::size_t i = 0; i < std::size_t{kW} * kH; ++i) {
    if (color == JpegColor::gray) samples.push_back(rgb[3 * i]);
    if (color == JpegColor::cmyk || color == JpegColor::ycck)
      samples.insert(samples.end(), {rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], static_cast<std::uint8_t>(rgb[3 * i] / 2)});
  }
  return encode_jpeg(JpegSpec{kW, kH, color, 85, progressive, true}, samples);
}

bool same_answer(const AnalysisOutcome& a, const AnalysisOutcome& b) {
  const auto* x = std::get_if<ImageAnalysis>(&a);
  const auto* y = std::get_if<ImageAnalysis>(&b);
  return x && y && x->colors == y->colors && x->pixels == y->pixels && x->width == y->width &&
         x->height == y->height;
}

void put_be32(Bytes& b, std::size_t at, std::uint32_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 24);
  b[at + 1] = static_cast<std::uint8_t>(v >> 16);
  b[at + 2] = static_cast<std::uint8_t>(v >> 8);
  b[at + 3] = static_cast<std::uint8_t>(v);
}

// Offset of the first SOFn marker's segment (FF Cn), or npos.
std::size_t find_sof(const Bytes& j) {
  for (std::size_t i = 2; i + 9 < j.size(); ++i)
    if (j[i] == 0xFF && (j[i + 1] == 0xC0 || j[i + 1] == 0xC1 || j[i + 1] == 0xC2)) return i;
  return std::string::npos;
}

std::size_t find_sos_end(const Bytes& j) {
  for (std::size_t i = 2; i + 4 < j.size(); ++i)
    if (j[i] == 0xFF && j[i + 1] == 0xDA) return i + 2 + ((std::size_t{j[i + 2]} << 8) | j[i + 3]);
  return std::string::npos;
}

const AnalyzeOptions kOptions{5, AlphaMode::ignore};

}  // namespace

TEST_CASE("empty, tiny and unknown input is unsupported_format") {
  Analyzer analyzer;
  CHECK(is_error(analyzer.analyze(Bytes{}, kOptions), {ErrorCode::unsupported_format}));
  CHECK(is_error(analyzer.analyze(Bytes{0x89}, kOptions), {ErrorCode::unsupported_format}));
  CHECK(is_error(analyzer.analyze(Bytes{'G', 'I', 'F', '8', '8', 'a', 1, 2, 3}, kOptions),
                 {ErrorCode::unsupported_format}));
  CHECK(is_error(analyzer.analyze(Bytes{'R', 'I', 'F', 'F', 1, 2, 3, 4, 'W', 'A', 'V', 'E'}, kOptions),
                 {ErrorCode::unsupported_format}));
  // A GIF signature is a GIF (webp_gif_malformed_test.cpp): cut, it is damaged.
  CHECK(is_error(analyzer.analyze(Bytes{'G', 'I', 'F', '8', '9', 'a', 1, 2, 3}, kOptions),
                 {ErrorCode::decode_failed}));
  for (std::uint32_t seed = 0; seed < 50; ++seed)
    CHECK(is_error(analyzer.analyze(noise(100 + seed, seed), kOptions), {ErrorCode::unsupported_format}));
}

TEST_CASE("a signature followed by garbage is decode_failed") {
  Analyzer analyzer;
  for (std::uint32_t seed = 0; seed < 200; ++seed) {
    Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    Bytes jpeg = {0xFF, 0xD8, 0xFF};
    const auto junk = noise(seed * 7, seed);
    png.insert(png.end(), junk.begin(), junk.end());
    jpeg.insert(jpeg.end(), junk.begin(), junk.end());
    CHECK(is_error(analyzer.analyze(png, kOptions), {ErrorCode::decode_failed, ErrorCode::too_large}));
    CHECK(is_error(analyzer.analyze(jpeg, kOptions), {ErrorCode::decode_failed, ErrorCode::too_large}));
  }
}

TEST_CASE("garbage after a valid header is decode_failed") {
  Analyzer analyzer;
  const Bytes png = png_rgb();
  const std::size_t idat = find_png_chunk(png, "IDAT");
  REQUIRE(idat != std::string::npos);
  const Bytes jpeg = jpeg_of(JpegColor::rgb, false);
  const std::size_t sos_end = find_sos_end(jpeg);
  REQUIRE(sos_end != std::string::npos);
  for (std::uint32_t seed = 0; seed < 100; ++seed) {
    const auto junk = noise(50 + seed * 40, seed);
    Bytes p(png.begin(), png.begin() + idat);
    p.insert(p.end(), junk.begin(), junk.end());
    CHECK(is_error(analyzer.analyze(p, kOptions), {ErrorCode::decode_failed}));
    Bytes j(jpeg.begin(), jpeg.begin() + sos_end);
    j.insert(j.end(), junk.begin(), junk.end());
    CHECK(is_error(analyzer.analyze(j, kOptions), {ErrorCode::decode_failed}));
  }
}

TEST_CASE("garbage after a complete image is ignored") {
  Analyzer analyzer;
  for (const Bytes& file : {png_rgb(), jpeg_of(JpegColor::rgb, true)}) {
    const auto full = analyzer.analyze(file, kOptions);
    Bytes padded = file;
    const auto junk = noise(333, 1);
    padded.insert(padded.end(), junk.begin(), junk.end());
    CHECK(same_answer(analyzer.analyze(padded, kOptions), full));
  }
}

TEST_CASE("PNG truncated anywhere fails, unless only IEND is missing") {
  Analyzer analyzer;
  for (const Bytes& file : {png_rgb(), png_palette_interlaced(), png_rgba16()}) {
    const auto full = analyzer.analyze(file, kOptions);
    REQUIRE(std::holds_alternative<ImageAnalysis>(full));
    const std::size_t iend = find_png_chunk(file, "IEND");
    REQUIRE(iend != std::string::npos);
    for (std::size_t len = 0; len < file.size(); ++len) {
      CAPTURE(len);
      const auto outcome = analyzer.analyze(std::span(file.data(), len), kOptions);
      if (len >= iend) {
        CHECK(same_answer(outcome, full));
      } else {
        CHECK(is_error(outcome, {ErrorCode::decode_failed, ErrorCode::unsupported_format}));
      }
    }
  }
}

TEST_CASE("JPEG truncated anywhere fails") {
  Analyzer analyzer;
  for (const Bytes& file : {jpeg_of(JpegColor::rgb, false), jpeg_of(JpegColor::rgb, true),
                            jpeg_of(JpegColor::gray, false), jpeg_of(JpegColor::cmyk, false)})
    check_every_truncation_fails(analyzer, file, kOptions);
}

TEST_CASE("a flipped byte inside PNG image data or its CRC is decode_failed") {
  Analyzer analyzer;
  const Bytes file = png_rgb();
  const std::size_t idat = find_png_chunk(file, "IDAT");
  const std::size_t iend = find_png_chunk(file, "IEND");
  for (std::size_t at = idat + 8; at < iend; ++at) {
    CAPTURE(at);
    Bytes damaged = file;
    damaged[at] ^= static_cast<std::uint8_t>(1u << (at % 8));
    CHECK(is_error(analyzer.analyze(damaged, kOptions), {ErrorCode::decode_failed}));
  }
}

TEST_CASE("flipped bytes anywhere never crash and never answer wrongly shaped") {
  Analyzer analyzer;
  for (const Bytes& file : {png_rgb(), png_palette_interlaced(), png_rgba16(), jpeg_of(JpegColor::rgb, false),
                            jpeg_of(JpegColor::rgb, true), jpeg_of(JpegColor::ycck, false)}) {
    for (std::size_t at = 0; at < file.size(); ++at) {
      for (const std::uint8_t mask : {std::uint8_t{0xFF}, static_cast<std::uint8_t>(1u << (at % 8))}) {
        Bytes damaged = file;
        damaged[at] ^= mask;
        const auto outcome = analyzer.analyze(damaged, kOptions);
        if (const auto* a = std::get_if<ImageAnalysis>(&outcome)) {
          CHECK(a->pixels <= std::uint64_t{a->width} * a->height);
          CHECK(!a->colors.empty());
        } else {
          CHECK(is_error(outcome, {ErrorCode::decode_failed, ErrorCode::unsupported_format, ErrorCode::too_large,
                                   ErrorCode::no_pixels}));
        }
      }
    }
  }
}

TEST_CASE("a PNG header that claims a huge image is too_large, whatever its CRC") {
  Analyzer analyzer;
  const Bytes file = png_rgb();
  const std::size_t ihdr = find_png_chunk(file, "IHDR");
  REQUIRE(ihdr == 8);
  for (const auto& [w, h] : {std::pair{100000u, 100000u}, std::pair{20000u, 20000u}, std::pair{1'000'000'000u, 1u},
                             std::pair{1u, 0x7FFFFFFFu}, std::pair{0xFFFFFFFFu, 0xFFFFFFFFu}}) {
    Bytes lying = file;
    put_be32(lying, 16, w);
    put_be32(lying, 20, h);
    CHECK(is_error(analyzer.analyze(lying, kOptions), {ErrorCode::too_large}));
    fix_png_crc(lying, ihdr);
    CHECK(is_error(analyzer.analyze(lying, kOptions), {ErrorCode::too_large}));
  }
  // Within limits but far bigger than the data: the rows run out. There is
  // no per-side cap: a long strip is an image (32769x1 was too_large once).
  for (const auto& [w, h] : {std::pair{3000u, 3000u}, std::pair{32769u, 1u}, std::pair{1u, 65535u}}) {
    Bytes lying = file;
    put_be32(lying, 16, w);
    put_be32(lying, 20, h);
    fix_png_crc(lying, ihdr);
    CHECK(is_error(analyzer.analyze(lying, kOptions), {ErrorCode::decode_failed}));
  }
  Bytes lying = file;
  put_be32(lying, 16, 0);
  fix_png_crc(lying, ihdr);
  CHECK(is_error(analyzer.analyze(lying, kOptions), {ErrorCode::decode_failed}));
}

TEST_CASE("a JPEG header that claims a huge image is too_large") {
  Analyzer analyzer;
  for (const bool progressive : {false, true}) {
    const Bytes file = jpeg_of(JpegColor::rgb, progressive);
    const std::size_t sof = find_sof(file);
    REQUIRE(sof != std::string::npos);
    const auto claiming = [&](int w, int h) {  // SOF: length u16, precision u8, height u16, width u16
      Bytes lying = file;
      lying[sof + 5] = static_cast<std::uint8_t>(h >> 8);
      lying[sof + 6] = static_cast<std::uint8_t>(h);
      lying[sof + 7] = static_cast<std::uint8_t>(w >> 8);
      lying[sof + 8] = static_cast<std::uint8_t>(w);
      return lying;
    };
    for (const auto& [w, h] : {std::pair{60000, 60000}, std::pair{20000, 20000}, std::pair{65000, 2000}})
      CHECK(is_error(analyzer.analyze(claiming(w, h), kOptions), {ErrorCode::too_large}));
    // Within limits (no cap per side), more than the data holds.
    for (const auto& [w, h] : {std::pair{0x0F00, 0x0F00}, std::pair{40000, 2}})
      CHECK(is_error(analyzer.analyze(claiming(w, h), kOptions), {ErrorCode::decode_failed}));
  }
}

TEST_CASE("the analyzer still works after every kind of failure") {
  Analyzer analyzer;
  const Bytes good = png_rgba16();
  const auto expected = analyzer.analyze(good, kOptions);
  const Bytes jpeg = jpeg_of(JpegColor::rgb, false);
  for (std::size_t len = 0; len < jpeg.size(); len += 97) {
    (void)analyzer.analyze(std::span(jpeg.data(), len), kOptions);
    CHECK(same_answer(analyzer.analyze(good, kOptions), expected));
  }
}

TEST_CASE("corpus images truncated at many offsets fail") {
  const std::string corpus = env_or("HUEPOOL_CORPUS_DIR", "");
  const auto jpg = read_file(corpus + "/seed12/skimage-hubble_deep_field.jpg");
  const auto png = read_file(corpus + "/seed12/skimage-coffee.png");
  if (!jpg || !png) {
    MESSAGE("corpus not found; skipped");
    return;
  }
  Analyzer analyzer;
  for (const Bytes* file : {&*jpg, &*png}) {
    const std::size_t iend = file == &*png ? find_png_chunk(*png, "IEND") : file->size();
    for (std::size_t i = 1; i < 24; ++i) {
      const std::size_t len = std::min(file->size() * i / 24 + i, iend - 1);
      CAPTURE(len);
      CHECK(is_error(analyzer.analyze(std::span(file->data(), len), kOptions), {ErrorCode::decode_failed}));
    }
  }
}
