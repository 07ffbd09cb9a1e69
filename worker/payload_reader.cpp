#include "worker/payload_reader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace huepool::worker {

void PayloadReader::FreeDeleter::operator()(std::uint8_t* p) const noexcept { std::free(p); }

std::variant<std::span<const std::uint8_t>, ImageError> PayloadReader::read(int fd, std::uint64_t size) {
  if (capacity_ > kKeptPayloadBytes) {  // the last payload's own buffer
    buffer_.reset();
    capacity_ = 0;
  }
  // The announced size is checked before anything is allocated for it.
  struct stat st {};
  if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) < size)
    return ImageError{ErrorCode::internal, "image fd is shorter than announced"};
  if (size == 0) return std::span<const std::uint8_t>{};
  if (size > capacity_) {
    // malloc, not a vector: no zero-fill of bytes that are overwritten at once.
    buffer_.reset();
    capacity_ = 0;
    auto* p = static_cast<std::uint8_t*>(std::malloc(static_cast<std::size_t>(size)));
    if (p == nullptr) return ImageError{ErrorCode::internal, "worker out of memory for the image bytes"};
    buffer_.reset(p);
    capacity_ = static_cast<std::size_t>(size);
  }
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, buffer_.get() + done, static_cast<std::size_t>(size) - done,
                              static_cast<off_t>(done));
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n == 0) {
      return ImageError{ErrorCode::internal, "image fd is shorter than announced"};
    } else if (errno != EINTR) {
      return ImageError{ErrorCode::internal, std::string("cannot read image fd: ") + std::strerror(errno)};
    }
  }
  return std::span<const std::uint8_t>(buffer_.get(), static_cast<std::size_t>(size));
}

}  // namespace huepool::worker
