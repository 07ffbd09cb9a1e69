// OverflowCounts alone: colors found again after collisions, cleared per
// image, and sized for the most colors an image can overflow.
#include <doctest/doctest.h>

#include "common/overflow_counts.hpp"

using namespace huepool;

TEST_CASE("overflow counts: add, get, clear, reserve") {
  OverflowCounts overflow;
  overflow.reserve(std::uint64_t{1} << 24);  // up to 512 colors
  CHECK(overflow.size() == 0);
  CHECK(overflow.get(12345) == 0);
  // 512 indices, many of them sharing hash slots (multiples of a power of 2).
  for (std::uint32_t i = 0; i < 512; ++i) overflow.add(i << 15, i + 1);
  for (std::uint32_t i = 0; i < 512; ++i) overflow.add(i << 15, 1);
  CHECK(overflow.size() == 512);
  for (std::uint32_t i = 0; i < 512; ++i) CHECK(overflow.get(i << 15) == i + 2);
  CHECK(overflow.get(7) == 0);
  overflow.clear();
  CHECK(overflow.size() == 0);
  for (std::uint32_t i = 0; i < 512; ++i) CHECK(overflow.get(i << 15) == 0);
  // A bigger image after a smaller one, then a smaller one again.
  overflow.reserve(std::uint64_t{1} << 32);
  for (std::uint32_t i = 0; i < (1u << 17); ++i) overflow.add(i * 97, 1);
  CHECK(overflow.size() == (1u << 17));
  CHECK(overflow.get(97 * 1000) == 1);
  overflow.reserve(1u << 16);
  CHECK(overflow.size() == 0);
  overflow.add(5, 2);
  overflow.add(6, 3);
  CHECK(overflow.get(5) == 2);
  CHECK(overflow.get(6) == 3);
}
