#include "common/jpeg_decoder.hpp"

// jpeglib.h needs size_t and FILE declared before it.
#include <cstddef>
#include <cstdio>

#include <jerror.h>
#include <jpeglib.h>

#include <csetjmp>
#include <cstring>
#include <algorithm>
#include <new>

namespace huepool {

namespace {

constexpr std::size_t kMaxBatchRows = 16;
constexpr std::size_t kMaxBandRows = 256;

// Everything a longjmp may cross: plain C data only. `error` must stay the
// first member: libjpeg hands back a pointer to it.
struct JpegFrame {
  jpeg_error_mgr error{};
  jpeg_progress_mgr progress{};
  std::jmp_buf jump{};
  jpeg_decompress_struct cinfo{};
  RowSink* sink = nullptr;
  char message[JMSG_LENGTH_MAX] = {};
};

// Warnings that change no pixel: reported, the image succeeds. Every other
// warning says pixels were invented or lost (see jpeg_decoder.hpp) and fails it.
bool changes_no_pixel(int code) {
  switch (code) {
    case JWRN_EXTRANEOUS_DATA:  // stray bytes before a marker: skipped, nothing decoded from them
    case JWRN_JFIF_MAJOR:
    case JWRN_ADOBE_XFORM:
    case JWRN_BOGUS_ICC:
      return true;
    default:
      return false;
  }
}

extern "C" void jpeg_fail(j_common_ptr cinfo) {
  auto* frame = reinterpret_cast<JpegFrame*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, frame->message);
  std::longjmp(frame->jump, 1);
}

extern "C" void jpeg_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  if (!changes_no_pixel(cinfo->err->msg_code)) jpeg_fail(cinfo);
  auto* frame = reinterpret_cast<JpegFrame*>(cinfo->err);
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  char line[JMSG_LENGTH_MAX + 8];
  std::snprintf(line, sizeof line, "JPEG: %s", text);
  frame->sink->on_warning(line);
}

extern "C" void jpeg_progress(j_common_ptr cinfo) {
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > JpegDecoder::kMaxScans) {
    auto* frame = reinterpret_cast<JpegFrame*>(cinfo->err);
    std::snprintf(frame->message, sizeof frame->message, "more than %d scans", JpegDecoder::kMaxScans);
    std::longjmp(frame->jump, 1);
  }
}

// The setjmp frames below hold no C++ object with a destructor. They return 0
// on success, 1 with frame->message set.

int jpeg_open(JpegFrame* frame, const std::uint8_t* data, std::size_t size) {
  if (setjmp(frame->jump)) return 1;
  jpeg_mem_src(&frame->cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&frame->cinfo, TRUE);
  return 0;
}

int jpeg_start(JpegFrame* frame) {
  if (setjmp(frame->jump)) return 1;
  jpeg_start_decompress(&frame->cinfo);
  return 0;
}

// Reads every scanline into a band of `band` rows at `rows` and hands each
// full band (the last may be short) to emit. Returns 0 or 1 as above.
using EmitFn = void (*)(void* context, std::uint8_t* rows, std::size_t stride, std::uint32_t count);

int jpeg_stream_rows(JpegFrame* frame, std::uint8_t* rows, std::size_t stride, std::uint32_t band,
                     EmitFn emit, void* context) {
  JSAMPROW pointers[kMaxBandRows];
  if (setjmp(frame->jump)) return 1;
  for (std::uint32_t i = 0; i < band; ++i) pointers[i] = rows + i * stride;
  while (frame->cinfo.output_scanline < frame->cinfo.output_height) {
    std::uint32_t filled = 0;
    while (filled < band && frame->cinfo.output_scanline < frame->cinfo.output_height)
      filled += jpeg_read_scanlines(&frame->cinfo, pointers + filled, band - filled);
    emit(context, rows, stride, filled);
  }
  jpeg_finish_decompress(&frame->cinfo);
  return 0;
}

// Owns the decompressor for one decode.
class JpegSession {
 public:
  JpegSession() {
    frame_.cinfo.err = jpeg_std_error(&frame_.error);
    frame_.error.error_exit = jpeg_fail;
    frame_.error.emit_message = jpeg_message;
    frame_.progress.progress_monitor = jpeg_progress;
  }
  ~JpegSession() {
    if (created_) jpeg_destroy_decompress(&frame_.cinfo);
  }
  JpegSession(const JpegSession&) = delete;
  JpegSession& operator=(const JpegSession&) = delete;

  // jpeg_create_decompress itself can fail (out of memory) by error_exit.
  bool create() {
    if (setjmp(frame_.jump)) return false;
    jpeg_create_decompress(&frame_.cinfo);
    created_ = true;
    frame_.cinfo.progress = &frame_.progress;
    return true;
  }
  JpegFrame* frame() { return &frame_; }

 private:
  JpegFrame frame_;
  bool created_ = false;
};

ImageError failed(const JpegFrame& frame) {
  return ImageError{ErrorCode::decode_failed, std::string("JPEG: ") + frame.message};
}

struct EmitContext {
  RowSink* sink;
  std::uint8_t* rgbx;   // CMYK only
  std::uint32_t width;
  bool cmyk;
};

// Pillow 9.4: JpegImagePlugin reads every CMYK file as "CMYK;I" (Adobe
// polarity: stored values inverted), then Convert.c cmyk2rgb computes
// nk = 255 - k; out = clip(nk - muldiv255(c, nk)). With stored (inverted) bytes
// s: c = 255 - s_c and nk = s_k.
inline std::uint8_t muldiv255(int a, int b) {
  const int t = a * b + 128;
  return static_cast<std::uint8_t>(((t >> 8) + t) >> 8);
}

void cmyk_row_to_rgbx(const std::uint8_t* in, std::uint8_t* out, std::uint32_t width) {
  for (std::uint32_t x = 0; x < width; ++x, in += 4, out += 4) {
    const int nk = in[3];
    for (int c = 0; c < 3; ++c) {
      const int v = nk - muldiv255(255 - in[c], nk);
      out[c] = static_cast<std::uint8_t>(v < 0 ? 0 : v);  // nk - muldiv255(.., nk) >= 0; kept as Pillow's CLIP8
    }
    out[3] = 0;
  }
}

void emit_rows(void* context, std::uint8_t* rows, std::size_t stride, std::uint32_t count) {
  auto* c = static_cast<EmitContext*>(context);
  if (!c->cmyk) {
    c->sink->on_rows(rows, stride, count, PixelLayout::rgbx);
    return;
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    cmyk_row_to_rgbx(rows + i * stride, c->rgbx, c->width);
    c->sink->on_rows(c->rgbx, 0, 1, PixelLayout::rgbx);
  }
}

// Row memory for the image, from its header: the band of output rows, the
// decompressor's own row buffers (an MCU row per component, with context
// rows for upsampling), and for a progressive or multi-scan file the whole
// image's DCT coefficients (2 bytes each, 64 per block), which libjpeg holds
// until the last scan.
std::uint64_t jpeg_buffer_bytes(const jpeg_decompress_struct& cinfo, std::size_t band_bytes) {
  constexpr std::uint64_t kCodecBytesPerSample = 64;
  constexpr std::uint64_t kCoefficientBytesPerBlock = 2 * DCTSIZE2;
  const std::uint64_t w = cinfo.image_width;
  const std::uint64_t out_row = 4 * w + kRowPadding;
  std::uint64_t bytes = std::max<std::uint64_t>(band_bytes, kMaxBatchRows * out_row) +
                        kCodecBytesPerSample * w * static_cast<std::uint64_t>(cinfo.num_components);
  if (jpeg_has_multiple_scans(const_cast<j_decompress_ptr>(&cinfo)))
    for (int c = 0; c < cinfo.num_components; ++c)
      bytes += std::uint64_t{cinfo.comp_info[c].width_in_blocks} * cinfo.comp_info[c].height_in_blocks *
               kCoefficientBytesPerBlock;
  return bytes;
}

}  // namespace

std::optional<ImageError> JpegDecoder::decode(std::span<const std::uint8_t> bytes,
                                              const DecodeRequest& request, RowSink& sink) {
  JpegSession session;
  if (!session.create()) return ImageError{ErrorCode::internal, "libjpeg could not allocate its state"};
  JpegFrame* frame = session.frame();
  frame->sink = &sink;
  if (jpeg_open(frame, bytes.data(), bytes.size()) != 0) return failed(*frame);

  jpeg_decompress_struct& cinfo = frame->cinfo;
  const ImageHeader header{cinfo.image_width, cinfo.image_height, jpeg_buffer_bytes(cinfo, band_bytes_)};
  if (auto error = check_limits(header, request.limits)) return error;

  bool cmyk = false;
  switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
    case JCS_YCbCr:
    case JCS_RGB:
      cinfo.out_color_space = JCS_EXT_RGBX;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo.out_color_space = JCS_CMYK;
      cmyk = true;
      break;
    default:
      return ImageError{ErrorCode::decode_failed, "JPEG: unsupported color space"};
  }
  if (auto error = sink.on_header(header)) return error;
  if (jpeg_start(frame) != 0) return failed(*frame);

  const std::uint32_t batch =
      static_cast<std::uint32_t>(cinfo.rec_outbuf_height < 1 ? 1 : cinfo.rec_outbuf_height);
  if (batch > kMaxBatchRows) return ImageError{ErrorCode::internal, "JPEG: unexpected row batch"};
  const std::size_t stride = std::size_t{cinfo.output_width} * 4 + kRowPadding;
  // Rows are counted a band at a time (see kDefaultBandBytes).
  const std::uint32_t band = static_cast<std::uint32_t>(
      std::clamp<std::size_t>(band_bytes_ / stride / batch * batch, batch, kMaxBandRows / batch * batch));
  try {
    if (rows_.size() < stride * band) rows_.resize(stride * band);
    if (cmyk && rgbx_.size() < stride) rgbx_.resize(stride);
  } catch (const std::bad_alloc&) {
    return ImageError{ErrorCode::internal, "out of memory for JPEG rows"};
  }
  EmitContext context{&sink, rgbx_.data(), cinfo.output_width, cmyk};
  if (jpeg_stream_rows(frame, rows_.data(), stride, band, emit_rows, &context) != 0)
    return failed(*frame);
  return std::nullopt;
}

}  // namespace huepool
