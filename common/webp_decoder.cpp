#include "common/webp_decoder.hpp"

#include <webp/decode.h>
#include <webp/demux.h>

#include <algorithm>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace huepool {

namespace {

struct DemuxDeleter {
  void operator()(WebPDemuxer* d) const { WebPDemuxDelete(d); }
};
struct AnimDecoderDeleter {
  void operator()(WebPAnimDecoder* d) const { WebPAnimDecoderDelete(d); }
};
// Releases a frame iterator on every path.
class FrameIterator {
 public:
  FrameIterator() = default;
  ~FrameIterator() {
    if (valid_) WebPDemuxReleaseIterator(&iter_);
  }
  FrameIterator(const FrameIterator&) = delete;
  FrameIterator& operator=(const FrameIterator&) = delete;
  bool first(const WebPDemuxer* demux) { return valid_ = WebPDemuxGetFrame(demux, 1, &iter_) != 0; }
  const WebPIterator& get() const { return iter_; }

 private:
  WebPIterator iter_{};
  bool valid_ = false;
};

std::string status_text(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "the bitstream is damaged";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "an unsupported feature";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "the data ends early (truncated)";
    default: return "libwebp status " + std::to_string(static_cast<int>(status));
  }
}

ImageError failed(VP8StatusCode status) {
  if (status == VP8_STATUS_OUT_OF_MEMORY) return ImageError{ErrorCode::internal, "WebP: out of memory"};
  return ImageError{ErrorCode::decode_failed, "WebP: " + status_text(status)};
}

// What one decode holds, from the header (DecodeLimits::max_buffer_bytes):
// the RGBA output of the whole image; inside libwebp, a lossless image's
// ARGB pixels (4 bytes a pixel) or a lossy image's alpha plane (1 byte a
// pixel, and up to 4 more while its lossless-coded alpha is decoded), plus
// macroblock rows; an animation's two canvases instead of our output.
std::uint64_t webp_buffer_bytes(const WebPBitstreamFeatures& f) {
  constexpr std::uint64_t kCodecBytesPerColumn = 64;
  const std::uint64_t pixels = std::uint64_t(f.width) * std::uint64_t(f.height);
  std::uint64_t codec = kCodecBytesPerColumn * std::uint64_t(f.width);
  if (f.format == 2) codec += 4 * pixels;
  else if (f.has_alpha || f.has_animation) codec += 5 * pixels;
  const std::uint64_t output = (f.has_animation ? 8 : 4) * pixels + kRowPadding;
  return output + codec;
}

// Hands `height` rows of RGBA at `rgba` to the sink in bands. The last row
// is copied so that it has the padding the sink may read past it.
void emit_rows(RowSink& sink, const std::uint8_t* rgba, std::uint32_t width, std::uint32_t height,
               PixelLayout layout, std::vector<std::uint8_t>& last_row) {
  const std::size_t stride = std::size_t{width} * 4;
  const std::uint32_t band =
      static_cast<std::uint32_t>(std::clamp<std::size_t>(WebpDecoder::kBandBytes / stride, 1, height));
  std::uint32_t y = 0;
  while (y + 1 < height) {
    const std::uint32_t n = std::min(band, height - 1 - y);
    sink.on_rows(rgba + y * stride, stride, n, layout);
    y += n;
  }
  std::copy_n(rgba + y * stride, stride, last_row.begin());
  sink.on_rows(last_row.data(), stride, 1, layout);
}

}  // namespace

std::optional<ImageError> WebpDecoder::decode(std::span<const std::uint8_t> bytes, const DecodeRequest& request,
                                              RowSink& sink) {
  WebPBitstreamFeatures features{};
  if (const VP8StatusCode status = WebPGetFeatures(bytes.data(), bytes.size(), &features); status != VP8_STATUS_OK)
    return failed(status);
  const auto width = static_cast<std::uint32_t>(features.width);
  const auto height = static_cast<std::uint32_t>(features.height);
  const ImageHeader header{width, height, webp_buffer_bytes(features)};
  if (auto error = check_limits(header, request.limits)) return error;

  // The container as Pillow's WebPAnimDecoder sees it: a file it cannot parse
  // (chunk sizes past the end, a frame outside the canvas, ...) fails here.
  // WebPDemux keeps a small record per chunk, no pixel.
  const WebPData data{bytes.data(), bytes.size()};
  std::unique_ptr<WebPDemuxer, DemuxDeleter> demux(WebPDemux(&data));
  if (!demux) return ImageError{ErrorCode::decode_failed, "WebP: the RIFF container cannot be parsed"};
  const std::uint32_t frames = WebPDemuxGetI(demux.get(), WEBP_FF_FRAME_COUNT);
  if (frames == 0) return ImageError{ErrorCode::decode_failed, "WebP: no frame in the file"};
  const PixelLayout layout = request.want_alpha && features.has_alpha ? PixelLayout::rgba : PixelLayout::rgbx;
  if (auto error = sink.on_header(header)) return error;

  const std::size_t stride = std::size_t{width} * 4;
  std::vector<std::uint8_t> last_row;
  try {
    last_row.resize(stride + kRowPadding);
  } catch (const std::bad_alloc&) {
    return ImageError{ErrorCode::internal, "out of memory for WebP rows"};
  }

  if (features.has_animation) {
    WebPAnimDecoderOptions options;
    if (!WebPAnimDecoderOptionsInit(&options)) return ImageError{ErrorCode::internal, "WebP: libwebp version mismatch"};
    options.color_mode = MODE_RGBA;
    options.use_threads = 0;
    std::unique_ptr<WebPAnimDecoder, AnimDecoderDeleter> anim(WebPAnimDecoderNew(&data, &options));
    if (!anim) return ImageError{ErrorCode::decode_failed, "WebP: the animation cannot be read"};
    WebPAnimInfo info{};
    if (!WebPAnimDecoderGetInfo(anim.get(), &info) || info.canvas_width != width || info.canvas_height != height)
      return ImageError{ErrorCode::decode_failed, "WebP: the animation's canvas does not match its header"};
    std::uint8_t* canvas = nullptr;
    int timestamp = 0;
    if (!WebPAnimDecoderGetNext(anim.get(), &canvas, &timestamp))
      return ImageError{ErrorCode::decode_failed, "WebP: the first frame cannot be decoded"};
    emit_rows(sink, canvas, width, height, layout, last_row);
    sink.on_frame_count(info.frame_count);
    return std::nullopt;
  }

  // A still image: its one frame's bitstream, decoded as WebPAnimDecoder does.
  FrameIterator frame;
  if (!frame.first(demux.get())) return ImageError{ErrorCode::decode_failed, "WebP: the frame cannot be read"};
  const WebPIterator& iter = frame.get();
  if (static_cast<std::uint32_t>(iter.width) != width || static_cast<std::uint32_t>(iter.height) != height ||
      iter.x_offset != 0 || iter.y_offset != 0)
    return ImageError{ErrorCode::decode_failed, "WebP: the frame does not match the image's size"};
  std::vector<std::uint8_t> rgba;
  try {
    rgba.resize(stride * height);
  } catch (const std::bad_alloc&) {
    return ImageError{ErrorCode::internal, "out of memory for the WebP image"};
  }
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) return ImageError{ErrorCode::internal, "WebP: libwebp version mismatch"};
  config.output.colorspace = MODE_RGBA;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = rgba.data();
  config.output.u.RGBA.stride = static_cast<int>(stride);
  config.output.u.RGBA.size = rgba.size();
  const VP8StatusCode status = WebPDecode(iter.fragment.bytes, iter.fragment.size, &config);
  WebPFreeDecBuffer(&config.output);
  if (status != VP8_STATUS_OK) return failed(status);
  emit_rows(sink, rgba.data(), width, height, layout, last_row);
  sink.on_frame_count(frames);
  return std::nullopt;
}

}  // namespace huepool
