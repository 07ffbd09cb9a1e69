#pragma once
// Exact 24-bit color counting with first-occurrence order, fed row by row.
//
// Keys are r | g << 8 | b << 16. Every color is appended to a first-touch list
// on its first count, so that list is in row-major first-occurrence order: the
// first entry with the highest count is the DESIGN.md tie-break winner, and
// top-K is a selection over it ordered by (count desc, first occurrence asc).
// Nothing reads the pixels twice, and the tables are cleared by walking the
// list, never wholesale.
//
// Two tables, chosen per image by pixel count (PERFORMANCE-NOTES.md):
// - small images: open addressing sized to >= 2x the pixel count, so the table
//   stays in L2 and each new color is not a cache miss somewhere in 32 MiB;
// - larger images: a dense table of 2^24 counts (32 MiB, below; allocated once
//   per counter and reused; prefault() commits it),
//   indexed by the "blocked" index of common/color_keys.hpp so that similar
//   colors share cache lines. Rows are taken a chunk at a time: the chunk's
//   indices are built (AVX-512 where the CPU has it), then counted one of two
//   ways, picked from the chunk itself (docs/BENCHMARKS.md "Engine" has the
//   measurements):
//   * key by key: ++count and a first-touch append, branch-free when the last
//     chunk had many new colors (photos), on a branch when it had few; the
//     table slot 64 keys ahead is prefetched;
//   * by runs (x86-64 with AVX-512F only), when the chunk has fewer runs of
//     equal keys than half its pixels: each run adds its length once. Flat
//     artwork has 50-90% of pixels equal to their left neighbour.
//   The dense table asks for transparent huge pages: photos touch colors all
//   over it, and 16 TLB entries cover it instead of 8192.
// Dense counts are 16 bits, so the table is 32 MiB and a 64-byte line holds 32
// neighbouring colors: the low 15 bits of the count, and a flag set once the
// color has passed 2^15 pixels, whose multiples of 2^15 are then kept in
// OverflowCounts (common/overflow_counts.hpp). A used slot never reads 0 again,
// so 0 still means "new color". Only every 2^15th pixel of a color leaves the
// per-pixel path.
// finish() reads the counts by walking the first-touch list; for photos each
// entry is a miss somewhere in the dense table, so it prefetches ahead.
// Counts are uint32: the caller keeps images under 2^32 pixels (Analyzer does).
//
// Use: begin(), add() per row, finish() once; then counted(). Not thread-safe.
// add() is noexcept (it runs inside the codec adapters); begin() may throw
// std::bad_alloc.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/analysis.hpp"
#include "common/anonymous_mapping.hpp"
#include "common/color_keys.hpp"
#include "common/overflow_counts.hpp"
#include "common/palette.hpp"
#include "common/pixel_rows.hpp"

namespace huepool {

class ColorCounter {
 public:
  // Largest image counted with the small (L2-resident) table.
  static constexpr std::uint64_t kSmallImagePixels = 1u << 15;
  static constexpr std::uint32_t kColorSpace = 1u << 24;
  // A dense count: the low 15 bits of the color's count, and a flag once its
  // multiples of 2^15 are in the overflow table.
  using DenseCount = std::uint16_t;
  // What prefault() commits for the dense table (32 MiB).
  static constexpr std::size_t kDenseTableBytes = std::size_t{kColorSpace} * sizeof(DenseCount);

  // All on by default; benchmarks and tests switch them off to compare.
  struct Options {
    bool count_runs = true;       // chunks by runs when the CPU has AVX-512F and the chunk is flat
    bool huge_pages = true;       // ask for 2 MiB pages for the dense table (madvise)
    bool branch_on_new_colors = true;  // chunks with few new colors append to the list on a branch
    // finish() prefetches the table slots of the first-touch list this many
    // entries ahead (0: off).
    unsigned finish_prefetch = 16;
    bool blocked_layout = true;  // dense table by blocked index (color_keys.hpp); off: by key
    // The key-by-key loop prefetches the table slot this many keys ahead (0:
    // off). Photos miss the cache on many keys; measured on Zen 4 with the
    // blocked index: 24 too short, 48-128 alike (docs/BENCHMARKS.md).
    unsigned prefetch_distance = 64;
  };

  ColorCounter() : ColorCounter(Options{}) {}
  explicit ColorCounter(Options options);
  ~ColorCounter();
  ColorCounter(const ColorCounter&) = delete;
  ColorCounter& operator=(const ColorCounter&) = delete;

  // Allocates every table now and commits the dense table's pages (32 MiB of
  // RSS), so that the first image counted does not pay for them: the kernel
  // zeroes each page (2 MiB with huge pages) on first touch, ~65 ms for a
  // photo in a fresh process with the 64 MiB table of before. A worker calls
  // it before it reports ready.
  // Throws std::bad_alloc.
  void prefault();
  // Starts a new image of at most `pixels` pixels; forgets the previous one.
  void begin(std::uint64_t pixels);

  // `n` pixels in `layout`. With rgba, pixels whose alpha is 0 are not counted.
  // The buffer must have kRowPadding readable bytes after its last pixel.
  void add(const std::uint8_t* pixels, std::size_t n, PixelLayout layout) noexcept;

  // The k (>= 1) most common colors: count descending, ties by first
  // occurrence. Ends the image and clears the tables for the next one.
  std::vector<ColorCount> finish(unsigned k);

  // After finish(): pixels counted and distinct colors among them.
  std::uint64_t counted() const noexcept { return counted_; }
  std::size_t distinct() const noexcept { return distinct_; }
  // After finish() and until the next begin(): every distinct color counted
  // with its count, in first-occurrence order (palette=K clusters them).
  CountedColors counted_colors() const noexcept;

  // Whether rows may be counted by runs on this CPU (AVX-512F).
  static bool runs_supported() noexcept;

 private:
  struct FreeDeleter {
    void operator()(void* p) const noexcept;
  };
  struct Slot {
    std::uint32_t key;    // kEmptyKey when free
    std::uint32_t count;
  };
  static constexpr std::uint32_t kEmptyKey = 0xFFFFFFFFu;
  // Dense-table slot that transparent pixels (alpha=ignore) are counted into,
  // so the row loops need no branch; subtracted in finish().
  static constexpr std::uint32_t kSkipKey = kColorSpace;
  static constexpr std::uint32_t kSpareSlots = 16;
  static constexpr std::size_t kChunk = 4096;  // pixels whose keys are built and counted together
  // chunk_scratch_ layout, in uint32: keys (keys[-1] is written too), then run
  // keys and run starts (find_runs writes up to 16 past the last run).
  static constexpr std::size_t kKeysAt = 16;
  static constexpr std::size_t kRunKeysAt = kKeysAt + kChunk + 64;
  static constexpr std::size_t kRunStartsAt = kRunKeysAt + kChunk + 32;
  static constexpr std::size_t kChunkScratch = kRunStartsAt + kChunk + 32;

  // Count keys[0..n) of a chunk, appending new colors to touched_ from t;
  // return the new end of touched_.
  template <bool kFewNewColors>
  std::size_t count_keys(const std::uint32_t* keys, std::size_t n, std::size_t t) noexcept;
  template <bool kFewNewColors>
  std::size_t count_runs(const std::uint32_t* keys, std::size_t n, std::size_t t) noexcept;
  template <PixelLayout L>
  void add_small(const std::uint8_t* p, std::size_t n) noexcept;
  void clear_tables() noexcept;

  bool runs_enabled_ = false;
  bool few_new_enabled_ = true;
  bool huge_pages_ = true;
  bool blocked_ = true;
  std::size_t prefetch_distance_ = 64;
  std::size_t finish_prefetch_ = 16;
  KeyBuilder key_builder_;
  bool next_chunk_few_new_ = false;
  bool dense_mode_ = true;
  std::uint64_t added_ = 0;     // pixels given to add() (dense mode), transparent included
  std::uint64_t counted_ = 0;
  std::size_t distinct_ = 0;

  static constexpr int kLowBits = 15;
  static constexpr DenseCount kLowMask = (1u << kLowBits) - 1;
  static constexpr DenseCount kOverflowFlag = 1u << kLowBits;

  // Dense mode: counts by index (+ spare slots); touched_ holds indices.
  AnonymousMapping dense_;
  DenseCount* dense_table() const noexcept { return reinterpret_cast<DenseCount*>(dense_.data()); }
  OverflowCounts overflow_;
  // The color at `index` (count low part `before`) gets `n` more pixels and
  // passes a multiple of 2^15.
  void add_overflowing(std::uint32_t index, DenseCount before, std::uint32_t n) noexcept;
  // The whole count of the color at `index` whose dense count is `c`.
  std::uint32_t whole_count(std::uint32_t index, DenseCount c) const noexcept;
  // Small mode: slots_ (capacity small_mask_ + 1); touched_ holds slot indices.
  std::unique_ptr<Slot[], FreeDeleter> slots_;
  std::uint32_t small_mask_ = 0;
  int small_shift_ = 32;

  std::unique_ptr<std::uint32_t[], FreeDeleter> touched_;
  std::unique_ptr<std::uint32_t[], FreeDeleter> counts_;  // finish(): counts in touched order
  std::size_t touched_capacity_ = 0;
  std::size_t touched_count_ = 0;

  // Dense mode scratch (kChunkScratch): keys, run keys, run starts.
  std::unique_ptr<std::uint32_t[], FreeDeleter> chunk_scratch_;
};

}  // namespace huepool
