// palette=K (common/palette.*): its CIELAB against a libm reference, its
// quality on generated images with known regions (CIEDE2000 < 2, share within
// 1 percentage point, with noise and with JPEG artefacts), flat and few-color
// images, the exactness of counts, alpha=ignore, and determinism: the same
// bytes twice, and the same histogram visited in any order.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <variant>

#include "common/analyzer.hpp"
#include "common/color_counter.hpp"
#include "common/palette.hpp"
#include "common/result_json.hpp"
#include "tests/common/test_images.hpp"

using namespace huepool;
using namespace huepool::test;

namespace {

// --- An independent reference: CIELAB by libm, and CIEDE2000 --------------

Lab reference_lab(double r, double g, double b) {
  const auto lin = [](double v) {
    v /= 255.0;
    return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
  };
  const double lr = lin(r), lg = lin(g), lb = lin(b);
  const double x = (0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / 0.95047;
  const double y = 0.2126729 * lr + 0.7151522 * lg + 0.0721750 * lb;
  const double z = (0.0193339 * lr + 0.1191920 * lg + 0.9503041 * lb) / 1.08883;
  const auto f = [](double t) { return t > 216.0 / 24389.0 ? std::cbrt(t) : (24389.0 / 27.0 * t + 16.0) / 116.0; };
  return Lab{116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))};
}

// CIEDE2000 (Sharma, Wu, Dalal 2005), kL = kC = kH = 1.
double ciede2000(const Lab& p, const Lab& q) {
  constexpr double kPi = 3.14159265358979323846;
  const auto deg = [&](double rad) { return rad * 180.0 / kPi; };
  const auto rad = [&](double d) { return d * kPi / 180.0; };
  const double c1 = std::hypot(p.a, p.b), c2 = std::hypot(q.a, q.b);
  const double cbar = (c1 + c2) / 2;
  const double c7 = std::pow(cbar, 7);
  const double g = 0.5 * (1 - std::sqrt(c7 / (c7 + std::pow(25.0, 7))));
  const double a1 = (1 + g) * p.a, a2 = (1 + g) * q.a;
  const double cp1 = std::hypot(a1, p.b), cp2 = std::hypot(a2, q.b);
  const auto hue = [&](double b, double a) {
    if (a == 0 && b == 0) return 0.0;
    double h = deg(std::atan2(b, a));
    return h < 0 ? h + 360 : h;
  };
  const double h1 = hue(p.b, a1), h2 = hue(q.b, a2);
  const double dl = q.l - p.l, dc = cp2 - cp1;
  double dh = 0;
  if (cp1 * cp2 != 0) {
    dh = h2 - h1;
    if (dh > 180) dh -= 360;
    else if (dh < -180) dh += 360;
  }
  const double dhh = 2 * std::sqrt(cp1 * cp2) * std::sin(rad(dh / 2));
  const double lbar = (p.l + q.l) / 2, cpbar = (cp1 + cp2) / 2;
  double hbar = h1 + h2;
  if (cp1 * cp2 != 0) {
    if (std::abs(h1 - h2) <= 180) hbar = (h1 + h2) / 2;
    else hbar = (h1 + h2 < 360) ? (h1 + h2 + 360) / 2 : (h1 + h2 - 360) / 2;
  }
  const double t = 1 - 0.17 * std::cos(rad(hbar - 30)) + 0.24 * std::cos(rad(2 * hbar)) +
                   0.32 * std::cos(rad(3 * hbar + 6)) - 0.20 * std::cos(rad(4 * hbar - 63));
  const double dtheta = 30 * std::exp(-std::pow((hbar - 275) / 25, 2));
  const double cp7 = std::pow(cpbar, 7);
  const double rc = 2 * std::sqrt(cp7 / (cp7 + std::pow(25.0, 7)));
  const double sl = 1 + 0.015 * std::pow(lbar - 50, 2) / std::sqrt(20 + std::pow(lbar - 50, 2));
  const double sc = 1 + 0.045 * cpbar, sh = 1 + 0.015 * cpbar * t;
  const double rt = -std::sin(rad(2 * dtheta)) * rc;
  return std::sqrt(std::pow(dl / sl, 2) + std::pow(dc / sc, 2) + std::pow(dhh / sh, 2) +
                   rt * (dc / sc) * (dhh / sh));
}

double ciede2000_rgb(const Rgb& x, const Rgb& y) {
  return ciede2000(reference_lab(x.r, x.g, x.b), reference_lab(y.r, y.g, y.b));
}

ImageAnalysis analyze_ok(const Bytes& file, AnalyzeOptions options) {
  Analyzer analyzer;
  AnalysisOutcome outcome = analyzer.analyze(file, options);
  if (const auto* e = std::get_if<ImageError>(&outcome)) FAIL(e->message);
  return std::get<ImageAnalysis>(std::move(outcome));
}

void check_exact_totals(const ImageAnalysis& a) {
  std::uint64_t total = 0;
  for (const PaletteEntry& e : a.palette) {
    total += e.count;
    CHECK(e.dominant.count >= 1);
    CHECK(e.dominant.count <= e.count);
  }
  CHECK(total == a.pixels);
  for (std::size_t i = 1; i < a.palette.size(); ++i) CHECK(a.palette[i - 1].count >= a.palette[i].count);
}

struct Region {
  Rgb color;
  std::uint32_t x0, x1;  // columns [x0, x1) of the full height
};

// Vertical bands of known colors, each pixel offset by uniform noise in
// [-noise, noise] per channel (deterministic).
std::vector<std::uint8_t> banded(const std::vector<Region>& regions, std::uint32_t w, std::uint32_t h, int noise,
                                 std::uint32_t seed) {
  std::vector<std::uint8_t> rgb(std::size_t{w} * h * 3);
  const auto rnd = test::noise(rgb.size(), seed);
  for (std::uint32_t y = 0; y < h; ++y)
    for (const Region& r : regions)
      for (std::uint32_t x = r.x0; x < r.x1; ++x) {
        const std::size_t i = (std::size_t{y} * w + x) * 3;
        const std::uint8_t base[3] = {r.color.r, r.color.g, r.color.b};
        for (int c = 0; c < 3; ++c) {
          const int offset = noise == 0 ? 0 : static_cast<int>(rnd[i + c] % (2 * noise + 1)) - noise;
          rgb[i + c] = static_cast<std::uint8_t>(std::clamp(base[c] + offset, 0, 255));
        }
      }
  return rgb;
}

Bytes png_of(const std::vector<std::uint8_t>& rgb, std::uint32_t w, std::uint32_t h) {
  PngSpec spec;
  spec.width = w;
  spec.height = h;
  return encode_png(spec, std::vector<std::uint16_t>(rgb.begin(), rgb.end()));
}

// Every region is found: some entry within CIEDE2000 < 2 of its color whose
// share is within 1 percentage point of the region's.
void check_regions_found(const ImageAnalysis& a, const std::vector<Region>& regions, std::uint32_t w) {
  REQUIRE(a.palette.size() == regions.size());
  for (const Region& r : regions) {
    const std::string hex = hex_color(r.color);
    CAPTURE(hex);
    const auto nearest = std::min_element(a.palette.begin(), a.palette.end(), [&](const auto& p, const auto& q) {
      return ciede2000_rgb(p.mean, r.color) < ciede2000_rgb(q.mean, r.color);
    });
    const double expected_share = 100.0 * (r.x1 - r.x0) / w;
    const double share = 100.0 * static_cast<double>(nearest->count) / static_cast<double>(a.pixels);
    CAPTURE(share);
    CAPTURE(expected_share);
    CHECK(ciede2000_rgb(nearest->mean, r.color) < 2.0);
    CHECK(std::abs(share - expected_share) < 1.0);
  }
}

const std::vector<Region> kFourRegions = {
    {{200, 40, 40}, 0, 128},     // 40%... of 320 columns: 128
    {{40, 150, 60}, 128, 224},   // 30%
    {{50, 70, 190}, 224, 288},   // 20%
    {{230, 210, 80}, 288, 320},  // 10%
};

}  // namespace

TEST_CASE("palette: the reference CIEDE2000 matches Sharma et al.'s test pairs") {
  CHECK(ciede2000(Lab{50, 2.6772, -79.7751}, Lab{50, 0, -82.7485}) == doctest::Approx(2.0425).epsilon(1e-4));
  CHECK(ciede2000(Lab{50, 2.5, 0}, Lab{73, 25, -18}) == doctest::Approx(27.1492).epsilon(1e-4));
  CHECK(ciede2000(Lab{2.0776, 0.0795, -1.1350}, Lab{0.9033, -0.0636, -0.5514}) ==
        doctest::Approx(0.9082).epsilon(1e-3));
}

TEST_CASE("palette: srgb_to_lab (no libm) agrees with libm's pow and cbrt") {
  for (int r = 0; r < 256; r += 5)
    for (int g = 0; g < 256; g += 17)
      for (int b = 0; b < 256; b += 51) {
        const Lab p = srgb_to_lab(r, g, b), q = reference_lab(r, g, b);
        CHECK(std::abs(p.l - q.l) < 1e-9);
        CHECK(std::abs(p.a - q.a) < 1e-9);
        CHECK(std::abs(p.b - q.b) < 1e-9);
      }
  const Lab white = srgb_to_lab(255, 255, 255);
  CHECK(white.l == doctest::Approx(100.0).epsilon(1e-5));  // the matrix rows sum to 1 within 1e-7
  CHECK(std::abs(white.a) < 1e-3);
  CHECK(std::abs(white.b) < 1e-3);
  // Between codes the transfer function is interpolated: close to libm still.
  const Lab mid = srgb_to_lab(100.5, 20.25, 250.75), ref = reference_lab(100.5, 20.25, 250.75);
  CHECK(std::abs(mid.l - ref.l) < 0.01);
  CHECK(std::abs(mid.a - ref.a) < 0.01);
  CHECK(std::abs(mid.b - ref.b) < 0.01);
}

TEST_CASE("palette: a flat image is one entry with every pixel") {
  const std::uint32_t w = 300, h = 200;  // over the small counter: the dense table's blocked keys
  const auto rgb = banded({{{12, 200, 99}, 0, w}}, w, h, 0, 1);
  for (unsigned k : {1u, 8u, 16u}) {
    const ImageAnalysis a = analyze_ok(png_of(rgb, w, h), {0, AlphaMode::keep, k});
    REQUIRE(a.palette.size() == 1);
    CHECK(a.palette[0].mean == Rgb{12, 200, 99});
    CHECK(a.palette[0].count == a.pixels);
    CHECK(a.palette[0].dominant == ColorCount{{12, 200, 99}, a.pixels});
  }
}

TEST_CASE("palette: fewer distinct colors than K give one exact entry per color") {
  const std::uint32_t w = 64, h = 10;
  const std::vector<Region> three = {{{0, 0, 0}, 0, 32}, {{1, 1, 1}, 32, 48}, {{255, 0, 0}, 48, 64}};
  const ImageAnalysis a = analyze_ok(png_of(banded(three, w, h, 0, 1), w, h), {0, AlphaMode::keep, 8});
  REQUIRE(a.palette.size() == 3);
  CHECK(a.palette[0] == PaletteEntry{{0, 0, 0}, 320, {{0, 0, 0}, 320}});
  // Equal counts: the color that occurred first (row-major) comes first.
  CHECK(a.palette[1] == PaletteEntry{{1, 1, 1}, 160, {{1, 1, 1}, 160}});
  CHECK(a.palette[2] == PaletteEntry{{255, 0, 0}, 160, {{255, 0, 0}, 160}});
  // K = 2 merges the two near-blacks: mean (320*0 + 160*1) / 480 rounds to 0.
  const ImageAnalysis b = analyze_ok(png_of(banded(three, w, h, 0, 1), w, h), {0, AlphaMode::keep, 2});
  REQUIRE(b.palette.size() == 2);
  CHECK(b.palette[0] == PaletteEntry{{0, 0, 0}, 480, {{0, 0, 0}, 320}});
  CHECK(b.palette[1] == PaletteEntry{{255, 0, 0}, 160, {{255, 0, 0}, 160}});
}

TEST_CASE("palette: known regions with noise are found (CIEDE2000 < 2, share within 1 point)") {
  const std::uint32_t w = 320, h = 240;
  for (int noise : {0, 4, 10}) {
    CAPTURE(noise);
    const auto rgb = banded(kFourRegions, w, h, noise, 7);
    const ImageAnalysis a = analyze_ok(png_of(rgb, w, h), {0, AlphaMode::keep, 4});
    check_exact_totals(a);
    check_regions_found(a, kFourRegions, w);
  }
}

TEST_CASE("palette: known regions through JPEG artefacts are found") {
  const std::uint32_t w = 320, h = 240;
  for (int quality : {95, 75, 50}) {
    CAPTURE(quality);
    const auto rgb = banded(kFourRegions, w, h, 3, 11);
    JpegSpec spec;
    spec.width = w;
    spec.height = h;
    spec.quality = quality;
    const ImageAnalysis a = analyze_ok(encode_jpeg(spec, rgb), {0, AlphaMode::keep, 4});
    check_exact_totals(a);
    check_regions_found(a, kFourRegions, w);
  }
}

TEST_CASE("palette: eight regions of a photo-sized image with noise") {
  const std::uint32_t w = 800, h = 300;  // 100 columns each
  const Rgb colors[8] = {{230, 30, 30}, {30, 200, 40}, {30, 60, 220}, {240, 230, 40},
                         {20, 20, 20},  {235, 235, 235}, {150, 60, 170}, {40, 190, 200}};
  std::vector<Region> regions;
  for (std::uint32_t i = 0; i < 8; ++i) regions.push_back({colors[i], i * 100, (i + 1) * 100});
  const ImageAnalysis a = analyze_ok(png_of(banded(regions, w, h, 8, 3), w, h), {0, AlphaMode::keep, 8});
  check_exact_totals(a);
  check_regions_found(a, regions, w);
}

TEST_CASE("palette: alpha=ignore clusters only the counted pixels") {
  const std::uint32_t w = 200, h = 200;
  PngSpec spec;
  spec.width = w;
  spec.height = h;
  spec.color_type = 6;
  std::vector<std::uint16_t> samples;
  for (std::uint32_t y = 0; y < h; ++y)
    for (std::uint32_t x = 0; x < w; ++x) {
      const bool transparent = x < 150;  // 75% transparent, a green no palette may show
      const std::uint16_t px[4] = {static_cast<std::uint16_t>(transparent ? 0 : 250), static_cast<std::uint16_t>(transparent ? 255 : 10),
                                   static_cast<std::uint16_t>(y & 7), static_cast<std::uint16_t>(transparent ? 0 : 255)};
      samples.insert(samples.end(), px, px + 4);
    }
  const Bytes file = encode_png(spec, samples);
  const ImageAnalysis ignore = analyze_ok(file, {0, AlphaMode::ignore, 4});
  CHECK(ignore.pixels == 50u * h);
  check_exact_totals(ignore);
  for (const PaletteEntry& e : ignore.palette) CHECK(e.mean.r >= 240);
  const ImageAnalysis keep = analyze_ok(file, {0, AlphaMode::keep, 4});
  check_exact_totals(keep);
  CHECK(keep.palette.front().mean.g >= 240);  // the green is 75% of every pixel
}

TEST_CASE("palette: the same bytes give the same palette, and no palette without the option") {
  const auto rgb = photo_like_rgb(640, 480, 5);
  const Bytes file = png_of(rgb, 640, 480);
  Analyzer analyzer;  // one Analyzer reused, as a worker does, and a fresh one
  for (unsigned k = 1; k <= kMaxPalette; ++k) {
    CAPTURE(k);
    const auto first = std::get<ImageAnalysis>(analyzer.analyze(file, {0, AlphaMode::keep, k}));
    const auto again = std::get<ImageAnalysis>(analyzer.analyze(file, {0, AlphaMode::keep, k}));
    CHECK(first.palette == again.palette);
    CHECK(first.palette == analyze_ok(file, {0, AlphaMode::keep, k}).palette);
    CHECK(first.palette.size() == k);
    check_exact_totals(first);
  }
  CHECK(std::get<ImageAnalysis>(analyzer.analyze(file, {})).palette.empty());
}

TEST_CASE("palette: independent of the order the histogram is visited") {
  // The exact histogram of a photo-like image (many distinct colors: grid
  // cells) and of a small one (each color a point), permuted many ways with
  // each color keeping its first-occurrence rank.
  for (const auto& [w, h] : {std::pair{640u, 480u}, std::pair{40u, 30u}}) {
    const auto rgb = photo_like_rgb(w, h, 9);
    std::uint64_t counted = 0;
    const auto all = naive_most_common(rgb, nullptr, 1u << 24, &counted);  // count desc, first occurrence
    CAPTURE(all.size());
    std::vector<std::uint32_t> keys, counts, orders;
    // Ranks as the counter knows them: first occurrence in row-major order.
    std::vector<std::uint32_t> first_seen(1u << 24, 0xFFFFFFFFu);
    std::uint32_t rank = 0;
    for (std::size_t i = 0; i < rgb.size(); i += 3) {
      const std::uint32_t key = rgb[i] | rgb[i + 1] << 8 | rgb[i + 2] << 16;
      if (first_seen[key] == 0xFFFFFFFFu) first_seen[key] = rank++;
    }
    for (const ColorCount& c : all) {
      const std::uint32_t key = c.color.r | c.color.g << 8 | c.color.b << 16;
      keys.push_back(key);
      counts.push_back(static_cast<std::uint32_t>(c.count));
      orders.push_back(first_seen[key]);
    }
    PaletteBuilder builder;
    const auto reference = builder.build({keys, counts, orders, false}, 8);
    REQUIRE(!reference.empty());
    std::mt19937 shuffle(42);
    std::vector<std::size_t> perm(keys.size());
    std::iota(perm.begin(), perm.end(), 0);
    for (int round = 0; round < 5; ++round) {
      std::shuffle(perm.begin(), perm.end(), shuffle);
      std::vector<std::uint32_t> k2, c2, o2;
      for (std::size_t i : perm) {
        k2.push_back(keys[i]);
        c2.push_back(counts[i]);
        o2.push_back(orders[i]);
      }
      CHECK(builder.build({k2, c2, o2, false}, 8) == reference);
      // The same colors as blocked indices (the dense counter's form).
      std::vector<std::uint32_t> blocked(k2.size());
      std::transform(k2.begin(), k2.end(), blocked.begin(), blocked_index);
      CHECK(builder.build({blocked, c2, o2, true}, 8) == reference);
    }
    // And the Analyzer, visiting the histogram in the counter's own order, agrees.
    CHECK(analyze_ok(png_of(rgb, w, h), {0, AlphaMode::keep, 8}).palette == reference);
  }
}
