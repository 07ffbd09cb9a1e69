#include "worker/payload_reader.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <utility>

namespace huepool::worker {

// The buffer is exactly kCopiedPayloadBytes: AnonymousMapping rounds up to huge pages.
static_assert(PayloadReader::kCopiedPayloadBytes % AnonymousMapping::kHugePageBytes == 0);

Payload::Payload(Payload&& other) noexcept
    : bytes_(other.bytes_), mapping_(std::exchange(other.mapping_, nullptr)) {}

Payload::~Payload() {
  if (mapping_ != nullptr) ::munmap(mapping_, bytes_.size());
}

void PayloadReader::reserve() {
  if (buffer_) return;
  buffer_ = AnonymousMapping(kCopiedPayloadBytes, /*huge_pages=*/true);
  buffer_.populate();
}

std::variant<Payload, ImageError> PayloadReader::read(int fd, std::uint64_t size) {
  // The announced size is checked before anything is read or mapped for it.
  struct stat st {};
  if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) < size)
    return ImageError{ErrorCode::internal, "image fd is shorter than announced"};
  if (size == 0) return Payload({}, nullptr);
  const auto n = static_cast<std::size_t>(size);
  if (size > kCopiedPayloadBytes) {
    // MAP_POPULATE: the decoder reads every byte; mapping them in one go is cheaper than faulting.
    void* p = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    if (p == MAP_FAILED) return ImageError{ErrorCode::internal, "cannot map image fd"};
    return Payload({static_cast<const std::uint8_t*>(p), n}, p);
  }
  try {
    reserve();
  } catch (const std::bad_alloc&) {
    return ImageError{ErrorCode::internal, "worker out of memory for the image bytes"};
  }
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd, buffer_.data() + done, n - done, static_cast<off_t>(done));
    if (got > 0) {
      done += static_cast<std::size_t>(got);
    } else if (got == 0) {
      return ImageError{ErrorCode::internal, "image fd is shorter than announced"};
    } else if (errno != EINTR) {
      return ImageError{ErrorCode::internal, std::string("cannot read image fd: ") + std::strerror(errno)};
    }
  }
  return Payload({buffer_.data(), n}, nullptr);
}

}  // namespace huepool::worker
