#pragma once
// A private, anonymous, read-write mapping (mmap), unmapped by its destructor:
// for a large buffer a process keeps for its whole life and commits before
// its first use. The counter's dense table (color_counter.hpp) and the
// worker's payload buffer (worker/payload_reader.hpp) are two.
//
// Fresh pages read as zero and cost RSS only once written or populated. With
// huge_pages the block is 2 MiB-aligned and marked MADV_HUGEPAGE, a hint:
// where transparent huge pages are off it stays in ordinary 4 KiB pages.

#include <cstddef>
#include <cstdint>

namespace huepool {

class AnonymousMapping {
 public:
  // The x86-64 transparent huge page; sizes are rounded up to a multiple of it.
  static constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

  AnonymousMapping() = default;  // maps nothing
  // At least `bytes` (rounded up to a multiple of kHugePageBytes), uncommitted.
  // Throws std::bad_alloc when the mapping fails.
  AnonymousMapping(std::size_t bytes, bool huge_pages);
  AnonymousMapping(AnonymousMapping&& other) noexcept;
  AnonymousMapping& operator=(AnonymousMapping&& other) noexcept;
  AnonymousMapping(const AnonymousMapping&) = delete;
  AnonymousMapping& operator=(const AnonymousMapping&) = delete;
  ~AnonymousMapping();

  // Commits every page now, as zeros: MADV_POPULATE_WRITE, or one write a
  // page on kernels before Linux 5.14.
  void populate() noexcept;

  std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }  // from data(), a multiple of kHugePageBytes
  explicit operator bool() const noexcept { return data_ != nullptr; }

 private:
  void* base_ = nullptr;  // what mmap returned, with any alignment slack
  std::size_t mapped_ = 0;
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace huepool
