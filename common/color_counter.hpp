#pragma once
// Exact 24-bit color counting with first-occurrence order, fed row by row.
//
// Keys are r | g << 8 | b << 16. Every color is appended to a first-touch list
// on its first count, so that list is in row-major first-occurrence order: the
// first entry with the highest count is the DESIGN.md tie-break winner, and
// top-K is a selection over it ordered by (count desc, first occurrence asc).
// Nothing reads the pixels twice, and reset walks the list instead of clearing
// whole tables.
//
// Two tables, chosen per image by pixel count (PERFORMANCE-NOTES.md):
// - small images: open addressing sized to >= 2x the pixel count, so the table
//   stays in L2 and each new color is not a cache miss in 64 MiB;
// - larger images: a dense 2^24 table of uint32 counts (64 MiB, allocated once
//   per counter and reused; pages are committed only as colors touch them).
// Counts are uint32: the caller keeps images under 2^32 pixels (Analyzer does).
//
// Not thread-safe. add_*() are noexcept (called from inside the codec
// adapters); begin() may throw std::bad_alloc.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/analysis.hpp"
#include "common/pixel_rows.hpp"

namespace huepool {

class ColorCounter {
 public:
  // Largest image counted with the small (L2-resident) table.
  static constexpr std::uint64_t kSmallImagePixels = 1u << 15;
  static constexpr std::uint32_t kColorSpace = 1u << 24;

  ColorCounter();
  ~ColorCounter();
  ColorCounter(const ColorCounter&) = delete;
  ColorCounter& operator=(const ColorCounter&) = delete;

  // Starts a new image of at most `pixels` pixels; forgets the previous one.
  void begin(std::uint64_t pixels);

  // `n` pixels in `layout`. With rgba, pixels whose alpha is 0 are skipped.
  // The buffer must have kRowPadding readable bytes after its last pixel.
  void add(const std::uint8_t* pixels, std::size_t n, PixelLayout layout) noexcept;

  std::uint64_t counted() const noexcept { return counted_; }
  std::size_t distinct() const noexcept { return touched_count_; }

  // The k (>= 1) most common colors: count descending, ties by first occurrence.
  std::vector<ColorCount> most_common(unsigned k) const;

 private:
  struct FreeDeleter {
    void operator()(void* p) const noexcept;
  };
  struct Slot {
    std::uint32_t key;    // kEmptyKey when free
    std::uint32_t count;
  };
  static constexpr std::uint32_t kEmptyKey = 0xFFFFFFFFu;

  template <PixelLayout L>
  void add_dense(const std::uint8_t* p, std::size_t n) noexcept;
  template <PixelLayout L>
  void add_small(const std::uint8_t* p, std::size_t n) noexcept;
  void reset() noexcept;
  std::uint32_t count_at(std::size_t i) const noexcept;
  std::uint32_t key_at(std::size_t i) const noexcept;

  bool dense_mode_ = true;
  std::uint64_t counted_ = 0;

  // Dense mode: counts by key; touched_ holds keys.
  std::unique_ptr<std::uint32_t[], FreeDeleter> dense_;
  // Small mode: slots_ (capacity small_mask_ + 1); touched_ holds slot indices.
  std::unique_ptr<Slot[], FreeDeleter> slots_;
  std::uint32_t small_capacity_ = 0;
  std::uint32_t small_mask_ = 0;
  int small_shift_ = 32;

  std::unique_ptr<std::uint32_t[], FreeDeleter> touched_;
  std::size_t touched_capacity_ = 0;
  std::size_t touched_count_ = 0;
};

}  // namespace huepool
