#include "common/png_decoder.hpp"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <new>

namespace huepool {

namespace {

// Chunks libpng may allocate for ancillary data (iCCP, text, ...): bounded so a
// small file cannot make it allocate a lot. Pixel buffers are bounded by DecodeLimits.
constexpr png_alloc_size_t kMaxChunkBytes = 8u << 20;
constexpr std::size_t kMessageBytes = 192;
constexpr std::size_t kSignatureBytes = 8;
constexpr std::size_t kMaxBandRows = 256;
constexpr std::size_t kIhdrEnd = 24;  // signature, length, "IHDR", width, height
// An Adam7 image is held whole; a buffer bigger than this is not kept for the next image.
constexpr std::size_t kKeepBufferBytes = 64u << 20;

// Everything a longjmp may cross: plain C data only.
struct PngFrame {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::size_t pos = 0;
  char message[kMessageBytes] = {};
};

struct PngShape {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  int channels = 0;
  bool interlaced = false;
  std::size_t rowbytes = 0;
};

extern "C" void png_fail(png_structp png, png_const_charp message) {
  auto* frame = static_cast<PngFrame*>(png_get_error_ptr(png));
  std::snprintf(frame->message, sizeof frame->message, "%s", message ? message : "libpng error");
  png_longjmp(png, 1);
}

extern "C" void png_warn(png_structp, png_const_charp) {}  // warnings never change pixels we count

extern "C" void png_read_memory(png_structp png, png_bytep out, png_size_t length) {
  auto* frame = static_cast<PngFrame*>(png_get_io_ptr(png));
  if (length > frame->size - frame->pos) png_error(png, "PNG data ends early (truncated)");
  std::memcpy(out, frame->data + frame->pos, length);
  frame->pos += length;
}

// The setjmp frames below hold no C++ object with a destructor, so a longjmp
// out of libpng skips nothing. They return 0 on success, 1 with frame->message set.

int png_read_shape(PngFrame* frame, int want_alpha, PngShape* shape) {
  if (setjmp(png_jmpbuf(frame->png))) return 1;
  png_set_read_fn(frame->png, frame, png_read_memory);
  png_set_chunk_malloc_max(frame->png, kMaxChunkBytes);
  png_read_info(frame->png, frame->info);

  png_uint_32 width = 0, height = 0;
  int depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(frame->png, frame->info, &width, &height, &depth, &color_type, &interlace, nullptr,
               nullptr);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(frame->png);  // also expands tRNS
  if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(frame->png);
  if (want_alpha && png_get_valid(frame->png, frame->info, PNG_INFO_tRNS))
    png_set_tRNS_to_alpha(frame->png);
  if (depth == 16) png_set_strip_16(frame->png);  // the high byte, as DESIGN.md §1 says
  if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA)
    png_set_gray_to_rgb(frame->png);
  const int passes = png_set_interlace_handling(frame->png);
  png_read_update_info(frame->png, frame->info);

  shape->width = width;
  shape->height = height;
  shape->channels = png_get_channels(frame->png, frame->info);
  shape->interlaced = passes > 1;
  shape->rowbytes = png_get_rowbytes(frame->png, frame->info);
  return 0;
}

// Decodes `band` rows at a time into `rows` (`stride` apart), then hands the
// band to the sink.
int png_stream_rows(PngFrame* frame, std::uint8_t* rows, std::size_t stride, std::uint32_t band,
                    std::uint32_t height, PixelLayout layout, RowSink* sink) {
  if (setjmp(png_jmpbuf(frame->png))) return 1;
  for (std::uint32_t y = 0; y < height; y += band) {
    const std::uint32_t count = height - y < band ? height - y : band;
    for (std::uint32_t i = 0; i < count; ++i) png_read_row(frame->png, rows + i * stride, nullptr);
    sink->on_rows(rows, stride, count, layout);
  }
  return 0;
}

int png_read_whole(PngFrame* frame, std::uint8_t** row_pointers) {
  if (setjmp(png_jmpbuf(frame->png))) return 1;
  png_read_image(frame->png, row_pointers);
  return 0;
}

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// Owns the libpng structs for one decode.
class PngSession {
 public:
  PngSession() {
    frame_.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &frame_, png_fail, png_warn);
    if (frame_.png) frame_.info = png_create_info_struct(frame_.png);
  }
  ~PngSession() {
    if (frame_.png) png_destroy_read_struct(&frame_.png, frame_.info ? &frame_.info : nullptr, nullptr);
  }
  PngSession(const PngSession&) = delete;
  PngSession& operator=(const PngSession&) = delete;

  bool ok() const { return frame_.png && frame_.info; }
  PngFrame* frame() { return &frame_; }

 private:
  PngFrame frame_;
};

ImageError failed(const PngFrame& frame) {
  return ImageError{ErrorCode::decode_failed, std::string("PNG: ") + frame.message};
}

}  // namespace

std::optional<ImageError> PngDecoder::decode(std::span<const std::uint8_t> bytes,
                                             const DecodeLimits& limits, bool want_alpha,
                                             RowSink& sink) {
  // Judge the size from the raw IHDR first, so that a lying header is too_large
  // whatever libpng would think of it.
  if (bytes.size() >= kIhdrEnd && std::memcmp(bytes.data() + 12, "IHDR", 4) == 0) {
    const ImageHeader raw{read_be32(bytes.data() + 16), read_be32(bytes.data() + 20)};
    if (raw.width != 0 && raw.height != 0)
      if (auto error = check_limits(raw, limits)) return error;
  }
  if (bytes.size() < kSignatureBytes || png_sig_cmp(bytes.data(), 0, kSignatureBytes) != 0)
    return ImageError{ErrorCode::unsupported_format, "not a PNG signature"};

  PngSession session;
  if (!session.ok()) return ImageError{ErrorCode::internal, "libpng could not allocate its state"};
  PngFrame* frame = session.frame();
  frame->data = bytes.data();
  frame->size = bytes.size();

  PngShape shape;
  if (png_read_shape(frame, want_alpha ? 1 : 0, &shape) != 0) return failed(*frame);
  const ImageHeader header{shape.width, shape.height};
  if (auto error = check_limits(header, limits)) return error;
  if (shape.channels != 3 && shape.channels != 4)
    return ImageError{ErrorCode::internal, "PNG: unexpected channel count after transforms"};
  const PixelLayout layout = shape.channels == 3 ? PixelLayout::rgb
                             : want_alpha        ? PixelLayout::rgba
                                                 : PixelLayout::rgbx;
  if (auto error = sink.on_header(header)) return error;

  try {
    if (!shape.interlaced) {
      const std::size_t stride = shape.rowbytes + kRowPadding;
      const std::uint32_t band =
          static_cast<std::uint32_t>(std::clamp<std::size_t>(band_bytes_ / stride, 1, kMaxBandRows));
      if (rows_.size() < stride * band) rows_.resize(stride * band);
      if (png_stream_rows(frame, rows_.data(), stride, band, shape.height, layout, &sink) != 0)
        return failed(*frame);
      return std::nullopt;
    }
    const std::size_t image_bytes = shape.rowbytes * shape.height + kRowPadding;
    if (rows_.size() < image_bytes) rows_.resize(image_bytes);
    row_pointers_.resize(shape.height);
    for (std::uint32_t y = 0; y < shape.height; ++y) row_pointers_[y] = rows_.data() + y * shape.rowbytes;
    const bool ok = png_read_whole(frame, row_pointers_.data()) == 0;
    if (ok) sink.on_rows(rows_.data(), shape.rowbytes, shape.height, layout);
    if (rows_.capacity() > kKeepBufferBytes) {
      rows_ = {};
      row_pointers_ = {};
    }
    if (!ok) return failed(*frame);
    return std::nullopt;
  } catch (const std::bad_alloc&) {
    return ImageError{ErrorCode::internal, "out of memory for PNG rows"};
  }
}

}  // namespace huepool
