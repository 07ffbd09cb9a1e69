#pragma once
// PNG row filters reversed (PNG spec §9.2: None, Sub, Up, Average, Paeth), in
// place. Sub, Average and Paeth depend on the pixel to the left, so a row is a
// chain of pixels; for 3, 4, 6 and 8 bytes a pixel the chain runs one pixel
// per SIMD step (SSE4.1, chosen at run time like color_keys); 1- and 2-byte
// pixels and CPUs without SSE4.1 take the scalar loops, which give the same
// bytes (tests/common/png_unfilter_test.cpp compares them on every filter).
//
// Thread-safe: a RowUnfilter is immutable after construction.

#include <cstddef>
#include <cstdint>

namespace huepool {

inline constexpr std::uint8_t kPngFilterCount = 5;  // filter types 0..4

// vzeroupper where the CPU has AVX. ISA-L's inflate returns with the upper
// halves of the vector registers dirty; until they are cleared, every legacy
// SSE instruction (the unfilter loops, auto-vectorized conversions) waits on
// them: measured 2.5x slower Paeth rows on this machine's Zen 4.
void clean_upper_vector_state() noexcept;

class RowUnfilter {
 public:
  // bpp: bytes per complete pixel, rounded up to 1 (PNG spec §9.2). simd:
  // false forces the scalar loops (tests, benchmarks).
  explicit RowUnfilter(unsigned bpp, bool simd = true) noexcept;

  // Reverses `filter` (< kPngFilterCount) on the n bytes at row; prev is the
  // previous row, already unfiltered (zeros for the first row). row and prev
  // must not overlap.
  void apply(std::uint8_t filter, std::uint8_t* row, const std::uint8_t* prev, std::size_t n) const noexcept;

  // Two consecutive rows that both use Paeth, row1 right below row0, at
  // once (their dependency chains overlap; 3, 4, 6 and 8 bytes a pixel with
  // SIMD only). false: not done, apply() each row instead.
  bool paeth_pair(std::uint8_t* row0, const std::uint8_t* prev, std::uint8_t* row1, std::size_t n) const noexcept;

  bool simd() const noexcept { return simd_; }

 private:
  unsigned bpp_;
  bool simd_;
  bool avx_;  // vzeroupper before the SSE loops (png_unfilter.cpp says why)
};

}  // namespace huepool
