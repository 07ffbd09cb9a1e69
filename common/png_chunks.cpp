#include "common/png_chunks.hpp"

#ifndef HUEPOOL_NO_PNG_FAST_PATH
#include <isa-l/crc.h>
#else
#include <zlib.h>
#endif

#include <algorithm>
#include <cstring>

namespace huepool {

namespace {

constexpr std::size_t kIhdrAt = 8;
constexpr std::size_t kIhdrEnd = kIhdrAt + 8 + 13;
constexpr std::uint32_t kPngMaxLength = 0x7fffffffu;  // PNG spec §5.3: a length is at most 2^31 - 1

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

constexpr std::uint32_t chunk_name(const char (&n)[5]) {
  return (std::uint32_t(std::uint8_t(n[0])) << 24) | (std::uint32_t(std::uint8_t(n[1])) << 16) |
         (std::uint32_t(std::uint8_t(n[2])) << 8) | std::uint32_t(std::uint8_t(n[3]));
}
constexpr std::uint32_t kIHDR = chunk_name("IHDR");
constexpr std::uint32_t kPLTE = chunk_name("PLTE");
constexpr std::uint32_t kTRNS = chunk_name("tRNS");
constexpr std::uint32_t kIDAT = chunk_name("IDAT");
constexpr std::uint32_t kIEND = chunk_name("IEND");

bool letters(const std::uint8_t* p) {
  for (int i = 0; i < 4; ++i) {
    const std::uint8_t c = p[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

int channels_of(int color_type) {
  switch (color_type) {
    case 0: return 1;
    case 2: return 3;
    case 3: return 1;
    case 4: return 2;
    case 6: return 4;
    default: return 0;
  }
}

bool valid_depth(int color_type, int depth) {
  switch (color_type) {
    case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2:
    case 4:
    case 6: return depth == 8 || depth == 16;
    default: return false;
  }
}

// libpng's png_check_chunk_length for IDAT (pngrutil.c, 1.6.39): an IDAT may
// exceed the chunk malloc limit up to the image's data plus deflate overhead.
std::uint64_t idat_limit(const PngLayout& l) {
  std::uint64_t limit = kPngMaxLength;
  std::uint64_t row_factor = std::uint64_t{l.width} * l.channels * (l.depth > 8 ? 2 : 1) + 1;
  if (l.height <= 0xffffffffull / row_factor) {
    limit = std::uint64_t{l.height} * row_factor;
    row_factor = std::min<std::uint64_t>(row_factor, 32566);
    limit += 6 + 5 * (limit / row_factor + 1);
    limit = std::min<std::uint64_t>(limit, kPngMaxLength);
  }
  return std::max<std::uint64_t>(limit, kPngChunkMallocMax);
}

}  // namespace

std::optional<PngStatedHeader> read_png_stated_header(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kIhdrEnd || std::memcmp(bytes.data() + kIhdrAt + 4, "IHDR", 4) != 0) return std::nullopt;
  const std::uint8_t* f = bytes.data() + kIhdrAt + 8;
  PngStatedHeader h{be32(f), be32(f + 4), f[8], f[9], f[12] != 0};
  if (h.width == 0 || h.height == 0) return std::nullopt;  // libpng says why
  return h;
}

std::uint64_t png_buffer_bytes(const PngStatedHeader& h) {
  const std::uint64_t w = h.width;
  const bool palette = h.color_type == 3;
  const std::uint64_t libpng_pixel = palette ? 1 : (h.depth == 16 ? 8 : 4);
  const std::uint64_t out_row = palette ? w * 5 : w * 4;
  const std::uint64_t held = h.interlaced ? (palette ? w : w * 4) * h.height : 0;
  return 2 * libpng_pixel * w + out_row + held;
}

std::uint32_t png_crc32(const std::uint8_t* data, std::size_t n) {
#ifndef HUEPOOL_NO_PNG_FAST_PATH
  return crc32_gzip_refl(0, data, n);
#else
  return static_cast<std::uint32_t>(::crc32_z(0, data, n));  // the same CRC-32, zlib's
#endif
}

std::variant<PngLayout, PngDecline> walk_png_chunks(std::span<const std::uint8_t> bytes) {
  const std::uint8_t* data = bytes.data();
  const std::size_t size = bytes.size();
  if (size < kIhdrEnd + 4 || be32(data + kIhdrAt) != 13 || be32(data + kIhdrAt + 4) != kIHDR)
    return PngDecline{"IHDR missing, not first or of the wrong length"};
  if (png_crc32(data + kIhdrAt + 4, 17) != be32(data + kIhdrEnd)) return PngDecline{"IHDR CRC"};

  PngLayout l;
  const std::uint8_t* f = data + kIhdrAt + 8;
  l.width = be32(f);
  l.height = be32(f + 4);
  l.depth = f[8];
  l.color_type = f[9];
  if (l.width == 0 || l.height == 0 || l.width > kPngMaxLength || l.height > kPngMaxLength)
    return PngDecline{"IHDR size"};
  if (!valid_depth(l.color_type, l.depth)) return PngDecline{"IHDR colour type or depth"};
  if (f[10] != 0 || f[11] != 0) return PngDecline{"IHDR compression or filter method"};
  if (f[12] == 1) return PngDecline{"interlaced"};
  if (f[12] != 0) return PngDecline{"IHDR interlace method"};
  l.channels = static_cast<std::uint8_t>(channels_of(l.color_type));
  l.rowbytes = static_cast<std::size_t>((std::uint64_t{l.width} * l.channels * l.depth + 7) / 8);
  const bool palette = l.color_type == 3;
  const std::uint32_t max_sample = l.depth == 16 ? 0xffff : (1u << l.depth) - 1;

  bool seen_plte = false, seen_idat = false, idat_closed = false, seen_iend = false;
  std::size_t pos = kIhdrEnd + 4;
  while (!seen_iend) {
    if (size - pos < 12) return PngDecline{"truncated chunk"};
    const std::uint32_t length = be32(data + pos);
    const std::uint8_t* type = data + pos + 4;
    if (length > kPngMaxLength || size - pos - 12 < length) return PngDecline{"truncated chunk"};
    if (!letters(type)) return PngDecline{"invalid chunk name"};
    const std::uint32_t name = be32(type);
    const std::uint8_t* body = type + 4;
    if (png_crc32(type, std::size_t{length} + 4) != be32(body + length)) return PngDecline{"CRC error"};
    if (name == kIDAT ? length > idat_limit(l) : length > kPngChunkMallocMax)
      return PngDecline{"chunk longer than libpng's limit"};

    if (name == kIDAT) {
      if (idat_closed) return PngDecline{"IDAT after another chunk"};
      if (palette && !seen_plte) return PngDecline{"IDAT before PLTE"};
      if (!seen_idat) l.idat_begin = pos;
      seen_idat = true;
      l.idat_end = pos + 12 + length;
    } else {
      if (seen_idat) idat_closed = true;
      if (name == kIEND) {
        if (length != 0) return PngDecline{"IEND with data"};
        if (!seen_idat) return PngDecline{"no IDAT"};
        seen_iend = true;
      } else if (name == kPLTE) {
        if (!palette) return PngDecline{"PLTE in a non-palette image"};
        if (seen_plte || seen_idat) return PngDecline{"PLTE duplicate or after IDAT"};
        if (length == 0 || length % 3 != 0 || length > 768) return PngDecline{"PLTE length"};
        seen_plte = true;
        l.palette_size = std::min(length / 3, 1u << l.depth);  // libpng drops entries past 2^depth
        std::memcpy(l.palette.data(), body, std::size_t{l.palette_size} * 3);
      } else if (name == kTRNS) {
        if (seen_idat || l.has_trns) return PngDecline{"tRNS after IDAT or duplicate"};
        if (palette) {
          if (!seen_plte || length == 0 || length > l.palette_size) return PngDecline{"tRNS for the palette"};
          l.trns_count = length;
          std::memcpy(l.trns_alpha.data(), body, length);
        } else if (l.color_type == 0 || l.color_type == 2) {
          const unsigned samples = l.color_type == 0 ? 1 : 3;
          if (length != 2 * samples) return PngDecline{"tRNS length"};
          for (unsigned i = 0; i < samples; ++i) {
            l.trns_sample[i] = static_cast<std::uint16_t>((body[2 * i] << 8) | body[2 * i + 1]);
            // libpng warns "tRNS chunk has out-of-range samples for bit depth"
            if (l.trns_sample[i] > max_sample) return PngDecline{"tRNS sample out of range"};
          }
        } else {
          return PngDecline{"tRNS with an alpha channel"};
        }
        l.has_trns = true;
      } else if (name == kIHDR) {
        return PngDecline{"second IHDR"};
      } else if ((type[0] & 0x20) == 0) {
        return PngDecline{"unknown critical chunk"};
      }
      // Ancillary chunks: skipped unread, their CRC checked above, as libpng does.
    }
    pos += 12 + std::size_t{length};
  }

  // The zlib header (RFC 1950), which may straddle IDAT chunks: deflate, a
  // window of at most 32 KiB, FCHECK right, no preset dictionary.
  std::uint8_t header[2];
  unsigned have = 0;
  for (std::size_t p = l.idat_begin; p < l.idat_end && have < 2;) {
    const std::uint32_t length = be32(data + p);
    for (std::uint32_t i = 0; i < length && have < 2; ++i) header[have++] = data[p + 8 + i];
    p += 12 + std::size_t{length};
  }
  if (have < 2) return PngDecline{"zlib header"};
  const unsigned cmf = header[0], flg = header[1];
  if ((cmf & 0x0f) != 8 || (cmf >> 4) > 7 || (cmf * 256 + flg) % 31 != 0 || (flg & 0x20) != 0)
    return PngDecline{"zlib header"};
  // A window smaller than 32 KiB: zlib refuses distances past it (depending
  // on its output buffering), ISA-L does not look. Only when the image data
  // fits the window can no valid distance reach past it.
  const std::uint64_t window = 1ull << ((cmf >> 4) + 8);
  if (window < 32768 && std::uint64_t{l.rowbytes + 1} * l.height > window) return PngDecline{"small zlib window"};
  return l;
}

}  // namespace huepool
