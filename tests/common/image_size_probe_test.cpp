// ImageSizeProbe: the stated size of PNG and JPEG files, fed whole, byte by
// byte and in odd pieces; JPEGs with large segments before the frame header,
// progressive and restart-marker JPEGs, the real corpus checked against what
// the decoder itself reports; no answer for other bytes or a scan before any
// frame header.
#include <doctest/doctest.h>

#include <dirent.h>

#include <string>

#include "common/analyzer.hpp"
#include "common/image_size_probe.hpp"
#include "tests/common/test_images.hpp"

using namespace huepool;
using namespace huepool::test;

namespace {

std::optional<std::uint64_t> probe_in_pieces(const Bytes& b, std::size_t piece) {
  ImageSizeProbe probe;
  for (std::size_t i = 0; i < b.size(); i += piece)
    probe.feed(std::span(b).subspan(i, std::min(piece, b.size() - i)));
  return probe.pixels();
}

void check_every_split(const Bytes& b, std::uint64_t expected) {
  CHECK(probe_image_pixels(b) == expected);
  for (std::size_t piece : {1u, 2u, 3u, 7u, 64u, 1000u}) {
    CAPTURE(piece);
    CHECK(probe_in_pieces(b, piece) == expected);
  }
}

Bytes rgb_png(std::uint32_t w, std::uint32_t h) {
  PngSpec spec;
  spec.width = w;
  spec.height = h;
  return encode_png(spec, std::vector<std::uint16_t>(std::size_t{w} * h * 3, 7));
}

Bytes jpeg(std::uint32_t w, std::uint32_t h, bool progressive = false, unsigned restart = 0) {
  JpegSpec spec;
  spec.width = w;
  spec.height = h;
  spec.progressive = progressive;
  spec.restart_interval = restart;
  return encode_jpeg(spec, photo_like_rgb(w, h, 3));
}

// A JPEG with an APP segment of `size` body bytes (0xFF 0xD9 inside it too,
// which only a walk by segment lengths passes) right after SOI.
Bytes with_app_segment(Bytes j, std::size_t size) {
  Bytes seg{0xFF, 0xE1, static_cast<std::uint8_t>((size + 2) >> 8), static_cast<std::uint8_t>(size + 2)};
  for (std::size_t i = 0; i < size; ++i) seg.push_back(i % 3 == 0 ? 0xFF : (i % 3 == 1 ? 0xD9 : 0xDA));
  j.insert(j.begin() + 2, seg.begin(), seg.end());
  return j;
}

}  // namespace

TEST_CASE("size probe: PNG width x height from the IHDR, however the bytes arrive") {
  check_every_split(rgb_png(37, 11), 37u * 11u);
  check_every_split(rgb_png(1, 1), 1u);
  // Only the first 24 bytes matter: a file cut right after them still tells.
  Bytes head = rgb_png(300, 2);
  head.resize(24);
  CHECK(probe_image_pixels(head) == 600u);
  head.resize(23);
  CHECK(probe_image_pixels(head) == std::nullopt);
}

TEST_CASE("size probe: JPEG frame header found past large segments, baseline, progressive, restarts") {
  check_every_split(jpeg(33, 17), 33u * 17u);
  check_every_split(jpeg(40, 30, true), 1200u);
  check_every_split(jpeg(64, 48, false, 2), 64u * 48u);
  check_every_split(with_app_segment(jpeg(20, 10), 60'000), 200u);
  // Fill bytes before a marker and stray bytes between segments (libjpeg skips both).
  Bytes j = jpeg(12, 9);
  j.insert(j.begin() + 2, {0xFF, 0xFF});
  check_every_split(j, 108u);
}

TEST_CASE("size probe: no answer for other formats, damaged headers, or a scan before any frame") {
  CHECK(probe_image_pixels(Bytes{}) == std::nullopt);
  CHECK(probe_image_pixels(Bytes{'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0}) == std::nullopt);
  Bytes png = rgb_png(5, 5);
  png[12] = 'X';  // not IHDR
  CHECK(probe_image_pixels(png) == std::nullopt);
  Bytes zero = rgb_png(5, 5);
  zero[16] = zero[17] = zero[18] = zero[19] = 0;  // width 0
  CHECK(probe_image_pixels(zero) == std::nullopt);
  CHECK(probe_image_pixels(Bytes{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08}) == std::nullopt);  // SOS first
  CHECK(probe_image_pixels(Bytes{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01}) == std::nullopt);  // length < 2
  CHECK(probe_image_pixels(Bytes{0xFF, 0xD9}) == std::nullopt);                          // not SOI
  // A segment that claims more bytes than there are: still looking, no answer.
  CHECK(probe_image_pixels(Bytes{0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF, 1, 2, 3}) == std::nullopt);
}

TEST_CASE("size probe: every corpus and real-world image states the size the decoder reports") {
  const std::string source = env_or("HUEPOOL_SOURCE_DIR", ".");
  const std::string corpus = env_or("HUEPOOL_CORPUS_DIR", source + "/../shared/corpus") + "/seed12";
  const std::string realworld = source + "/../shared/realworld";
  Analyzer analyzer;
  int checked = 0;
  for (const std::string& dir : {corpus, realworld}) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) continue;
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (!name.ends_with(".png") && !name.ends_with(".jpg")) continue;
      const auto bytes = read_file(dir + "/" + name);
      REQUIRE(bytes);
      const auto outcome = analyzer.analyze(*bytes, {});
      const auto* ok = std::get_if<ImageAnalysis>(&outcome);
      if (ok == nullptr) continue;  // a file the decoder rejects states no size worth checking
      CAPTURE(name);
      CHECK(probe_image_pixels(*bytes) == std::uint64_t{ok->width} * ok->height);
      ++checked;
    }
    ::closedir(d);
  }
  CHECK(checked >= 12);
}
