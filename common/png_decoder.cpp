#include "common/png_decoder.hpp"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <new>

#include "common/png_chunks.hpp"
#include "common/png_messages.hpp"

namespace huepool {

namespace {

// Chunks libpng may allocate for (PLTE, tRNS; everything else is skipped
// unread): bounded so a small file cannot make it allocate a lot.
constexpr png_alloc_size_t kMaxChunkBytes = kPngChunkMallocMax;
constexpr std::size_t kMessageBytes = 192;
constexpr std::size_t kMaxBandRows = 256;
// libpng refuses images wider or taller than its user limits (1,000,000 by
// default); huepool's own limits are pixels and buffer bytes, so libpng's are
// set to the format's maximum (2^31 - 1, PNG spec §11.2.2).
constexpr png_uint_32 kPngMaxSide = 0x7fffffff;
// An Adam7 image is held whole; a buffer bigger than this is not kept for the next image.
constexpr std::size_t kKeepBufferBytes = 64u << 20;

// Everything a longjmp may cross: plain C data only.
struct PngFrame {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::size_t pos = 0;
  int want_alpha = 0;
  RowSink* sink = nullptr;
  int judged_fatal = 0;  // png_warn failed the image (as opposed to a libpng error)
  char message[kMessageBytes] = {};
};

struct PngShape {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  int channels = 0;
  bool palette = false;
  bool interlaced = false;
  std::size_t rowbytes = 0;
};

constexpr const char* kTruncated = "PNG data ends early (truncated)";

extern "C" void png_fail(png_structp png, png_const_charp message) {
  auto* frame = static_cast<PngFrame*>(png_get_error_ptr(png));
  std::snprintf(frame->message, sizeof frame->message, "%s", message ? message : "libpng error");
  png_longjmp(png, 1);
}

// Warnings and benign errors (libpng reports both here when benign errors
// warn): a warning for the result, or a failure (png_messages.hpp).
extern "C" void png_warn(png_structp png, png_const_charp message) {
  auto* frame = static_cast<PngFrame*>(png_get_error_ptr(png));
  const char* text = message ? message : "libpng warning";
  switch (classify_png_message(text)) {
    case PngMessageEffect::none:
      break;
    case PngMessageEffect::alpha:
      if (!frame->want_alpha) break;
      std::snprintf(frame->message, sizeof frame->message,
                    "%s: the transparency chunk cannot be read, and alpha=ignore needs it", text);
      frame->judged_fatal = 1;
      png_longjmp(png, 1);
    case PngMessageEffect::pixels:
      std::snprintf(frame->message, sizeof frame->message, "%s", text);
      frame->judged_fatal = 1;
      png_longjmp(png, 1);
  }
  char line[kMessageBytes];
  std::snprintf(line, sizeof line, "PNG: %s", text);
  frame->sink->on_warning(line);
}

extern "C" void png_read_memory(png_structp png, png_bytep out, png_size_t length) {
  auto* frame = static_cast<PngFrame*>(png_get_io_ptr(png));
  if (length > frame->size - frame->pos) png_error(png, kTruncated);
  std::memcpy(out, frame->data + frame->pos, length);
  frame->pos += length;
}

// The setjmp frames below hold no C++ object with a destructor, so a longjmp
// out of libpng skips nothing. They return 0 on success, 1 with frame->message set.

int png_read_shape(PngFrame* frame, PngShape* shape) {
  if (setjmp(png_jmpbuf(frame->png))) return 1;
  png_structp png = frame->png;
  png_set_read_fn(png, frame, png_read_memory);
  png_set_user_limits(png, kPngMaxSide, kPngMaxSide);
  png_set_chunk_malloc_max(png, kMaxChunkBytes);
  png_set_benign_errors(png, 1);  // benign errors reach png_warn, which judges them
  // Skip every chunk but IHDR, PLTE, tRNS, IDAT and IEND unread (-1: libpng's
  // list of the chunks it knows, plus every unknown one).
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, nullptr, -1);
  png_read_info(png, frame->info);

  png_uint_32 width = 0, height = 0;
  int depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, frame->info, &width, &height, &depth, &color_type, &interlace, nullptr, nullptr);
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_set_packing(png);  // one index per byte; expanded by expand_palette_row
  } else {
    if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (frame->want_alpha && png_get_valid(png, frame->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_strip_16(png);  // the high byte, as DESIGN.md §1 says
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA)
      png_set_gray_to_rgb(png);
  }
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, frame->info);

  shape->width = width;
  shape->height = height;
  shape->channels = png_get_channels(png, frame->info);
  shape->palette = color_type == PNG_COLOR_TYPE_PALETTE;
  shape->interlaced = passes > 1;
  shape->rowbytes = png_get_rowbytes(png, frame->info);
  return 0;
}

// Hands `count` decoded rows to the consumer; false stops decoding with
// frame->message set.
using EmitFn = bool (*)(void* context, const std::uint8_t* rows, std::size_t stride, std::uint32_t first_row,
                        std::uint32_t count);

// Decodes `band` rows at a time into `rows` (`stride` apart) and emits each band.
int png_stream_rows(PngFrame* frame, std::uint8_t* rows, std::size_t stride, std::uint32_t band,
                    std::uint32_t height, EmitFn emit, void* context) {
  if (setjmp(png_jmpbuf(frame->png))) return 1;
  for (std::uint32_t y = 0; y < height; y += band) {
    const std::uint32_t count = height - y < band ? height - y : band;
    for (std::uint32_t i = 0; i < count; ++i) png_read_row(frame->png, rows + i * stride, nullptr);
    if (!emit(context, rows, stride, y, count)) return 1;
  }
  return 0;
}

int png_read_whole(PngFrame* frame, std::uint8_t** row_pointers) {
  if (setjmp(png_jmpbuf(frame->png))) return 1;
  png_read_image(frame->png, row_pointers);
  return 0;
}

// The chunks after the image data: a tRNS there (out of place) still reaches
// png_warn; an error here comes after every row was read, so it cannot change
// a counted pixel (a missing IEND, a bad CRC in a trailing chunk).
int png_read_tail(PngFrame* frame) {
  if (setjmp(png_jmpbuf(frame->png))) return 1;
  png_read_end(frame->png, frame->info);
  return 0;
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

// A palette as 256 RGBA entries (bytes R,G,B,A); entries past `size` are not
// in the PLTE.
struct PaletteTable {
  std::uint32_t rgba[256] = {};
  unsigned size = 0;
};

PaletteTable palette_table(png_structp png, png_infop info, bool want_alpha) {
  PaletteTable t;
  png_colorp colors = nullptr;
  int count = 0;
  if (png_get_PLTE(png, info, &colors, &count) != 0 && colors != nullptr) t.size = static_cast<unsigned>(count);
  png_bytep alpha = nullptr;
  int alpha_count = 0;
  if (want_alpha && png_get_valid(png, info, PNG_INFO_tRNS)) png_get_tRNS(png, info, &alpha, &alpha_count, nullptr);
  for (unsigned i = 0; i < t.size; ++i) {
    const std::uint8_t entry[4] = {colors[i].red, colors[i].green, colors[i].blue,
                                   static_cast<std::uint8_t>(alpha && static_cast<int>(i) < alpha_count ? alpha[i] : 255)};
    std::memcpy(&t.rgba[i], entry, 4);
  }
  return t;
}

struct EmitContext {
  PngFrame* frame;
  RowSink* sink;
  PixelLayout layout;       // of the rows the sink gets
  const PaletteTable* palette;  // palette images only
  std::uint8_t* expanded;   // one RGBA row, palette images only
  std::uint32_t width;
};

bool emit_rows(void* context, const std::uint8_t* rows, std::size_t stride, std::uint32_t, std::uint32_t count) {
  auto* c = static_cast<EmitContext*>(context);
  c->sink->on_rows(rows, stride, count, c->layout);
  return true;
}

// Palette rows: every index must be in the PLTE (PNG spec §11.2.3: an index
// beyond it is an error; libpng would give black).
bool emit_palette_rows(void* context, const std::uint8_t* rows, std::size_t stride, std::uint32_t first_row,
                       std::uint32_t count) {
  auto* c = static_cast<EmitContext*>(context);
  const PaletteTable& table = *c->palette;
  for (std::uint32_t r = 0; r < count; ++r) {
    const std::uint8_t* indices = rows + r * stride;
    const std::uint8_t highest = *std::max_element(indices, indices + c->width);
    if (highest >= table.size) {
      const auto* bad = std::find_if(indices, indices + c->width, [&](std::uint8_t i) { return i >= table.size; });
      std::snprintf(c->frame->message, sizeof c->frame->message,
                    "palette index %u at row %u, column %zu is beyond the %u-entry PLTE", unsigned{*bad},
                    first_row + r, static_cast<std::size_t>(bad - indices), table.size);
      return false;
    }
    for (std::uint32_t x = 0; x < c->width; ++x) std::memcpy(c->expanded + 4 * x, &table.rgba[indices[x]], 4);
    c->sink->on_rows(c->expanded, 0, 1, c->layout);
  }
  return true;
}

}  // namespace

std::optional<ImageError> PngDecoder::decode(std::span<const std::uint8_t> bytes, const DecodeRequest& request,
                                             RowSink& sink) {
  const std::optional<PngStatedHeader> raw = read_png_stated_header(bytes);
  if (raw) {
    const ImageHeader stated{raw->width, raw->height, png_buffer_bytes(*raw)};
    if (auto error = check_limits(stated, request.limits)) return error;
  }

  PngSession session;
  if (!session.ok()) return ImageError{ErrorCode::internal, "libpng could not allocate its state"};
  PngFrame* frame = session.frame();
  frame->data = bytes.data();
  frame->size = bytes.size();
  frame->want_alpha = request.want_alpha ? 1 : 0;
  frame->sink = &sink;

  PngShape shape;
  if (png_read_shape(frame, &shape) != 0) return failed(*frame);
  // libpng read the same IHDR; the estimate above stands.
  if (!raw || raw->width != shape.width || raw->height != shape.height)
    return ImageError{ErrorCode::decode_failed, "PNG: IHDR is not the first chunk"};
  const ImageHeader header{shape.width, shape.height, png_buffer_bytes(*raw)};
  if (auto error = sink.on_header(header)) return error;

  const bool expand = shape.palette;
  if (expand ? shape.channels != 1 : shape.channels != 3 && shape.channels != 4)
    return ImageError{ErrorCode::internal, "PNG: unexpected channel count after transforms"};
  PaletteTable palette;
  if (expand) palette = palette_table(frame->png, frame->info, request.want_alpha);
  PixelLayout layout = PixelLayout::rgb;
  if (expand)
    layout = request.want_alpha && png_get_valid(frame->png, frame->info, PNG_INFO_tRNS) ? PixelLayout::rgba
                                                                                         : PixelLayout::rgbx;
  else if (shape.channels == 4)
    layout = request.want_alpha ? PixelLayout::rgba : PixelLayout::rgbx;

  try {
    if (expand && expanded_.size() < std::size_t{shape.width} * 4 + kRowPadding)
      expanded_.resize(std::size_t{shape.width} * 4 + kRowPadding);
    EmitContext context{frame, &sink, layout, &palette, expanded_.data(), shape.width};
    const EmitFn emit = expand ? emit_palette_rows : emit_rows;

    if (!shape.interlaced) {
      const std::size_t stride = shape.rowbytes + kRowPadding;
      const std::uint32_t band =
          static_cast<std::uint32_t>(std::clamp<std::size_t>(band_bytes_ / stride, 1, kMaxBandRows));
      if (rows_.size() < stride * band) rows_.resize(stride * band);
      if (png_stream_rows(frame, rows_.data(), stride, band, shape.height, emit, &context) != 0)
        return failed(*frame);
    } else {
      const std::size_t image_bytes = shape.rowbytes * shape.height + kRowPadding;
      if (rows_.size() < image_bytes) rows_.resize(image_bytes);
      row_pointers_.resize(shape.height);
      for (std::uint32_t y = 0; y < shape.height; ++y) row_pointers_[y] = rows_.data() + y * shape.rowbytes;
      const bool ok = png_read_whole(frame, row_pointers_.data()) == 0 &&
                      emit(&context, rows_.data(), shape.rowbytes, 0, shape.height);
      if (rows_.capacity() > kKeepBufferBytes) {  // (`rows_ = {}` would keep the capacity)
        std::vector<std::uint8_t>().swap(rows_);
        std::vector<std::uint8_t*>().swap(row_pointers_);
      }
      if (!ok) return failed(*frame);
    }
  } catch (const std::bad_alloc&) {
    return ImageError{ErrorCode::internal, "out of memory for PNG rows"};
  }

  if (png_read_tail(frame) != 0) {
    // A failure judged by png_warn (a tRNS after IDAT under alpha=ignore, a
    // zlib error at the end of the stream) fails the image; libpng's own
    // errors past the last row are defects that change no counted pixel.
    if (frame->judged_fatal) return failed(*frame);
    sink.on_warning(std::strcmp(frame->message, kTruncated) == 0
                        ? "PNG: the data ends after the last row, without an IEND chunk"
                        : std::string("PNG: after the image data: ") + frame->message);
  }
  return std::nullopt;
}

}  // namespace huepool
