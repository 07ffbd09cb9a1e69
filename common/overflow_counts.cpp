#include "common/overflow_counts.hpp"

#include <algorithm>
#include <bit>

namespace huepool {

namespace {

constexpr int kLowBits = 15;
constexpr std::size_t kMinSlots = 64;
constexpr std::uint32_t kHashMultiplier = 0x9E3779B1u;  // golden ratio; the slot is the product's high bits

}  // namespace

void OverflowCounts::reserve(std::uint64_t pixels) {
  clear();
  // At most pixels >> 15 colors pass 2^15; twice as many slots keeps every
  // probe sequence short and one slot always free.
  const std::size_t colors = static_cast<std::size_t>(pixels >> kLowBits);
  const std::size_t slots = std::max(kMinSlots, std::bit_ceil(2 * colors + 2));
  if (slots_.size() < slots) {
    slots_.assign(slots, Slot{kEmpty, 0});
  }
  mask_ = slots - 1;
}

std::size_t OverflowCounts::find(std::uint32_t index) const noexcept {
  const int shift = 32 - std::countr_zero(mask_ + 1);
  std::size_t s = (index * kHashMultiplier) >> shift;
  while (slots_[s].index != index && slots_[s].index != kEmpty) s = (s + 1) & mask_;
  return s;
}

void OverflowCounts::add(std::uint32_t index, std::uint32_t multiples) noexcept {
  Slot& slot = slots_[find(index)];
  // reserve() sized the table for every color this image can overflow; a
  // caller that counts more pixels than it reserved for is out of contract,
  // and the last free slot is kept so that find() always ends.
  if (slot.index == kEmpty) {
    if (2 * (used_ + 1) > mask_ + 1) return;
    slot.index = index;
    ++used_;
  }
  slot.multiples += multiples;
}

std::uint32_t OverflowCounts::get(std::uint32_t index) const noexcept {
  if (used_ == 0) return 0;
  return slots_[find(index)].multiples;
}

void OverflowCounts::clear() noexcept {
  if (used_ == 0) return;
  std::fill_n(slots_.begin(), mask_ + 1, Slot{kEmpty, 0});
  used_ = 0;
}

}  // namespace huepool
