#include "common/image_size_probe.hpp"

#include <algorithm>
#include <cstring>

namespace huepool {

namespace {

constexpr std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
constexpr std::size_t kPngHeaderBytes = 24;  // signature, IHDR length and type, width, height
constexpr std::size_t kJpegFrameBytes = 5;   // SOFn: precision, height, width

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

// SOF0-3, 5-7, 9-11, 13-15: C4 is DHT, C8 JPG, CC DAC.
bool is_frame_header(std::uint8_t code) {
  return code >= 0xC0 && code <= 0xCF && code != 0xC4 && code != 0xC8 && code != 0xCC;
}

}  // namespace

void ImageSizeProbe::feed(std::span<const std::uint8_t> bytes) {
  std::size_t i = 0;
  while (i < bytes.size() && !settled()) {
    if (state_ == State::jpeg_skip) {  // bulk: a segment's body is never looked at
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, bytes.size() - i));
      skip_ -= n;
      i += n;
      if (skip_ == 0) state_ = State::jpeg_marker;
      continue;
    }
    step(bytes[i++]);
  }
}

void ImageSizeProbe::step(std::uint8_t b) {
  switch (state_) {
    case State::signature:
      buf_[have_++] = b;
      if (buf_[0] == 0xFF) {  // JPEG: SOI is FF D8
        if (have_ == 2) state_ = b == 0xD8 ? State::jpeg_marker : State::gave_up;
        have_ = have_ == 2 ? 0 : have_;
        return;
      }
      state_ = buf_[0] == kPngSignature[0] ? State::png_header : State::gave_up;
      return;
    case State::png_header:
      buf_[have_++] = b;
      if (have_ < kPngHeaderBytes) return;
      if (std::memcmp(buf_, kPngSignature, sizeof kPngSignature) != 0 || std::memcmp(buf_ + 12, "IHDR", 4) != 0) {
        state_ = State::gave_up;
        return;
      }
      pixels_ = std::uint64_t{be32(buf_ + 16)} * be32(buf_ + 20);
      state_ = pixels_ != 0 ? State::found : State::gave_up;
      return;
    case State::jpeg_marker:
      // libjpeg skips stray bytes before a marker (with a warning): so do we.
      if (b == 0xFF) state_ = State::jpeg_code;
      return;
    case State::jpeg_code:
      on_jpeg_code(b);
      return;
    case State::jpeg_length:
      buf_[have_++] = b;
      if (have_ < 2) return;
      if (const std::uint16_t length = be16(buf_); length < 2) {
        state_ = State::gave_up;
      } else if (frame_next_) {
        state_ = State::jpeg_frame;
      } else {
        skip_ = length - 2u;
        state_ = skip_ != 0 ? State::jpeg_skip : State::jpeg_marker;
      }
      have_ = 0;
      return;
    case State::jpeg_frame:
      buf_[have_++] = b;
      if (have_ < kJpegFrameBytes) return;
      pixels_ = std::uint64_t{be16(buf_ + 1)} * be16(buf_ + 3);
      state_ = pixels_ != 0 ? State::found : State::gave_up;  // height 0: stated later (DNL)
      return;
    case State::jpeg_skip:
    case State::found:
    case State::gave_up:
      return;
  }
}

void ImageSizeProbe::on_jpeg_code(std::uint8_t code) {
  if (code == 0xFF) return;  // fill byte
  if (code == 0x01 || (code >= 0xD0 && code <= 0xD7)) {  // TEM, RSTn: no length
    state_ = State::jpeg_marker;
    return;
  }
  if (code == 0x00 || code == 0xD8 || code == 0xD9 || code == 0xDA) {  // stuffing, SOI, EOI, SOS: no frame ahead
    state_ = State::gave_up;
    return;
  }
  frame_next_ = is_frame_header(code);
  have_ = 0;
  state_ = State::jpeg_length;
}

std::optional<std::uint64_t> ImageSizeProbe::pixels() const {
  if (state_ != State::found) return std::nullopt;
  return pixels_;
}

std::optional<std::uint64_t> probe_image_pixels(std::span<const std::uint8_t> bytes) {
  ImageSizeProbe probe;
  probe.feed(bytes);
  return probe.pixels();
}

}  // namespace huepool
