// Analyzer on generated images with known answers: every PNG color type and
// bit depth, interlaced or not, tRNS and alpha under both alpha modes, JPEG
// baseline/progressive/grayscale/CMYK, limits, and reuse of one Analyzer.
#include <doctest/doctest.h>

#include <variant>

#include "common/analyzer.hpp"
#include "tests/common/test_images.hpp"

using namespace huepool;
using namespace huepool::test;

namespace {

struct Generated {
  Bytes file;
  std::vector<std::uint8_t> rgb;    // what every pixel must decode to
  std::vector<std::uint8_t> alpha;  // 0 = transparent under alpha=ignore
};

std::uint8_t to8(std::uint16_t v, int depth) {
  if (depth == 16) return static_cast<std::uint8_t>(v >> 8);
  return static_cast<std::uint8_t>(v * 255 / ((1 << depth) - 1));
}

// Samples from a few values, so colors repeat and ties happen; 16-bit samples
// get random low bytes, which must not matter.
std::uint16_t sample(std::uint8_t r, int depth, unsigned spread) {
  const unsigned maxv = (1u << (depth == 16 ? 8 : depth)) - 1;
  const unsigned v = (r % spread) * maxv / (spread > 1 ? spread - 1 : 1);
  return depth == 16 ? static_cast<std::uint16_t>((v << 8) | (r * 7 & 0xFF)) : static_cast<std::uint16_t>(v);
}

Generated make_png(int color_type, int depth, std::uint32_t w, std::uint32_t h, bool interlaced, bool trns,
                   std::uint32_t seed) {
  PngSpec spec;
  spec.width = w;
  spec.height = h;
  spec.color_type = color_type;
  spec.bit_depth = depth;
  spec.interlaced = interlaced;
  const int channels = png_channels(color_type);
  const std::size_t n = std::size_t{w} * h;
  const auto r = noise(n * channels, seed);
  std::vector<std::uint16_t> samples(n * channels);
  Generated g;
  g.rgb.resize(n * 3);
  g.alpha.assign(n, 255);
  if (color_type == 3) {
    const unsigned entries = 1u << std::min(depth, 8);
    for (unsigned i = 0; i < entries; ++i)  // entries 0 and 1 share a color: counts must merge
      spec.palette.push_back(i == 1 ? Rgb{0, 10, 20} : Rgb{static_cast<std::uint8_t>(i * 10), static_cast<std::uint8_t>(10 + i), static_cast<std::uint8_t>(20 + (i & 3))});
    if (trns) spec.palette_alpha = {255, 0, 128};  // entry 1 transparent, beyond 2 opaque
    if (spec.palette_alpha.size() > entries) spec.palette_alpha.resize(entries);
  }
  if (trns && color_type == 0) spec.trns_color = std::vector<std::uint16_t>{sample(0, depth, 3)};
  if (trns && color_type == 2)
    spec.trns_color = std::vector<std::uint16_t>{sample(0, depth, 3), sample(0, depth, 3), sample(0, depth, 3)};
  for (std::size_t i = 0; i < n; ++i) {
    std::uint16_t* s = &samples[i * channels];
    const std::uint8_t* q = &r[i * channels];
    std::uint8_t* out = &g.rgb[i * 3];
    switch (color_type) {
      case 0:
        s[0] = sample(q[0], depth, 3);
        out[0] = out[1] = out[2] = to8(s[0], depth);
        if (trns && s[0] == (*spec.trns_color)[0]) g.alpha[i] = 0;
        break;
      case 2:
        for (int c = 0; c < 3; ++c) out[c] = to8(s[c] = sample(q[c], depth, 3), depth);
        if (trns && s[0] == (*spec.trns_color)[0] && s[1] == (*spec.trns_color)[1] && s[2] == (*spec.trns_color)[2])
          g.alpha[i] = 0;
        break;
      case 3: {
        const unsigned index = q[0] % std::min<unsigned>(spec.palette.size(), 5);
        s[0] = static_cast<std::uint16_t>(index);
        out[0] = spec.palette[index].r;
        out[1] = spec.palette[index].g;
        out[2] = spec.palette[index].b;
        if (index < spec.palette_alpha.size() && spec.palette_alpha[index] == 0) g.alpha[i] = 0;
        break;
      }
      case 4:
        s[0] = sample(q[0], depth, 4);
        s[1] = sample(q[1], depth, 2);
        out[0] = out[1] = out[2] = to8(s[0], depth);
        g.alpha[i] = to8(s[1], depth);
        break;
      case 6:
        for (int c = 0; c < 3; ++c) out[c] = to8(s[c] = sample(q[c], depth, 3), depth);
        s[3] = sample(q[3], depth, 2);
        g.alpha[i] = to8(s[3], depth);
        break;
    }
  }
  g.file = encode_png(spec, samples);
  return g;
}

const ImageAnalysis& success(const AnalysisOutcome& outcome) {
  if (const auto* e = std::get_if<ImageError>(&outcome)) FAIL("unexpected error: " << e->message);
  return std::get<ImageAnalysis>(outcome);
}

ErrorCode failure(const AnalysisOutcome& outcome) {
  REQUIRE(std::holds_alternative<ImageError>(outcome));
  return std::get<ImageError>(outcome).code;
}

}  // namespace

TEST_CASE("format is sniffed from magic bytes only") {
  const Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  const Bytes jpeg = {0xFF, 0xD8, 0xFF, 0xE0};
  CHECK(sniff_format(png) == ImageFormat::png);
  CHECK(sniff_format(jpeg) == ImageFormat::jpeg);
  CHECK_FALSE(sniff_format(Bytes{}).has_value());
  CHECK_FALSE(sniff_format(Bytes{0x89, 'P', 'N', 'G'}).has_value());
  CHECK(sniff_format(Bytes{'G', 'I', 'F', '8', '9', 'a'}) == ImageFormat::gif);  // more in webp_gif_decoder_test.cpp
  CHECK_FALSE(sniff_format(Bytes{'G', 'I', 'F', '8', '9'}).has_value());
  CHECK_FALSE(sniff_format(Bytes{0xFF, 0xD8}).has_value());
}

TEST_CASE("exact counts and the first-occurrence tie-break on a hand-made image") {
  // 4x2 RGB: row 0 = A B B A, row 1 = C C D D. A, B, C, D all count 2: A wins (first).
  const std::vector<std::uint16_t> s = {1, 2, 3, 9, 9, 9, 9, 9, 9, 1, 2, 3,
                                        7, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0, 0};
  PngSpec spec;
  spec.width = 4;
  spec.height = 2;
  Analyzer analyzer;
  const auto result = success(analyzer.analyze(encode_png(spec, s), AnalyzeOptions{4, AlphaMode::keep}));
  CHECK(result.format == ImageFormat::png);
  CHECK(result.width == 4);
  CHECK(result.height == 2);
  CHECK(result.pixels == 8);
  const std::vector<ColorCount> expected = {
      {Rgb{1, 2, 3}, 2}, {Rgb{9, 9, 9}, 2}, {Rgb{7, 7, 7}, 2}, {Rgb{0, 0, 0}, 2}};
  CHECK(result.colors == expected);
  // top=0 still answers the winner only.
  const auto only = success(analyzer.analyze(encode_png(spec, s), AnalyzeOptions{}));
  REQUIRE(only.colors.size() == 1);
  CHECK(only.colors[0] == expected[0]);
}

TEST_CASE("every PNG color type and bit depth, plain and Adam7, both alpha modes") {
  struct Kind {
    int color_type, depth;
  };
  const Kind kinds[] = {{0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {2, 8}, {2, 16}, {3, 1}, {3, 2},
                        {3, 4}, {3, 8}, {4, 8}, {4, 16}, {6, 8}, {6, 16}};
  Analyzer analyzer;  // reused for every image
  std::uint32_t seed = 1;
  for (const Kind k : kinds)
    for (const bool interlaced : {false, true})
      for (const bool trns : {false, true}) {
        if (trns && (k.color_type == 4 || k.color_type == 6)) continue;  // tRNS not allowed there
        for (const auto& [w, h] : {std::pair{37u, 23u}, std::pair{301u, 203u}, std::pair{1u, 1u}}) {
          CAPTURE(k.color_type);
          CAPTURE(k.depth);
          CAPTURE(interlaced);
          CAPTURE(trns);
          CAPTURE(w);
          const Generated g = make_png(k.color_type, k.depth, w, h, interlaced, trns, seed++);
          for (const AlphaMode mode : {AlphaMode::keep, AlphaMode::ignore}) {
            std::uint64_t counted = 0;
            const auto expected =
                naive_most_common(g.rgb, mode == AlphaMode::ignore ? &g.alpha : nullptr, kMaxTop, &counted);
            const auto outcome = analyzer.analyze(g.file, AnalyzeOptions{kMaxTop, mode});
            if (counted == 0) {
              CHECK(failure(outcome) == ErrorCode::no_pixels);
              continue;
            }
            const auto& result = success(outcome);
            CHECK(result.width == w);
            CHECK(result.height == h);
            CHECK(result.pixels == counted);
            CHECK(result.colors == expected);
          }
        }
      }
}

TEST_CASE("alpha=ignore on a fully transparent image is no_pixels; keep counts it") {
  PngSpec spec;
  spec.width = 3;
  spec.height = 3;
  spec.color_type = 6;
  std::vector<std::uint16_t> s(9 * 4, 0);
  for (std::size_t i = 0; i < 9; ++i) s[i * 4] = 200;
  const Bytes file = encode_png(spec, s);
  Analyzer analyzer;
  CHECK(failure(analyzer.analyze(file, AnalyzeOptions{0, AlphaMode::ignore})) == ErrorCode::no_pixels);
  const auto kept = success(analyzer.analyze(file, AnalyzeOptions{}));
  CHECK(kept.pixels == 9);
  CHECK(kept.colors.front() == ColorCount{Rgb{200, 0, 0}, 9});
}

TEST_CASE("JPEG baseline, progressive, 4:4:4, grayscale and CMYK decode a flat image to one color") {
  const std::uint32_t w = 45, h = 29;
  Analyzer analyzer;
  struct Case {
    JpegColor color;
    bool progressive, subsample;
  };
  for (const Case c : {Case{JpegColor::rgb, false, true}, Case{JpegColor::rgb, true, true},
                       Case{JpegColor::rgb, false, false}, Case{JpegColor::gray, false, true},
                       Case{JpegColor::gray, true, true}, Case{JpegColor::cmyk, false, true},
                       Case{JpegColor::ycck, true, true}}) {
    CAPTURE(static_cast<int>(c.color));
    CAPTURE(c.progressive);
    const std::size_t comps = c.color == JpegColor::rgb ? 3 : c.color == JpegColor::gray ? 1 : 4;
    std::vector<std::uint8_t> samples(std::size_t{w} * h * comps);
    for (std::size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<std::uint8_t>(40 + 50 * (i % comps));
    JpegSpec spec{w, h, c.color, 95, c.progressive, c.subsample};
    const auto result = success(analyzer.analyze(encode_jpeg(spec, samples), AnalyzeOptions{5, AlphaMode::ignore}));
    CHECK(result.format == ImageFormat::jpeg);
    CHECK(result.width == w);
    CHECK(result.height == h);
    CHECK(result.pixels == std::uint64_t{w} * h);
    REQUIRE(result.colors.size() == 1);
    CHECK(result.colors[0].count == result.pixels);
    if (c.color == JpegColor::gray) {
      CHECK(result.colors[0].color.r == result.colors[0].color.g);
      CHECK(result.colors[0].color.g == result.colors[0].color.b);
    }
  }
}

TEST_CASE("a grayscale JPEG yields only gray colors") {
  const std::uint32_t w = 64, h = 48;
  const auto rgb = photo_like_rgb(w, h, 5);
  std::vector<std::uint8_t> gray(std::size_t{w} * h);
  for (std::size_t i = 0; i < gray.size(); ++i) gray[i] = rgb[3 * i];
  Analyzer analyzer;
  const auto result = success(analyzer.analyze(encode_jpeg(JpegSpec{w, h, JpegColor::gray}, gray), AnalyzeOptions{kMaxTop}));
  CHECK(result.colors.size() > 10);
  for (const auto& c : result.colors) CHECK((c.color.r == c.color.g && c.color.g == c.color.b));
}

TEST_CASE("limits are checked from the header") {
  const std::vector<std::uint16_t> s(200 * 10 * 3, 1);
  PngSpec spec;
  spec.width = 200;
  spec.height = 10;
  const Bytes png = encode_png(spec, s);
  const std::vector<std::uint8_t> js(200 * 10 * 3, 1);
  const Bytes jpeg = encode_jpeg(JpegSpec{200, 10}, js);
  for (const Bytes* file : {&png, &jpeg}) {
    CHECK(failure(Analyzer(DecodeLimits{1999}).analyze(*file, {})) == ErrorCode::too_large);
    CHECK(success(Analyzer(DecodeLimits{2000}).analyze(*file, {})).pixels == 2000);
    CHECK(failure(Analyzer(DecodeLimits{2000, 1000}).analyze(*file, {})) == ErrorCode::too_large);
  }
}

TEST_CASE("one Analyzer gives the same answers as fresh ones, in any order") {
  std::vector<Generated> images;
  images.push_back(make_png(6, 8, 400, 300, false, false, 11));
  images.push_back(make_png(3, 4, 20, 20, true, true, 12));
  images.push_back(make_png(2, 16, 250, 250, true, false, 13));
  images.push_back(make_png(0, 2, 9, 700, false, true, 14));
  Analyzer shared;
  for (int round = 0; round < 2; ++round)
    for (const auto& g : images) {
      const AnalyzeOptions options{10, AlphaMode::ignore};
      const auto a = success(shared.analyze(g.file, options));
      Analyzer fresh;
      const auto b = success(fresh.analyze(g.file, options));
      CHECK(a.colors == b.colors);
      CHECK(a.pixels == b.pixels);
    }
}
