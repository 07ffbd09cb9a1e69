#include "common/png_fast_decoder.hpp"

#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <variant>

#include "common/png_chunks.hpp"
#include "common/png_unfilter.hpp"

namespace huepool {

namespace {

constexpr std::size_t kMaxBandRows = 256;
constexpr std::uint8_t kPaeth = 4;
constexpr std::size_t kKeepBufferBytes = 16u << 20;

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// The 4 output bytes of one pixel.
inline void put4(std::uint8_t* out, std::uint8_t r, std::uint8_t g, std::uint8_t b, std::uint8_t a) noexcept {
  out[0] = r;
  out[1] = g;
  out[2] = b;
  out[3] = a;
}

// Sample x of a row of `depth`-bit samples (depth < 8: packed, first sample in the high bits).
inline unsigned packed_sample(const std::uint8_t* row, std::size_t x, unsigned depth) noexcept {
  const std::size_t bit = x * depth;
  return (row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1u << depth) - 1);
}

// How one row of the file becomes one row the sink takes.
enum class Conversion : std::uint8_t {
  none,          // RGB8 or RGBA8 as they are
  rgb8_trns,     // RGB8 + tRNS, alpha wanted -> rgba
  rgb16,         // RGB16 -> rgbx (high bytes); with tRNS and alpha wanted -> rgba
  rgba16,        // RGBA16 -> rgba/rgbx (high bytes)
  gray,          // gray 1/2/4/8/16 -> rgbx; with tRNS and alpha wanted -> rgba
  gray_alpha,    // gray+alpha 8/16 -> rgba/rgbx
  palette,       // indices -> rgba/rgbx through the table
};

}  // namespace

// One decode: the layout, the buffers and the ISA-L state. Returns from run()
// nothing on a clean stream, else why the file goes to libpng.
struct FastPngDecoder::Run {
  const PngLayout& layout;
  const std::uint8_t* data;
  inflate_state& z;
  RowSink& sink;
  const RowUnfilter unfilter;
  bool want_alpha;
  Conversion conversion = Conversion::none;
  PixelLayout out_layout = PixelLayout::rgb;
  std::uint32_t palette_rgba[256] = {};
  std::size_t next_idat = 0;  // offset of the next IDAT chunk to feed

  Run(const PngLayout& l, const std::uint8_t* bytes, inflate_state& state, RowSink& s, bool simd, bool alpha)
      : layout(l),
        data(bytes),
        z(state),
        sink(s),
        unfilter(std::max<unsigned>(1, l.channels * l.depth / 8), simd),
        want_alpha(alpha),
        next_idat(l.idat_begin) {
    const bool trns_alpha = alpha && l.has_trns;
    switch (l.color_type) {
      case 2:
        if (l.depth == 8) {
          conversion = trns_alpha ? Conversion::rgb8_trns : Conversion::none;
          out_layout = trns_alpha ? PixelLayout::rgba : PixelLayout::rgb;
        } else {
          conversion = Conversion::rgb16;
          out_layout = trns_alpha ? PixelLayout::rgba : PixelLayout::rgbx;
        }
        break;
      case 6:
        conversion = l.depth == 8 ? Conversion::none : Conversion::rgba16;
        out_layout = alpha ? PixelLayout::rgba : PixelLayout::rgbx;
        break;
      case 0:
        conversion = Conversion::gray;
        out_layout = trns_alpha ? PixelLayout::rgba : PixelLayout::rgbx;
        break;
      case 4:
        conversion = Conversion::gray_alpha;
        out_layout = alpha ? PixelLayout::rgba : PixelLayout::rgbx;
        break;
      case 3:
        conversion = Conversion::palette;
        out_layout = trns_alpha ? PixelLayout::rgba : PixelLayout::rgbx;
        for (unsigned i = 0; i < l.palette_size; ++i) {
          const std::uint8_t a = trns_alpha && i < l.trns_count ? l.trns_alpha[i] : 255;
          const std::uint8_t entry[4] = {l.palette[3 * i], l.palette[3 * i + 1], l.palette[3 * i + 2], a};
          std::memcpy(&palette_rgba[i], entry, 4);
        }
        break;
      default:
        break;
    }
  }

  bool feed() noexcept {
    while (next_idat < layout.idat_end) {
      const std::uint32_t length = be32(data + next_idat);
      const std::uint8_t* body = data + next_idat + 8;
      next_idat += 12 + std::size_t{length};
      if (length > 0) {
        z.next_in = const_cast<std::uint8_t*>(body);  // ISA-L does not write through next_in
        z.avail_in = length;
        return true;
      }
    }
    return false;
  }

  // Inflates exactly n bytes to out.
  const char* inflate_to(std::uint8_t* out, std::size_t n) noexcept {
    z.next_out = out;
    z.avail_out = static_cast<std::uint32_t>(n);
    while (z.avail_out > 0) {
      if (z.block_state == ISAL_BLOCK_FINISH) return "the zlib stream ends before the last row";
      if (const char* why = step()) return why;
    }
    return nullptr;
  }

  // One isal_inflate() call, with the next IDAT's bytes when the last ones are
  // used up. With no input left ISA-L may still hold output it decoded ahead
  // (small output buffers), so it is called anyway; no progress then means
  // the data ends here.
  const char* step() noexcept {
    if (z.avail_in == 0) feed();
    const std::uint32_t in_before = z.avail_in, out_before = z.avail_out;
    const int status = isal_inflate(&z);
    clean_upper_vector_state();  // ISA-L leaves it dirty (png_unfilter.hpp)
    if (status != ISAL_DECOMP_OK) return "zlib data error";
    if (z.avail_in == in_before && z.avail_out == out_before && z.block_state != ISAL_BLOCK_FINISH)
      return in_before == 0 ? "the image data ends before the zlib stream does" : "the inflater made no progress";
    return nullptr;
  }

  // After the last row: the stream must end here, its Adler-32 right, with
  // no byte after it.
  const char* finish() noexcept {
    std::uint8_t scratch[64];
    while (z.block_state != ISAL_BLOCK_FINISH) {
      z.next_out = scratch;
      z.avail_out = sizeof scratch;
      if (const char* why = step()) return why;
      if (z.avail_out != sizeof scratch) return "compressed data past the last row";
    }
    if (z.avail_in != 0 || z.read_in_length > 0) return "bytes after the zlib stream";
    if (feed()) return "IDAT data after the zlib stream";
    return nullptr;
  }

  // Converts row (unfiltered) into out; false when a palette index is beyond the PLTE.
  bool convert(const std::uint8_t* row, std::uint8_t* out) const noexcept {
    const std::uint32_t w = layout.width;
    const unsigned depth = layout.depth;
    switch (conversion) {
      case Conversion::none:
        return true;
      case Conversion::rgb8_trns: {
        const auto& t = layout.trns_sample;
        for (std::uint32_t x = 0; x < w; ++x, row += 3, out += 4) {
          const bool clear = row[0] == t[0] && row[1] == t[1] && row[2] == t[2];
          put4(out, row[0], row[1], row[2], clear ? 0 : 255);
        }
        return true;
      }
      case Conversion::rgb16: {
        const bool trns = out_layout == PixelLayout::rgba;
        const auto& t = layout.trns_sample;
        for (std::uint32_t x = 0; x < w; ++x, row += 6, out += 4) {
          bool clear = false;
          if (trns) {
            clear = ((row[0] << 8) | row[1]) == t[0] && ((row[2] << 8) | row[3]) == t[1] &&
                    ((row[4] << 8) | row[5]) == t[2];
          }
          put4(out, row[0], row[2], row[4], clear ? 0 : 255);
        }
        return true;
      }
      case Conversion::rgba16:
        for (std::uint32_t x = 0; x < w; ++x, row += 8, out += 4) put4(out, row[0], row[2], row[4], row[6]);
        return true;
      case Conversion::gray: {
        const bool trns = out_layout == PixelLayout::rgba;
        const unsigned t = layout.trns_sample[0];
        if (depth == 8) {
          for (std::uint32_t x = 0; x < w; ++x, out += 4) put4(out, row[x], row[x], row[x], trns && row[x] == t ? 0 : 255);
        } else if (depth == 16) {
          for (std::uint32_t x = 0; x < w; ++x, out += 4) {
            const unsigned s = (row[2 * x] << 8) | row[2 * x + 1];
            put4(out, row[2 * x], row[2 * x], row[2 * x], trns && s == t ? 0 : 255);
          }
        } else {
          const unsigned scale = depth == 1 ? 255 : depth == 2 ? 85 : 17;
          for (std::uint32_t x = 0; x < w; ++x, out += 4) {
            const unsigned s = packed_sample(row, x, depth);
            const auto g = static_cast<std::uint8_t>(s * scale);
            put4(out, g, g, g, trns && s == t ? 0 : 255);
          }
        }
        return true;
      }
      case Conversion::gray_alpha: {
        const unsigned step = depth == 16 ? 4 : 2;
        const unsigned alpha_at = depth == 16 ? 2 : 1;
        for (std::uint32_t x = 0; x < w; ++x, row += step, out += 4) put4(out, row[0], row[0], row[0], row[alpha_at]);
        return true;
      }
      case Conversion::palette: {
        const unsigned size = layout.palette_size;
        if (depth == 8) {
          const std::uint8_t highest = *std::max_element(row, row + w);
          if (highest >= size) return false;
          for (std::uint32_t x = 0; x < w; ++x, out += 4) std::memcpy(out, &palette_rgba[row[x]], 4);
        } else {
          const bool check = size < (1u << depth);
          for (std::uint32_t x = 0; x < w; ++x, out += 4) {
            const unsigned i = packed_sample(row, x, depth);
            if (check && i >= size) return false;
            std::memcpy(out, &palette_rgba[i], 4);
          }
        }
        return true;
      }
    }
    return true;
  }

  // Decodes every row into `filtered` (the previous row at 0, then up to
  // `band` rows, each with its filter byte) and hands them to the sink.
  const char* rows(std::uint8_t* filtered, std::uint8_t* converted, std::size_t band) noexcept {
    const std::size_t rowbytes = layout.rowbytes;
    const std::size_t stride = rowbytes + 1;
    const std::size_t out_stride = std::size_t{layout.width} * 4 + kRowPadding;
    std::memset(filtered, 0, stride);
    for (std::uint32_t y = 0; y < layout.height;) {
      const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(band, layout.height - y));
      if (const char* why = inflate_to(filtered + stride, n * stride)) return why;
      for (std::uint32_t r = 0; r < n; ++r) {
        std::uint8_t* row = filtered + (r + 1) * stride;
        if (row[0] >= kPngFilterCount) return "bad filter type";
        if (row[0] == kPaeth && r + 1 < n && row[stride] == kPaeth &&
            unfilter.paeth_pair(row + 1, row + 1 - stride, row + 1 + stride, rowbytes)) {
          if (conversion != Conversion::none &&
              (!convert(row + 1, converted + r * out_stride) ||
               !convert(row + 1 + stride, converted + (r + 1) * out_stride)))
            return "palette index beyond the PLTE";
          ++r;
          continue;
        }
        if (row[0] != 0) unfilter.apply(row[0], row + 1, row + 1 - stride, rowbytes);
        if (conversion != Conversion::none && !convert(row + 1, converted + r * out_stride))
          return "palette index beyond the PLTE";
      }
      if (conversion == Conversion::none) sink.on_rows(filtered + stride + 1, stride, n, out_layout);
      else sink.on_rows(converted, out_stride, n, out_layout);
      y += n;
      if (y < layout.height) std::memcpy(filtered, filtered + n * stride, stride);
    }
    return finish();
  }
};

FastPngDecoder::FastPngDecoder(PngDecoder& oracle, std::size_t band_bytes, bool simd)
    : oracle_(oracle), band_bytes_(band_bytes), simd_(simd) {}

FastPngDecoder::~FastPngDecoder() = default;

std::optional<ImageError> FastPngDecoder::decode(std::span<const std::uint8_t> bytes, const DecodeRequest& request,
                                                 RowSink& sink) {
  last_reason_ = {};
  const std::optional<PngStatedHeader> stated = read_png_stated_header(bytes);
  if (stated) {
    const ImageHeader header{stated->width, stated->height, png_buffer_bytes(*stated)};
    if (auto error = check_limits(header, request.limits)) {
      last_path_ = Path::refused;
      return error;
    }
  }
  auto walked = walk_png_chunks(bytes);
  if (const auto* decline = std::get_if<PngDecline>(&walked); decline || !stated) {
    last_path_ = Path::libpng;
    last_reason_ = decline ? decline->reason : "no IHDR";
    return oracle_.decode(bytes, request, sink);
  }
  const PngLayout& layout = std::get<PngLayout>(walked);
  if (auto error = sink.on_header(ImageHeader{layout.width, layout.height, png_buffer_bytes(*stated)})) {
    last_path_ = Path::refused;
    return error;
  }

  const char* anomaly = nullptr;
  try {
    if (!inflate_) inflate_ = std::make_unique<inflate_state>();
    const std::size_t stride = layout.rowbytes + 1;
    const std::size_t band = std::clamp<std::size_t>(band_bytes_ / stride, 1, kMaxBandRows);
    // Both buffers are never smaller than a band of any row up to band_bytes_
    // wide (and, converted, of 8-bit pixels of one channel), so the first
    // image (a worker's warm-up) sizes and faults them in once: before, the
    // first real image grew them, copying the old band into fresh pages (~20
    // page faults; docs/BENCHMARKS.md "First request of a fresh worker").
    const std::size_t filtered_bytes = std::max((band + 1) * stride, 2 * band_bytes_) + kRowPadding;
    if (filtered_.size() < filtered_bytes) filtered_.resize(filtered_bytes);
    Run run(layout, bytes.data(), *inflate_, sink, simd_, request.want_alpha);
    if (run.conversion != Conversion::none) {
      const std::size_t converted_bytes = std::max(band * (std::size_t{layout.width} * 4 + kRowPadding),
                                                   4 * band_bytes_ + kMaxBandRows * kRowPadding);
      if (converted_.size() < converted_bytes) converted_.resize(converted_bytes);
    }
    isal_inflate_init(inflate_.get());
    inflate_->crc_flag = ISAL_ZLIB;
    anomaly = run.rows(filtered_.data(), converted_.data(), band);
    // Buffers of a very wide image are not kept for the next one. (`v = {}`
    // would pick operator=(initializer_list) and keep the capacity.)
    if (filtered_.capacity() > kKeepBufferBytes) std::vector<std::uint8_t>().swap(filtered_);
    if (converted_.capacity() > kKeepBufferBytes) std::vector<std::uint8_t>().swap(converted_);
  } catch (const std::bad_alloc&) {
    return ImageError{ErrorCode::internal, "out of memory for PNG rows"};
  }
  if (anomaly) {
    // libpng decodes the file from the start on the same sink (on_header()
    // again), so the answer, or the failure and its words, are libpng's.
    last_path_ = Path::libpng_restart;
    last_reason_ = anomaly;
    return oracle_.decode(bytes, request, sink);
  }
  last_path_ = Path::fast;
  return std::nullopt;
}

}  // namespace huepool
