// Shared by the fuzz targets that feed PNGs (fuzz_analyze, fuzz_png_paths).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/png_chunks.hpp"

namespace huepool {

// Rewrites every chunk's CRC after the 8-byte signature so that it matches the
// chunk's type and data, walking by the length fields until one runs past the
// end. A mutated PNG then gets past the chunk walk (which rejects a bad CRC
// before any decoding) into the zlib stream, the filters and the palette.
inline void repair_png_crcs(std::vector<std::uint8_t>& png) {
  for (std::size_t pos = 8; pos + 12 <= png.size();) {
    const std::uint32_t length = (std::uint32_t{png[pos]} << 24) | (std::uint32_t{png[pos + 1]} << 16) |
                                 (std::uint32_t{png[pos + 2]} << 8) | png[pos + 3];
    if (length > png.size() - pos - 12) return;
    const std::uint32_t crc = png_crc32(png.data() + pos + 4, 4 + std::size_t{length});
    std::uint8_t* p = png.data() + pos + 8 + length;
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
    pos += 12 + std::size_t{length};
  }
}

}  // namespace huepool
