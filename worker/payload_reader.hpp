#pragma once
// A job's image bytes, read from its sealed memfd into memory the worker
// keeps between jobs.
//
// Why read and not map: the memfd's pages are in the page cache already (the
// server wrote them), and on the machines measured, mapping them (with
// MAP_POPULATE) and unmapping them after the image cost more than copying
// them: 466 KB took ~235 us to map, checksum and unmap against ~100 us to
// read and checksum (docs/BENCHMARKS.md "Reading the payload").
//
// A buffer of up to kKeptPayloadBytes is kept for the next job; a larger
// payload gets one of its own, released when the next read starts, so a
// worker's RSS does not keep the largest upload it ever saw.
//
// Errors: ErrorCode::internal with a message (a short memfd, a failed read,
// no memory); the worker answers the job with it and lives on.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <variant>

#include "common/analysis.hpp"

namespace huepool::worker {

class PayloadReader {
 public:
  // Payloads up to this size keep their buffer for the next job.
  static constexpr std::size_t kKeptPayloadBytes = std::size_t{4} << 20;

  // Reads exactly `size` bytes from the start of `fd`. The span stays valid
  // until the next read().
  std::variant<std::span<const std::uint8_t>, ImageError> read(int fd, std::uint64_t size);

  // Bytes held between jobs (tests).
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  struct FreeDeleter {
    void operator()(std::uint8_t* p) const noexcept;
  };
  std::unique_ptr<std::uint8_t[], FreeDeleter> buffer_;
  std::size_t capacity_ = 0;
};

}  // namespace huepool::worker
