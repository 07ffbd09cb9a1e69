#include "common/analyzer.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <string>

#include "common/color_counter.hpp"
#include "common/jpeg_decoder.hpp"
#include "common/pixel_rows.hpp"
#include "common/png_decoder.hpp"

namespace huepool {

namespace {

constexpr std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
constexpr std::uint8_t kJpegSignature[3] = {0xFF, 0xD8, 0xFF};
// Counts are uint32 (ColorCounter): no image may have more pixels than that.
constexpr std::uint64_t kMaxCountablePixels = std::numeric_limits<std::uint32_t>::max();

// Feeds decoded rows straight into the counter while they are still in cache.
class CountingSink final : public RowSink {
 public:
  CountingSink(ColorCounter& counter, const DecodeLimits& limits) : counter_(counter), limits_(limits) {}

  std::optional<ImageError> on_header(const ImageHeader& header) noexcept override {
    if (auto error = check_limits(header, limits_)) return error;
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

  const ImageHeader& header() const { return header_; }

 private:
  ColorCounter& counter_;
  const DecodeLimits& limits_;
  ImageHeader header_;
};

}  // namespace

std::optional<ImageError> check_limits(const ImageHeader& header, const DecodeLimits& limits) {
  const std::uint64_t pixels = std::uint64_t{header.width} * header.height;
  if (header.width > limits.max_width || header.height > limits.max_height ||
      pixels > std::min(limits.max_pixels, kMaxCountablePixels)) {
    return ImageError{ErrorCode::too_large,
                      "image is " + std::to_string(header.width) + "x" + std::to_string(header.height) +
                          ", over the limit of " + std::to_string(limits.max_width) + "x" +
                          std::to_string(limits.max_height) + " and " +
                          std::to_string(limits.max_pixels) + " pixels"};
  }
  return std::nullopt;
}

std::optional<ImageFormat> sniff_format(std::span<const std::uint8_t> bytes) {
  if (bytes.size() >= sizeof kPngSignature &&
      std::memcmp(bytes.data(), kPngSignature, sizeof kPngSignature) == 0)
    return ImageFormat::png;
  if (bytes.size() >= sizeof kJpegSignature &&
      std::memcmp(bytes.data(), kJpegSignature, sizeof kJpegSignature) == 0)
    return ImageFormat::jpeg;
  return std::nullopt;
}

struct Analyzer::State {
  ColorCounter counter;
  PngDecoder png;
  JpegDecoder jpeg;
};

Analyzer::Analyzer(DecodeLimits limits) : limits_(limits), state_(std::make_unique<State>()) {}
Analyzer::~Analyzer() = default;
Analyzer::Analyzer(Analyzer&&) noexcept = default;
Analyzer& Analyzer::operator=(Analyzer&&) noexcept = default;

AnalysisOutcome Analyzer::analyze(std::span<const std::uint8_t> bytes, const AnalyzeOptions& options) {
  try {
    const std::optional<ImageFormat> format = sniff_format(bytes);
    if (!format)
      return ImageError{ErrorCode::unsupported_format,
                        bytes.empty() ? "empty input" : "not a PNG or JPEG (unknown magic bytes)"};
    const bool want_alpha = options.alpha == AlphaMode::ignore;
    CountingSink sink(state_->counter, limits_);
    std::optional<ImageError> error = *format == ImageFormat::png
                                          ? state_->png.decode(bytes, limits_, want_alpha, sink)
                                          : state_->jpeg.decode(bytes, limits_, sink);
    if (error) return *std::move(error);

    ImageAnalysis result;
    result.format = *format;
    ColorCounter& counter = state_->counter;
    result.colors = counter.finish(std::clamp(options.top, 1u, kMaxTop));
    if (counter.counted() == 0)
      return ImageError{ErrorCode::no_pixels, "no pixel was counted (every pixel is transparent)"};
    result.pixels = counter.counted();
    result.width = sink.header().width;
    result.height = sink.header().height;
    return result;
  } catch (const std::bad_alloc&) {
    return ImageError{ErrorCode::internal, "out of memory"};
  } catch (const std::exception& e) {
    return ImageError{ErrorCode::internal, e.what()};
  }
}

}  // namespace huepool
