#include "common/color_keys.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HUEPOOL_KEYS_AVX512 1
#include <immintrin.h>
#endif

namespace huepool {

namespace {

// keys[i]'s left neighbour; keys[-1] is readable (color_keys.hpp). Not
// keys[i - 1]: for i = 0 that index is SIZE_MAX, a pointer overflow in C++
// (UBSan; found by fuzz_analyze on a 13-pixel-wide GIF) although the
// address is the same.
inline std::uint32_t left_of(const std::uint32_t* keys, std::size_t i) noexcept { return (keys + i)[-1]; }

template <PixelLayout L>
void build_scalar(const std::uint8_t* p, std::size_t n, bool blocked, std::uint32_t skip,
                  std::uint32_t* out) noexcept {
  constexpr std::size_t step = bytes_per_pixel(L);
  for (std::size_t i = 0; i < n; ++i, p += step) {
    const std::uint32_t v = load_pixel(p);
    const std::uint32_t key = v & kColorKeyMask;
    const std::uint32_t index = blocked ? blocked_index(key) : key;
    out[i] = L == PixelLayout::rgba && (v >> 24) == 0 ? skip : index;
  }
}

#ifdef HUEPOOL_KEYS_AVX512
// blocked_index() on 16 keys, in the same words (vector extensions: GCC 12
// warns about the shift intrinsics' undefined source operand).
__attribute__((target("avx512f"))) inline __m512i blocked_index16(__m512i k) noexcept {
  const __v16su key = reinterpret_cast<__v16su>(k);
  return reinterpret_cast<__m512i>((key & 0xFC0003u) | ((key >> 6) & 0xCu) | ((key >> 12) & 0x30u) |
                                   ((key << 4) & 0xFC0u) | ((key << 2) & 0x3F000u));
}

__attribute__((target("avx512f"))) void build4_avx512(const std::uint8_t* p, std::size_t n, bool alpha,
                                                      bool blocked, std::uint32_t skip,
                                                      std::uint32_t* out) noexcept {
  const __m512i mask = _mm512_set1_epi32(static_cast<int>(kColorKeyMask));
  const __m512i skip_index = _mm512_set1_epi32(static_cast<int>(skip));
  const __m512i alpha_bits = _mm512_set1_epi32(static_cast<int>(~kColorKeyMask));
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i v = _mm512_loadu_si512(p + 4 * i);
    __m512i k = _mm512_and_si512(v, mask);
    if (blocked) k = blocked_index16(k);
    if (alpha) k = _mm512_mask_mov_epi32(k, _mm512_testn_epi32_mask(v, alpha_bits), skip_index);
    _mm512_storeu_si512(out + i, k);
  }
  if (alpha) build_scalar<PixelLayout::rgba>(p + 4 * i, n - i, blocked, skip, out + i);
  else build_scalar<PixelLayout::rgbx>(p + 4 * i, n - i, blocked, skip, out + i);
}

// 16 pixels (48 bytes) per byte shuffle; the 64-byte load reads 16 bytes past
// the last pixel, which the row padding covers.
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void build3_avx512(const std::uint8_t* p, std::size_t n, bool blocked, std::uint32_t* out) noexcept {
  alignas(64) static constexpr std::uint8_t kSpread[64] = {
      0,  1,  2,  0, 3,  4,  5,  0, 6,  7,  8,  0, 9,  10, 11, 0, 12, 13, 14, 0, 15, 16,
      17, 0,  18, 19, 20, 0, 21, 22, 23, 0, 24, 25, 26, 0, 27, 28, 29, 0, 30, 31, 32, 0,
      33, 34, 35, 0,  36, 37, 38, 0, 39, 40, 41, 0, 42, 43, 44, 0, 45, 46, 47, 0};
  const __m512i spread = _mm512_load_si512(kSpread);
  constexpr __mmask64 kColorBytes = 0x7777777777777777ull;  // bytes 0-2 of each key; byte 3 zero
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i k = _mm512_maskz_permutexvar_epi8(kColorBytes, spread, _mm512_loadu_si512(p + 3 * i));
    if (blocked) k = blocked_index16(k);
    _mm512_storeu_si512(out + i, k);
  }
  build_scalar<PixelLayout::rgb>(p + 3 * i, n - i, blocked, 0, out + i);
}

__attribute__((target("avx512f"))) std::size_t count_run_starts_avx512(const std::uint32_t* keys,
                                                                       std::size_t n) noexcept {
  std::size_t r = 0;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __mmask16 starts =
        _mm512_cmpneq_epi32_mask(_mm512_loadu_si512(keys + i), _mm512_loadu_si512(keys + i - 1));
    r += static_cast<std::size_t>(__builtin_popcount(starts));
  }
  for (; i < n; ++i) r += keys[i] != left_of(keys, i);
  return r;
}

// Compares 16 keys with their left neighbours and compresses the run starts
// (vpcompressd) into run_keys/run_starts.
__attribute__((target("avx512f"))) std::size_t find_runs_avx512(const std::uint32_t* keys, std::size_t n,
                                                                std::uint32_t* run_keys,
                                                                std::uint32_t* run_starts) noexcept {
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  std::size_t r = 0;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i k = _mm512_loadu_si512(keys + i);
    const __mmask16 starts = _mm512_cmpneq_epi32_mask(k, _mm512_loadu_si512(keys + i - 1));
    _mm512_storeu_si512(run_keys + r, _mm512_maskz_compress_epi32(starts, k));
    const __m512i index = _mm512_add_epi32(lanes, _mm512_set1_epi32(static_cast<int>(i)));
    _mm512_storeu_si512(run_starts + r, _mm512_maskz_compress_epi32(starts, index));
    r += static_cast<std::size_t>(__builtin_popcount(starts));
  }
  for (; i < n; ++i) {
    run_keys[r] = keys[i];
    run_starts[r] = static_cast<std::uint32_t>(i);
    r += keys[i] != left_of(keys, i);
  }
  run_starts[r] = static_cast<std::uint32_t>(n);
  return r;
}
#endif

}  // namespace

KeyBuilder::KeyBuilder(bool blocked, std::uint32_t skip) noexcept
    : blocked_(blocked), skip_(skip), simd4_(false), simd3_(false) {
#ifdef HUEPOOL_KEYS_AVX512
  simd4_ = __builtin_cpu_supports("avx512f");
  simd3_ = simd4_ && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi");
#endif
}

void KeyBuilder::build(const std::uint8_t* p, std::size_t n, PixelLayout layout, std::uint32_t* out) const noexcept {
  switch (layout) {
    case PixelLayout::rgb:
#ifdef HUEPOOL_KEYS_AVX512
      if (simd3_) return build3_avx512(p, n, blocked_, out);
#endif
      return build_scalar<PixelLayout::rgb>(p, n, blocked_, skip_, out);
    case PixelLayout::rgbx:
    case PixelLayout::rgba: {
      const bool alpha = layout == PixelLayout::rgba;
#ifdef HUEPOOL_KEYS_AVX512
      if (simd4_) return build4_avx512(p, n, alpha, blocked_, skip_, out);
#endif
      if (alpha) return build_scalar<PixelLayout::rgba>(p, n, blocked_, skip_, out);
      return build_scalar<PixelLayout::rgbx>(p, n, blocked_, skip_, out);
    }
  }
}

bool runs_simd_supported() noexcept {
#ifdef HUEPOOL_KEYS_AVX512
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

std::size_t count_run_starts(const std::uint32_t* keys, std::size_t n) noexcept {
#ifdef HUEPOOL_KEYS_AVX512
  if (runs_simd_supported()) return count_run_starts_avx512(keys, n);
#endif
  std::size_t r = 0;
  for (std::size_t i = 0; i < n; ++i) r += keys[i] != left_of(keys, i);
  return r;
}

std::size_t find_runs(const std::uint32_t* keys, std::size_t n, std::uint32_t* run_keys,
                      std::uint32_t* run_starts) noexcept {
#ifdef HUEPOOL_KEYS_AVX512
  if (runs_simd_supported()) return find_runs_avx512(keys, n, run_keys, run_starts);
#endif
  std::size_t r = 0;
  for (std::size_t i = 0; i < n; ++i) {
    run_keys[r] = keys[i];
    run_starts[r] = static_cast<std::uint32_t>(i);
    r += keys[i] != left_of(keys, i);
  }
  run_starts[r] = static_cast<std::uint32_t>(n);
  return r;
}

}  // namespace huepool
