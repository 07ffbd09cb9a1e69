#pragma once
// The vocabulary every module shares: what an analysis is asked for, and what
// it answers. Plain values only; no I/O, no allocation beyond the result itself.
// The names returned by format_name()/error_code_name() are public API (they
// appear in JSON results) and must never change.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace huepool {

enum class ImageFormat : std::uint8_t { png = 1, jpeg = 2, webp = 3, gif = 4 };

enum class AlphaMode : std::uint8_t {
  keep = 0,    // alpha is dropped, every pixel counts (default)
  ignore = 1,  // pixels with alpha 0 are not counted
};

// Stable per-image error codes (DESIGN.md §2).
enum class ErrorCode : std::uint8_t {
  unsupported_format = 1,  // not PNG, JPEG, WebP or GIF by its magic bytes (empty input too)
  decode_failed = 2,       // damaged or truncated data: never a partial count
  too_large = 3,           // header exceeds DecodeLimits, or the payload exceeds a byte limit
  no_pixels = 4,           // nothing was counted (alpha=ignore on a fully transparent image)
  timeout = 5,             // the worker passed the per-image deadline and was replaced
  worker_crashed = 6,      // two workers in a row died holding this image (it is retried once)
  internal = 7,            // a bug or resource failure on our side, never the client's input
};

std::string_view format_name(ImageFormat format);     // "png", "jpeg", "webp", "gif"
std::string_view error_code_name(ErrorCode code);     // "decode_failed", ...

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Rgb&, const Rgb&) = default;
};

struct ColorCount {
  Rgb color;
  std::uint64_t count = 0;
  friend bool operator==(const ColorCount&, const ColorCount&) = default;
};

inline constexpr unsigned kMaxTop = 256;
// palette=K takes 1..kMaxPalette clusters (docs/PALETTE.md).
inline constexpr unsigned kMaxPalette = 16;

struct AnalyzeOptions {
  // 0: only the most popular color, no "colors" list in the result.
  // 1..kMaxTop: the K most common colors, listed as "colors".
  unsigned top = 0;
  AlphaMode alpha = AlphaMode::keep;
  // 0: no palette. 1..kMaxPalette: the K perceptual dominant colors (k-means
  // in CIELAB over the exact histogram, docs/PALETTE.md), listed as "palette".
  unsigned palette = 0;
};

// Checked against the image header before any pixel buffer exists. There is
// no per-side cap: a long thin image within both limits is an image, not a
// bomb (DESIGN.md §3); each format's own maximum side still applies (PNG
// 2^31-1, JPEG 65500).
struct DecodeLimits {
  // Pixels per image: bounds the time spent and the counter's work.
  std::uint64_t max_pixels = 100'000'000;
  // Bytes the decoder may hold for pixel rows at once (the codec's own row
  // buffers, the band handed to the counter, an interlaced image held whole),
  // as estimated from the header. Keeps a very wide row (a 100,000,000x1
  // RGBA16 PNG row is 800 MB) from meeting the worker's address-space limit
  // mid-decode: such an image is too_large from its header instead.
  std::uint64_t max_buffer_bytes = 1ull << 30;
  friend bool operator==(const DecodeLimits&, const DecodeLimits&) = default;
};

// Defects that changed no counted pixel, reported with the result (DESIGN.md
// §2 "warnings"). Bounded so that a file full of defects cannot grow a result.
inline constexpr std::size_t kMaxWarnings = 8;
inline constexpr std::size_t kMaxWarningBytes = 240;

// One cluster of palette=K. Every counted pixel belongs to exactly one entry.
struct PaletteEntry {
  Rgb mean;                         // count-weighted mean of the member colors, each channel rounded half up
  std::uint64_t count = 0;          // pixels whose color is in this cluster
  ColorCount dominant;              // the most common exact color inside it (ties by first occurrence)
  friend bool operator==(const PaletteEntry&, const PaletteEntry&) = default;
};

struct ImageAnalysis {
  ImageFormat format = ImageFormat::png;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint64_t pixels = 0;         // pixels counted: width*height, less transparent ones under alpha=ignore
  std::uint32_t frames = 0;         // frames in the file (GIF, WebP; the first is counted); 0: not reported (PNG, JPEG)
  std::vector<ColorCount> colors;   // most popular first, ties by first occurrence; max(1, top) entries or fewer
  std::vector<PaletteEntry> palette;  // options.palette > 0: largest count first; min(K, distinct colors) entries or fewer
  std::vector<std::string> warnings;  // at most kMaxWarnings, each at most kMaxWarningBytes; usually empty
};

struct ImageError {
  ErrorCode code = ErrorCode::internal;
  std::string message;              // for humans; the code is the contract
};

using AnalysisOutcome = std::variant<ImageAnalysis, ImageError>;

}  // namespace huepool
