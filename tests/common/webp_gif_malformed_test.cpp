// Bad WebP and GIF input ends in a typed error, never a crash, a partial
// count or an unbounded allocation (docs/INPUTS.md "WebP", "GIF"). Run under
// ASan+UBSan by scripts/test.sh with the rest of the malformed suite.
#include <doctest/doctest.h>

#include <variant>

#include "common/analyzer.hpp"
#include "tests/common/malformed_checks.hpp"
#include "tests/common/webp_gif_images.hpp"

using namespace huepool;
using namespace huepool::test;

namespace {

constexpr std::uint32_t kW = 29, kH = 17;
const AnalyzeOptions kIgnore{5, AlphaMode::ignore};

std::vector<std::uint8_t> rgba(std::uint32_t seed) {
  auto v = noise(std::size_t{kW} * kH * 4, seed);
  for (std::size_t i = 3; i < v.size(); i += 4) v[i] = v[i] < 128 ? 0 : 255;
  return v;
}

std::vector<Rgb> table(std::size_t n) {
  std::vector<Rgb> t;
  for (std::size_t i = 0; i < n; ++i) t.push_back(Rgb{static_cast<std::uint8_t>(i * 3), 7, static_cast<std::uint8_t>(i)});
  return t;
}

Bytes gif_of(bool interlaced, int frames) {
  auto idx = noise(std::size_t{kW} * kH, 11);
  for (auto& v : idx) v %= 16;
  GifSpec spec{kW + 3, kH, table(16), 0, {}};
  spec.frames.push_back(GifFrame{1, 0, kW, kH, idx, {}, std::uint8_t{3}, interlaced});
  for (int i = 1; i < frames; ++i) spec.frames.push_back(GifFrame{0, 0, 2, 2, {1, 2, 3, 4}, table(8), std::nullopt, false});
  return encode_gif(spec);
}

std::vector<Bytes> webp_files() {
  return {encode_webp(kW, kH, rgba(1), -1), encode_webp(kW, kH, rgba(2), 75), encode_webp(kW, kH, rgba(3), 5)};
}

void put_le16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}

}  // namespace

TEST_CASE("WebP and GIF signatures followed by garbage are decode_failed") {
  Analyzer analyzer;
  for (std::uint32_t seed = 0; seed < 200; ++seed) {
    const auto junk = noise(seed * 5, seed);
    Bytes webp = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'};
    Bytes gif = {'G', 'I', 'F', '8', '9', 'a'};
    webp.insert(webp.end(), junk.begin(), junk.end());
    gif.insert(gif.end(), junk.begin(), junk.end());
    CHECK(is_error(analyzer.analyze(webp, kIgnore), {ErrorCode::decode_failed, ErrorCode::too_large}));
    CHECK(is_error(analyzer.analyze(gif, kIgnore), {ErrorCode::decode_failed, ErrorCode::too_large,
                                                    ErrorCode::no_pixels}));
  }
}

TEST_CASE("WebP truncated anywhere fails") {
  Analyzer analyzer;
  for (const Bytes& file : webp_files()) check_every_truncation_fails(analyzer, file, kIgnore);
}

TEST_CASE("GIF truncated anywhere fails, unless only what follows the first frame is cut") {
  Analyzer analyzer;
  for (const bool interlaced : {false, true}) {
    for (const int frames : {1, 3}) {
      const Bytes file = gif_of(interlaced, frames);
      const auto full = analyzer.analyze(file, kIgnore);
      REQUIRE(std::holds_alternative<ImageAnalysis>(full));
      CHECK(std::get<ImageAnalysis>(full).frames == static_cast<std::uint32_t>(frames));
      bool answered = false;
      for (std::size_t len = 0; len < file.size(); ++len) {
        CAPTURE(len);
        const auto outcome = analyzer.analyze(std::span(file.data(), len), kIgnore);
        if (const auto* a = std::get_if<ImageAnalysis>(&outcome)) {
          // Every pixel of the first frame was read: the same counts, a warning.
          answered = true;
          CHECK(a->colors == std::get<ImageAnalysis>(full).colors);
          CHECK(a->pixels == std::get<ImageAnalysis>(full).pixels);
          CHECK_FALSE(a->warnings.empty());
        } else {
          CHECK_FALSE(answered);  // once the first frame is whole, every longer cut answers
          CHECK(is_error(outcome, {ErrorCode::decode_failed, ErrorCode::unsupported_format}));
        }
      }
      CHECK(answered);
    }
  }
}

TEST_CASE("WebP and GIF flipped bytes never crash and never answer wrongly shaped") {
  Analyzer analyzer;
  std::vector<Bytes> files = webp_files();
  files.push_back(gif_of(false, 2));
  files.push_back(gif_of(true, 1));
  for (const Bytes& file : files) {
    for (std::size_t at = 0; at < file.size(); ++at) {
      for (const std::uint8_t mask : {std::uint8_t{0xFF}, static_cast<std::uint8_t>(1u << (at % 8))}) {
        Bytes damaged = file;
        damaged[at] ^= mask;
        const auto outcome = analyzer.analyze(damaged, kIgnore);
        if (const auto* a = std::get_if<ImageAnalysis>(&outcome)) {
          CHECK(a->pixels <= std::uint64_t{a->width} * a->height);
          CHECK(!a->colors.empty());
          CHECK(a->frames >= 1);
        } else {
          CHECK(is_error(outcome, {ErrorCode::decode_failed, ErrorCode::unsupported_format, ErrorCode::too_large,
                                   ErrorCode::no_pixels}));
        }
      }
    }
  }
}

TEST_CASE("GIF and WebP headers that claim huge images are too_large") {
  Analyzer analyzer;
  Bytes gif = gif_of(false, 1);
  put_le16(gif, 6, 65535);
  put_le16(gif, 8, 65535);
  CHECK(is_error(analyzer.analyze(gif, kIgnore), {ErrorCode::too_large}));
  // The first frame's descriptor (after the 13-byte header and the 48-byte
  // table, and an 8-byte graphic control extension) reaching far past the screen.
  Bytes far = gif_of(false, 1);
  REQUIRE(far[13 + 48 + 8] == ',');
  put_le16(far, 13 + 48 + 8 + 1, 65000);
  put_le16(far, 13 + 48 + 8 + 3, 65000);
  CHECK(is_error(analyzer.analyze(far, kIgnore), {ErrorCode::too_large}));
  // A lossless WebP's 14-bit sizes, both at their maximum: 16384x16384.
  Bytes webp = encode_webp(kW, kH, rgba(4), -1);
  REQUIRE(webp[12] == 'V');
  REQUIRE(webp[15] == 'L');
  webp[21] = 0xFF;
  webp[22] = 0xFF;
  webp[23] = 0xFF;
  webp[24] = (webp[24] & 0xF0) | 0x0F;
  CHECK(is_error(analyzer.analyze(webp, kIgnore), {ErrorCode::too_large}));
}
