#include "proto/image_payload.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace huepool::proto {

namespace {

int create_memfd() {
  const int fd = ::memfd_create("huepool-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "memfd_create");
  return fd;
}

void write_all(int fd, std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "write memfd");
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
}

// After sealing, neither side can change the image under the other's feet.
void seal(int fd) {
  if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    throw std::system_error(errno, std::generic_category(), "seal memfd");
}

}  // namespace

ImagePayload ImagePayload::from_bytes(std::vector<std::uint8_t> bytes) {
  ImagePayload p;
  p.size_ = bytes.size();
  p.bytes_ = std::move(bytes);
  return p;
}

ImagePayload ImagePayload::from_memfd(int fd, std::size_t size) {
  ImagePayload p;
  p.fd_ = fd;
  p.size_ = size;
  return p;
}

ImagePayload ImagePayload::from_span(std::span<const std::uint8_t> bytes, std::size_t inline_max) {
  if (bytes.size() <= inline_max) return from_bytes({bytes.begin(), bytes.end()});
  MemfdWriter w;
  w.append(bytes);
  return std::move(w).finish();
}

ImagePayload::ImagePayload(ImagePayload&& o) noexcept
    : bytes_(std::move(o.bytes_)), fd_(std::exchange(o.fd_, -1)), size_(std::exchange(o.size_, 0)) {}

ImagePayload& ImagePayload::operator=(ImagePayload&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    bytes_ = std::move(o.bytes_);
    fd_ = std::exchange(o.fd_, -1);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

ImagePayload::~ImagePayload() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t ImagePayload::size() const { return size_; }
bool ImagePayload::is_fd() const { return fd_ >= 0; }
int ImagePayload::fd() const { return fd_; }
std::span<const std::uint8_t> ImagePayload::inline_bytes() const { return bytes_; }

MemfdWriter::MemfdWriter() : fd_(create_memfd()) {}

MemfdWriter::MemfdWriter(MemfdWriter&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), size_(std::exchange(o.size_, 0)) {}

MemfdWriter& MemfdWriter::operator=(MemfdWriter&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

MemfdWriter::~MemfdWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void MemfdWriter::append(std::span<const std::uint8_t> bytes) {
  write_all(fd_, bytes);
  size_ += bytes.size();
}

ImagePayload MemfdWriter::finish() && {
  seal(fd_);
  return ImagePayload::from_memfd(std::exchange(fd_, -1), std::exchange(size_, 0));
}

}  // namespace huepool::proto
