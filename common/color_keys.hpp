#pragma once
// Decoded pixels -> indices into ColorCounter's dense table, a chunk of a row
// at a time, and runs of equal indices. The only code in common/ that uses
// SIMD intrinsics: each AVX-512 path is chosen at run time and has a scalar
// twin that gives the same answer.
//
// The index of a color key r | g << 8 | b << 16 is "blocked":
//   (r & 3) | (g & 3) << 2 | (b & 3) << 4 | (r >> 2) << 6 | (g >> 2) << 12 | (b >> 2) << 18
// so a 64-byte line of the counter's 16-bit counts holds a 4 x 4 x 2 block of
// (r, g, b) and two neighbouring lines a 4 x 4 x 4 cube. Neighbouring pixels of a photo have
// similar colors more often than equal ones; with the key itself as the index
// a line held 16 values of r for one (g, b), and photos touched more lines,
// each a miss (docs/BENCHMARKS.md "Engine" has the measurements).

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/pixel_rows.hpp"

namespace huepool {

inline constexpr std::uint32_t kColorKeyMask = 0x00FFFFFFu;

// The 4 bytes at p as r | g << 8 | b << 16 | (4th byte) << 24. Reads 1 byte
// past a 3-byte pixel: rows are padded.
inline std::uint32_t load_pixel(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

constexpr std::uint32_t blocked_index(std::uint32_t key) noexcept {
  return (key & 0xFC0003u) | ((key >> 6) & 0xCu) | ((key >> 12) & 0x30u) | ((key << 4) & 0xFC0u) |
         ((key << 2) & 0x3F000u);
}

constexpr std::uint32_t key_of_blocked_index(std::uint32_t index) noexcept {
  return (index & 0xFC0003u) | ((index & 0xCu) << 6) | ((index & 0x30u) << 12) | ((index & 0xFC0u) >> 4) |
         ((index & 0x3F000u) >> 2);
}

class KeyBuilder {
 public:
  // blocked: indices as above (else the key itself); skip: the index given to
  // transparent rgba pixels (alpha 0).
  KeyBuilder(bool blocked, std::uint32_t skip) noexcept;

  // out[i] = index of pixel i of the n pixels at p. Reads up to kRowPadding
  // bytes past the last pixel (rows are padded).
  void build(const std::uint8_t* p, std::size_t n, PixelLayout layout, std::uint32_t* out) const noexcept;

 private:
  bool blocked_;
  std::uint32_t skip_;
  bool simd4_;  // AVX-512F for 4-byte pixels
  bool simd3_;  // AVX-512 VBMI for 3-byte pixels
};

// Whether find_runs/count_run_starts have their AVX-512 version on this CPU;
// without it, counting by runs costs more than it saves.
bool runs_simd_supported() noexcept;

// How many i in [0, n) have keys[i] != keys[i - 1] (keys[-1] is read): the
// number of runs when keys[-1] differs from keys[0].
std::size_t count_run_starts(const std::uint32_t* keys, std::size_t n) noexcept;

// Splits keys[0..n) into r runs of equal keys: run j has key run_keys[j] and
// covers [run_starts[j], run_starts[j + 1]); run_starts[r] = n. keys[-1] must
// be readable and differ from keys[0]; run_keys and run_starts need n + 16
// entries. Returns r.
std::size_t find_runs(const std::uint32_t* keys, std::size_t n, std::uint32_t* run_keys,
                      std::uint32_t* run_starts) noexcept;

}  // namespace huepool
