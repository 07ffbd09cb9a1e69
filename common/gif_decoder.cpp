#include "common/gif_decoder.hpp"

#include <gif_lib.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <string>

namespace huepool {

namespace {

constexpr int kGraphicControlLabel = 0xF9;

// giflib reads through this callback; it asks for exactly the bytes it needs
// next (no read-ahead), so `pos` is where the file has been read to.
struct MemoryInput {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::size_t pos = 0;
};

extern "C" int gif_read(GifFileType* gif, GifByteType* out, int wanted) {
  auto* in = static_cast<MemoryInput*>(gif->UserData);
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(wanted < 0 ? 0 : wanted), in->size - in->pos);
  std::memcpy(out, in->data + in->pos, n);
  in->pos += n;
  return static_cast<int>(n);
}

// Owns giflib's decoder state for one decode.
class GifHandle {
 public:
  explicit GifHandle(GifFileType* gif) : gif_(gif) {}
  ~GifHandle() {
    int ignored = 0;
    if (gif_) DGifCloseFile(gif_, &ignored);
  }
  GifHandle(const GifHandle&) = delete;
  GifHandle& operator=(const GifHandle&) = delete;

 private:
  GifFileType* gif_;
};

ImageError failed(int code) {
  std::string what;
  switch (code) {
    case D_GIF_ERR_READ_FAILED: what = "the file ends early (truncated)"; break;
    case D_GIF_ERR_EOF_TOO_SOON: what = "the image data ends before the frame's last pixel"; break;
    case D_GIF_ERR_IMAGE_DEFECT: what = "the image data is damaged (an LZW code out of sequence)"; break;
    case D_GIF_ERR_WRONG_RECORD: what = "a block of unknown type before the first frame"; break;
    case D_GIF_ERR_NOT_ENOUGH_MEM: return ImageError{ErrorCode::internal, "GIF: out of memory"};
    default: {
      const char* text = GifErrorString(code);
      what = text ? text : "giflib error " + std::to_string(code);
    }
  }
  return ImageError{ErrorCode::decode_failed, "GIF: " + what};
}

ImageError damaged(const std::string& what) { return ImageError{ErrorCode::decode_failed, "GIF: " + what}; }

// Reads records up to the first image descriptor; keeps the transparent
// index of the graphic control extensions before it (the last that names
// one, as Pillow reads them). Returns giflib's error code, or 0.
int read_to_first_frame(GifFileType* gif, std::optional<std::uint8_t>& transparent, bool& short_control) {
  for (;;) {
    GifRecordType type = UNDEFINED_RECORD_TYPE;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) return gif->Error;
    if (type == TERMINATE_RECORD_TYPE) return -1;
    if (type == IMAGE_DESC_RECORD_TYPE) return DGifGetImageDesc(gif) == GIF_ERROR ? gif->Error : 0;
    if (type != EXTENSION_RECORD_TYPE) return D_GIF_ERR_WRONG_RECORD;
    int label = 0;
    GifByteType* block = nullptr;
    if (DGifGetExtension(gif, &label, &block) == GIF_ERROR) return gif->Error;
    if (label == kGraphicControlLabel && block) {
      if (block[0] < 4) {
        short_control = true;
        return -1;
      }
      if (block[1] & 1) transparent = block[4];
    }
    while (block)
      if (DGifGetExtensionNext(gif, &block) == GIF_ERROR) return gif->Error;
  }
}

// Interlaced frames store rows in four passes.
struct InterlacePass {
  std::uint32_t first, step;
};
constexpr std::array<InterlacePass, 4> kInterlacePasses{{{0, 8}, {4, 8}, {2, 4}, {1, 2}}};

}  // namespace

GifTail walk_gif_tail(std::span<const std::uint8_t> bytes, std::size_t offset) {
  GifTail tail;
  std::size_t pos = offset;
  const std::size_t size = bytes.size();
  // Skips sub-blocks up to and including the zero-length terminator.
  auto skip_sub_blocks = [&]() {
    for (;;) {
      if (pos >= size) return false;
      const std::size_t n = bytes[pos++];
      if (n == 0) return true;
      if (size - pos < n) return false;
      pos += n;
    }
  };
  while (pos < size) {
    const std::uint8_t introducer = bytes[pos++];
    if (introducer == ';') {
      tail.trailer = true;
      return tail;
    }
    if (introducer == '!') {
      if (pos >= size || (++pos, !skip_sub_blocks())) {
        tail.truncated = true;
        return tail;
      }
    } else if (introducer == ',') {
      constexpr std::size_t kDescriptor = 9;
      if (size - pos < kDescriptor + 1) {
        tail.truncated = true;
        return tail;
      }
      const std::uint8_t flags = bytes[pos + 8];
      pos += kDescriptor;
      if (flags & 0x80) {
        const std::size_t table = std::size_t{3} << ((flags & 7) + 1);
        if (size - pos < table + 1) {
          tail.truncated = true;
          return tail;
        }
        pos += table;
      }
      ++pos;  // LZW minimum code size
      ++tail.frames;
      if (!skip_sub_blocks()) {
        tail.truncated = true;
        return tail;
      }
    } else {
      ++tail.stray_bytes;
    }
  }
  return tail;
}

std::optional<ImageError> GifDecoder::decode(std::span<const std::uint8_t> bytes, const DecodeRequest& request,
                                             RowSink& sink) {
  MemoryInput input{bytes.data(), bytes.size(), 0};
  int open_error = 0;
  GifFileType* gif = DGifOpen(&input, gif_read, &open_error);
  if (!gif) return failed(open_error);
  GifHandle handle(gif);

  std::optional<std::uint8_t> transparent;
  bool short_control = false;
  if (const int error = read_to_first_frame(gif, transparent, short_control); error != 0) {
    if (short_control) return damaged("a graphic control extension shorter than 4 bytes");
    if (error == -1) return damaged("no image in the file");
    return failed(error);
  }

  const GifImageDesc& frame = gif->Image;
  const std::uint32_t left = static_cast<std::uint32_t>(frame.Left), top = static_cast<std::uint32_t>(frame.Top);
  const std::uint32_t frame_width = static_cast<std::uint32_t>(frame.Width);
  const std::uint32_t frame_height = static_cast<std::uint32_t>(frame.Height);
  // Pillow grows the image to the first frame's extent.
  const std::uint32_t width = std::max(static_cast<std::uint32_t>(gif->SWidth), left + frame_width);
  const std::uint32_t height = std::max(static_cast<std::uint32_t>(gif->SHeight), top + frame_height);
  if (width == 0 || height == 0) return damaged("the screen and the first frame are empty (0 pixels)");

  const std::size_t stride = std::size_t{width} * 4 + kRowPadding;
  const std::uint32_t band_rows =
      static_cast<std::uint32_t>(std::clamp<std::size_t>(band_bytes_ / stride, 1, height));
  const std::size_t index_bytes =
      (frame.Interlace ? std::size_t{frame_width} * frame_height : std::size_t{frame_width}) + kRowPadding;
  const ImageHeader header{width, height, std::uint64_t{stride} * band_rows + index_bytes};
  if (auto error = check_limits(header, request.limits)) return error;

  // The colour of each index as Pillow gives it, and which indices may not
  // be counted (beyond the table, unless transparent and not counted).
  const ColorMapObject* map = frame.ColorMap ? frame.ColorMap : gif->SColorMap;
  const int table_size = map ? map->ColorCount : 256;
  const bool with_alpha = request.want_alpha && transparent.has_value();
  std::array<std::array<std::uint8_t, 4>, 256> colors{};
  std::array<bool, 256> beyond{};
  for (int i = 0; i < 256; ++i) {
    const auto v = static_cast<std::uint8_t>(i);
    colors[i] = {v, v, v, 255};
    if (map && i < table_size) colors[i] = {map->Colors[i].Red, map->Colors[i].Green, map->Colors[i].Blue, 255};
    beyond[i] = i >= table_size;
  }
  if (transparent) {
    colors[*transparent][3] = 0;
    if (with_alpha) beyond[*transparent] = false;  // not counted, so its colour does not matter
  }
  const std::uint8_t fill = transparent.value_or(0);
  const bool frame_covers_screen = left == 0 && top == 0 && frame_width == width && frame_height == height;
  if (!frame_covers_screen && beyond[fill])
    return damaged("index " + std::to_string(fill) + ", which fills the screen outside the first frame, is beyond the " +
                   std::to_string(table_size) + "-entry colour table");

  if (auto error = sink.on_header(header)) return error;
  try {
    if (band_.size() < stride * band_rows) band_.resize(stride * band_rows);
    if (indices_.size() < index_bytes) indices_.resize(index_bytes);
  } catch (const std::bad_alloc&) {
    return ImageError{ErrorCode::internal, "out of memory for GIF rows"};
  }

  if (frame_width == 0 || frame_height == 0) {
    // No line to read: skip the image data.
    int code_size = 0;
    GifByteType* block = nullptr;
    if (DGifGetCode(gif, &code_size, &block) == GIF_ERROR) return failed(gif->Error);
    while (block)
      if (DGifGetCodeNext(gif, &block) == GIF_ERROR) return failed(gif->Error);
  } else if (frame.Interlace) {
    for (const InterlacePass& pass : kInterlacePasses)
      for (std::uint32_t y = pass.first; y < frame_height; y += pass.step)
        if (DGifGetLine(gif, indices_.data() + std::size_t{y} * frame_width, static_cast<int>(frame_width)) ==
            GIF_ERROR)
          return failed(gif->Error);
  }

  const auto& fill_color = colors[fill];
  std::uint32_t in_band = 0;
  for (std::uint32_t y = 0; y < height; ++y) {
    std::uint8_t* out = band_.data() + std::size_t{in_band} * stride;
    const bool frame_row = frame_width != 0 && y >= top && y - top < frame_height;
    const std::uint8_t* line = nullptr;
    if (frame_row) {
      if (frame.Interlace) {
        line = indices_.data() + std::size_t{y - top} * frame_width;
      } else {
        if (DGifGetLine(gif, indices_.data(), static_cast<int>(frame_width)) == GIF_ERROR) return failed(gif->Error);
        line = indices_.data();
      }
    }
    for (std::uint32_t x = 0; x < width; ++x, out += 4) {
      if (line && x >= left && x - left < frame_width) {
        const std::uint8_t index = line[x - left];
        if (beyond[index])
          return damaged("colour index " + std::to_string(index) + " at row " + std::to_string(y) + ", column " +
                         std::to_string(x) + " is beyond the " + std::to_string(table_size) + "-entry colour table");
        std::memcpy(out, colors[index].data(), 4);
      } else {
        std::memcpy(out, fill_color.data(), 4);
      }
    }
    if (++in_band == band_rows || y + 1 == height) {
      sink.on_rows(band_.data(), stride, in_band, with_alpha ? PixelLayout::rgba : PixelLayout::rgbx);
      in_band = 0;
    }
  }

  // giflib has read through the first frame's last data sub-block.
  const GifTail tail = walk_gif_tail(bytes, input.pos);
  if (tail.truncated) sink.on_warning("GIF: the file ends inside a block after the first frame");
  else if (!tail.trailer) sink.on_warning("GIF: the file ends without a trailer after the last frame");
  if (tail.stray_bytes)
    sink.on_warning("GIF: " + std::to_string(tail.stray_bytes) + " bytes that start no block skipped after the first frame");
  sink.on_frame_count(1 + tail.frames);
  return std::nullopt;
}

}  // namespace huepool
