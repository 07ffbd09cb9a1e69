#include "bench/engine_count_variants.hpp"

#include "common/color_counter.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

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

// Dense table, first-touch list, no run handling (the product's dense path).
class Dense final : public CountVariant {
 public:
  std::string name() const override { return "dense"; }
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

class DenseHuge final : public CountVariant {
 public:
  DenseHuge() : tb_(true) {}
  std::string name() const override { return "dense_huge"; }
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

// The product's counter with some of its ideas switched off, to show what each
// adds in the same run.
class CounterWith final : public CountVariant {
 public:
  CounterWith(const char* name, ColorCounter::Options options) : name_(name), counter_(options) {}
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
  v.push_back(std::make_unique<Dense>());
  v.push_back(std::make_unique<CounterWith>("no_runs", ColorCounter::Options{false, true, true}));
  v.push_back(std::make_unique<CounterWith>("no_huge", ColorCounter::Options{true, false, true}));
  v.push_back(std::make_unique<CounterWith>("no_branchy", ColorCounter::Options{true, true, false}));
  v.push_back(std::make_unique<CounterWith>("none_of_3", ColorCounter::Options{false, false, false}));
  v.push_back(std::make_unique<DenseRunsBranchy>());
  v.push_back(std::make_unique<DenseRunsBranchless>());
  v.push_back(std::make_unique<DenseU16>());
  v.push_back(std::make_unique<DenseHuge>());
  v.push_back(std::make_unique<Morton<false>>());
  v.push_back(std::make_unique<Morton<true>>());
  return v;
}

}  // namespace huepool::bench
