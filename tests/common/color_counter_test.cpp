// ColorCounter against the obvious answer (Counter.most_common with
// first-occurrence ties), in both of its tables and every pixel layout.
#include <doctest/doctest.h>

#include "common/color_counter.hpp"
#include "tests/common/test_images.hpp"

using namespace huepool;
using huepool::test::naive_most_common;
using huepool::test::noise;

namespace {

// Pixels in `layout` with padding, from packed RGB (+ alpha).
std::vector<std::uint8_t> to_layout(const std::vector<std::uint8_t>& rgb, const std::vector<std::uint8_t>& alpha,
                                    PixelLayout layout) {
  const std::size_t n = rgb.size() / 3;
  const std::size_t step = bytes_per_pixel(layout);
  std::vector<std::uint8_t> out(n * step + kRowPadding, 0xEE);  // padding and pad bytes are junk
  for (std::size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) out[i * step + c] = rgb[i * 3 + c];
    if (layout == PixelLayout::rgba) out[i * step + 3] = alpha[i];
  }
  return out;
}

// Flat-artwork-like: runs of 1..40 equal pixels, so rows go to the run counter.
std::vector<std::uint8_t> runny(std::size_t pixels, std::uint32_t seed, unsigned distinct) {
  const auto r = noise(pixels * 2, seed);
  std::vector<std::uint8_t> rgb(pixels * 3);
  std::size_t i = 0, k = 0;
  while (i < pixels) {
    const unsigned c = r[k] % distinct;
    const std::size_t len = 1 + r[k + 1] % 40;
    k += 2;
    for (std::size_t j = 0; j < len && i < pixels; ++j, ++i) {
      rgb[3 * i] = static_cast<std::uint8_t>(c * 53);
      rgb[3 * i + 1] = static_cast<std::uint8_t>(c);
      rgb[3 * i + 2] = static_cast<std::uint8_t>(c * 7 + 3);
    }
  }
  return rgb;
}

// Many repeats and ties: colors drawn from a small set.
std::vector<std::uint8_t> few_colors(std::size_t pixels, std::uint32_t seed, unsigned distinct) {
  const auto r = noise(pixels, seed);
  std::vector<std::uint8_t> rgb(pixels * 3);
  for (std::size_t i = 0; i < pixels; ++i) {
    const unsigned c = r[i] % distinct;
    rgb[3 * i] = static_cast<std::uint8_t>(c * 37);
    rgb[3 * i + 1] = static_cast<std::uint8_t>(c * 11 + 1);
    rgb[3 * i + 2] = static_cast<std::uint8_t>(c >> 1);
  }
  return rgb;
}

void check_against_naive(ColorCounter& counter, const std::vector<std::uint8_t>& rgb,
                         const std::vector<std::uint8_t>& alpha, PixelLayout layout, std::size_t row) {
  const std::size_t n = rgb.size() / 3;
  const auto pixels = to_layout(rgb, alpha, layout);
  std::uint64_t expected_counted = 0;
  const auto expected =
      naive_most_common(rgb, layout == PixelLayout::rgba ? &alpha : nullptr, kMaxTop, &expected_counted);
  for (const unsigned k : {kMaxTop, 1u, 7u}) {
    counter.begin(n);
    for (std::size_t start = 0; start < n; start += row)  // fed in rows, as decoders do
      counter.add(pixels.data() + start * bytes_per_pixel(layout), std::min(row, n - start), layout);
    const auto top = counter.finish(k);
    CHECK(counter.counted() == expected_counted);
    CHECK(top == std::vector<ColorCount>(expected.begin(), expected.begin() + std::min<std::size_t>(k, expected.size())));
  }
}

}  // namespace

TEST_CASE("a tie goes to the color seen first, in both tables") {
  for (const std::uint64_t claimed : {std::uint64_t{6}, ColorCounter::kSmallImagePixels + 1}) {
    ColorCounter counter;
    // B A A B C C: A, B and C all count 2; B came first.
    const std::vector<std::uint8_t> rgb = {0, 0, 2, 0, 0, 1, 0, 0, 1, 0, 0, 2, 9, 9, 9, 9, 9, 9};
    const auto px = to_layout(rgb, {}, PixelLayout::rgb);
    counter.begin(claimed);
    counter.add(px.data(), 6, PixelLayout::rgb);
    const auto top = counter.finish(3);
    REQUIRE(top.size() == 3);
    CHECK(top[0] == ColorCount{Rgb{0, 0, 2}, 2});
    CHECK(top[1] == ColorCount{Rgb{0, 0, 1}, 2});
    CHECK(top[2] == ColorCount{Rgb{9, 9, 9}, 2});
    CHECK(counter.distinct() == 3);
  }
}

TEST_CASE("counts match the naive answer in every layout, table and row method") {
  if (!ColorCounter::runs_supported()) MESSAGE("no AVX-512F here: the run counter is not exercised");
  for (const ColorCounter::Options options :
       {ColorCounter::Options{}, ColorCounter::Options{false, false, false}, ColorCounter::Options{false, true, true},
        ColorCounter::Options{true, true, true, 0}, ColorCounter::Options{true, true, true, 1},
        ColorCounter::Options{true, true, true, 16, false}}) {
  ColorCounter counter(options);  // one counter for all: memory reused across images
  const std::size_t sizes[] = {1, 100, 5000, ColorCounter::kSmallImagePixels,
                               ColorCounter::kSmallImagePixels + 1, 200000};
  std::uint32_t seed = 1;
  for (const std::size_t n : sizes) {
    for (const PixelLayout layout : {PixelLayout::rgb, PixelLayout::rgbx, PixelLayout::rgba}) {
      CAPTURE(n);
      CAPTURE(static_cast<int>(layout));
      const auto alpha = noise(n, seed + 100);  // ~1/256 transparent
      std::vector<std::uint8_t> sparse_alpha(alpha);
      for (auto& a : sparse_alpha) a = a < 64 ? 0 : a;  // ~1/4 transparent
      check_against_naive(counter, few_colors(n, seed++, 50), sparse_alpha, layout, 97);
      check_against_naive(counter, noise(n * 3, seed++), alpha, layout, 1000);  // nearly all distinct
      check_against_naive(counter, runny(n, seed++, 30), sparse_alpha, layout, 300);
      check_against_naive(counter, runny(n, seed++, 3), sparse_alpha, layout, 7);  // rows shorter than a vector
      check_against_naive(counter, runny(n, seed++, 5000), alpha, layout, 10000);  // rows over one run chunk
    }
  }
  }
}

TEST_CASE("a counter forgets the previous image, switching tables both ways") {
  ColorCounter counter;
  const auto big = few_colors(100000, 7, 300);
  const auto small = few_colors(999, 8, 20);
  const auto big_px = to_layout(big, {}, PixelLayout::rgb);
  const auto small_px = to_layout(small, {}, PixelLayout::rgb);
  for (int round = 0; round < 3; ++round) {
    counter.begin(100000);
    counter.add(big_px.data(), 100000, PixelLayout::rgb);
    CHECK(counter.finish(kMaxTop) == naive_most_common(big, nullptr, kMaxTop, nullptr));
    counter.begin(999);
    counter.add(small_px.data(), 999, PixelLayout::rgb);
    CHECK(counter.finish(kMaxTop) == naive_most_common(small, nullptr, kMaxTop, nullptr));
    CHECK(counter.counted() == 999);
    // An image abandoned half way (a decode failure) leaves nothing behind.
    counter.begin(100000);
    counter.add(big_px.data(), 50000, PixelLayout::rgb);
  }
}

TEST_CASE("every pixel transparent counts nothing") {
  ColorCounter counter;
  const std::vector<std::uint8_t> rgb(30, 5);
  const std::vector<std::uint8_t> alpha(10, 0);
  const auto px = to_layout(rgb, alpha, PixelLayout::rgba);
  counter.begin(10);
  counter.add(px.data(), 10, PixelLayout::rgba);
  CHECK(counter.finish(1).empty());
  CHECK(counter.counted() == 0);
  // The same in the dense table.
  const std::vector<std::uint8_t> big_rgb(3 * 40000, 5);
  const std::vector<std::uint8_t> big_alpha(40000, 0);
  const auto big_px = to_layout(big_rgb, big_alpha, PixelLayout::rgba);
  counter.begin(40000);
  for (int row = 0; row < 100; ++row) counter.add(big_px.data() + row * 400 * 4, 400, PixelLayout::rgba);
  CHECK(counter.finish(3).empty());
  CHECK(counter.counted() == 0);
}

TEST_CASE("all 2^24 colors, then one") {
  ColorCounter counter;
  std::vector<std::uint8_t> px(4096 * 4 + kRowPadding);
  counter.begin(ColorCounter::kColorSpace + 1);
  for (std::uint32_t row = 0; row < 4096; ++row) {
    for (std::uint32_t x = 0; x < 4096; ++x) {
      const std::uint32_t key = row * 4096 + x;
      px[4 * x] = static_cast<std::uint8_t>(key);
      px[4 * x + 1] = static_cast<std::uint8_t>(key >> 8);
      px[4 * x + 2] = static_cast<std::uint8_t>(key >> 16);
    }
    counter.add(px.data(), 4096, PixelLayout::rgbx);
  }
  px[0] = 1;  // key 1 once more: it wins with 2
  px[1] = px[2] = 0;
  counter.add(px.data(), 1, PixelLayout::rgbx);
  const auto top = counter.finish(3);
  CHECK(counter.distinct() == ColorCounter::kColorSpace);
  REQUIRE(top.size() == 3);
  CHECK(top[0] == ColorCount{Rgb{1, 0, 0}, 2});
  CHECK(top[1] == ColorCount{Rgb{0, 0, 0}, 1});
  CHECK(top[2] == ColorCount{Rgb{2, 0, 0}, 1});
}

TEST_CASE("counts past 16 bits, in runs and pixel by pixel, with ties") {
  // A and B pass 65535 (by single pixels, then by long runs), D passes 32767
  // and C stops one short (edges for any narrower counter); A and B tie at
  // 70000 and B came first.
  const std::uint8_t colors[4][3] = {{10, 20, 30}, {40, 50, 60}, {1, 2, 3}, {4, 5, 6}};  // A B C D
  std::vector<int> seq;
  for (int i = 0; i < 40000; ++i) seq.push_back(i % 2 == 0 ? 1 : 0);  // B A B A ...
  seq.insert(seq.end(), 50000, 0);                                   // a long run of A
  seq.insert(seq.end(), 50000, 1);                                   // a long run of B
  for (int i = 0; i < 65535; ++i) seq.push_back(i % 2 == 0 ? 3 : 2);  // D C D C ... D: 32768, C: 32767
  std::vector<std::uint8_t> rgb;
  for (const int c : seq) rgb.insert(rgb.end(), colors[c], colors[c] + 3);
  std::vector<std::uint8_t> alpha(seq.size(), 255);
  for (std::size_t i = 60000; i < 100000; ++i) alpha[i] = 0;  // 40000 transparent pixels
  const auto expected = naive_most_common(rgb, nullptr, kMaxTop, nullptr);
  REQUIRE(expected.size() == 4);
  CHECK(expected[0] == ColorCount{Rgb{40, 50, 60}, 70000});
  CHECK(expected[1] == ColorCount{Rgb{10, 20, 30}, 70000});
  for (const ColorCounter::Options options : {ColorCounter::Options{}, ColorCounter::Options{false, true, true},
                                              ColorCounter::Options{true, true, true, 16, false}}) {
    ColorCounter counter(options);
    for (const PixelLayout layout : {PixelLayout::rgb, PixelLayout::rgbx, PixelLayout::rgba}) {
      for (const std::size_t row : {std::size_t{1000}, std::size_t{5000}}) {
        CAPTURE(static_cast<int>(layout));
        CAPTURE(row);
        check_against_naive(counter, rgb, alpha, layout, row);
      }
    }
  }
}

TEST_CASE("many colors past 2^15: every boundary, many overflow slots, a counter reused") {
  // 200 colors, color c with 32767 + c * 331 pixels (some stop one short of
  // 2^15, most pass it, the last passes 2^16), laid out as runs whose lengths
  // land on and straddle the multiples of 2^15, then the same colors pixel by
  // pixel. Then a smaller image with the same colors: no count may carry over.
  constexpr unsigned kColors = 200;
  std::vector<std::uint8_t> rgb;
  const auto put = [&rgb](unsigned c, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      rgb.push_back(static_cast<std::uint8_t>(c));
      rgb.push_back(static_cast<std::uint8_t>(c * 3));
      rgb.push_back(static_cast<std::uint8_t>(255 - c));
    }
  };
  for (unsigned c = 0; c < kColors; ++c) {
    const std::size_t total = 32767 + std::size_t{c} * 331;
    const std::size_t as_runs = total - total / 3;
    for (std::size_t done = 0; done < as_runs;) {
      const std::size_t len = std::min<std::size_t>(as_runs - done, 4096 - c % 7);
      put(c, len);
      done += len;
    }
  }
  // The last third of each color interleaved with the others, one pixel at a time.
  for (std::size_t i = 0;; ++i) {
    bool any = false;
    for (unsigned c = 0; c < kColors; ++c) {
      if (i < (32767 + std::size_t{c} * 331) / 3) put(c, 1), any = true;
    }
    if (!any) break;
  }
  const std::vector<std::uint8_t> alpha(rgb.size() / 3, 255);
  for (const ColorCounter::Options options : {ColorCounter::Options{}, ColorCounter::Options{false, true, true}}) {
    ColorCounter counter(options);
    check_against_naive(counter, rgb, alpha, PixelLayout::rgbx, 4096);
    check_against_naive(counter, rgb, alpha, PixelLayout::rgb, 3000);
    const std::vector<std::uint8_t> smaller(rgb.begin(), rgb.begin() + 3 * 50000);
    check_against_naive(counter, smaller, std::vector<std::uint8_t>(50000, 255), PixelLayout::rgbx, 4096);
  }
}

TEST_CASE("one color in every pixel of a large image") {
  // 2^22 pixels of one color: 128 multiples of 2^15, by runs and key by key.
  constexpr std::size_t kPixels = std::size_t{1} << 22;
  constexpr std::size_t kRow = 2048;
  std::vector<std::uint8_t> row(kRow * 4 + kRowPadding, 0);
  for (std::size_t x = 0; x < kRow; ++x) row[4 * x] = 9, row[4 * x + 1] = 8, row[4 * x + 2] = 7;
  for (const ColorCounter::Options options : {ColorCounter::Options{}, ColorCounter::Options{false, true, true}}) {
    ColorCounter counter(options);
    for (int image = 0; image < 2; ++image) {
      counter.begin(kPixels);
      for (std::size_t y = 0; y < kPixels / kRow; ++y) counter.add(row.data(), kRow, PixelLayout::rgbx);
      const auto top = counter.finish(2);
      REQUIRE(top.size() == 1);
      CHECK(top[0] == ColorCount{Rgb{9, 8, 7}, static_cast<std::uint32_t>(kPixels)});
      CHECK(counter.counted() == kPixels);
    }
  }
}
