// JPEG warnings (issue 11, kind 4): stray bytes before a marker change no
// pixel, so the image succeeds with the counts of the file without them and
// a warning; warnings that mean pixels were invented still fail it. Restart
// markers are here because Pillow cannot write them (the Pillow-written
// cases are in realworld_kinds_test.py).
#include <doctest/doctest.h>

#include <string>
#include <variant>
#include <vector>

#include "common/analyzer.hpp"
#include "tests/common/test_images.hpp"

using namespace huepool;
using namespace huepool::test;

namespace {

struct Marker {
  std::size_t offset;  // of its 0xFF
  std::uint8_t code;
  bool after_entropy_data;  // the Huffman decoder may read bytes put before it as padding bits
};

// Every marker after SOI: segments, SOS, RSTn inside entropy-coded data, EOI.
std::vector<Marker> markers_of(const Bytes& jpeg) {
  std::vector<Marker> out;
  std::size_t pos = 2;
  bool after_data = false;
  while (pos + 3 < jpeg.size()) {
    REQUIRE(jpeg[pos] == 0xFF);
    const std::uint8_t code = jpeg[pos + 1];
    out.push_back({pos, code, after_data});
    after_data = false;
    if (code == 0xD9) break;
    pos += 2 + (std::size_t{jpeg[pos + 2]} << 8 | jpeg[pos + 3]);
    if (code != 0xDA) continue;
    after_data = true;
    while (pos + 1 < jpeg.size()) {
      if (jpeg[pos] == 0xFF && jpeg[pos + 1] != 0x00) {
        if (jpeg[pos + 1] < 0xD0 || jpeg[pos + 1] > 0xD7) break;
        out.push_back({pos, jpeg[pos + 1], true});
        pos += 2;
        continue;
      }
      ++pos;
    }
  }
  return out;
}

const ImageAnalysis& success(const AnalysisOutcome& o) {
  if (const auto* e = std::get_if<ImageError>(&o)) FAIL(e->message);
  return std::get<ImageAnalysis>(o);
}

bool has_warning(const ImageAnalysis& a, const std::string& text) {
  for (const auto& w : a.warnings)
    if (w.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("stray bytes before any marker, restart markers included, change no pixel") {
  Analyzer analyzer;
  const AnalyzeOptions options{16, AlphaMode::keep};
  struct Case {
    JpegColor color;
    bool progressive;
    unsigned restart_interval;
  };
  int checked = 0;
  for (const Case& c : {Case{JpegColor::rgb, false, 1}, Case{JpegColor::rgb, false, 3}, Case{JpegColor::gray, false, 2},
                        Case{JpegColor::rgb, true, 2}, Case{JpegColor::cmyk, false, 1}}) {
    const std::uint32_t w = 48, h = 24;
    const std::size_t channels = c.color == JpegColor::gray ? 1 : c.color == JpegColor::rgb ? 3 : 4;
    JpegSpec spec{w, h, c.color};
    spec.progressive = c.progressive;
    spec.restart_interval = c.restart_interval;
    const Bytes jpeg = encode_jpeg(spec, noise(w * h * channels, 7 + c.restart_interval));
    const ImageAnalysis clean = success(analyzer.analyze(jpeg, options));
    CHECK(clean.warnings.empty());
    const auto markers = markers_of(jpeg);
    int restarts = 0;
    for (const Marker& m : markers) restarts += m.code >= 0xD0 && m.code <= 0xD7;
    CHECK(restarts > 0);
    for (const Marker& m : markers) {
      for (const std::size_t n : {1u, 2u, 5u, 64u}) {
        CAPTURE(m.code);
        CAPTURE(m.offset);
        CAPTURE(n);
        Bytes damaged(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(m.offset));
        for (std::size_t i = 0; i < n; ++i) damaged.push_back(static_cast<std::uint8_t>(0x11 * (i % 15)));
        damaged.insert(damaged.end(), jpeg.begin() + static_cast<std::ptrdiff_t>(m.offset), jpeg.end());
        if (m.offset == 2) {  // right after SOI the magic number (FF D8 FF) is gone, as Pillow also finds
          CHECK(std::get<ImageError>(analyzer.analyze(damaged, options)).code == ErrorCode::unsupported_format);
          continue;
        }
        const AnalysisOutcome outcome = analyzer.analyze(damaged, options);
        const ImageAnalysis& a = success(outcome);
        CHECK(a.colors == clean.colors);
        CHECK(a.pixels == clean.pixels);
        if (!m.after_entropy_data) CHECK(has_warning(a, "extraneous bytes before marker"));
        ++checked;
      }
    }
  }
  CHECK(checked > 200);
}

TEST_CASE("warnings that mean invented pixels still fail the image") {
  Analyzer analyzer;
  const std::uint32_t w = 64, h = 32;
  JpegSpec spec{w, h, JpegColor::rgb};
  spec.restart_interval = 2;
  const Bytes jpeg = encode_jpeg(spec, noise(w * h * 3, 3));
  const auto markers = markers_of(jpeg);
  // A restart marker replaced by another (libjpeg resyncs: "found marker 0xd2 instead of RST1").
  for (const Marker& m : markers) {
    if (m.code != 0xD1) continue;
    Bytes wrong = jpeg;
    wrong[m.offset + 1] = 0xD5;
    const auto outcome = analyzer.analyze(wrong, {});
    REQUIRE(std::holds_alternative<ImageError>(outcome));
    CHECK(std::get<ImageError>(outcome).code == ErrorCode::decode_failed);
    break;
  }
  // Data cut before EOI: "Premature end of JPEG file".
  const Bytes cut(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(jpeg.size() * 2 / 3));
  const auto outcome = analyzer.analyze(cut, {});
  REQUIRE(std::holds_alternative<ImageError>(outcome));
  CHECK(std::get<ImageError>(outcome).code == ErrorCode::decode_failed);
}
