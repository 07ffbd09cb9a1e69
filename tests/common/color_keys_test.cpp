// color_keys: the blocked index is a bijection with the promised locality, and
// the SIMD key builder and run finder agree with the plain definitions.
#include <doctest/doctest.h>

#include <vector>

#include "common/color_keys.hpp"
#include "tests/common/test_images.hpp"

using namespace huepool;
using huepool::test::noise;

TEST_CASE("blocked_index is a bijection of the 24-bit keys that keeps 4x4x4 cubes together") {
  std::vector<bool> seen(std::size_t{1} << 24, false);
  for (std::uint32_t key = 0; key <= kColorKeyMask; ++key) {
    const std::uint32_t index = blocked_index(key);
    REQUIRE(index <= kColorKeyMask);
    REQUIRE(!seen[index]);
    seen[index] = true;
    REQUIRE(key_of_blocked_index(index) == key);
  }
  // A 4x4 square of (r, g) shares one 64-byte line of uint32 counts; the four
  // b values of a 4x4x4 cube are the four lines next to it.
  const std::uint32_t corner = 0x40'80'C4;  // r = 0xC4, g = 0x80, b = 0x40
  for (std::uint32_t dr = 0; dr < 4; ++dr)
    for (std::uint32_t dg = 0; dg < 4; ++dg)
      for (std::uint32_t db = 0; db < 4; ++db) {
        const std::uint32_t index = blocked_index(corner + dr + (dg << 8) + (db << 16));
        CHECK(index / 16 == blocked_index(corner) / 16 + db);
      }
}

TEST_CASE("KeyBuilder gives the same indices as the plain formula in every layout") {
  constexpr std::uint32_t kSkip = 1u << 24;
  for (const bool blocked : {false, true}) {
    const KeyBuilder builder(blocked, kSkip);
    for (const PixelLayout layout : {PixelLayout::rgb, PixelLayout::rgbx, PixelLayout::rgba}) {
      for (const std::size_t n : {0u, 1u, 15u, 16u, 17u, 100u, 4096u}) {
        CAPTURE(blocked);
        CAPTURE(static_cast<int>(layout));
        CAPTURE(n);
        const std::size_t step = bytes_per_pixel(layout);
        std::vector<std::uint8_t> pixels = noise(n * step + kRowPadding, static_cast<std::uint32_t>(n + step));
        for (std::size_t i = 0; i < n; i += 5) pixels[i * step + 3 % step] = 0;  // some transparent rgba pixels
        std::vector<std::uint32_t> out(n + 1, 0xDEADBEEF);
        builder.build(pixels.data(), n, layout, out.data());
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint8_t* p = &pixels[i * step];
          const std::uint32_t key = p[0] | p[1] << 8 | p[2] << 16;
          const bool transparent = layout == PixelLayout::rgba && p[3] == 0;
          REQUIRE(out[i] == (transparent ? kSkip : blocked ? blocked_index(key) : key));
        }
        CHECK(out[n] == 0xDEADBEEF);  // nothing written past the last pixel
      }
    }
  }
}

TEST_CASE("find_runs and count_run_starts agree with a plain scan") {
  for (const std::size_t n : {1u, 2u, 15u, 16u, 17u, 33u, 1000u, 4096u}) {
    CAPTURE(n);
    const auto r = noise(n, static_cast<std::uint32_t>(n));
    std::vector<std::uint32_t> keys(n + 1);
    keys[1] = r[0] % 3;
    for (std::size_t i = 1; i < n; ++i) keys[i + 1] = r[i] % 4 == 0 ? r[i] % 3 : keys[i];  // runs of all lengths
    keys[0] = ~keys[1];
    const std::uint32_t* k = keys.data() + 1;
    std::vector<std::uint32_t> run_keys(n + 16), run_starts(n + 17);
    const std::size_t runs = find_runs(k, n, run_keys.data(), run_starts.data());
    CHECK(count_run_starts(k, n) == runs);
    std::size_t expected = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i == 0 || k[i] != k[i - 1]) {
        REQUIRE(expected < runs);
        CHECK(run_keys[expected] == k[i]);
        CHECK(run_starts[expected] == i);
        ++expected;
      }
    }
    CHECK(runs == expected);
    CHECK(run_starts[runs] == n);
  }
}
