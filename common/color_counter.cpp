#include "common/color_counter.hpp"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <new>

#include "common/color_keys.hpp"

namespace huepool {

namespace {

// Golden-ratio multiplier: the table slot is the HIGH bits of key * this; the
// low bits of the product collide for keys that differ only in high bytes.
constexpr std::uint32_t kHashMultiplier = 0x9E3779B1u;
constexpr std::uint32_t kMinSmallCapacity = 64;
// A chunk whose runs number fewer than half its pixels is counted by runs;
// otherwise key by key (photos: runs cost more than they save).
constexpr std::size_t kRunsPerPixelDenominator = 2;
// A chunk where fewer than 1 pixel in this many was a new color sends the next
// one to the loop that branches on new colors instead of appending branch-free.
constexpr std::size_t kNewColorsPerPixelDenominator = 32;

template <typename T>
T* allocate_uninitialized(std::size_t n) {
  // malloc/calloc of large blocks map fresh zero pages lazily: a 64 MiB list
  // costs RSS only where colors land.
  void* p = std::malloc(n * sizeof(T));
  if (!p) throw std::bad_alloc();
  return static_cast<T*>(p);
}

// Appends `key` to the first-touch list when its count was 0 before.
template <bool kFewNewColors>
inline void append_if_new(std::uint32_t* touched, std::size_t& t, std::uint32_t key, std::uint16_t before) noexcept {
  if constexpr (kFewNewColors) {
    // Rarely taken, so well predicted, and the list's end does not wait on the load.
    if (before == 0) touched[t++] = key;
  } else {
    touched[t] = key;
    t += before == 0;
  }
}

}  // namespace

void ColorCounter::FreeDeleter::operator()(void* p) const noexcept { std::free(p); }

bool ColorCounter::runs_supported() noexcept { return runs_simd_supported(); }

ColorCounter::ColorCounter(Options options)
    : runs_enabled_(options.count_runs && runs_supported()),
      few_new_enabled_(options.branch_on_new_colors),
      huge_pages_(options.huge_pages),
      blocked_(options.blocked_layout),
      prefetch_distance_(options.prefetch_distance),
      finish_prefetch_(options.finish_prefetch),
      key_builder_(options.blocked_layout, kSkipKey) {}

ColorCounter::~ColorCounter() = default;

void ColorCounter::clear_tables() noexcept {
  if (dense_mode_) {
    if (dense_)
      for (std::size_t i = 0; i < touched_count_; ++i) dense_table()[touched_[i]] = 0;
  } else {
    for (std::size_t i = 0; i < touched_count_; ++i) slots_[touched_[i]] = Slot{kEmptyKey, 0};
  }
  touched_count_ = 0;
}

void ColorCounter::prefault() {
  begin(kColorSpace);  // the dense table, the chunk scratch and the full first-touch list
  begin(1);            // the small table
  dense_.populate();
  // The first-touch list and the counts are written only as far as an
  // image's distinct colours go; their first pages are committed now.
  const std::size_t head = std::min<std::size_t>(touched_capacity_, std::size_t{1} << 18);
  std::fill_n(touched_.get(), head, 0u);
  std::fill_n(counts_.get(), head, 0u);
  const std::size_t scratch = kChunkScratch;
  std::fill_n(chunk_scratch_.get(), scratch, 0u);
}

void ColorCounter::begin(std::uint64_t pixels) {
  clear_tables();  // only an unfinished (failed) image left anything behind
  added_ = counted_ = 0;
  distinct_ = 0;
  next_chunk_few_new_ = false;
  const bool small = pixels <= kSmallImagePixels;
  // Colors + the skip slot + one spare: the branch-free append always writes touched_[n].
  const std::size_t need = static_cast<std::size_t>(std::min<std::uint64_t>(pixels, kColorSpace)) + 2;
  if (touched_capacity_ < need) {
    // Grow straight to the largest size this mode needs: committed lazily anyway.
    const std::size_t capacity = small ? kSmallImagePixels + 2 : std::size_t{kColorSpace} + 2;
    touched_.reset();
    counts_.reset();
    touched_capacity_ = 0;
    touched_.reset(allocate_uninitialized<std::uint32_t>(capacity));
    counts_.reset(allocate_uninitialized<std::uint32_t>(capacity));
    touched_capacity_ = capacity;
  }
  if (small) {
    if (!slots_) {
      const std::size_t slots = std::bit_ceil(2 * kSmallImagePixels);
      slots_.reset(allocate_uninitialized<Slot>(slots));
      std::fill_n(slots_.get(), slots, Slot{kEmptyKey, 0});
    }
    const auto capacity = std::max<std::uint32_t>(
        kMinSmallCapacity, std::bit_ceil(static_cast<std::uint32_t>(2 * std::max<std::uint64_t>(pixels, 1))));
    small_mask_ = capacity - 1;
    small_shift_ = 32 - std::countr_zero(capacity);
    dense_mode_ = false;
  } else {
    if (!dense_) dense_ = AnonymousMapping((std::size_t{kColorSpace} + kSpareSlots) * sizeof(DenseCount), huge_pages_);
    if (!chunk_scratch_) chunk_scratch_.reset(allocate_uninitialized<std::uint32_t>(kChunkScratch));
    overflow_.reserve(pixels);  // and forgets the previous image's
    dense_mode_ = true;
  }
}

void ColorCounter::add_overflowing(std::uint32_t index, DenseCount before, std::uint32_t n) noexcept {
  const std::uint32_t sum = (before & kLowMask) + n;
  overflow_.add(index, sum >> kLowBits);
  dense_table()[index] = static_cast<DenseCount>(kOverflowFlag | (sum & kLowMask));
}

std::uint32_t ColorCounter::whole_count(std::uint32_t index, DenseCount c) const noexcept {
  const std::uint32_t low = c & kLowMask;
  if (!(c & kOverflowFlag)) [[likely]]
    return low;
  return low + (overflow_.get(index) << kLowBits);
}

template <bool kFewNewColors>
std::size_t ColorCounter::count_keys(const std::uint32_t* keys, std::size_t n, std::size_t t) noexcept {
  DenseCount* const table = dense_table();
  std::uint32_t* const touched = touched_.get();
  const auto count_one = [&](std::uint32_t key) {
    const DenseCount before = table[key];
    const std::uint32_t after = std::uint32_t{before} + 1;
    table[key] = static_cast<DenseCount>(after);
    if ((after & kLowMask) == 0) [[unlikely]]  // the low part passed 2^15 - 1: carry it over
      add_overflowing(key, before, 1);
    append_if_new<kFewNewColors>(touched, t, key, before);
  };
  std::size_t i = 0;
  const std::size_t ahead = prefetch_distance_;
  if (ahead != 0 && n > ahead) {
    // The keys are known already, so the slot a key further on will need can
    // be fetched now: photos miss the cache on many pixels.
    for (; i < n - ahead; ++i) {
      __builtin_prefetch(&table[keys[i + ahead]], 1, 3);
      count_one(keys[i]);
    }
  }
  for (; i < n; ++i) count_one(keys[i]);
  return t;
}

template <bool kFewNewColors>
std::size_t ColorCounter::count_runs(const std::uint32_t* keys, std::size_t n, std::size_t t) noexcept {
  DenseCount* const table = dense_table();
  std::uint32_t* const touched = touched_.get();
  std::uint32_t* const run_keys = chunk_scratch_.get() + kRunKeysAt;
  std::uint32_t* const run_starts = chunk_scratch_.get() + kRunStartsAt;
  const std::size_t r = find_runs(keys, n, run_keys, run_starts);
  for (std::size_t j = 0; j < r; ++j) {
    const std::uint32_t key = run_keys[j];
    const DenseCount before = table[key];
    const std::uint32_t length = run_starts[j + 1] - run_starts[j];  // <= kChunk
    const std::uint32_t after = std::uint32_t{before} + length;
    table[key] = static_cast<DenseCount>(after);
    if ((after ^ before) > kLowMask) [[unlikely]]  // the low part passed 2^15 - 1: carry it over
      add_overflowing(key, before, length);
    append_if_new<kFewNewColors>(touched, t, key, before);
  }
  return t;
}

template <PixelLayout L>
void ColorCounter::add_small(const std::uint8_t* p, std::size_t n) noexcept {
  constexpr std::size_t step = bytes_per_pixel(L);
  Slot* const slots = slots_.get();
  std::uint32_t* const touched = touched_.get();
  const std::uint32_t mask = small_mask_;
  const int shift = small_shift_;
  std::size_t t = touched_count_;
  std::uint64_t counted = 0;
  for (std::size_t i = 0; i < n; ++i, p += step) {
    const std::uint32_t v = load_pixel(p);
    if constexpr (L == PixelLayout::rgba) {
      if ((v >> 24) == 0) continue;
    }
    const std::uint32_t key = v & kColorKeyMask;
    std::uint32_t s = (key * kHashMultiplier) >> shift;
    while (slots[s].key != key) {
      if (slots[s].key == kEmptyKey) {
        slots[s].key = key;
        touched[t++] = s;
        break;
      }
      s = (s + 1) & mask;
    }
    ++slots[s].count;
    ++counted;
  }
  touched_count_ = t;
  counted_ += counted;
}

void ColorCounter::add(const std::uint8_t* pixels, std::size_t n, PixelLayout layout) noexcept {
  if (n == 0) return;
  if (!dense_mode_) {
    switch (layout) {
      case PixelLayout::rgb: return add_small<PixelLayout::rgb>(pixels, n);
      case PixelLayout::rgbx: return add_small<PixelLayout::rgbx>(pixels, n);
      case PixelLayout::rgba: return add_small<PixelLayout::rgba>(pixels, n);
    }
    return;
  }
  added_ += n;
  // A chunk at a time: its keys are built (SIMD where the CPU has it), then
  // counted by runs or key by key, whichever the chunk itself calls for.
  std::uint32_t* const keys = chunk_scratch_.get() + kKeysAt;
  const std::size_t step = bytes_per_pixel(layout);
  std::size_t t = touched_count_;
  for (std::size_t done = 0; done < n; done += kChunk) {
    const std::size_t m = std::min(kChunk, n - done);
    key_builder_.build(pixels + done * step, m, layout, keys);
    keys[-1] = ~keys[0];
    const std::size_t t0 = t;
    const std::size_t runs = runs_enabled_ ? count_run_starts(keys, m) : m;
    const bool few_new = next_chunk_few_new_;
    if (runs * kRunsPerPixelDenominator < m) {
      t = few_new ? count_runs<true>(keys, m, t) : count_runs<false>(keys, m, t);
    } else {
      t = few_new ? count_keys<true>(keys, m, t) : count_keys<false>(keys, m, t);
    }
    // Table updates this chunk made: one per run or one per key.
    const std::size_t updates = runs * kRunsPerPixelDenominator < m ? runs : m;
    next_chunk_few_new_ = few_new_enabled_ && (t - t0) * kNewColorsPerPixelDenominator < updates;
  }
  touched_count_ = t;
}

std::vector<ColorCount> ColorCounter::finish(unsigned k) {
  // One pass over the first-touch list reads each count and clears its slot,
  // leaving keys and counts side by side in first-occurrence order.
  std::uint32_t* const keys = touched_.get();
  std::uint32_t* const counts = counts_.get();
  std::size_t d = 0;
  if (dense_mode_) {
    DenseCount* const table = dense_table();
    std::uint64_t skipped = 0;
    // The list is in first-occurrence order, so for photos each slot is a miss
    // somewhere in the table: fetch ahead (this walk was a third of Dune.jpg's
    // counting time without it).
    const std::size_t ahead = finish_prefetch_;
    const std::size_t n = touched_count_;
    for (std::size_t i = 0; i < n; ++i) {
      if (ahead != 0 && i + ahead < n) __builtin_prefetch(&table[keys[i + ahead]], 1, 3);
      const std::uint32_t key = keys[i];
      const std::uint32_t c = whole_count(key, table[key]);
      table[key] = 0;
      const bool real = key != kSkipKey;
      skipped += real ? 0 : c;
      keys[d] = key;
      counts[d] = c;
      d += real;
    }
    counted_ = added_ - skipped;
  } else {
    Slot* const slots = slots_.get();
    for (std::size_t i = 0; i < touched_count_; ++i) {
      Slot& s = slots[keys[i]];
      keys[i] = s.key;
      counts[i] = s.count;
      s = Slot{kEmptyKey, 0};
    }
    d = touched_count_;
  }
  touched_count_ = 0;
  distinct_ = d;

  struct Entry {
    std::uint32_t count;
    std::uint32_t order;  // position in the first-touch list (< 2^24 + 2)
  };
  // a before b: higher count, then earlier first occurrence.
  const auto before = [](const Entry& a, const Entry& b) {
    return a.count != b.count ? a.count > b.count : a.order < b.order;
  };
  std::vector<Entry> best;
  if (k == 0 || d == 0) return {};
  best.reserve(std::min<std::size_t>(k, d) + 1);
  if (k == 1) {
    Entry winner{counts[0], 0};
    for (std::size_t i = 1; i < d; ++i)
      if (counts[i] > winner.count) winner = Entry{counts[i], static_cast<std::uint32_t>(i)};
    best.push_back(winner);
  } else {
    // Heap whose top is the worst of the best k so far.
    for (std::size_t i = 0; i < d; ++i) {
      const Entry e{counts[i], static_cast<std::uint32_t>(i)};
      if (best.size() < k) {
        best.push_back(e);
        std::push_heap(best.begin(), best.end(), before);
      } else if (before(e, best.front())) {
        std::pop_heap(best.begin(), best.end(), before);
        best.back() = e;
        std::push_heap(best.begin(), best.end(), before);
      }
    }
    std::sort(best.begin(), best.end(), before);
  }
  std::vector<ColorCount> out;
  out.reserve(best.size());
  const bool blocked_indices = dense_mode_ && blocked_;
  for (const Entry& e : best) {
    const std::uint32_t key = blocked_indices ? key_of_blocked_index(keys[e.order]) : keys[e.order];
    out.push_back(ColorCount{Rgb{static_cast<std::uint8_t>(key), static_cast<std::uint8_t>(key >> 8),
                                 static_cast<std::uint8_t>(key >> 16)},
                             e.count});
  }
  return out;
}

CountedColors ColorCounter::counted_colors() const noexcept {
  return CountedColors{{touched_.get(), distinct_}, {counts_.get(), distinct_}, {}, dense_mode_ && blocked_};
}

}  // namespace huepool
