#pragma once
// Counting ideas measured by engine_bench --variants against the product's
// ColorCounter. Each is exact over rgb/rgbx rows (alpha ignored) and reports
// its winner from finish(), so the work cannot be optimized away; none keeps
// the first-touch order unless its name says so. Benchmark code only.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/pixel_rows.hpp"

namespace huepool::bench {

class CountVariant {
 public:
  virtual ~CountVariant() = default;
  virtual std::string name() const = 0;
  virtual void begin(std::uint64_t pixels) = 0;
  virtual void add(const std::uint8_t* p, std::size_t n, PixelLayout layout) noexcept = 0;
  virtual std::uint32_t finish() = 0;  // the top count
};

std::vector<std::unique_ptr<CountVariant>> all_variants();

}  // namespace huepool::bench
