#pragma once
// The PNG chunk layer, read without libpng: the IHDR as the file states it
// (for the size limits, before any decoder runs) and a walk over every chunk
// that tells whether the file is one the fast path decodes (PngLayout) or
// one it hands whole to libpng.
//
// The walk accepts only files on which libpng 1.6.39, set up as
// png_decoder.cpp sets it up, raises nothing before its first row: every CRC
// right, every chunk whole and within libpng's length limits, IHDR first and
// valid, PLTE (palette images only) and tRNS before the first IDAT and each
// well-formed, the IDATs contiguous, IEND empty, no unknown critical chunk,
// a zlib header zlib and ISA-L read alike. Anything else returns a reason and
// the file goes to libpng, which decides it (docs/INPUTS.md "Two PNG paths").
// Bytes after IEND are never read, by either path.
//
// Pure functions over a byte span; no allocation.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

namespace huepool {

// The IHDR at byte 8, as stated (no validation beyond "present and not 0x0").
struct PngStatedHeader {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  int depth = 0;
  int color_type = 0;
  bool interlaced = false;
};

std::optional<PngStatedHeader> read_png_stated_header(std::span<const std::uint8_t> bytes);

// Row memory for the image, from its header (DecodeLimits::max_buffer_bytes):
// libpng keeps two rows (the row and the previous one, for unfiltering) of its
// widest pixel (at most 64 bits: RGBA16, or gray16 turned RGB with alpha);
// huepool's band holds at least one output row (4 bytes a pixel; a palette row
// adds its 1-byte indices), and an Adam7 image is held whole. Both PNG paths
// check this one estimate, so they refuse the same images; the fast path holds
// less (two filtered rows and one output row for a wide image).
std::uint64_t png_buffer_bytes(const PngStatedHeader& h);

// CRC-32 of the PNG spec (ISA-L's, the same polynomial as zlib's crc32).
std::uint32_t png_crc32(const std::uint8_t* data, std::size_t n);

inline constexpr std::uint32_t kPngChunkMallocMax = 8u << 20;  // libpng's chunk limit as png_decoder.cpp sets it

struct PngLayout {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint8_t depth = 0;
  std::uint8_t color_type = 0;
  std::uint8_t channels = 0;      // samples per pixel in the file (palette: 1)
  std::size_t rowbytes = 0;       // bytes of one unfiltered row, filter byte not included
  // Palette images: the PLTE as libpng keeps it (at most 2^depth entries).
  unsigned palette_size = 0;
  std::array<std::uint8_t, 768> palette{};  // R,G,B per entry
  // tRNS: palette alpha (trns_count entries), or the transparent gray / RGB sample.
  bool has_trns = false;
  unsigned trns_count = 0;
  std::array<std::uint8_t, 256> trns_alpha{};
  std::array<std::uint16_t, 3> trns_sample{};
  // The IDAT chunks: from the first IDAT's length field to the end of the last one's CRC.
  std::size_t idat_begin = 0;
  std::size_t idat_end = 0;
};

// Why a file goes to libpng instead (for tests and benchmarks; never shown to users).
struct PngDecline {
  std::string_view reason;
};

std::variant<PngLayout, PngDecline> walk_png_chunks(std::span<const std::uint8_t> bytes);

}  // namespace huepool
