#include "common/palette.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "common/color_keys.hpp"

namespace huepool {

namespace {

// --- CIELAB with only + - * / and exact frexp/ldexp -------------------------
// std::pow and std::cbrt may differ in the last bit between libm versions and
// CPUs (glibc picks FMA variants at run time), and one bit can flip a nearest
// centre; these give the same bits everywhere.

double cube_root(double x) {  // x > 0
  int e = 0;
  double m = std::frexp(x, &e);  // x = m * 2^e, m in [0.5, 1)
  const int r = ((e % 3) + 3) % 3;
  m = std::ldexp(m, r);  // [0.5, 4), cube root in [0.79, 1.59]
  double y = 0.7 + 0.25 * m;  // within 10%: six Newton steps reach the last bit
  for (int i = 0; i < 6; ++i) y = (2.0 * y + m / (y * y)) / 3.0;
  return std::ldexp(y, (e - r) / 3);
}

// x^0.2 for x in (0, 1] by Newton from above (monotone); run at start-up only.
double fifth_root(double x) {
  double y = 1.0;
  for (int i = 0; i < 200; ++i) y = (4.0 * y + x / (y * y * y * y)) / 5.0;
  return y;
}

// The sRGB transfer function at the 256 codes, plus a copy of the last so
// that interpolation at 255 reads in bounds.
const std::array<double, 257>& linear_table() {
  static const std::array<double, 257> table = [] {
    std::array<double, 257> t{};
    for (int c = 0; c < 256; ++c) {
      const double v = c / 255.0;
      if (v <= 0.04045) {
        t[c] = v / 12.92;
      } else {
        const double x = (v + 0.055) / 1.055;
        t[c] = x * x * fifth_root(x * x);  // x^2.4 = x^2 * (x^2)^0.2
      }
    }
    t[256] = t[255];
    return t;
  }();
  return table;
}

double linearize(double v) {  // 0..255, fractional between codes: linear interpolation
  const auto& t = linear_table();
  const int i = static_cast<int>(v);
  const double f = v - i;
  return t[i] + f * (t[i + 1] - t[i]);
}

double lab_f(double t) {
  constexpr double kEpsilon = 216.0 / 24389.0;
  constexpr double kKappa = 24389.0 / 27.0;
  return t > kEpsilon ? cube_root(t) : (kKappa * t + 16.0) / 116.0;
}

double distance2(const Lab& p, const Lab& q) {
  const double dl = p.l - q.l, da = p.a - q.a, db = p.b - q.b;
  return dl * dl + da * da + db * db;
}

Rgb rgb_of_key(std::uint32_t key) {
  return Rgb{static_cast<std::uint8_t>(key), static_cast<std::uint8_t>(key >> 8), static_cast<std::uint8_t>(key >> 16)};
}

// Whether color (count, order) beats the current best: higher count, then earlier.
bool beats(std::uint32_t count, std::uint32_t order, const PaletteBuilder::Cell& c) {
  return count > c.best_count || (count == c.best_count && order < c.best_order);
}

void add_color(PaletteBuilder::Cell& c, std::uint32_t key, std::uint32_t count, std::uint32_t order) {
  c.count += count;
  c.sum_r += std::uint64_t{count} * (key & 0xFF);
  c.sum_g += std::uint64_t{count} * ((key >> 8) & 0xFF);
  c.sum_b += std::uint64_t{count} * (key >> 16);
  if (beats(count, order, c)) {
    c.best_count = count;
    c.best_order = order;
    c.best_key = key;
  }
}

void merge_cell(PaletteBuilder::Cell& into, const PaletteBuilder::Cell& c) {
  into.count += c.count;
  into.sum_r += c.sum_r;
  into.sum_g += c.sum_g;
  into.sum_b += c.sum_b;
  if (beats(c.best_count, c.best_order, into)) {
    into.best_count = c.best_count;
    into.best_order = c.best_order;
    into.best_key = c.best_key;
  }
}

std::uint8_t rounded_mean(std::uint64_t sum, std::uint64_t count) {
  return static_cast<std::uint8_t>((2 * sum + count) / (2 * count));  // half up, exact
}

Lab lab_of(const PaletteBuilder::Cell& c) {
  const double n = static_cast<double>(c.count);
  return srgb_to_lab(static_cast<double>(c.sum_r) / n, static_cast<double>(c.sum_g) / n,
                     static_cast<double>(c.sum_b) / n);
}

}  // namespace

Lab srgb_to_lab(double r, double g, double b) {
  const double lr = linearize(r), lg = linearize(g), lb = linearize(b);
  // sRGB (D65) to XYZ, each divided by the D65 white (0.95047, 1, 1.08883).
  const double x = (0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / 0.95047;
  const double y = 0.2126729 * lr + 0.7151522 * lg + 0.0721750 * lb;
  const double z = (0.0193339 * lr + 0.1191920 * lg + 0.9503041 * lb) / 1.08883;
  const double fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
  return Lab{116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)};
}

std::vector<PaletteEntry> PaletteBuilder::build(const CountedColors& colors, unsigned k) {
  const std::size_t n = colors.keys.size();
  if (k == 0 || n == 0) return {};
  k = std::min(k, kMaxPalette);
  const auto key_at = [&](std::size_t i) {
    return colors.blocked ? key_of_blocked_index(colors.keys[i]) : colors.keys[i];
  };
  const auto order_at = [&](std::size_t i) {
    return colors.orders.empty() ? static_cast<std::uint32_t>(i) : colors.orders[i];
  };

  // 1. Points, in an order that does not depend on the order of `colors`.
  points_.clear();
  if (n <= kExactPointsMax) {
    points_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      Cell& c = points_[i];
      c = Cell{};
      add_color(c, key_at(i), colors.counts[i], order_at(i));
    }
    std::sort(points_.begin(), points_.end(), [](const Cell& a, const Cell& b) { return a.best_key < b.best_key; });
  } else {
    constexpr unsigned kShift = 8 - kGridBits;
    constexpr std::uint32_t kMask = (1u << kGridBits) - 1;
    cells_.resize(std::size_t{1} << (3 * kGridBits));
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t key = key_at(i);
      const std::uint32_t cell = ((key >> kShift) & kMask) | (((key >> (8 + kShift)) & kMask) << kGridBits) |
                                 (((key >> (16 + kShift)) & kMask) << (2 * kGridBits));
      add_color(cells_[cell], key, colors.counts[i], order_at(i));
    }
    for (Cell& c : cells_) {
      if (c.count == 0) continue;
      points_.push_back(c);
      c = Cell{};
    }
  }
  const std::size_t m = points_.size();
  std::vector<Lab> lab(m);
  std::vector<double> weight(m);
  for (std::size_t i = 0; i < m; ++i) {
    lab[i] = lab_of(points_[i]);
    weight[i] = static_cast<double>(points_[i].count);
  }

  // 2. Deterministic weighted farthest-point init.
  std::vector<Lab> centres;
  centres.reserve(k);
  std::size_t first = 0;
  for (std::size_t i = 1; i < m; ++i)
    if (points_[i].count > points_[first].count) first = i;
  centres.push_back(lab[first]);
  std::vector<double> nearest(m);
  for (std::size_t i = 0; i < m; ++i) nearest[i] = distance2(lab[i], centres[0]);
  while (centres.size() < k) {
    std::size_t pick = 0;
    double best = 0;
    for (std::size_t i = 0; i < m; ++i) {
      const double score = weight[i] * nearest[i];
      if (score > best) {
        best = score;
        pick = i;
      }
    }
    if (best == 0) break;  // every point sits on a centre: fewer points than k
    centres.push_back(lab[pick]);
    for (std::size_t i = 0; i < m; ++i) nearest[i] = std::min(nearest[i], distance2(lab[i], lab[pick]));
  }
  const std::size_t kc = centres.size();

  // 3. Lloyd: assign to the nearest centre, move each centre to its members' weighted mean.
  std::vector<std::uint8_t> assigned(m, 0xFF);
  std::vector<double> sum_w(kc), sum_l(kc), sum_a(kc), sum_b(kc);
  for (unsigned iteration = 0; iteration < kMaxIterations; ++iteration) {
    bool changed = false;
    for (std::size_t i = 0; i < m; ++i) {
      std::uint8_t j_best = 0;
      double d_best = distance2(lab[i], centres[0]);
      for (std::size_t j = 1; j < kc; ++j) {
        const double d = distance2(lab[i], centres[j]);
        if (d < d_best) {
          d_best = d;
          j_best = static_cast<std::uint8_t>(j);
        }
      }
      nearest[i] = d_best;
      changed |= assigned[i] != j_best;
      assigned[i] = j_best;
    }
    if (!changed) break;
    std::fill(sum_w.begin(), sum_w.end(), 0.0);
    std::fill(sum_l.begin(), sum_l.end(), 0.0);
    std::fill(sum_a.begin(), sum_a.end(), 0.0);
    std::fill(sum_b.begin(), sum_b.end(), 0.0);
    for (std::size_t i = 0; i < m; ++i) {
      const std::uint8_t j = assigned[i];
      sum_w[j] += weight[i];
      sum_l[j] += weight[i] * lab[i].l;
      sum_a[j] += weight[i] * lab[i].a;
      sum_b[j] += weight[i] * lab[i].b;
    }
    for (std::size_t j = 0; j < kc; ++j) {
      if (sum_w[j] > 0) {
        centres[j] = Lab{sum_l[j] / sum_w[j], sum_a[j] / sum_w[j], sum_b[j] / sum_w[j]};
        continue;
      }
      // Emptied: re-seed at the point worst served by its own centre.
      std::size_t pick = 0;
      double best = 0;
      for (std::size_t i = 0; i < m; ++i) {
        const double score = weight[i] * nearest[i];
        if (score > best) {
          best = score;
          pick = i;
        }
      }
      if (best == 0) continue;  // stays empty; dropped below
      centres[j] = lab[pick];
      nearest[pick] = 0;
    }
  }

  // 4. The clusters from their members' exact counts and integer sums.
  std::vector<Cell> clusters(kc);
  for (std::size_t i = 0; i < m; ++i) merge_cell(clusters[assigned[i]], points_[i]);
  std::erase_if(clusters, [](const Cell& c) { return c.count == 0; });
  std::sort(clusters.begin(), clusters.end(), [](const Cell& a, const Cell& b) {
    return a.count != b.count ? a.count > b.count : a.best_order < b.best_order;
  });
  std::vector<PaletteEntry> out;
  out.reserve(clusters.size());
  for (const Cell& c : clusters) {
    PaletteEntry e;
    e.mean = Rgb{rounded_mean(c.sum_r, c.count), rounded_mean(c.sum_g, c.count), rounded_mean(c.sum_b, c.count)};
    e.count = c.count;
    e.dominant = ColorCount{rgb_of_key(c.best_key), c.best_count};
    out.push_back(e);
  }
  return out;
}

}  // namespace huepool
