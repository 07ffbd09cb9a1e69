// The WebP and GIF decoders on files their libraries' encoders wrote from
// known pixels: exact pixels where the format is lossless, the layouts
// Pillow defines for GIF (the screen outside the first frame), bands of any
// size, the header checked before any row, and frame counts. The pixels
// against Pillow itself: tests/common/webp_gif_differential_test.py.
#include <doctest/doctest.h>

#include <string>
#include <variant>

#include "common/analyzer.hpp"
#include "common/gif_decoder.hpp"
#include "common/webp_decoder.hpp"
#include "tests/common/webp_gif_images.hpp"

using namespace huepool;
using namespace huepool::test;

namespace {

// Keeps every row (RGBA, alpha 255 where the layout has none) and what else
// the decoder said.
class KeepingSink final : public RowSink {
 public:
  std::optional<ImageError> on_header(const ImageHeader& header) noexcept override {
    header_ = header;
    rows_before_header = pixels.size();
    pixels.clear();
    return std::nullopt;
  }
  void on_rows(const std::uint8_t* first, std::size_t stride, std::uint32_t count,
               PixelLayout layout) noexcept override {
    for (std::uint32_t y = 0; y < count; ++y)
      for (std::uint32_t x = 0; x < header_.width; ++x) {
        const std::uint8_t* p = first + y * stride + x * bytes_per_pixel(layout);
        pixels.insert(pixels.end(), {p[0], p[1], p[2], layout == PixelLayout::rgba ? p[3] : std::uint8_t{255}});
      }
    ++calls;
  }
  void on_warning(std::string_view message) noexcept override { warnings.emplace_back(message); }
  void on_frame_count(std::uint32_t n) noexcept override { frames = n; }

  const ImageHeader& header() const { return header_; }
  std::vector<std::uint8_t> pixels;
  std::vector<std::string> warnings;
  std::uint32_t frames = 0;
  std::size_t calls = 0;
  std::size_t rows_before_header = 0;

 private:
  ImageHeader header_;
};

std::vector<std::uint8_t> rgba_noise(std::uint32_t w, std::uint32_t h, std::uint32_t seed) {
  auto v = noise(std::size_t{w} * h * 4, seed);
  for (std::size_t i = 3; i < v.size(); i += 4) v[i] = v[i] < 80 ? 0 : v[i] < 160 ? 255 : v[i];
  return v;
}

std::vector<Rgb> table_of(std::size_t n, std::uint32_t seed) {
  const auto r = noise(n * 3, seed);
  std::vector<Rgb> t;
  for (std::size_t i = 0; i < n; ++i) t.push_back(Rgb{r[3 * i], r[3 * i + 1], r[3 * i + 2]});
  return t;
}

const DecodeRequest kWithAlpha{DecodeLimits{}, true};

}  // namespace

TEST_CASE("WebP lossless: the exact pixels, alpha included, in bands") {
  for (const auto& [w, h] : {std::pair{1u, 1u}, {3u, 7u}, {61u, 40u}, {2000u, 33u}}) {
    const auto rgba = rgba_noise(w, h, w + h);
    const Bytes file = encode_webp(w, h, rgba, -1);
    WebpDecoder decoder;
    KeepingSink sink;
    REQUIRE_FALSE(decoder.decode(file, kWithAlpha, sink));
    CHECK(sink.header().width == w);
    CHECK(sink.header().height == h);
    CHECK(sink.pixels == rgba);
    CHECK(sink.frames == 1);
    CHECK(sink.warnings.empty());
    if (h > 1) CHECK(sink.calls > 1);  // the last row comes on its own, with padding
  }
}

TEST_CASE("WebP without alpha: alpha 255 whatever is asked; lossy decodes") {
  const auto rgba = rgba_noise(40, 30, 5);
  std::vector<std::uint8_t> opaque = rgba;
  for (std::size_t i = 3; i < opaque.size(); i += 4) opaque[i] = 255;
  for (const int quality : {-1, 10, 90}) {
    const Bytes file = encode_webp(40, 30, opaque, quality);
    WebpDecoder decoder;
    KeepingSink sink;
    REQUIRE_FALSE(decoder.decode(file, kWithAlpha, sink));
    REQUIRE(sink.pixels.size() == opaque.size());
    for (std::size_t i = 3; i < sink.pixels.size(); i += 4) REQUIRE(sink.pixels[i] == 255);
    if (quality < 0) CHECK(sink.pixels == opaque);
  }
}

TEST_CASE("WebP: the header's size is checked against the limits before any row") {
  const Bytes file = encode_webp(300, 200, rgba_noise(300, 200, 1), -1);
  WebpDecoder decoder;
  KeepingSink sink;
  auto error = decoder.decode(file, DecodeRequest{DecodeLimits{59'999, 1u << 30}, false}, sink);
  REQUIRE(error);
  CHECK(error->code == ErrorCode::too_large);
  CHECK(sink.calls == 0);
  // A lossless image holds its whole RGBA output and the codec's ARGB copy.
  error = decoder.decode(file, DecodeRequest{DecodeLimits{100'000'000, 8 * 60'000}, false}, sink);
  REQUIRE(error);
  CHECK(error->code == ErrorCode::too_large);
  CHECK(error->message.find("row buffers") != std::string::npos);
  CHECK_FALSE(decoder.decode(file, DecodeRequest{DecodeLimits{60'000, 9 * 60'000 + 64 * 300 + 64}, false}, sink));
}

TEST_CASE("GIF: the screen outside the first frame is index 0, or the transparent index") {
  const auto table = table_of(16, 3);
  GifFrame frame{2, 1, 3, 2, {1, 2, 3, 4, 5, 6}, {}, std::nullopt, false};
  for (const bool transparent : {false, true}) {
    frame.transparent = transparent ? std::optional<std::uint8_t>{7} : std::nullopt;
    const Bytes file = encode_gif(GifSpec{6, 4, table, 9, {frame}});
    GifDecoder decoder;
    KeepingSink sink;
    REQUIRE_FALSE(decoder.decode(file, kWithAlpha, sink));
    REQUIRE(sink.pixels.size() == 6 * 4 * 4);
    const Rgb fill = table[transparent ? 7 : 0];  // never the background (9)
    for (std::uint32_t y = 0; y < 4; ++y)
      for (std::uint32_t x = 0; x < 6; ++x) {
        const std::uint8_t* p = &sink.pixels[(y * 6 + x) * 4];
        const bool inside = x >= 2 && x < 5 && y >= 1 && y < 3;
        const Rgb want = inside ? table[frame.indices[(y - 1) * 3 + (x - 2)]] : fill;
        CHECK(Rgb{p[0], p[1], p[2]} == want);
        CHECK(p[3] == (inside || !transparent ? 255 : 0));
      }
    CHECK(sink.frames == 1);
    CHECK(sink.warnings.empty());
  }
}

TEST_CASE("GIF: a first frame past the screen grows the image; interlaced equals progressive; bands of any size") {
  const auto table = table_of(256, 4);
  const auto idx = noise(37 * 29, 8);
  GifFrame frame{5, 3, 37, 29, idx, {}, std::nullopt, false};
  const Bytes plain = encode_gif(GifSpec{10, 10, table, 0, {frame}});
  frame.interlaced = true;
  const Bytes interlaced = encode_gif(GifSpec{10, 10, table, 0, {frame}});
  KeepingSink reference;
  REQUIRE_FALSE(GifDecoder().decode(plain, kWithAlpha, reference));
  CHECK(reference.header().width == 42);
  CHECK(reference.header().height == 32);
  for (const std::size_t band : {std::size_t{1}, std::size_t{200}, std::size_t{1} << 20}) {
    for (const Bytes* file : {&plain, &interlaced}) {
      GifDecoder decoder(band);
      KeepingSink sink;
      REQUIRE_FALSE(decoder.decode(*file, kWithAlpha, sink));
      CHECK(sink.pixels == reference.pixels);
    }
  }
}

TEST_CASE("GIF: a local table on the first frame wins; frames are counted without being decoded") {
  const auto global = table_of(4, 5), local = table_of(8, 6);
  GifFrame first{0, 0, 2, 1, {3, 1}, local, std::nullopt, false};
  GifFrame later{0, 0, 1, 1, {200}, {}, std::nullopt, false};  // beyond the table: never decoded
  const Bytes file = encode_gif(GifSpec{2, 1, global, 0, {first, later, later, later}});
  KeepingSink sink;
  REQUIRE_FALSE(GifDecoder().decode(file, kWithAlpha, sink));
  CHECK(sink.frames == 4);
  REQUIRE(sink.pixels.size() == 8);
  CHECK(Rgb{sink.pixels[0], sink.pixels[1], sink.pixels[2]} == local[3]);
  CHECK(Rgb{sink.pixels[4], sink.pixels[5], sink.pixels[6]} == local[1]);
}

// giflib's encoder masks indices to the table's bits, so the file is
// written with a 16-entry global table that is then cut to its first 4
// entries (the LZW data keeps its 4-bit code size, which decoders accept).
Bytes with_global_table_cut_to_4(const Bytes& gif16) {
  Bytes out = gif16;
  out[10] = static_cast<std::uint8_t>((out[10] & ~7) | 1);
  out.erase(out.begin() + 13 + 12, out.begin() + 13 + 48);
  return out;
}

TEST_CASE("GIF: an index beyond the colour table fails, unless it is transparent and not counted") {
  const auto table = table_of(16, 7);
  GifFrame frame{0, 0, 3, 1, {0, 9, 1}, {}, std::nullopt, false};
  KeepingSink first;
  auto error = GifDecoder().decode(with_global_table_cut_to_4(encode_gif(GifSpec{3, 1, table, 0, {frame}})),
                                   kWithAlpha, first);
  REQUIRE(error);
  CHECK(error->code == ErrorCode::decode_failed);
  CHECK(error->message == "GIF: colour index 9 at row 0, column 1 is beyond the 4-entry colour table");
  frame.transparent = 9;
  const Bytes file = with_global_table_cut_to_4(encode_gif(GifSpec{3, 1, table, 0, {frame}}));
  KeepingSink sink;
  CHECK_FALSE(GifDecoder().decode(file, kWithAlpha, sink));
  REQUIRE(sink.pixels.size() == 12);
  CHECK(sink.pixels[7] == 0);
  CHECK(Rgb{sink.pixels[0], sink.pixels[1], sink.pixels[2]} == table[0]);
  error = GifDecoder().decode(file, DecodeRequest{}, sink);  // alpha=keep counts it
  REQUIRE(error);
  CHECK(error->code == ErrorCode::decode_failed);
}

TEST_CASE("GIF: the screen is checked against the limits before any row") {
  GifFrame frame{0, 0, 1, 1, {0}, {}, std::nullopt, true};
  const Bytes file = encode_gif(GifSpec{65535, 65535, table_of(2, 1), 0, {frame}});
  KeepingSink sink;
  auto error = GifDecoder().decode(file, kWithAlpha, sink);
  REQUIRE(error);
  CHECK(error->code == ErrorCode::too_large);
  CHECK(sink.calls == 0);
  // An interlaced frame is held whole (a byte a pixel).
  GifFrame big{0, 0, 4000, 3000, std::vector<std::uint8_t>(12'000'000), {}, std::nullopt, true};
  error = GifDecoder().decode(encode_gif(GifSpec{4000, 3000, table_of(2, 1), 0, {big}}),
                              DecodeRequest{DecodeLimits{100'000'000, 11'000'000}, false}, sink);
  REQUIRE(error);
  CHECK(error->code == ErrorCode::too_large);
}

TEST_CASE("walk_gif_tail: counts image descriptors, skips sub-blocks and stray bytes, says how it ended") {
  const Bytes file = encode_gif(GifSpec{1, 1, table_of(2, 1), 0,
                                        {GifFrame{0, 0, 1, 1, {0}, {}, std::nullopt, false},
                                         GifFrame{0, 0, 1, 1, {1}, table_of(2, 2), std::nullopt, false}}});
  const GifTail all = walk_gif_tail(file, 13 + 6);  // after the header, screen and the 2-entry table
  CHECK(all.frames == 2);
  CHECK(all.trailer);
  CHECK_FALSE(all.truncated);
  for (std::size_t cut = 13 + 6 + 1; cut < file.size() - 1; ++cut) {
    const GifTail tail = walk_gif_tail(std::span(file.data(), cut), 13 + 6);
    CHECK_FALSE(tail.trailer);
    CHECK(tail.frames <= 2);
  }
  Bytes stray = file;
  stray.insert(stray.end() - 1, {0x00, 0x42});
  const GifTail with_stray = walk_gif_tail(stray, 13 + 6);
  CHECK(with_stray.stray_bytes == 2);
  CHECK(with_stray.frames == 2);
  CHECK(with_stray.trailer);
}

TEST_CASE("sniff_format: WebP by its RIFF form type, GIF by both versions") {
  CHECK(sniff_format(Bytes{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'}) == ImageFormat::webp);
  CHECK_FALSE(sniff_format(Bytes{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E'}));
  CHECK_FALSE(sniff_format(Bytes{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B'}));
  CHECK(sniff_format(Bytes{'G', 'I', 'F', '8', '7', 'a'}) == ImageFormat::gif);
  CHECK(sniff_format(Bytes{'G', 'I', 'F', '8', '9', 'a'}) == ImageFormat::gif);
  CHECK_FALSE(sniff_format(Bytes{'G', 'I', 'F', '8', '8', 'a'}));
}

TEST_CASE("Analyzer: format and frames of WebP and GIF results") {
  Analyzer analyzer;
  const auto webp = analyzer.analyze(encode_webp(5, 5, rgba_noise(5, 5, 2), -1), AnalyzeOptions{});
  REQUIRE(std::holds_alternative<ImageAnalysis>(webp));
  CHECK(std::get<ImageAnalysis>(webp).format == ImageFormat::webp);
  CHECK(std::get<ImageAnalysis>(webp).frames == 1);
  GifFrame f{0, 0, 1, 1, {0}, {}, std::nullopt, false};
  const auto gif = analyzer.analyze(encode_gif(GifSpec{1, 1, table_of(2, 1), 0, {f, f, f}}), AnalyzeOptions{});
  REQUIRE(std::holds_alternative<ImageAnalysis>(gif));
  CHECK(std::get<ImageAnalysis>(gif).format == ImageFormat::gif);
  CHECK(std::get<ImageAnalysis>(gif).frames == 3);
  PngSpec spec;
  spec.width = spec.height = 2;
  const auto png = analyzer.analyze(encode_png(spec, std::vector<std::uint16_t>(12, 7)), AnalyzeOptions{});
  REQUIRE(std::holds_alternative<ImageAnalysis>(png));
  CHECK(std::get<ImageAnalysis>(png).frames == 0);
}
