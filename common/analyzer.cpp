#include "common/analyzer.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <string>

#include <zlib.h>

#include "common/color_counter.hpp"
#include "common/gif_decoder.hpp"
#include "common/jpeg_decoder.hpp"
#include "common/palette.hpp"
#include "common/pixel_rows.hpp"
#include "common/png_chunks.hpp"
#include "common/png_decoder.hpp"
#ifndef HUEPOOL_NO_PNG_FAST_PATH
#include "common/png_fast_decoder.hpp"
#endif
#include "common/webp_decoder.hpp"

namespace huepool {

namespace {

constexpr std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
constexpr std::uint8_t kJpegSignature[3] = {0xFF, 0xD8, 0xFF};
// WebP: a RIFF container (bytes 4-7 its size) of form type "WEBP".
constexpr std::uint8_t kRiffSignature[4] = {'R', 'I', 'F', 'F'};
constexpr std::uint8_t kWebpFormType[4] = {'W', 'E', 'B', 'P'};
// GIF: the two versions there are (Pillow accepts the same two).
constexpr std::uint8_t kGif87Signature[6] = {'G', 'I', 'F', '8', '7', 'a'};
constexpr std::uint8_t kGif89Signature[6] = {'G', 'I', 'F', '8', '9', 'a'};
// Counts are uint32 (ColorCounter): no image may have more pixels than that.
constexpr std::uint64_t kMaxCountablePixels = std::numeric_limits<std::uint32_t>::max();

// Feeds decoded rows straight into the counter while they are still in
// cache, and keeps the decoder's warnings for the result.
class CountingSink final : public RowSink {
 public:
  explicit CountingSink(ColorCounter& counter) : counter_(counter) {}

  std::optional<ImageError> on_header(const ImageHeader& header) noexcept override {
    header_ = header;
    try {
      counter_.begin(std::uint64_t{header.width} * header.height);
    } catch (const std::bad_alloc&) {
      return ImageError{ErrorCode::internal, "out of memory for the color table"};
    }
    return std::nullopt;
  }

  void on_rows(const std::uint8_t* first, std::size_t stride, std::uint32_t count,
               PixelLayout layout) noexcept override {
    for (std::uint32_t i = 0; i < count; ++i) counter_.add(first + i * stride, header_.width, layout);
  }

  // The same defect is often reported once per row or per chunk: kept once.
  void on_warning(std::string_view message) noexcept override {
    try {
      const std::string_view text = message.substr(0, kMaxWarningBytes);
      if (warnings_.size() >= kMaxWarnings ||
          std::find(warnings_.begin(), warnings_.end(), text) != warnings_.end())
        return;
      warnings_.emplace_back(text);
    } catch (const std::bad_alloc&) {
      // A warning is worth less than the result it would cost.
    }
  }

  void on_frame_count(std::uint32_t frames) noexcept override { frames_ = frames; }

  const ImageHeader& header() const { return header_; }
  std::uint32_t frames() const { return frames_; }
  std::vector<std::string> take_warnings() { return std::move(warnings_); }

 private:
  ColorCounter& counter_;
  ImageHeader header_;
  std::uint32_t frames_ = 0;
  std::vector<std::string> warnings_;
};

std::string mebibytes(std::uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

}  // namespace

std::optional<ImageError> check_limits(const ImageHeader& header, const DecodeLimits& limits) {
  const std::uint64_t pixels = std::uint64_t{header.width} * header.height;
  const std::string size = std::to_string(header.width) + "x" + std::to_string(header.height);
  if (pixels > std::min(limits.max_pixels, kMaxCountablePixels))
    return ImageError{ErrorCode::too_large, "image is " + size + " (" + std::to_string(pixels) +
                                                " pixels), over the limit of " +
                                                std::to_string(std::min(limits.max_pixels, kMaxCountablePixels)) +
                                                " pixels"};
  if (header.buffer_bytes > limits.max_buffer_bytes)
    return ImageError{ErrorCode::too_large, "image is " + size + " and needs about " +
                                                mebibytes(header.buffer_bytes) +
                                                " of row buffers to decode, over the limit of " +
                                                mebibytes(limits.max_buffer_bytes)};
  return std::nullopt;
}

namespace {
template <std::size_t N>
bool has_at(std::span<const std::uint8_t> bytes, std::size_t offset, const std::uint8_t (&magic)[N]) {
  return bytes.size() >= offset + N && std::memcmp(bytes.data() + offset, magic, N) == 0;
}
}  // namespace

std::optional<ImageFormat> sniff_format(std::span<const std::uint8_t> bytes) {
  if (has_at(bytes, 0, kPngSignature)) return ImageFormat::png;
  if (has_at(bytes, 0, kJpegSignature)) return ImageFormat::jpeg;
  if (has_at(bytes, 0, kRiffSignature) && has_at(bytes, 8, kWebpFormType)) return ImageFormat::webp;
  if (has_at(bytes, 0, kGif87Signature) || has_at(bytes, 0, kGif89Signature)) return ImageFormat::gif;
  return std::nullopt;
}

struct Analyzer::State {
  ColorCounter counter;
  PngDecoder png;
#ifndef HUEPOOL_NO_PNG_FAST_PATH
  FastPngDecoder fast_png{png};  // hands what it does not decode to png
#endif
  JpegDecoder jpeg;
  PaletteBuilder palette;
  WebpDecoder webp;
  GifDecoder gif;

  ImageDecoder& decoder_for(ImageFormat format, [[maybe_unused]] PngPath png_path) {
    switch (format) {
      case ImageFormat::png:
#ifndef HUEPOOL_NO_PNG_FAST_PATH
        if (png_path == PngPath::fast) return fast_png;
#endif
        return png;
      case ImageFormat::jpeg: return jpeg;
      case ImageFormat::webp: return webp;
      case ImageFormat::gif: return gif;
    }
    return png;  // unreachable: sniff_format names only these
  }
};

Analyzer::Analyzer(DecodeLimits limits, PngPath png_path)
    : limits_(limits), png_path_(png_path), state_(std::make_unique<State>()) {}
Analyzer::~Analyzer() = default;

namespace {

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void put_chunk(std::vector<std::uint8_t>& out, const char* type, const std::uint8_t* body, std::size_t n) {
  put_be32(out, static_cast<std::uint32_t>(n));
  const std::size_t at = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), body, body + n);
  put_be32(out, png_crc32(out.data() + at, n + 4));
}

// A 256x160 RGB PNG (more pixels than the small counter takes) whose rows
// use every filter type; its pixels mean nothing.
std::vector<std::uint8_t> warm_up_png() {
  constexpr std::uint32_t kWidth = 256, kHeight = 160;
  std::vector<std::uint8_t> raw;
  raw.reserve((kWidth * 3 + 1) * kHeight);
  for (std::uint32_t y = 0; y < kHeight; ++y) {
    raw.push_back(static_cast<std::uint8_t>(y % 5));
    for (std::uint32_t x = 0; x < kWidth * 3; ++x) raw.push_back(static_cast<std::uint8_t>((x * 7) ^ (y * 13) ^ (x * y)));
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::vector<std::uint8_t> packed(packed_size);
  if (compress2(packed.data(), &packed_size, raw.data(), static_cast<uLong>(raw.size()), 1) != Z_OK) return {};
  std::vector<std::uint8_t> png(kPngSignature, kPngSignature + sizeof kPngSignature);
  std::vector<std::uint8_t> ihdr;
  put_be32(ihdr, kWidth);
  put_be32(ihdr, kHeight);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});
  put_chunk(png, "IHDR", ihdr.data(), ihdr.size());
  put_chunk(png, "IDAT", packed.data(), packed_size);
  put_chunk(png, "IEND", nullptr, 0);
  return png;
}

}  // namespace

void Analyzer::warm_up() {
  state_->counter.prefault();
  const std::vector<std::uint8_t> png = warm_up_png();
  (void)analyze(png, AnalyzeOptions{});
  (void)analyze(png, AnalyzeOptions{1, AlphaMode::ignore, kMaxPalette});
}
Analyzer::Analyzer(Analyzer&&) noexcept = default;
Analyzer& Analyzer::operator=(Analyzer&&) noexcept = default;

AnalysisOutcome Analyzer::analyze(std::span<const std::uint8_t> bytes, const AnalyzeOptions& options) {
  try {
    const std::optional<ImageFormat> format = sniff_format(bytes);
    if (!format)
      return ImageError{ErrorCode::unsupported_format,
                        bytes.empty() ? "empty input" : "not a PNG, JPEG, WebP or GIF (unknown magic bytes)"};
    const DecodeRequest request{limits_, options.alpha == AlphaMode::ignore};
    CountingSink sink(state_->counter);
    if (auto error = state_->decoder_for(*format, png_path_).decode(bytes, request, sink)) return *std::move(error);

    ImageAnalysis result;
    result.format = *format;
    ColorCounter& counter = state_->counter;
    result.colors = counter.finish(std::clamp(options.top, 1u, kMaxTop));
    if (counter.counted() == 0)
      return ImageError{ErrorCode::no_pixels, "no pixel was counted (every pixel is transparent)"};
    result.pixels = counter.counted();
    if (options.palette > 0) result.palette = state_->palette.build(counter.counted_colors(), options.palette);
    result.width = sink.header().width;
    result.height = sink.header().height;
    result.frames = sink.frames();
    result.warnings = sink.take_warnings();
    return result;
  } catch (const std::bad_alloc&) {
    return ImageError{ErrorCode::internal, "out of memory"};
  } catch (const std::exception& e) {
    return ImageError{ErrorCode::internal, e.what()};
  }
}

}  // namespace huepool
