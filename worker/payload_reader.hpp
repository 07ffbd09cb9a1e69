#pragma once
// A job's image bytes, from its sealed memfd.
//
// Up to kCopiedPayloadBytes are read (pread) into one buffer the worker keeps
// for its whole life: 2 MiB-aligned, asked for as transparent huge pages and
// committed before the first job (reserve()). Larger payloads are mapped
// (MAP_POPULATE) and unmapped after the image.
//
// Why copy the common sizes: the memfd's pages are in the page cache already
// (the server wrote them), and on the machine measured, mapping them and
// unmapping them after the image cost more than copying them into pages the
// worker has mapped all along: 466 KB took ~245 us to map, checksum and
// unmap against ~100 us to read and checksum (docs/BENCHMARKS.md "Reading the
// payload"). Huge pages, because with 4 KiB pages (committed the same way)
// a fresh worker's first image cost 1.6x the next one, against 1.1x with
// them ("Reading the payload into huge pages"). Past a few MiB the decode
// dwarfs either way of getting the bytes, and a bigger buffer would only be
// resident memory.
//
// Errors: ErrorCode::internal with a message (a short memfd, a failed read or
// map); the worker answers the job with it and lives on.

#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "common/analysis.hpp"
#include "common/anonymous_mapping.hpp"

namespace huepool::worker {

// The bytes of one job: a view of the reader's buffer, or a mapping of its
// own. Valid until destroyed or until the reader's next read().
class Payload {
 public:
  Payload(const Payload&) = delete;
  Payload& operator=(const Payload&) = delete;
  Payload(Payload&& other) noexcept;
  Payload& operator=(Payload&&) = delete;
  ~Payload();
  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
  bool mapped() const noexcept { return mapping_ != nullptr; }

 private:
  friend class PayloadReader;
  Payload(std::span<const std::uint8_t> bytes, void* mapping) : bytes_(bytes), mapping_(mapping) {}
  std::span<const std::uint8_t> bytes_;
  void* mapping_;  // munmap'd on destruction when not null
};

class PayloadReader {
 public:
  // Payloads up to this size are copied into the kept buffer; larger ones are mapped.
  static constexpr std::size_t kCopiedPayloadBytes = std::size_t{4} << 20;

  PayloadReader() = default;
  PayloadReader(const PayloadReader&) = delete;
  PayloadReader& operator=(const PayloadReader&) = delete;

  // Maps and commits the kept buffer now (before the system-call filter and
  // `ready`, so the first job finds it resident). Without it the first read
  // does it. Throws std::bad_alloc when the buffer cannot be mapped.
  void reserve();

  // Exactly `size` bytes from the start of `fd`.
  std::variant<Payload, ImageError> read(int fd, std::uint64_t size);

  // Whether the kept buffer is mapped (tests).
  bool reserved() const noexcept { return static_cast<bool>(buffer_); }

 private:
  AnonymousMapping buffer_;  // kCopiedPayloadBytes, 2 MiB-aligned, huge pages
};

}  // namespace huepool::worker
