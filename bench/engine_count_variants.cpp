#include "bench/engine_count_variants.hpp"

#include "common/color_counter.hpp"
#include "common/color_keys.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/mman.h>

namespace huepool::bench {

namespace {

constexpr std::uint32_t kColors = 1u << 24;
constexpr std::uint32_t kMask = 0x00FFFFFFu;

inline std::uint32_t load(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v & kMask;
}

template <typename F>
void for_layout(const std::uint8_t* p, std::size_t n, PixelLayout layout, F&& f) {
  if (layout == PixelLayout::rgb) f(p, n, std::integral_constant<std::size_t, 3>{});
  else f(p, n, std::integral_constant<std::size_t, 4>{});
}

std::uint32_t* table_memory(bool huge) {
  if (!huge) return static_cast<std::uint32_t*>(std::calloc(kColors + 64, 4));
  constexpr std::size_t kHuge = 2u << 20;
  void* p = nullptr;
  if (posix_memalign(&p, kHuge, (kColors + 64) * 4ull + kHuge) != 0) std::abort();
  madvise(p, (kColors + 64) * 4ull, MADV_HUGEPAGE);
  std::memset(p, 0, (kColors + 64) * 4ull);
  return static_cast<std::uint32_t*>(p);
}

struct Table {
  explicit Table(bool huge = false) : t(table_memory(huge)) {}
  std::uint32_t* t;
  std::uint32_t* touched = static_cast<std::uint32_t*>(std::malloc((kColors + 1) * 4ull));
  std::size_t n = 0;
  ~Table() {
    std::free(t);
    std::free(touched);
  }
  void reset() {
    for (std::size_t i = 0; i < n; ++i) t[touched[i]] = 0;
    for (int i = 0; i < 64; ++i) t[kColors + i] = 0;
    n = 0;
  }
  std::uint32_t best() const {
    std::uint32_t b = 0;
    for (std::size_t i = 0; i < n; ++i) b = std::max(b, t[touched[i]]);
    return b;
  }
};

// Key build only: what reading the rows and making keys costs, no table.
class KeyOnly final : public CountVariant {
 public:
  std::string name() const override { return "key_only"; }
  void begin(std::uint64_t) override { acc_ = 0; }
  void add(const std::uint8_t* p, std::size_t n, PixelLayout layout) noexcept override {
    for_layout(p, n, layout, [&](const std::uint8_t* q, std::size_t m, auto step) {
      std::uint32_t a = acc_;
      for (std::size_t i = 0; i < m; ++i) a += load(q + i * step);
      acc_ = a;
    });
  }
  std::uint32_t finish() override { return acc_; }

 private:
  std::uint32_t acc_ = 0;
};

// Dense table, first-touch list, no run handling (the product's dense path),
// on ordinary pages or on 2 MiB transparent huge pages.
template <bool kHugePages>
class Dense final : public CountVariant {
 public:
  Dense() : tb_(kHugePages) {}
  std::string name() const override { return kHugePages ? "dense_huge" : "dense"; }
  void begin(std::uint64_t) override { tb_.reset(); }
  void add(const std::uint8_t* p, std::size_t n, PixelLayout layout) noexcept override {
    for_layout(p, n, layout, [&](const std::uint8_t* q, std::size_t m, auto step) {
      std::size_t t = tb_.n;
      for (std::size_t i = 0; i < m; ++i) {
        const std::uint32_t k = load(q + i * step);
        const std::uint32_t c = tb_.t[k]++;
        tb_.touched[t] = k;
        t += c == 0;
      }
      tb_.n = t;
    });
  }
  std::uint32_t finish() override { return tb_.best(); }

 private:
  Table tb_;
};

// Dense table indexed by the Morton (bit-interleaved) code of r,g,b instead of
// r | g<<8 | b<<16: similar colors land in the same cache lines and pages, so a
// photo's colors, which drift slowly across the image, hit cache far more often.
struct MortonLut {
  std::uint32_t r[256], g[256], b[256];
  MortonLut() {
    for (std::uint32_t v = 0; v < 256; ++v) {
      std::uint32_t m = 0;
      for (int bit = 0; bit < 8; ++bit) m |= ((v >> bit) & 1u) << (3 * bit);
      r[v] = m;
      g[v] = m << 1;
      b[v] = m << 2;
    }
  }
};

template <bool kHugePages>
class Morton final : public CountVariant {
 public:
  Morton() : tb_(kHugePages) {}
  std::string name() const override { return kHugePages ? "morton_huge" : "morton"; }
  void begin(std::uint64_t) override { tb_.reset(); }
  void add(const std::uint8_t* p, std::size_t n, PixelLayout layout) noexcept override {
    for_layout(p, n, layout, [&](const std::uint8_t* q, std::size_t m, auto step) {
      std::size_t t = tb_.n;
      for (std::size_t i = 0; i < m; ++i) {
        const std::uint8_t* px = q + i * step;
        const std::uint32_t k = lut_.r[px[0]] | lut_.g[px[1]] | lut_.b[px[2]];
        const std::uint32_t c = tb_.t[k]++;
        tb_.touched[t] = k;
        t += c == 0;
      }
      tb_.n = t;
    });
  }
  std::uint32_t finish() override { return tb_.best(); }

 private:
  MortonLut lut_;
  Table tb_;
};

// Dense table with runs of equal pixels folded in a register (branch per pixel).
class DenseRunsBranchy final : public CountVariant {
 public:
  std::string name() const override { return "runs_branch"; }
  void begin(std::uint64_t) override {
    tb_.reset();
    prev_ = kNone;
    run_ = 0;
  }
  void add(const std::uint8_t* p, std::size_t n, PixelLayout layout) noexcept override {
    for_layout(p, n, layout, [&](const std::uint8_t* q, std::size_t m, auto step) {
      std::uint32_t prev = prev_, run = run_;
      for (std::size_t i = 0; i < m; ++i) {
        const std::uint32_t k = load(q + i * step);
        if (k == prev) {
          ++run;
        } else {
          flush(prev, run);
          prev = k;
          run = 1;
        }
      }
      prev_ = prev;
      run_ = run;
    });
  }
  std::uint32_t finish() override {
    flush(prev_, run_);
    prev_ = kNone;
    run_ = 0;
    return tb_.best();
  }

 private:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  void flush(std::uint32_t key, std::uint32_t run) {
    if (key == kNone) return;
    const std::uint32_t c = tb_.t[key];
    tb_.t[key] = c + run;
    tb_.touched[tb_.n] = key;
    tb_.n += c == 0;
  }
  Table tb_;
  std::uint32_t prev_ = kNone, run_ = 0;
};

// Runs folded without a branch: a pixel equal to the previous one adds to a
// rotating dummy slot instead of the real one, so no store-to-load chain forms
// on one counter in flat areas.
class DenseRunsBranchless final : public CountVariant {
 public:
  std::string name() const override { return "runs_cmov"; }
  void begin(std::uint64_t) override {
    tb_.reset();
    prev_ = kColors + 32;  // a dummy slot: the first pixel flushes into it
    run_ = 0;
  }
  void add(const std::uint8_t* p, std::size_t n, PixelLayout layout) noexcept override {
    for_layout(p, n, layout, [&](const std::uint8_t* q, std::size_t m, auto step) {
      std::uint32_t prev = prev_, run = run_;
      std::size_t t = tb_.n;
      std::uint32_t* const table = tb_.t;
      for (std::size_t i = 0; i < m; ++i) {
        const std::uint32_t k = load(q + i * step);
        const bool same = k == prev;
        const std::uint32_t slot = same ? kColors + static_cast<std::uint32_t>(i & 15) : prev;
        const std::uint32_t c = table[slot];
        table[slot] = c + run;
        tb_.touched[t] = prev;
        t += (!same) & (c == 0) & (prev < kColors);
        run = same ? run + 1 : 1;
        prev = k;
      }
      prev_ = prev;
      run_ = run;
      tb_.n = t;
    });
  }
  std::uint32_t finish() override {
    if (prev_ < kColors) {
      const std::uint32_t c = tb_.t[prev_];
      tb_.t[prev_] = c + run_;
      tb_.touched[tb_.n] = prev_;
      tb_.n += c == 0;
    }
    return tb_.best();
  }

 private:
  Table tb_;
  std::uint32_t prev_ = 0, run_ = 0;
};

// u16 counters (32 MiB) with a u32 spill table touched once per 65536 counts.
class DenseU16 final : public CountVariant {
 public:
  DenseU16() : t16_(static_cast<std::uint16_t*>(std::calloc(kColors, 2))) {}
  ~DenseU16() override { std::free(t16_); }
  std::string name() const override { return "dense_u16"; }
  void begin(std::uint64_t) override {
    for (std::size_t i = 0; i < tb_.n; ++i) t16_[tb_.touched[i]] = 0;
    tb_.reset();
  }
  void add(const std::uint8_t* p, std::size_t n, PixelLayout layout) noexcept override {
    for_layout(p, n, layout, [&](const std::uint8_t* q, std::size_t m, auto step) {
      std::size_t t = tb_.n;
      for (std::size_t i = 0; i < m; ++i) {
        const std::uint32_t k = load(q + i * step);
        const std::uint16_t c = t16_[k]++;
        if (c == 0xFFFF) tb_.t[k] += 0x10000;  // wrapped: carry into the spill table
        tb_.touched[t] = k;
        t += c == 0 && tb_.t[k] == 0;
      }
      tb_.n = t;
    });
  }
  std::uint32_t finish() override {
    std::uint32_t b = 0;
    for (std::size_t i = 0; i < tb_.n; ++i) b = std::max(b, tb_.t[tb_.touched[i]] + t16_[tb_.touched[i]]);
    return b;
  }

 private:
  std::uint16_t* t16_;
  Table tb_;
};

// Open addressing sized to the colors seen, not to the color space: slot =
// high bits of key * 0x9E3779B1, linear probing, a first-touch list of slot
// indices (rewritten in order by each rehash), doubled before a row could push
// the load past 1/2; prefetch 24 pixels ahead like the product. With kLocal the
// low 4 bits of r stay the low 4 bits of the slot (only key >> 4 is hashed),
// so colors 1 apart in r share lines as in the dense table. Photos have 10^5 -
// 10^6 colors: the table is 1-8 MiB instead of hits spread over 64 MiB.
template <bool kLocal>
class HashGrow final : public CountVariant {
 public:
  HashGrow() {
    for (auto& b : buf_) b = static_cast<Slot*>(std::calloc(kMaxSlots, sizeof(Slot)));  // zero pages until used
    touched_ = static_cast<std::uint32_t*>(std::malloc((kColors + 2) * 4ull));
  }
  ~HashGrow() override {
    for (auto* b : buf_) std::free(b);
    std::free(touched_);
  }
  std::string name() const override { return kLocal ? "hash_local" : "hash"; }
  void begin(std::uint64_t) override {
    for (std::size_t i = 0; i < n_; ++i) buf_[0][touched_[i]] = Slot{0, 0};
    n_ = 0;
    resize(kMinSlots);
  }
  void add(const std::uint8_t* p, std::size_t n, PixelLayout layout) noexcept override {
    std::size_t slots = std::size_t{mask_} + 1;
    if (2 * (n_ + n) > slots) {
      while (2 * (n_ + n) > slots) slots *= 2;
      rehash(static_cast<std::uint32_t>(slots));
    }
    for_layout(p, n, layout, [&](const std::uint8_t* q, std::size_t m, auto step) {
      Slot* const t = buf_[0];
      std::size_t nt = n_;
      constexpr std::size_t kAhead = 24;
      const auto one = [&](std::uint32_t k) {
        std::uint32_t s = slot(k);
        while (t[s].count != 0 && t[s].key != k) s = (s + 1) & mask_;
        const std::uint32_t c = t[s].count;
        t[s] = Slot{k, c + 1};
        touched_[nt] = s;
        nt += c == 0;
      };
      std::size_t i = 0;
      if (m > kAhead)
        for (; i < m - kAhead; ++i) {
          __builtin_prefetch(&t[slot(load(q + (i + kAhead) * step))], 1, 3);
          one(load(q + i * step));
        }
      for (; i < m; ++i) one(load(q + i * step));
      n_ = nt;
    });
  }
  std::uint32_t finish() override {
    std::uint32_t b = 0;
    for (std::size_t i = 0; i < n_; ++i) b = std::max(b, buf_[0][touched_[i]].count);
    return b;
  }

 private:
  struct Slot {
    std::uint32_t key, count;  // count 0 = free
  };
  static constexpr std::uint32_t kMinSlots = 1u << 13;
  static constexpr std::uint32_t kMaxSlots = 1u << 25;
  std::uint32_t slot(std::uint32_t k) const {
    if constexpr (kLocal) return ((((k >> 4) * 0x9E3779B1u) >> (shift_ + 4)) << 4) | (k & 15u);
    return (k * 0x9E3779B1u) >> shift_;
  }
  void resize(std::uint32_t slots) {
    mask_ = slots - 1;
    shift_ = 32 - __builtin_ctz(slots);
  }
  void rehash(std::uint32_t slots) {
    Slot* const from = buf_[0];
    Slot* const to = buf_[1];
    resize(slots);
    for (std::size_t i = 0; i < n_; ++i) {  // in first-touch order, so the list keeps it
      Slot& s = from[touched_[i]];
      std::uint32_t d = slot(s.key);
      while (to[d].count != 0) d = (d + 1) & mask_;
      to[d] = s;
      touched_[i] = d;
      s = Slot{0, 0};
    }
    std::swap(buf_[0], buf_[1]);
  }
  Slot* buf_[2] = {nullptr, nullptr};
  std::uint32_t* touched_ = nullptr;
  std::size_t n_ = 0;
  std::uint32_t mask_ = 0;
  int shift_ = 32;
};

// The product's photo path (prefetch 24 ahead, huge pages, branch-free
// first-touch list, finish walk with prefetch) on u32 counters, or on u16
// counters (32 MiB: twice the colors per cache line) whose top bit says "this
// color has more in a u32 spill table". A u16 slot never returns to 0 once
// used (0x7FFF + 1 spills 0x7FFF and becomes 0x8001), so 0 still means new.
template <bool kU16>
class DensePf final : public CountVariant {
 public:
  DensePf() {
    constexpr std::size_t kHuge = 2u << 20;
    const std::size_t bytes = (kColors + 64ull) * (kU16 ? 2 : 4);
    if (posix_memalign(&mem_, kHuge, bytes) != 0) std::abort();
    madvise(mem_, bytes, MADV_HUGEPAGE);
    std::memset(mem_, 0, bytes);
    spill_ = static_cast<std::uint32_t*>(std::calloc(kColors, 4));  // touched only on spills
    touched_ = static_cast<std::uint32_t*>(std::malloc((kColors + 2) * 4ull));
  }
  ~DensePf() override {
    std::free(mem_);
    std::free(spill_);
    std::free(touched_);
  }
  std::string name() const override { return kU16 ? "dense16_pf" : "dense32_pf"; }
  void begin(std::uint64_t) override { n_ = 0; }
  void add(const std::uint8_t* p, std::size_t n, PixelLayout layout) noexcept override {
    for_layout(p, n, layout, [&](const std::uint8_t* q, std::size_t m, auto step) {
      Counter* const t = static_cast<Counter*>(mem_);
      std::size_t nt = n_;
      constexpr std::size_t kAhead = 24;
      const auto one = [&](std::uint32_t k) {
        const Counter c = t[k];
        t[k] = static_cast<Counter>(c + 1);
        if constexpr (kU16) {
          if ((c & 0x7FFF) == 0x7FFF) [[unlikely]] {
            spill_[k] += 0x7FFF;
            t[k] = 0x8001;
          }
        }
        touched_[nt] = k;
        nt += c == 0;
      };
      std::size_t i = 0;
      if (m > kAhead)
        for (; i < m - kAhead; ++i) {
          __builtin_prefetch(&t[load(q + (i + kAhead) * step)], 1, 3);
          one(load(q + i * step));
        }
      for (; i < m; ++i) one(load(q + i * step));
      n_ = nt;
    });
  }
  std::uint32_t finish() override {
    Counter* const t = static_cast<Counter*>(mem_);
    std::uint32_t b = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      if (i + 16 < n_) __builtin_prefetch(&t[touched_[i + 16]], 1, 3);
      const std::uint32_t k = touched_[i];
      std::uint32_t c = t[k];
      t[k] = 0;
      if constexpr (kU16) {
        if (c & 0x8000) [[unlikely]] {
          c = (c & 0x7FFF) + spill_[k];
          spill_[k] = 0;
        }
      }
      b = std::max(b, c);
    }
    return b;
  }

 private:
  using Counter = std::conditional_t<kU16, std::uint16_t, std::uint32_t>;
  void* mem_ = nullptr;
  std::uint32_t* spill_ = nullptr;
  std::uint32_t* touched_ = nullptr;
  std::size_t n_ = 0;
};

// Radix partitioning: keys are buffered for a band of kBand pixels, then
// scattered by their top kBits bits (b's high bits) so that each partition's
// updates fall in a 2^(24-kBits)-entry slice of the dense table, and counted
// partition by partition (prefetch 16 ahead). Measures only the table work:
// the first-touch list here is in partition order, not first-occurrence order
// (the product would need each new color's pixel index as well).
template <int kBits>
class Radix final : public CountVariant {
 public:
  Radix() : tb_(true) {}
  std::string name() const override { return "radix" + std::to_string(kBits); }
  void begin(std::uint64_t) override {
    tb_.reset();
    buffered_ = 0;
  }
  void add(const std::uint8_t* p, std::size_t n, PixelLayout layout) noexcept override {
    for_layout(p, n, layout, [&](const std::uint8_t* q, std::size_t m, auto step) {
      for (std::size_t i = 0; i < m; ++i) {
        keys_[buffered_++] = load(q + i * step);
        if (buffered_ == kBand) flush();
      }
    });
  }
  std::uint32_t finish() override {
    flush();
    return tb_.best();
  }

 private:
  static constexpr std::size_t kBand = 1u << 14;
  static constexpr int kParts = 1 << kBits;
  void flush() noexcept {
    std::uint32_t start[kParts + 1] = {};
    for (std::size_t i = 0; i < buffered_; ++i) ++start[(keys_[i] >> (24 - kBits)) + 1];
    for (int b = 0; b < kParts; ++b) start[b + 1] += start[b];
    std::uint32_t at[kParts];
    std::memcpy(at, start, sizeof at);
    for (std::size_t i = 0; i < buffered_; ++i) out_[at[keys_[i] >> (24 - kBits)]++] = keys_[i];
    std::uint32_t* const t = tb_.t;
    std::size_t nt = tb_.n;
    std::size_t i = 0;
    for (; i < buffered_; ++i) {
      if (i + 16 < buffered_) __builtin_prefetch(&t[out_[i + 16]], 1, 3);
      const std::uint32_t k = out_[i];
      const std::uint32_t c = t[k]++;
      tb_.touched[nt] = k;
      nt += c == 0;
    }
    tb_.n = nt;
    buffered_ = 0;
  }
  Table tb_;
  std::uint32_t keys_[kBand];
  std::uint32_t out_[kBand];
  std::size_t buffered_ = 0;
};

// Narrow counters on the product's blocked index: uint16 or uint8 counts (32
// or 16 MiB, so more of the table stays in cache) that spill into a small hash
// table when they wrap; a count never returns to 0, so "new color" stays
// before == 0. Key by key, first-touch list, prefetch 64 ahead, like the
// product's photo path.
template <typename Count>
class NarrowBlocked final : public CountVariant {
 public:
  NarrowBlocked() : keys_(true, kColors) {
    void* p = nullptr;
    constexpr std::size_t kHuge = 2u << 20;
    if (posix_memalign(&p, kHuge, (kColors + 64ull) * sizeof(Count)) != 0) std::abort();
    madvise(p, (kColors + 64ull) * sizeof(Count), MADV_HUGEPAGE);
    std::memset(p, 0, (kColors + 64ull) * sizeof(Count));
    counts_ = static_cast<Count*>(p);
  }
  ~NarrowBlocked() override { std::free(counts_); }
  std::string name() const override { return sizeof(Count) == 1 ? "narrow8" : "narrow16"; }
  void begin(std::uint64_t pixels) override {
    std::size_t capacity = 64;
    while (capacity < 2 * (pixels / kMax) + 2) capacity *= 2;
    spill_.assign(capacity, Spill{kFree, 0});
    touched_.resize(kColors + 2);
    n_ = 0;
  }
  void add(const std::uint8_t* p, std::size_t n, PixelLayout layout) noexcept override {
    scratch_.resize(n + 64);
    std::uint32_t* const keys = scratch_.data();
    keys_.build(p, n, layout, keys);
    std::size_t t = n_;
    for (std::size_t i = 0; i < n; ++i) {
      if (i + 64 < n) __builtin_prefetch(&counts_[keys[i + 64]], 1, 3);
      const std::uint32_t k = keys[i];
      const std::uint32_t before = counts_[k];
      std::uint32_t after = before + 1;
      if (after > kMax) [[unlikely]] {
        spill(k) += kMax;
        after = 1;
      }
      counts_[k] = static_cast<Count>(after);
      touched_[t] = k;
      t += before == 0;
    }
    n_ = t;
  }
  std::uint32_t finish() override {
    std::uint32_t best = 0;
    for (std::size_t i = 0; i < n_; ++i) {
      const std::uint32_t k = touched_[i];
      std::uint32_t c = counts_[k];
      if (c == kMax || c > 0) c += spill_value(k);
      best = std::max(best, c);
      counts_[k] = 0;
    }
    return best;
  }

 private:
  static constexpr std::uint32_t kMax = sizeof(Count) == 1 ? 0xFFu : 0xFFFFu;
  static constexpr std::uint32_t kFree = 0xFFFFFFFFu;
  struct Spill {
    std::uint32_t key;
    std::uint32_t extra;
  };
  std::size_t slot(std::uint32_t k) const { return (k * 0x9E3779B1u) & (spill_.size() - 1); }
  std::uint32_t& spill(std::uint32_t k) {
    for (std::size_t s = slot(k);; s = (s + 1) & (spill_.size() - 1)) {
      if (spill_[s].key == k) return spill_[s].extra;
      if (spill_[s].key == kFree) {
        spill_[s].key = k;
        return spill_[s].extra;
      }
    }
  }
  std::uint32_t spill_value(std::uint32_t k) const {
    for (std::size_t s = slot(k);; s = (s + 1) & (spill_.size() - 1)) {
      if (spill_[s].key == k) return spill_[s].extra;
      if (spill_[s].key == kFree) return 0;
    }
  }
  KeyBuilder keys_;
  Count* counts_ = nullptr;
  std::vector<Spill> spill_;
  std::vector<std::uint32_t> touched_, scratch_;
  std::size_t n_ = 0;
};

// The product's counter with some of its ideas switched off, to show what each
// adds in the same run.
class CounterWith final : public CountVariant {
 public:
  CounterWith(std::string name, ColorCounter::Options options) : name_(std::move(name)), counter_(options) {}
  std::string name() const override { return name_; }
  void begin(std::uint64_t pixels) override { counter_.begin(pixels); }
  void add(const std::uint8_t* p, std::size_t n, PixelLayout layout) noexcept override { counter_.add(p, n, layout); }
  std::uint32_t finish() override {
    const auto top = counter_.finish(1);
    return top.empty() ? 0 : static_cast<std::uint32_t>(top[0].count);
  }

 private:
  std::string name_;
  ColorCounter counter_;
};

}  // namespace

std::vector<std::unique_ptr<CountVariant>> all_variants() {
  std::vector<std::unique_ptr<CountVariant>> v;
  v.push_back(std::make_unique<KeyOnly>());
  v.push_back(std::make_unique<Dense<false>>());
  v.push_back(std::make_unique<CounterWith>("no_runs", ColorCounter::Options{false, true, true}));
  v.push_back(std::make_unique<CounterWith>("no_huge", ColorCounter::Options{true, false, true}));
  v.push_back(std::make_unique<CounterWith>("no_branchy", ColorCounter::Options{true, true, false}));
  v.push_back(std::make_unique<CounterWith>("none_of_3", ColorCounter::Options{false, false, false}));
  {
    ColorCounter::Options by_key;
    by_key.blocked_layout = false;
    v.push_back(std::make_unique<CounterWith>("by_key", by_key));
    for (const unsigned distance : {0u, 24u, 128u}) {
      ColorCounter::Options o;
      o.prefetch_distance = distance;
      v.push_back(std::make_unique<CounterWith>("pf" + std::to_string(distance), o));
    }
  }
  v.push_back(std::make_unique<CounterWith>("no_fin_pf", ColorCounter::Options{true, true, true, 0}));
  v.push_back(std::make_unique<CounterWith>("fin_pf_8", ColorCounter::Options{true, true, true, 8}));
  v.push_back(std::make_unique<CounterWith>("fin_pf_32", ColorCounter::Options{true, true, true, 32}));
  v.push_back(std::make_unique<CounterWith>("fin_pf_64", ColorCounter::Options{true, true, true, 64}));
  v.push_back(std::make_unique<DensePf<false>>());
  v.push_back(std::make_unique<DensePf<true>>());
  v.push_back(std::make_unique<Radix<4>>());
  v.push_back(std::make_unique<Radix<8>>());
  v.push_back(std::make_unique<HashGrow<false>>());
  v.push_back(std::make_unique<HashGrow<true>>());
  v.push_back(std::make_unique<DenseRunsBranchy>());
  v.push_back(std::make_unique<DenseRunsBranchless>());
  v.push_back(std::make_unique<DenseU16>());
  v.push_back(std::make_unique<NarrowBlocked<std::uint16_t>>());
  v.push_back(std::make_unique<NarrowBlocked<std::uint8_t>>());
  v.push_back(std::make_unique<Dense<true>>());
  v.push_back(std::make_unique<Morton<false>>());
  v.push_back(std::make_unique<Morton<true>>());
  return v;
}

}  // namespace huepool::bench
