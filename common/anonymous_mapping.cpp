#include "common/anonymous_mapping.hpp"

#include <sys/mman.h>

#include <new>
#include <utility>

namespace huepool {

AnonymousMapping::AnonymousMapping(std::size_t bytes, bool huge_pages) {
  const std::size_t size = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  const std::size_t mapped = huge_pages ? size + kHugePageBytes : size;  // room to align
  void* p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  base_ = p;
  mapped_ = mapped;
  auto address = reinterpret_cast<std::uintptr_t>(p);
  if (huge_pages) {
    address = (address + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
#ifdef MADV_HUGEPAGE
    ::madvise(reinterpret_cast<void*>(address), size, MADV_HUGEPAGE);
#endif
  }
  data_ = reinterpret_cast<std::uint8_t*>(address);
  size_ = size;
}

AnonymousMapping::AnonymousMapping(AnonymousMapping&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      mapped_(std::exchange(other.mapped_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

AnonymousMapping& AnonymousMapping::operator=(AnonymousMapping&& other) noexcept {
  if (this != &other) {
    if (base_ != nullptr) ::munmap(base_, mapped_);
    base_ = std::exchange(other.base_, nullptr);
    mapped_ = std::exchange(other.mapped_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

AnonymousMapping::~AnonymousMapping() {
  if (base_ != nullptr) ::munmap(base_, mapped_);
}

void AnonymousMapping::populate() noexcept {
#ifdef MADV_POPULATE_WRITE
  if (::madvise(data_, size_, MADV_POPULATE_WRITE) == 0) return;
#endif
  // The pages are all zeros already; a write of zero commits each one.
  auto* bytes = reinterpret_cast<volatile std::uint8_t*>(data_);
  for (std::size_t i = 0; i < size_; i += 4096) bytes[i] = 0;
}

}  // namespace huepool
