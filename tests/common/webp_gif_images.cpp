#include "tests/common/webp_gif_images.hpp"

#include <gif_lib.h>
#include <webp/encode.h>

#include <stdexcept>

namespace huepool::test {

Bytes encode_webp(std::uint32_t width, std::uint32_t height, const std::vector<std::uint8_t>& rgba, int quality) {
  WebPConfig config;
  if (!WebPConfigInit(&config)) throw std::runtime_error("WebPConfigInit");
  if (quality < 0) {
    config.lossless = 1;
    config.exact = 1;
  } else {
    config.quality = static_cast<float>(quality);
  }
  WebPPicture picture;
  if (!WebPPictureInit(&picture)) throw std::runtime_error("WebPPictureInit");
  picture.use_argb = config.lossless;
  picture.width = static_cast<int>(width);
  picture.height = static_cast<int>(height);
  WebPMemoryWriter writer;
  WebPMemoryWriterInit(&writer);
  picture.writer = WebPMemoryWrite;
  picture.custom_ptr = &writer;
  const bool ok = WebPPictureImportRGBA(&picture, rgba.data(), static_cast<int>(width * 4)) &&
                  WebPEncode(&config, &picture);
  WebPPictureFree(&picture);
  Bytes out(writer.mem, writer.mem + writer.size);
  WebPMemoryWriterClear(&writer);
  if (!ok) throw std::runtime_error("WebPEncode failed");
  return out;
}

namespace {

extern "C" int gif_write(GifFileType* gif, const GifByteType* data, int n) {
  auto* out = static_cast<Bytes*>(gif->UserData);
  out->insert(out->end(), data, data + n);
  return n;
}

// A colour map of the table padded to its power of two, or null.
ColorMapObject* color_map(const std::vector<Rgb>& table) {
  if (table.empty()) return nullptr;
  int size = 2;
  while (size < static_cast<int>(table.size())) size *= 2;
  std::vector<GifColorType> colors(static_cast<std::size_t>(size));
  for (std::size_t i = 0; i < table.size(); ++i) colors[i] = {table[i].r, table[i].g, table[i].b};
  return GifMakeMapObject(size, colors.data());
}

}  // namespace

Bytes encode_gif(const GifSpec& spec) {
  Bytes out;
  int error = 0;
  GifFileType* gif = EGifOpen(&out, gif_write, &error);
  if (!gif) throw std::runtime_error("EGifOpen");
  EGifSetGifVersion(gif, true);
  ColorMapObject* global = color_map(spec.global_table);
  bool ok = EGifPutScreenDesc(gif, static_cast<int>(spec.width), static_cast<int>(spec.height), 8, spec.background,
                              global) != GIF_ERROR;
  GifFreeMapObject(global);
  for (const GifFrame& f : spec.frames) {
    if (!ok) break;
    if (f.transparent) {
      GraphicsControlBlock gcb{DISPOSAL_UNSPECIFIED, false, 0, *f.transparent};
      GifByteType extension[4];
      EGifGCBToExtension(&gcb, extension);
      ok = EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, extension) != GIF_ERROR;
    }
    ColorMapObject* local = color_map(f.local_table);
    // giflib 5.2.1's EGifPutImageDesc forgets (without freeing) the previous
    // frame's local table when this frame has none: freed here instead.
    if (!local && gif->Image.ColorMap) {
      GifFreeMapObject(gif->Image.ColorMap);
      gif->Image.ColorMap = nullptr;
    }
    ok = ok && EGifPutImageDesc(gif, static_cast<int>(f.left), static_cast<int>(f.top), static_cast<int>(f.width),
                                static_cast<int>(f.height), f.interlaced, local) != GIF_ERROR;
    GifFreeMapObject(local);
    std::vector<std::uint32_t> order;
    if (f.interlaced) {
      for (const auto& [first, step] : {std::pair{0u, 8u}, {4u, 8u}, {2u, 4u}, {1u, 2u}})
        for (std::uint32_t y = first; y < f.height; y += step) order.push_back(y);
    } else {
      for (std::uint32_t y = 0; y < f.height; ++y) order.push_back(y);
    }
    for (const std::uint32_t y : order) {
      std::vector<GifPixelType> line(f.indices.begin() + y * f.width, f.indices.begin() + (y + 1) * f.width);
      ok = ok && EGifPutLine(gif, line.data(), static_cast<int>(f.width)) != GIF_ERROR;
    }
  }
  if (EGifCloseFile(gif, &error) == GIF_ERROR || !ok) throw std::runtime_error("giflib could not write the GIF");
  return out;
}

}  // namespace huepool::test
