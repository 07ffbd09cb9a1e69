#pragma once
// ImageSizeProbe: an image's stated width x height, read from its bytes as
// they stream in (an upload part), so the server knows how much work an image
// is before any worker sees it (largest-first dispatch, server/pool/batch.hpp).
//
// - PNG: the IHDR's width and height (bytes 16..23), as stated.
// - JPEG: the first SOFn frame header, found by walking the marker segments
//   by their lengths (APPn, COM, DQT... are skipped by counting, never kept),
//   so a large EXIF or ICC block in front costs nothing but the walk.
// - Anything else (another format, a JPEG whose scan begins before any frame
//   header, a malformed marker): no answer, and the probe stops looking.
//
// It is a hint, not a check: nothing here validates the image (the worker's
// decoder does), and a file may state a size it does not have. Work per byte
// fed is O(1) and the probe holds no more than a few bytes. Single-threaded;
// no allocation.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace huepool {

class ImageSizeProbe {
 public:
  void feed(std::span<const std::uint8_t> bytes);

  // width * height once the header was seen and states a non-empty image.
  std::optional<std::uint64_t> pixels() const;
  // Known, or known never to be known (further bytes are ignored).
  bool settled() const { return state_ == State::found || state_ == State::gave_up; }

 private:
  enum class State : std::uint8_t {
    signature,       // the first bytes: which format
    png_header,      // collecting the PNG's first 24 bytes
    jpeg_marker,     // expecting 0xFF (and fill bytes) then a marker code
    jpeg_code,       // after 0xFF: the marker code
    jpeg_length,     // the segment's 2-byte length
    jpeg_skip,       // the rest of a segment we do not read
    jpeg_frame,      // collecting the SOFn segment's first 5 bytes
    found,
    gave_up,
  };

  void step(std::uint8_t b);
  void on_jpeg_code(std::uint8_t code);

  State state_ = State::signature;
  std::uint8_t buf_[24] = {};
  std::size_t have_ = 0;        // bytes in buf_ for the current state
  std::uint64_t skip_ = 0;      // jpeg_skip: bytes left in the segment
  bool frame_next_ = false;     // the segment whose length is being read is a SOFn
  std::uint64_t pixels_ = 0;
};

// The whole image at once (a file already in memory).
std::optional<std::uint64_t> probe_image_pixels(std::span<const std::uint8_t> bytes);

}  // namespace huepool
