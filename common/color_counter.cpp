#include "common/color_counter.hpp"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>

namespace huepool {

namespace {

// Golden-ratio multiplier: the table slot is the HIGH bits of key * this; the
// low bits of the product collide for keys that differ only in high bytes.
constexpr std::uint32_t kHashMultiplier = 0x9E3779B1u;
constexpr std::uint32_t kMinSmallCapacity = 64;

template <typename T>
T* allocate_uninitialized(std::size_t n) {
  // malloc/calloc of large blocks map fresh zero pages lazily: a 64 MiB table
  // costs RSS only where colors land.
  void* p = std::malloc(n * sizeof(T));
  if (!p) throw std::bad_alloc();
  return static_cast<T*>(p);
}

template <typename T>
T* allocate_zeroed(std::size_t n) {
  void* p = std::calloc(n, sizeof(T));
  if (!p) throw std::bad_alloc();
  return static_cast<T*>(p);
}

template <PixelLayout L>
inline std::uint32_t load_pixel(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);  // reads 1 byte past a 3-byte pixel: rows are padded
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

inline constexpr std::uint32_t kKeyMask = 0x00FFFFFFu;

}  // namespace

ColorCounter::ColorCounter() = default;

ColorCounter::~ColorCounter() = default;

void ColorCounter::FreeDeleter::operator()(void* p) const noexcept { std::free(p); }

void ColorCounter::reset() noexcept {
  if (dense_mode_) {
    if (dense_)
      for (std::size_t i = 0; i < touched_count_; ++i) dense_[touched_[i]] = 0;
  } else {
    for (std::size_t i = 0; i < touched_count_; ++i) slots_[touched_[i]] = Slot{kEmptyKey, 0};
  }
  touched_count_ = 0;
  counted_ = 0;
}

void ColorCounter::begin(std::uint64_t pixels) {
  reset();
  // One spare entry: the branch-free first-touch append always writes touched_[n].
  const std::size_t need_touched =
      static_cast<std::size_t>(std::min<std::uint64_t>(pixels, kColorSpace)) + 1;
  if (touched_capacity_ < need_touched) {
    // Grow straight to the largest size ever needed: lazily committed anyway.
    const std::size_t capacity = pixels <= kSmallImagePixels ? kSmallImagePixels + 1 : kColorSpace + 1;
    touched_.reset();
    touched_capacity_ = 0;
    touched_.reset(allocate_uninitialized<std::uint32_t>(capacity));
    touched_capacity_ = capacity;
  }
  if (pixels <= kSmallImagePixels) {
    if (!slots_) {
      const std::size_t slots = std::bit_ceil(2 * kSmallImagePixels);
      slots_.reset(allocate_uninitialized<Slot>(slots));
      std::fill_n(slots_.get(), slots, Slot{kEmptyKey, 0});
    }
    const auto capacity = std::max<std::uint32_t>(
        kMinSmallCapacity, std::bit_ceil(static_cast<std::uint32_t>(2 * std::max<std::uint64_t>(pixels, 1))));
    small_capacity_ = capacity;
    small_mask_ = capacity - 1;
    small_shift_ = 32 - std::countr_zero(capacity);
    dense_mode_ = false;
  } else {
    if (!dense_) dense_.reset(allocate_zeroed<std::uint32_t>(kColorSpace));
    dense_mode_ = true;
  }
}

template <PixelLayout L>
void ColorCounter::add_dense(const std::uint8_t* p, std::size_t n) noexcept {
  constexpr std::size_t step = bytes_per_pixel(L);
  std::uint32_t* const table = dense_.get();
  std::uint32_t* const touched = touched_.get();
  std::size_t t = touched_count_;
  std::uint64_t counted = 0;
  for (std::size_t i = 0; i < n; ++i, p += step) {
    const std::uint32_t v = load_pixel<L>(p);
    if constexpr (L == PixelLayout::rgba) {
      if ((v >> 24) == 0) continue;
    }
    const std::uint32_t key = v & kKeyMask;
    const std::uint32_t before = table[key]++;
    touched[t] = key;
    t += before == 0;
    ++counted;
  }
  touched_count_ = t;
  counted_ += counted;
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
    const std::uint32_t v = load_pixel<L>(p);
    if constexpr (L == PixelLayout::rgba) {
      if ((v >> 24) == 0) continue;
    }
    const std::uint32_t key = v & kKeyMask;
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
  switch (layout) {
    case PixelLayout::rgb:
      return dense_mode_ ? add_dense<PixelLayout::rgb>(pixels, n) : add_small<PixelLayout::rgb>(pixels, n);
    case PixelLayout::rgbx:
      return dense_mode_ ? add_dense<PixelLayout::rgbx>(pixels, n) : add_small<PixelLayout::rgbx>(pixels, n);
    case PixelLayout::rgba:
      return dense_mode_ ? add_dense<PixelLayout::rgba>(pixels, n) : add_small<PixelLayout::rgba>(pixels, n);
  }
}

std::uint32_t ColorCounter::key_at(std::size_t i) const noexcept {
  return dense_mode_ ? touched_[i] : slots_[touched_[i]].key;
}

std::uint32_t ColorCounter::count_at(std::size_t i) const noexcept {
  return dense_mode_ ? dense_[touched_[i]] : slots_[touched_[i]].count;
}

std::vector<ColorCount> ColorCounter::most_common(unsigned k) const {
  struct Entry {
    std::uint32_t count;
    std::size_t order;  // position in the first-touch list
  };
  // a before b: higher count, then earlier first occurrence.
  const auto before = [](const Entry& a, const Entry& b) {
    return a.count != b.count ? a.count > b.count : a.order < b.order;
  };
  std::vector<Entry> best;
  if (k == 0 || touched_count_ == 0) return {};
  best.reserve(std::min<std::size_t>(k, touched_count_) + 1);
  if (k == 1) {
    Entry winner{count_at(0), 0};
    for (std::size_t i = 1; i < touched_count_; ++i) {
      const std::uint32_t c = count_at(i);
      if (c > winner.count) winner = Entry{c, i};
    }
    best.push_back(winner);
  } else {
    // Heap whose top is the worst of the best k so far.
    for (std::size_t i = 0; i < touched_count_; ++i) {
      const Entry e{count_at(i), i};
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
  for (const Entry& e : best) {
    const std::uint32_t key = key_at(e.order);
    out.push_back(ColorCount{Rgb{static_cast<std::uint8_t>(key), static_cast<std::uint8_t>(key >> 8),
                                 static_cast<std::uint8_t>(key >> 16)},
                             e.count});
  }
  return out;
}

}  // namespace huepool
