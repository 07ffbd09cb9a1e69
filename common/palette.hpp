#pragma once
// palette=K: the K perceptual dominant colors of an image, from its exact
// histogram (docs/PALETTE.md has the method, every parameter and why).
//
// Weighted k-means in CIELAB (D65, sRGB transfer function):
// - points: each distinct color when there are at most kExactPointsMax of
//   them; otherwise the colors are merged into the cells of a 2^(3 x
//   kGridBits) RGB grid, each cell a point at the mean of its members, with
//   the members' exact counts and sums kept. A whole cell joins one cluster.
// - weight of a point: its exact pixel count.
// - init: deterministic weighted farthest point (k-means++ taking the argmax
//   instead of sampling): the heaviest point, then each next centre at the
//   point with the largest count x squared distance to its nearest centre.
// - Lloyd iterations (squared Euclidean distance in Lab, i.e. CIE76) until no
//   point changes cluster, at most kMaxIterations; an emptied cluster is
//   re-seeded at the point with the largest count x squared distance.
// Deterministic by construction: sums over colors are integers (exact in any
// order), points are visited in cell or key order, floating point uses only
// + - * / (compiled without contraction into FMA) and our own cube root and
// transfer-function table, so no libm difference between machines can change
// a result. Ties go to the lower point or centre index.
//
// Not thread-safe: one PaletteBuilder per thread (it keeps its scratch).

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/analysis.hpp"

namespace huepool {

// The exact histogram as ColorCounter leaves it: n distinct colors, each with
// its count and its first-occurrence rank (which breaks count ties, as for
// the top colors). The ranks must be distinct.
struct CountedColors {
  std::span<const std::uint32_t> keys;    // r | g << 8 | b << 16, or blocked indices when `blocked`
  std::span<const std::uint32_t> counts;  // > 0
  std::span<const std::uint32_t> orders;  // first-occurrence rank of each; empty: its position
  bool blocked = false;                   // keys are color_keys.hpp blocked indices
};

class PaletteBuilder {
 public:
  // At most this many distinct colors are clustered one by one; above it,
  // the colors are merged into grid cells first.
  static constexpr std::size_t kExactPointsMax = 4096;
  // Bits per channel of the grid cells (5: 32 x 32 x 32 cells, 8 levels wide).
  static constexpr unsigned kGridBits = 4;
  static constexpr unsigned kMaxIterations = 32;

  // The k (1..kMaxPalette) clusters, largest count first (ties: the one whose
  // dominant color occurred first). Fewer when there are fewer points.
  std::vector<PaletteEntry> build(const CountedColors& colors, unsigned k);

  struct Cell {
    std::uint64_t count = 0;
    std::uint64_t sum_r = 0, sum_g = 0, sum_b = 0;  // of count x channel
    std::uint32_t best_count = 0;                   // the cell's most common exact color
    std::uint32_t best_order = 0;
    std::uint32_t best_key = 0;
  };

 private:
  std::vector<Cell> cells_;   // grid cells, indexed by cell (all empty between calls)
  std::vector<std::uint32_t> used_;  // indices of non-empty cells
  std::vector<Cell> points_;  // the points, in cell or key order
};

// CIELAB (D65) of an sRGB color whose channels may be fractional (0..255).
struct Lab {
  double l = 0, a = 0, b = 0;
};
Lab srgb_to_lab(double r, double g, double b);

}  // namespace huepool
