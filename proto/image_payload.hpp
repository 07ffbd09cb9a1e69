#pragma once
// ImagePayload: the bytes of one image on their way to a worker. Small images
// travel inline in the job frame; large ones live in a sealed memfd that is
// passed with SCM_RIGHTS, so they are never copied through the socket.
// Move-only; owns its fd (RAII). Implementation owned by proto/ (issue #3).

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace huepool::proto {

class ImagePayload {
 public:
  ImagePayload() = default;
  static ImagePayload from_bytes(std::vector<std::uint8_t> bytes);
  // Takes ownership of a memfd holding `size` bytes at offset 0.
  static ImagePayload from_memfd(int fd, std::size_t size);
  // Builds a payload from bytes, choosing inline or memfd by `inline_max`.
  static ImagePayload from_span(std::span<const std::uint8_t> bytes, std::size_t inline_max);

  ImagePayload(ImagePayload&&) noexcept;
  ImagePayload& operator=(ImagePayload&&) noexcept;
  ImagePayload(const ImagePayload&) = delete;
  ImagePayload& operator=(const ImagePayload&) = delete;
  ~ImagePayload();

  std::size_t size() const;
  bool is_fd() const;
  int fd() const;  // -1 when inline
  std::span<const std::uint8_t> inline_bytes() const;

 private:
  std::vector<std::uint8_t> bytes_;
  int fd_ = -1;
  std::size_t size_ = 0;
};

// Appends bytes to a growing memfd (an upload streaming in); finish() seals it
// and hands it over as a payload. RAII: an unfinished writer closes its fd.
class MemfdWriter {
 public:
  MemfdWriter();  // throws std::system_error if memfd_create fails
  MemfdWriter(MemfdWriter&&) noexcept;
  MemfdWriter& operator=(MemfdWriter&&) noexcept;
  ~MemfdWriter();
  void append(std::span<const std::uint8_t> bytes);  // throws std::system_error
  std::size_t size() const { return size_; }
  ImagePayload finish() &&;

 private:
  int fd_ = -1;
  std::size_t size_ = 0;
};

}  // namespace huepool::proto
