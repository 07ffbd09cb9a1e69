// The result object of DESIGN.md §2, key for key.
#include <doctest/doctest.h>

#include "common/result_json.hpp"

using namespace huepool;

namespace {
ImageAnalysis sample_analysis() {
  ImageAnalysis a;
  a.format = ImageFormat::png;
  a.width = 800;
  a.height = 600;
  a.pixels = 480000;
  a.colors = {{Rgb{12, 34, 56}, 12345}, {Rgb{255, 0, 171}, 7}};
  return a;
}
}  // namespace

TEST_CASE("a success has exactly the documented keys") {
  const ResultContext ctx{0, "a.png", 12.3, 4711};
  const auto j = result_to_json(ctx, sample_analysis(), AnalyzeOptions{});
  const std::string expected =
      R"({"index":0,"name":"a.png","format":"png","width":800,"height":600,"pixels":480000,)"
      R"("color":{"r":12,"g":34,"b":56},"hex":"#0c2238","count":12345,"percentage":2.571875,)"
      R"("elapsed_ms":12.3,"worker":4711})";
  // Same members, values and order as DESIGN's example.
  CHECK(j == ResultJson::parse(expected));
  CHECK(j.dump() == expected);
}

TEST_CASE("warnings come last, and only when there are some") {
  ImageAnalysis a = sample_analysis();
  a.warnings = {"JPEG: Corrupt JPEG data: 2 extraneous bytes before marker 0xdb"};
  const auto j = result_to_json(ResultContext{0, "a.jpg", 1, 2}, a, AnalyzeOptions{3, AlphaMode::keep});
  CHECK(j["warnings"] == ResultJson::array({a.warnings[0]}));
  CHECK(std::prev(j.end()).key() == "warnings");
  CHECK_FALSE(result_to_json(ResultContext{}, sample_analysis(), AnalyzeOptions{}).contains("warnings"));
}

TEST_CASE("top=K adds a colors list, at most K long") {
  const ResultContext ctx{3, "b.jpg", 1.0, 1};
  auto a = sample_analysis();
  a.format = ImageFormat::jpeg;
  AnalyzeOptions options;
  options.top = 1;
  auto j = result_to_json(ctx, a, options);
  REQUIRE(j["colors"].size() == 1);
  CHECK(j["format"] == "jpeg");
  options.top = 5;
  j = result_to_json(ctx, a, options);
  REQUIRE(j["colors"].size() == 2);
  CHECK(j["colors"][1] == ResultJson::parse(
                              R"({"r":255,"g":0,"b":171,"hex":"#ff00ab","count":7,"percentage":0.0014583333333333334})"));
  CHECK(j["colors"][1]["percentage"].get<double>() == 100.0 * 7 / 480000);
}

TEST_CASE("a failure has index, name and error only") {
  const ResultContext ctx{2, "bad \"name\".png", 5, 9};
  const auto j = result_to_json(ctx, ImageError{ErrorCode::decode_failed, "PNG: CRC error"}, AnalyzeOptions{3});
  const std::string expected =
      R"({"index":2,"name":"bad \"name\".png","error":{"code":"decode_failed","message":"PNG: CRC error"}})";
  CHECK(j.dump() == expected);
}

TEST_CASE("hex is lower-case #rrggbb") {
  CHECK(hex_color(Rgb{0, 0, 0}) == "#000000");
  CHECK(hex_color(Rgb{255, 171, 9}) == "#ffab09");
}

TEST_CASE("result_text replaces invalid UTF-8 instead of throwing") {
  const ResultContext ctx{0, std::string("bad-\xff.png"), 1, 1};
  const auto j = result_to_json(ctx, ImageError{ErrorCode::decode_failed, "x"}, AnalyzeOptions{});
  CHECK_THROWS(j.dump());
  CHECK(result_text(j) == "{\"index\":0,\"name\":\"bad-\xEF\xBF\xBD.png\",\"error\":{\"code\":\"decode_failed\",\"message\":\"x\"}}");
}
