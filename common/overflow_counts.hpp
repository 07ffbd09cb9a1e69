#pragma once
// The high part of ColorCounter's dense counts. A dense slot is 16 bits: the
// low 15 bits of a color's count and a flag saying the color has passed 2^15
// pixels; how many times it has (its count >> 15) is kept here, by dense
// index. An image of n pixels has at most n / 2^15 such colors, so this is a
// small open-addressing table (<= 64 KiB for 100 Mpixels, 2 MiB at 2^32), and
// it is reached once per 2^15 pixels of a color, off the per-pixel path.
//
// Use: reserve() per image, add() while counting, get() when reading counts,
// clear() after the image. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace huepool {

class OverflowCounts {
 public:
  // Makes room for an image of at most `pixels` pixels (< 2^32) and forgets
  // the previous one. Throws std::bad_alloc.
  void reserve(std::uint64_t pixels);
  // Adds `multiples` (units of 2^15 pixels) to the color at `index`.
  void add(std::uint32_t index, std::uint32_t multiples) noexcept;
  // The color's multiples of 2^15 so far; 0 if it has none.
  std::uint32_t get(std::uint32_t index) const noexcept;
  // Forgets every color (cost: the slots this image could use, only if any was).
  void clear() noexcept;
  // Colors holding multiples now.
  std::size_t size() const noexcept { return used_; }

 private:
  struct Slot {
    std::uint32_t index;
    std::uint32_t multiples;
  };
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;  // dense indices are < 2^25
  std::size_t find(std::uint32_t index) const noexcept;

  std::vector<Slot> slots_;  // the largest any image needed; this image uses [0, mask_]
  std::size_t mask_ = 0;
  std::size_t used_ = 0;
};

}  // namespace huepool
