#pragma once
// ImagePayload: the bytes of one image on their way to a worker. Small images
// travel inline in the job frame; large ones live in a sealed memfd that is
// passed with SCM_RIGHTS, so they are never copied through the socket.
// Move-only; owns its fd (UniqueFd). Implementation owned by proto/ (issue #3).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "proto/unique_fd.hpp"
#include "proto/wire_format.hpp"

namespace huepool::proto {

class ImagePayload {
 public:
  ImagePayload() = default;
  static ImagePayload from_bytes(std::vector<std::uint8_t> bytes);
  // A memfd holding `size` bytes at offset 0.
  static ImagePayload from_memfd(UniqueFd fd, std::size_t size);
  // Builds a payload from bytes, choosing inline or memfd by `inline_max`.
  static ImagePayload from_span(std::span<const std::uint8_t> bytes, std::size_t inline_max);

  std::size_t size() const;
  bool is_fd() const;
  int fd() const;  // -1 when inline
  std::span<const std::uint8_t> inline_bytes() const;

 private:
  std::vector<std::uint8_t> bytes_;
  UniqueFd fd_;
  std::size_t fd_size_ = 0;  // meaningful only with fd_, so a moved-from payload is empty
};

// Appends bytes to a growing memfd (an upload streaming in); finish() seals it
// and hands it over as a payload. RAII: an unfinished writer closes its fd.
class MemfdWriter {
 public:
  MemfdWriter();  // throws std::system_error if memfd_create fails
  void append(std::span<const std::uint8_t> bytes);  // throws std::system_error
  std::size_t size() const { return size_; }
  ImagePayload finish() &&;

 private:
  UniqueFd fd_;
  std::size_t size_ = 0;
};

// One image's bytes as they arrive (an upload, a file being read): in memory
// up to `inline_max`, then moved once into a memfd, so whichever way the
// image travels it is written once. `inline_max` is capped at
// kInlinePayloadMax, the most a job frame carries: past that the pool would
// only copy the bytes into a memfd again.
class PayloadBuilder {
 public:
  explicit PayloadBuilder(std::size_t inline_max = kInlinePayloadMax);
  void append(std::span<const std::uint8_t> bytes);  // throws std::system_error (memfd)
  std::size_t size() const { return memfd_ ? memfd_->size() : bytes_.size(); }
  ImagePayload finish() &&;

 private:
  std::size_t inline_max_;
  std::vector<std::uint8_t> bytes_;
  std::optional<MemfdWriter> memfd_;
};

}  // namespace huepool::proto
