// Pillow is the reference (DESIGN.md §1): the 12 corpus images against
// reference.json, and generated PNG/JPEG files decoded pixel for pixel against
// python3-pil's Image.open(f).convert('RGB') when it is installed.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <variant>

#include "common/analyzer.hpp"
#include "common/result_json.hpp"
#include "tests/common/test_images.hpp"

using namespace huepool;
using namespace huepool::test;

namespace {

std::optional<nlohmann::json> load_reference(std::string* corpus) {
  *corpus = env_or("HUEPOOL_CORPUS_DIR", "");
  std::ifstream in(*corpus + "/reference.json");
  if (!in) return std::nullopt;
  return nlohmann::json::parse(in);
}

void check_against(const ImageAnalysis& a, const nlohmann::json& e) {
  CHECK(a.pixels == e["pixels"].get<std::uint64_t>());
  REQUIRE(!a.colors.empty());
  CHECK(hex_color(a.colors[0].color) == e["hex"].get<std::string>());
  CHECK(a.colors[0].color == Rgb{e["color"]["r"].get<std::uint8_t>(), e["color"]["g"].get<std::uint8_t>(),
                                 e["color"]["b"].get<std::uint8_t>()});
  CHECK(a.colors[0].count == e["count"].get<std::uint64_t>());
  CHECK(100.0 * static_cast<double>(a.colors[0].count) / static_cast<double>(a.pixels) ==
        e["percentage"].get<double>());
  const auto& top = e["top"];
  REQUIRE(a.colors.size() >= top.size());
  for (std::size_t i = 0; i < top.size(); ++i) {
    CAPTURE(i);
    CHECK(hex_color(a.colors[i].color) == top[i]["hex"].get<std::string>());
    CHECK(a.colors[i].count == top[i]["count"].get<std::uint64_t>());
  }
}

}  // namespace

TEST_CASE("the 12 corpus images give Pillow's answers (reference.json)") {
  std::string corpus;
  const auto reference = load_reference(&corpus);
  if (!reference) {
    MESSAGE("no reference.json under HUEPOOL_CORPUS_DIR; skipped");
    return;
  }
  REQUIRE((*reference)["images"].size() == 12);
  Analyzer analyzer;
  for (const auto& image : (*reference)["images"]) {
    const std::string file = image["file"].get<std::string>();
    CAPTURE(file);
    const auto bytes = read_file(corpus + "/" + file);
    REQUIRE(bytes.has_value());
    for (const AlphaMode mode : {AlphaMode::keep, AlphaMode::ignore}) {
      const auto outcome = analyzer.analyze(*bytes, AnalyzeOptions{10, mode});
      REQUIRE(std::holds_alternative<ImageAnalysis>(outcome));
      const auto& a = std::get<ImageAnalysis>(outcome);
      CHECK(a.width == image["width"].get<std::uint32_t>());
      CHECK(a.height == image["height"].get<std::uint32_t>());
      CHECK(a.format == (image["format"] == "PNG" ? ImageFormat::png : ImageFormat::jpeg));
      const bool has_alpha_answer = image.contains("alpha_ignore");
      check_against(a, mode == AlphaMode::ignore && has_alpha_answer ? image["alpha_ignore"] : image);
    }
  }
}

TEST_CASE("generated PNG and JPEG files decode to Pillow's pixels exactly") {
  const auto python = pillow_python();
  if (!python) {
    MESSAGE("python3 with PIL not found; Pillow pixel comparison skipped");
    return;
  }
  TempDir dir;
  std::vector<std::string> paths;
  std::vector<Bytes> files;
  const auto add = [&](const std::string& name, Bytes bytes) {
    paths.push_back(dir.write(name, bytes));
    files.push_back(std::move(bytes));
  };
  // PNG: every type and depth Pillow reads the same way (16-bit gray is mode
  // I;16 there and is clipped, not reduced: DESIGN.md §1 asks for the high byte).
  struct Kind {
    int color_type, depth;
  };
  std::uint32_t seed = 1;
  for (const Kind k : {Kind{0, 1}, Kind{0, 2}, Kind{0, 4}, Kind{0, 8}, Kind{2, 8}, Kind{2, 16}, Kind{3, 1},
                       Kind{3, 2}, Kind{3, 4}, Kind{3, 8}, Kind{4, 8}, Kind{6, 8}, Kind{6, 16}})
    for (const bool interlaced : {false, true}) {
      PngSpec spec;
      spec.width = 37;
      spec.height = 29;
      spec.color_type = k.color_type;
      spec.bit_depth = k.depth;
      spec.interlaced = interlaced;
      const int channels = png_channels(k.color_type);
      const auto r = noise(spec.width * spec.height * channels * 2, seed++);
      std::vector<std::uint16_t> s(spec.width * spec.height * channels);
      const unsigned maxv = (1u << k.depth) - 1;
      for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint16_t>((r[2 * i] << 8 | r[2 * i + 1]) & maxv);
      if (k.color_type == 3) {
        for (unsigned i = 0; i <= maxv; ++i)
          spec.palette.push_back(Rgb{static_cast<std::uint8_t>(i * 3), static_cast<std::uint8_t>(255 - i), static_cast<std::uint8_t>(i * 7)});
        spec.palette_alpha = {0, 128};
      }
      if (k.color_type == 2) spec.trns_color = std::vector<std::uint16_t>{s[0], s[1], s[2]};
      add("png_" + std::to_string(k.color_type) + "_" + std::to_string(k.depth) + (interlaced ? "_i" : "") + ".png",
          encode_png(spec, s));
    }
  // JPEG: baseline and progressive, 4:2:0 and 4:4:4, odd sizes, gray, CMYK, YCCK.
  struct JKind {
    JpegColor color;
    bool progressive, subsample;
    int quality;
    std::uint32_t w, h;
  };
  for (const JKind k : {JKind{JpegColor::rgb, false, true, 75, 64, 48}, JKind{JpegColor::rgb, false, true, 95, 33, 17},
                        JKind{JpegColor::rgb, true, true, 90, 61, 45}, JKind{JpegColor::rgb, false, false, 90, 50, 31},
                        JKind{JpegColor::rgb, true, false, 60, 17, 70}, JKind{JpegColor::gray, false, true, 90, 40, 40},
                        JKind{JpegColor::gray, true, true, 80, 41, 23}, JKind{JpegColor::cmyk, false, true, 90, 39, 27},
                        JKind{JpegColor::cmyk, true, false, 85, 32, 32}, JKind{JpegColor::ycck, false, true, 90, 45, 21}}) {
    const auto rgb = photo_like_rgb(k.w, k.h, seed++);
    const auto extra = noise(std::size_t{k.w} * k.h, seed++);
    std::vector<std::uint8_t> samples;
    for (std::size_t i = 0; i < std::size_t{k.w} * k.h; ++i) {
      if (k.color == JpegColor::rgb) samples.insert(samples.end(), {rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]});
      else if (k.color == JpegColor::gray) samples.push_back(rgb[3 * i + 1]);
      else samples.insert(samples.end(), {rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], extra[i]});
    }
    add("jpeg_" + std::to_string(paths.size()) + ".jpg",
        encode_jpeg(JpegSpec{k.w, k.h, k.color, k.quality, k.progressive, k.subsample}, samples));
  }

  const auto pillow = pillow_rgb(*python, paths);
  REQUIRE(pillow.has_value());
  Analyzer analyzer;
  for (std::size_t i = 0; i < files.size(); ++i) {
    CAPTURE(paths[i]);
    std::string error;
    const auto ours = engine_decode_rgb(files[i], &error);
    REQUIRE_MESSAGE(ours.has_value(), error);
    CHECK(ours->rgb == (*pillow)[i]);
    // And the counts over Pillow's pixels are the analyzer's.
    const auto outcome = analyzer.analyze(files[i], AnalyzeOptions{kMaxTop, AlphaMode::keep});
    REQUIRE(std::holds_alternative<ImageAnalysis>(outcome));
    CHECK(std::get<ImageAnalysis>(outcome).colors == naive_most_common((*pillow)[i], nullptr, kMaxTop, nullptr));
  }
}

TEST_CASE("the corpus images decode to Pillow's pixels exactly") {
  std::string corpus;
  const auto reference = load_reference(&corpus);
  const auto python = pillow_python();
  if (!reference || !python) {
    MESSAGE("corpus or python3 with PIL missing; skipped");
    return;
  }
  TempDir dir;
  for (const auto& image : (*reference)["images"]) {
    const std::string file = corpus + "/" + image["file"].get<std::string>();
    CAPTURE(file);
    const auto bytes = read_file(file);
    REQUIRE(bytes.has_value());
    // Pillow writes its pixels beside a copy in our own temporary directory.
    const std::string copy = dir.write("img", *bytes);
    const auto pillow = pillow_rgb(*python, {copy});
    REQUIRE(pillow.has_value());
    const auto ours = engine_decode_rgb(*bytes);
    REQUIRE(ours.has_value());
    CHECK(ours->rgb == (*pillow)[0]);
  }
}
