#include "proto/image_payload.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

namespace huepool::proto {

namespace {

UniqueFd create_memfd() {
  UniqueFd fd(::memfd_create("huepool-image", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) throw std::system_error(errno, std::generic_category(), "memfd_create");
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
// F_SEAL_WRITE fails with EBUSY while the kernel still sees a page of the
// memfd pinned (a transient reference, e.g. memory compaction looking at it;
// seen once under the chaos soak in a fresh container): tried a few times,
// then the caller turns the error into that request's problem.
constexpr int kSealAttempts = 4;

void seal(int fd) {
  for (int attempt = 1;; ++attempt) {
    if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0) return;
    if ((errno != EBUSY && errno != EINTR) || attempt == kSealAttempts)
      throw std::system_error(errno, std::generic_category(), "seal memfd");
  }
}

}  // namespace

ImagePayload ImagePayload::from_bytes(std::vector<std::uint8_t> bytes) {
  ImagePayload p;
  p.bytes_ = std::move(bytes);
  return p;
}

ImagePayload ImagePayload::from_memfd(UniqueFd fd, std::size_t size) {
  ImagePayload p;
  p.fd_ = std::move(fd);
  p.fd_size_ = size;
  return p;
}

ImagePayload ImagePayload::from_span(std::span<const std::uint8_t> bytes, std::size_t inline_max) {
  PayloadBuilder b(inline_max);
  b.append(bytes);
  return std::move(b).finish();
}

std::size_t ImagePayload::size() const { return fd_ ? fd_size_ : bytes_.size(); }
bool ImagePayload::is_fd() const { return static_cast<bool>(fd_); }
int ImagePayload::fd() const { return fd_.get(); }
std::span<const std::uint8_t> ImagePayload::inline_bytes() const { return bytes_; }

MemfdWriter::MemfdWriter() : fd_(create_memfd()) {}

void MemfdWriter::append(std::span<const std::uint8_t> bytes) {
  write_all(fd_.get(), bytes);
  size_ += bytes.size();
}

ImagePayload MemfdWriter::finish() && {
  seal(fd_.get());
  return ImagePayload::from_memfd(std::move(fd_), std::exchange(size_, 0));
}

PayloadBuilder::PayloadBuilder(std::size_t inline_max) : inline_max_(std::min(inline_max, kInlinePayloadMax)) {}

void PayloadBuilder::append(std::span<const std::uint8_t> bytes) {
  if (memfd_) {
    memfd_->append(bytes);
    return;
  }
  if (bytes_.size() + bytes.size() <= inline_max_) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
    return;
  }
  MemfdWriter writer;
  writer.append(bytes_);
  writer.append(bytes);
  memfd_.emplace(std::move(writer));
  bytes_ = {};
}

ImagePayload PayloadBuilder::finish() && {
  if (memfd_) return std::move(*memfd_).finish();
  return ImagePayload::from_bytes(std::move(bytes_));
}

}  // namespace huepool::proto
