// The fast PNG path against libpng, decoder against decoder on the same bytes
// (issue 13): same rows (RGB, and which pixels are transparent when alpha is
// wanted), same warnings, or the same error code and message. Inputs: the
// corpus, PNGs forged here of every colour type x bit depth with and without
// tRNS and with every filter type, IDAT splits and zlib oddities, truncation
// at every offset, every byte flipped, and mutations with their chunk CRC
// repaired so that they reach the data. Also: the SIMD unfilter against the
// scalar one, and Analyzer results (top=K) on both paths.
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <dirent.h>
#include <map>
#include <string>
#include <variant>

#include "common/analyzer.hpp"
#include "common/png_chunks.hpp"
#include "common/png_decoder.hpp"
#include "common/png_fast_decoder.hpp"
#include "common/png_unfilter.hpp"
#include "tests/common/test_images.hpp"

using namespace huepool;
using namespace huepool::test;

namespace {

// Rows as RGB triples plus one byte per pixel: 1 when the pixel is
// transparent in an rgba row, else 0. A second on_header() starts over.
class RecordingSink final : public RowSink {
 public:
  std::optional<ImageError> on_header(const ImageHeader& header) noexcept override {
    header_ = header;
    ++headers;
    pixels.clear();
    return std::nullopt;
  }
  void on_rows(const std::uint8_t* first, std::size_t stride, std::uint32_t count,
               PixelLayout layout) noexcept override {
    const std::size_t bpp = bytes_per_pixel(layout);
    for (std::uint32_t r = 0; r < count; ++r) {
      const std::uint8_t* p = first + r * stride;
      for (std::uint32_t x = 0; x < header_.width; ++x, p += bpp) {
        pixels.insert(pixels.end(), p, p + 3);
        pixels.push_back(layout == PixelLayout::rgba && p[3] == 0 ? 1 : 0);
      }
    }
  }
  void on_warning(std::string_view message) noexcept override { warnings.emplace_back(message); }

  int headers = 0;
  std::vector<std::uint8_t> pixels;
  std::vector<std::string> warnings;

 private:
  ImageHeader header_;
};

struct Decoders {
  PngDecoder libpng;
  FastPngDecoder fast{libpng};
  std::map<std::string, int> paths;  // how the fast decoder answered, for the coverage checks
};

std::string path_name(FastPngDecoder::Path p) {
  switch (p) {
    case FastPngDecoder::Path::fast: return "fast";
    case FastPngDecoder::Path::libpng: return "libpng";
    case FastPngDecoder::Path::libpng_restart: return "libpng_restart";
    case FastPngDecoder::Path::refused: return "refused";
  }
  return "?";
}

constexpr DecodeLimits kLimits{4'000'000, 64u << 20};

// Decodes with both and checks they agree; returns the fast decoder's path.
FastPngDecoder::Path agree(Decoders& d, const Bytes& bytes, bool want_alpha, const std::string& what,
                           DecodeLimits limits = kLimits) {
  const DecodeRequest request{limits, want_alpha};
  RecordingSink a, b;
  const auto ea = d.libpng.decode(bytes, request, a);
  const auto eb = d.fast.decode(bytes, request, b);
  const auto path = d.fast.last_path();
  ++d.paths[path_name(path)];
  INFO(what << " alpha=" << (want_alpha ? "ignore" : "keep") << " path=" << path_name(path)
            << " reason=" << d.fast.last_reason());
  REQUIRE(ea.has_value() == eb.has_value());
  if (ea) {
    CHECK(ea->code == eb->code);
    CHECK(ea->message == eb->message);
  } else {
    CHECK(a.warnings == b.warnings);
    CHECK(a.pixels == b.pixels);
  }
  return path;
}

// ---- a PNG writer with control over filters, IDAT splits and the zlib stream

void put32(Bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

void chunk(Bytes& out, const char* type, const Bytes& body) {
  put32(out, static_cast<std::uint32_t>(body.size()));
  const std::size_t at = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), body.begin(), body.end());
  put32(out, crc32(out.data() + at, 4 + body.size()));
}

int channels_of(int color_type) { return color_type == 2 ? 3 : color_type == 4 ? 2 : color_type == 6 ? 4 : 1; }

struct Forge {
  std::uint32_t width = 1, height = 1;
  int color_type = 2, depth = 8;
  Bytes rows;          // unfiltered, rowbytes each
  Bytes plte, trns;
  int filter = -1;     // -1: row y uses filter y % 5
  std::size_t idat_split = 8192;
  int level = 6;
  int window_bits = 15;
  Bytes zlib_tail;     // bytes appended to the zlib stream (extra data)
  std::size_t rowbytes() const { return (std::size_t{width} * channels_of(color_type) * depth + 7) / 8; }
};

std::uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return static_cast<std::uint8_t>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

Bytes filtered(const Forge& f) {
  const std::size_t n = f.rowbytes();
  const std::size_t bpp = std::max<std::size_t>(1, std::size_t(channels_of(f.color_type)) * f.depth / 8);
  Bytes out;
  const Bytes zero(n, 0);
  for (std::uint32_t y = 0; y < f.height; ++y) {
    const std::uint8_t* row = f.rows.data() + y * n;
    const std::uint8_t* up = y ? row - n : zero.data();
    const int type = f.filter >= 0 ? f.filter : static_cast<int>(y % 5);
    out.push_back(static_cast<std::uint8_t>(type));
    for (std::size_t i = 0; i < n; ++i) {
      const int a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
      int pred = 0;
      if (type == 1) pred = a;
      if (type == 2) pred = b;
      if (type == 3) pred = (a + b) >> 1;
      if (type == 4) pred = paeth(a, b, c);
      out.push_back(static_cast<std::uint8_t>(row[i] - pred));
    }
  }
  return out;
}

Bytes zlib_of(const Bytes& data, int level, int window_bits) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&z, data.size()) + 16);
  z.next_in = const_cast<std::uint8_t*>(data.data());
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Bytes forge(const Forge& f) {
  Bytes out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  Bytes ihdr;
  put32(ihdr, f.width);
  put32(ihdr, f.height);
  ihdr.insert(ihdr.end(), {static_cast<std::uint8_t>(f.depth), static_cast<std::uint8_t>(f.color_type), 0, 0, 0});
  chunk(out, "IHDR", ihdr);
  chunk(out, "tEXt", Bytes{'a', 0, 'b'});
  if (!f.plte.empty()) chunk(out, "PLTE", f.plte);
  if (!f.trns.empty()) chunk(out, "tRNS", f.trns);
  Bytes z = zlib_of(filtered(f), f.level, f.window_bits);
  z.insert(z.end(), f.zlib_tail.begin(), f.zlib_tail.end());
  for (std::size_t at = 0; at < z.size(); at += f.idat_split)
    chunk(out, "IDAT", Bytes(z.begin() + at, z.begin() + std::min(z.size(), at + f.idat_split)));
  chunk(out, "IEND", {});
  return out;
}

// Rows of samples: random, or smooth (so deflate codes them with Huffman blocks).
Bytes sample_rows(const Forge& f, std::uint32_t seed, bool smooth, unsigned palette_size = 0) {
  const std::size_t n = f.rowbytes();
  Bytes rows(n * f.height);
  const auto r = noise(std::max<std::size_t>(rows.size() * 2, std::size_t{f.width} * f.height) + 16, seed);
  if (palette_size) {
    for (std::uint32_t y = 0; y < f.height; ++y)
      for (std::uint32_t x = 0; x < f.width; ++x) {
        const unsigned index = smooth ? (x / 3 + y) % palette_size : r[y * f.width + x] % palette_size;
        const std::size_t bit = std::size_t{x} * f.depth;
        rows[y * n + bit / 8] |= static_cast<std::uint8_t>(index << (8 - f.depth - bit % 8));
      }
    return rows;
  }
  for (std::size_t i = 0; i < rows.size(); ++i)
    rows[i] = smooth ? static_cast<std::uint8_t>((i % n) / 7 + (i / n) * 3 + (r[i] & 3)) : r[i];
  return rows;
}

struct Kind {
  int color_type, depth;
};
constexpr Kind kKinds[] = {{0, 1}, {0, 2}, {0, 4}, {0, 8}, {0, 16}, {2, 8}, {2, 16}, {3, 1}, {3, 2},
                           {3, 4}, {3, 8}, {4, 8}, {4, 16}, {6, 8}, {6, 16}};

// Every kind, with and without tRNS, a few sizes.
std::vector<std::pair<std::string, Bytes>> forged_set() {
  std::vector<std::pair<std::string, Bytes>> out;
  std::uint32_t seed = 1;
  for (const Kind k : kKinds) {
    for (const bool trns : {false, true}) {
      if (trns && (k.color_type == 4 || k.color_type == 6)) continue;
      for (const auto& [w, h] : {std::pair{1u, 1u}, {5u, 3u}, {37u, 23u}, {300u, 70u}}) {
        for (const bool smooth : {false, true}) {
          Forge f;
          f.width = w;
          f.height = h;
          f.color_type = k.color_type;
          f.depth = k.depth;
          unsigned palette_size = 0;
          if (k.color_type == 3) {
            palette_size = std::min(1u << k.depth, 13u);
            for (unsigned i = 0; i < palette_size; ++i)
              f.plte.insert(f.plte.end(), {static_cast<std::uint8_t>(i * 19), static_cast<std::uint8_t>(i * 7 + 1),
                                           static_cast<std::uint8_t>(255 - i)});
            if (trns) f.trns = {0, 128, 255, 0};
            f.trns.resize(std::min<std::size_t>(f.trns.size(), palette_size));
          }
          f.rows = sample_rows(f, ++seed, smooth, palette_size);
          if (trns && k.color_type != 3) {
            // The transparent sample: the first pixel's, so some pixels match.
            const unsigned samples = k.color_type == 0 ? 1 : 3;
            for (unsigned s = 0; s < samples; ++s) {
              unsigned v = 0;
              if (k.depth == 16) v = (f.rows[2 * s] << 8) | f.rows[2 * s + 1];
              else if (k.depth == 8) v = f.rows[s];
              else v = f.rows[0] >> (8 - k.depth);
              f.trns.push_back(static_cast<std::uint8_t>(v >> 8));
              f.trns.push_back(static_cast<std::uint8_t>(v));
            }
          }
          f.idat_split = smooth ? 97 : 8192;
          out.emplace_back("type " + std::to_string(k.color_type) + " depth " + std::to_string(k.depth) +
                               (trns ? " tRNS " : " ") + std::to_string(w) + "x" + std::to_string(h) +
                               (smooth ? " smooth" : " noise"),
                           forge(f));
        }
      }
    }
  }
  return out;
}

std::uint32_t be32(const Bytes& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) | b[at + 3];
}

// Offsets of every chunk's length field.
std::vector<std::size_t> chunk_offsets(const Bytes& png) {
  std::vector<std::size_t> out;
  for (std::size_t pos = 8; pos + 12 <= png.size();) {
    out.push_back(pos);
    pos += 12 + std::size_t{be32(png, pos)};
  }
  return out;
}

std::vector<std::pair<std::string, Bytes>> corpus_pngs() {
  std::vector<std::pair<std::string, Bytes>> out;
  const std::string root = env_or("HUEPOOL_CORPUS_DIR", "");
  for (const std::string sub : {"seed12", "../realworld"}) {
    const std::string dir = root + "/" + sub;
    DIR* d = opendir(dir.c_str());
    if (!d) continue;
    std::vector<std::string> names;
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > 4 && name.substr(name.size() - 4) == ".png") names.push_back(name);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& name : names)
      if (auto bytes = read_file(dir + "/" + name)) out.emplace_back(sub + "/" + name, std::move(*bytes));
  }
  return out;
}

}  // namespace

TEST_CASE("SIMD unfiltering gives the scalar bytes for every filter and pixel size") {
  for (const unsigned bpp : {1u, 2u, 3u, 4u, 6u, 8u}) {
    const RowUnfilter simd(bpp), scalar(bpp, false);
    for (std::uint8_t filter = 0; filter < kPngFilterCount; ++filter) {
      for (const std::size_t pixels : {1u, 2u, 5u, 16u, 33u, 1000u}) {
        const std::size_t n = pixels * bpp;
        const auto prev = noise(n, static_cast<std::uint32_t>(bpp * 100 + filter * 10 + n));
        const auto raw = noise(n, static_cast<std::uint32_t>(bpp * 1000 + filter * 7 + n));
        auto a = raw, b = raw;
        simd.apply(filter, a.data(), prev.data(), n);
        scalar.apply(filter, b.data(), prev.data(), n);
        INFO("bpp " << bpp << " filter " << int(filter) << " n " << n);
        CHECK(a == b);
      }
    }
  }
}

TEST_CASE("two Paeth rows at once give what one after the other gives") {
  for (const unsigned bpp : {3u, 4u, 6u, 8u}) {
    const RowUnfilter simd(bpp), scalar(bpp, false);
    for (const std::size_t pixels : {1u, 2u, 7u, 300u}) {
      const std::size_t n = pixels * bpp;
      const auto prev = noise(n, static_cast<std::uint32_t>(bpp + n));
      auto a0 = noise(n, static_cast<std::uint32_t>(bpp * 3 + n)), a1 = noise(n, static_cast<std::uint32_t>(bpp * 5 + n));
      auto b0 = a0, b1 = a1;
      if (!simd.paeth_pair(a0.data(), prev.data(), a1.data(), n)) continue;  // no SSE4.1 here
      scalar.apply(4, b0.data(), prev.data(), n);
      scalar.apply(4, b1.data(), b0.data(), n);
      INFO("bpp " << bpp << " n " << n);
      CHECK(a0 == b0);
      CHECK(a1 == b1);
    }
  }
}

TEST_CASE("the chunk CRC is the PNG CRC") {
  const Bytes b = noise(1000, 5);
  CHECK(png_crc32(b.data(), b.size()) == crc32(b.data(), b.size()));
}

TEST_CASE("every colour type and bit depth, with and without tRNS, every filter: fast path, same rows as libpng") {
  Decoders d;
  for (const auto& [name, bytes] : forged_set())
    for (const bool alpha : {false, true}) CHECK(agree(d, bytes, alpha, name) == FastPngDecoder::Path::fast);
  MESSAGE("paths: fast " << d.paths["fast"] << ", libpng " << d.paths["libpng"] << ", restart "
                         << d.paths["libpng_restart"]);
}

TEST_CASE("each filter alone on every pixel size, bands of one row and of many") {
  Decoders d;
  PngDecoder libpng_one_row(1);
  FastPngDecoder fast_one_row(libpng_one_row, 1);
  for (const Kind k : kKinds) {
    for (int filter = 0; filter < 5; ++filter) {
      Forge f;
      f.width = 61;
      f.height = 9;
      f.color_type = k.color_type;
      f.depth = k.depth;
      f.filter = filter;
      unsigned palette_size = 0;
      if (k.color_type == 3) {
        palette_size = 1u << k.depth;
        f.plte.resize(3 * palette_size, 7);
      }
      f.rows = sample_rows(f, static_cast<std::uint32_t>(filter + 50), false, palette_size);
      const Bytes png = forge(f);
      const std::string what = "type " + std::to_string(k.color_type) + " depth " + std::to_string(k.depth) +
                               " filter " + std::to_string(filter);
      CHECK(agree(d, png, false, what) == FastPngDecoder::Path::fast);
      RecordingSink a, b;
      REQUIRE_FALSE(libpng_one_row.decode(png, DecodeRequest{kLimits, true}, a));
      REQUIRE_FALSE(fast_one_row.decode(png, DecodeRequest{kLimits, true}, b));
      INFO(what << " " << fast_one_row.last_reason());
      CHECK(fast_one_row.last_path() == FastPngDecoder::Path::fast);
      CHECK(a.pixels == b.pixels);
    }
  }
}

TEST_CASE("the corpus: same rows as libpng, and the non-interlaced files on the fast path") {
  Decoders d;
  const auto files = corpus_pngs();
  if (files.empty()) {
    MESSAGE("no corpus at HUEPOOL_CORPUS_DIR; skipped");
    return;
  }
  for (const auto& [name, bytes] : files) {
    const DecodeLimits big{200'000'000, 2ull << 30};
    for (const bool alpha : {false, true}) {
      const auto path = agree(d, bytes, alpha, name, big);
      // ../realworld holds damaged files on purpose; every non-interlaced seed12 PNG must take the fast path.
      const auto header = read_png_stated_header(bytes);
      // A zlib window under 32 KiB goes to libpng (png_chunks.hpp): one seed12 file declares 512 bytes.
      if (header && !header->interlaced && name.rfind("seed12/", 0) == 0 &&
          d.fast.last_reason() != "small zlib window")
        CHECK(path == FastPngDecoder::Path::fast);
      MESSAGE(name << ": " << path_name(path) << " " << d.fast.last_reason());
    }
  }
}

TEST_CASE("zlib and IDAT oddities: split checksums, extra data, small windows, stored blocks") {
  Decoders d;
  Forge base;
  base.width = 40;
  base.height = 30;
  base.rows = sample_rows(base, 77, true);
  for (const std::size_t split : {1u, 2u, 3u, 5u, 64u, 100000u}) {
    Forge f = base;
    f.idat_split = split;
    CHECK(agree(d, forge(f), false, "split " + std::to_string(split)) == FastPngDecoder::Path::fast);
  }
  for (const int level : {0, 1, 9}) {
    Forge f = base;
    f.level = level;
    CHECK(agree(d, forge(f), true, "level " + std::to_string(level)) == FastPngDecoder::Path::fast);
  }
  for (const int bits : {9, 10, 12, 15}) {
    Forge f = base;
    f.window_bits = bits;
    agree(d, forge(f), false, "window bits " + std::to_string(bits));
  }
  for (const std::size_t extra : {1u, 4u, 10u, 5000u}) {
    for (const std::size_t split : {3u, 7u, 8192u}) {
      Forge f = base;
      f.zlib_tail = noise(extra, static_cast<std::uint32_t>(extra));
      f.idat_split = split;
      CHECK(agree(d, forge(f), false, "zlib tail " + std::to_string(extra) + " split " + std::to_string(split)) !=
            FastPngDecoder::Path::fast);
    }
  }
  // Extra rows in the stream (the image says fewer than were compressed).
  {
    Forge f = base;
    Bytes png = forge(f);
    png[8 + 8 + 7] = 29;  // height 30 -> 29
    fix_png_crc(png, 8);
    CHECK(agree(d, png, false, "one row too many") != FastPngDecoder::Path::fast);
    png[8 + 8 + 7] = 31;
    fix_png_crc(png, 8);
    agree(d, png, false, "one row too few");
  }
  // Every byte of the zlib stream's Adler-32 and last block flipped, CRC repaired.
  {
    const Bytes png = forge(base);
    const auto chunks = chunk_offsets(png);
    const std::size_t last_idat = chunks[chunks.size() - 2];
    const std::size_t end = last_idat + 8 + be32(png, last_idat);
    for (std::size_t at = end - 12; at < end; ++at) {
      Bytes bad = png;
      bad[at] ^= 0x10;
      fix_png_crc(bad, last_idat);
      for (const bool alpha : {false, true}) agree(d, bad, alpha, "flipped zlib byte at " + std::to_string(at));
    }
  }
  // An Adler-32 split over two IDATs, wrong.
  for (const std::size_t split : {1u, 2u, 3u}) {
    Forge f = base;
    f.idat_split = split;
    Bytes png = forge(f);
    const auto chunks = chunk_offsets(png);
    const std::size_t last_idat = chunks[chunks.size() - 2];
    png[last_idat + 8] ^= 1;
    fix_png_crc(png, last_idat);
    agree(d, png, false, "bad Adler-32 split " + std::to_string(split));
  }
}

TEST_CASE("truncation at every offset and every byte flipped: same outcome as libpng") {
  Decoders d;
  std::vector<Bytes> seeds;
  {
    Forge f;
    f.width = 23;
    f.height = 11;
    f.rows = sample_rows(f, 5, true);
    f.idat_split = 150;
    seeds.push_back(forge(f));
    f.color_type = 3;
    f.depth = 4;
    f.plte = Bytes(3 * 9, 40);
    f.trns = {0, 99};
    f.rows = sample_rows(f, 6, true, 9);
    seeds.push_back(forge(f));
    f.color_type = 0;
    f.depth = 16;
    f.plte.clear();
    f.trns = {0, 3};
    f.rows = sample_rows(f, 7, false);
    seeds.push_back(forge(f));
  }
  for (std::size_t s = 0; s < seeds.size(); ++s) {
    const Bytes& png = seeds[s];
    for (std::size_t cut = 0; cut < png.size(); ++cut) {
      const Bytes part(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(cut));
      if (cut < 8) continue;  // not a PNG signature: the analyzer never asks a PNG decoder
      agree(d, part, s == 1, "seed " + std::to_string(s) + " cut at " + std::to_string(cut));
    }
    for (std::size_t at = 8; at < png.size(); ++at) {
      Bytes bad = png;
      bad[at] ^= static_cast<std::uint8_t>(1u << (at % 8));
      for (const bool alpha : {false, true})
        agree(d, bad, alpha, "seed " + std::to_string(s) + " flipped at " + std::to_string(at));
    }
  }
  MESSAGE("paths: fast " << d.paths["fast"] << ", libpng " << d.paths["libpng"] << ", restart "
                         << d.paths["libpng_restart"] << ", refused " << d.paths["refused"]);
}

TEST_CASE("mutations with the chunk CRC repaired reach the data: same outcome as libpng") {
  Decoders d;
  auto set = forged_set();
  std::uint32_t state = 12345;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  };
  std::size_t runs = 0;
  for (std::size_t i = 0; i < set.size(); i += 3) {
    const Bytes& png = set[i].second;
    const auto chunks = chunk_offsets(png);
    for (int m = 0; m < 40; ++m) {
      Bytes bad = png;
      const std::size_t c = chunks[next() % chunks.size()];
      const std::uint32_t length = be32(bad, c);
      const int edits = 1 + static_cast<int>(next() % 3);
      for (int e = 0; e < edits; ++e) {
        const std::size_t at = c + 8 + (length ? next() % length : 0);
        if (at < bad.size()) bad[at] = static_cast<std::uint8_t>(next() % 4 == 0 ? next() : bad[at] ^ (1u << (next() % 8)));
      }
      if (length) fix_png_crc(bad, c);
      for (const bool alpha : {false, true}) agree(d, bad, alpha, set[i].first + " mutation " + std::to_string(m));
      ++runs;
    }
  }
  MESSAGE(runs << " mutations; paths: fast " << d.paths["fast"] << ", libpng " << d.paths["libpng"]
               << ", restart " << d.paths["libpng_restart"] << ", refused " << d.paths["refused"]);
}

TEST_CASE("limits: the same images are too_large on both paths") {
  Decoders d;
  Forge f;
  f.width = 300;
  f.height = 70;
  f.rows = sample_rows(f, 3, true);
  const Bytes png = forge(f);
  agree(d, png, false, "pixels", DecodeLimits{300 * 70 - 1, 1u << 30});
  agree(d, png, false, "buffer", DecodeLimits{1'000'000, 300 * 12 - 1});
  CHECK(agree(d, png, false, "buffer just enough", DecodeLimits{1'000'000, 300 * 12}) == FastPngDecoder::Path::fast);
}

TEST_CASE("Analyzer answers the same on both PNG paths (counts, top=K, warnings)") {
  Analyzer fast(kLimits, PngPath::fast), libpng(kLimits, PngPath::libpng);
  std::vector<std::pair<std::string, Bytes>> files = forged_set();
  for (auto& f : corpus_pngs()) files.push_back(std::move(f));
  const DecodeLimits big{200'000'000, 2ull << 30};
  Analyzer fast_big(big, PngPath::fast), libpng_big(big, PngPath::libpng);
  for (const auto& [name, bytes] : files) {
    for (const AlphaMode alpha : {AlphaMode::keep, AlphaMode::ignore}) {
      for (const unsigned top : {0u, 5u}) {
        const AnalyzeOptions options{top, alpha};
        const bool large = bytes.size() > 200'000;
        const auto a = (large ? libpng_big : libpng).analyze(bytes, options);
        const auto b = (large ? fast_big : fast).analyze(bytes, options);
        INFO(name << " alpha " << int(alpha) << " top " << top);
        REQUIRE(a.index() == b.index());
        if (const auto* ra = std::get_if<ImageAnalysis>(&a)) {
          const auto& rb = std::get<ImageAnalysis>(b);
          CHECK(ra->pixels == rb.pixels);
          CHECK(ra->colors == rb.colors);
          CHECK(ra->warnings == rb.warnings);
        } else {
          CHECK(std::get<ImageError>(a).message == std::get<ImageError>(b).message);
        }
      }
    }
  }
}
