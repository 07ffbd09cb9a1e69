// png_bench (issue 13): the fast PNG path against libpng, single thread, same
// run, image by image.
//
//   png_bench [--runs N] [DIR]      (default DIR: ../shared/corpus/seed12)
//
// Images: every PNG in DIR, plus PNGs generated here with libpng's default
// writer settings (adaptive filters, zlib level 6): a photo-like RGB image
// (gradients + noise), a flat RGB image (large areas of a few colours), and
// the photo as RGBA. Times are thread CPU time; per image the median of the
// runs; per group the sum of medians. For every image and run the columns are
// timed back to back, the fast and libpng ones in alternating order. Columns:
//   libpng        PngDecoder (libpng + zlib) feeding a sink that does nothing
//   fast          FastPngDecoder, same sink
//   fast_scalar   FastPngDecoder with the scalar unfilter (what SIMD gave)
//   libpng+count  Analyzer on the libpng path: decode + exact count, the product before
//   fast+count    Analyzer on the fast path, the product now
//   zlib_inflate  inflate of the IDAT stream alone, zlib (Adler-32 checked)
//   isal_inflate  the same with ISA-L (what ISA-L gave)
#include <isa-l/igzip_lib.h>
#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "common/analyzer.hpp"
#include "common/png_decoder.hpp"
#include "common/png_fast_decoder.hpp"

using namespace huepool;

namespace {

using bench::NullSink;

double seconds(const std::function<void()>& f) {
  const double start = bench::cpu_now();
  f();
  return bench::cpu_now() - start;
}

extern "C" void write_to_vector(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
extern "C" void flush_nothing(png_structp) {}

// channels 3 (RGB) or 4 (RGBA); libpng's default filters and compression.
std::vector<std::uint8_t> write_png(std::uint32_t w, std::uint32_t h, int channels, const std::vector<std::uint8_t>& px) {
  std::vector<std::uint8_t> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return {};
  }
  png_set_write_fn(png, &out, write_to_vector, flush_nothing);
  png_set_IHDR(png, info, w, h, 8, channels == 4 ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (std::uint32_t y = 0; y < h; ++y)
    png_write_row(png, const_cast<png_bytep>(px.data() + std::size_t{y} * w * channels));
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

std::vector<std::uint8_t> generated(const std::string& kind, std::uint32_t w, std::uint32_t h) {
  const int channels = kind == "photo_rgba" ? 4 : 3;
  std::vector<std::uint8_t> px(std::size_t{w} * h * channels);
  std::uint32_t s = 2463534242u;
  for (std::uint32_t y = 0; y < h; ++y)
    for (std::uint32_t x = 0; x < w; ++x) {
      s ^= s << 13;
      s ^= s >> 17;
      s ^= s << 5;
      std::uint8_t* p = px.data() + (std::size_t{y} * w + x) * channels;
      if (kind == "flat") {
        const unsigned cell = ((x / 97) * 7 + (y / 61) * 3) % 6;
        p[0] = static_cast<std::uint8_t>(cell * 40);
        p[1] = static_cast<std::uint8_t>(200 - cell * 30);
        p[2] = static_cast<std::uint8_t>(cell & 1 ? 255 : 30);
      } else {
        p[0] = static_cast<std::uint8_t>(x * 255 / w + (s & 3));
        p[1] = static_cast<std::uint8_t>(y * 255 / h + ((s >> 2) & 3));
        p[2] = static_cast<std::uint8_t>((x + y) / 4 + ((s >> 4) & 7));
        if (channels == 4) p[3] = static_cast<std::uint8_t>(255 - (x & 63));
      }
    }
  return write_png(w, h, channels, px);
}

// The concatenated IDAT payloads (the zlib stream) and the inflated size.
std::vector<std::uint8_t> idat_stream(const std::vector<std::uint8_t>& png, std::size_t* inflated) {
  std::vector<std::uint8_t> z;
  std::uint32_t w = 0, h = 0;
  int ct = 0, depth = 0;
  for (std::size_t pos = 8; pos + 12 <= png.size();) {
    const std::uint32_t len = (std::uint32_t{png[pos]} << 24) | (png[pos + 1] << 16) | (png[pos + 2] << 8) | png[pos + 3];
    const std::uint8_t* body = png.data() + pos + 8;
    if (std::memcmp(png.data() + pos + 4, "IHDR", 4) == 0) {
      w = (std::uint32_t{body[0]} << 24) | (body[1] << 16) | (body[2] << 8) | body[3];
      h = (std::uint32_t{body[4]} << 24) | (body[5] << 16) | (body[6] << 8) | body[7];
      depth = body[8];
      ct = body[9];
    }
    if (std::memcmp(png.data() + pos + 4, "IDAT", 4) == 0) z.insert(z.end(), body, body + len);
    pos += 12 + std::size_t{len};
  }
  const int channels = ct == 2 ? 3 : ct == 6 ? 4 : ct == 4 ? 2 : 1;
  *inflated = (std::size_t{w} * channels * depth + 7) / 8 * h + h;
  return z;
}

// Streams into a 64 KiB buffer, as both decoders do; returns bytes out.
std::size_t zlib_inflate(const std::vector<std::uint8_t>& z, std::vector<std::uint8_t>& out) {
  z_stream s{};
  inflateInit(&s);
  s.next_in = const_cast<std::uint8_t*>(z.data());
  s.avail_in = static_cast<uInt>(z.size());
  std::size_t total = 0;
  int ret = Z_OK;
  while (ret == Z_OK) {
    s.next_out = out.data();
    s.avail_out = static_cast<uInt>(out.size());
    ret = inflate(&s, Z_NO_FLUSH);
    total += out.size() - s.avail_out;
  }
  inflateEnd(&s);
  return total;
}

std::size_t isal_inflate_all(const std::vector<std::uint8_t>& z, std::vector<std::uint8_t>& out, inflate_state& s) {
  isal_inflate_init(&s);
  s.crc_flag = ISAL_ZLIB;
  s.next_in = const_cast<std::uint8_t*>(z.data());
  s.avail_in = static_cast<std::uint32_t>(z.size());
  std::size_t total = 0;
  while (s.block_state != ISAL_BLOCK_FINISH) {
    s.next_out = out.data();
    s.avail_out = static_cast<std::uint32_t>(out.size());
    if (isal_inflate(&s) != ISAL_DECOMP_OK) break;
    total += out.size() - s.avail_out;
    if (s.avail_out == out.size() && s.avail_in == 0) break;
  }
  return total;
}

struct Image {
  Image(std::string n, std::vector<std::uint8_t> b) : name(std::move(n)), bytes(std::move(b)) {}
  std::string name;
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint8_t> zstream;
  std::size_t inflated = 0;
  std::uint64_t pixels = 0;
  std::string path;  // how the fast decoder took it
};

}  // namespace

int main(int argc, char** argv) {
  int runs = 7;
  std::string dir = "../shared/corpus/seed12";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    else dir = a;
  }
  std::vector<Image> images;
  for (auto& c : bench::load_corpus(dir))
    if (c.format == ImageFormat::png) images.push_back(Image{c.name, std::move(c.bytes)});
  images.push_back(Image{"gen-photo-2000x1500.png", generated("photo", 2000, 1500)});
  images.push_back(Image{"gen-photo-rgba-2000x1500.png", generated("photo_rgba", 2000, 1500)});
  images.push_back(Image{"gen-flat-2000x1500.png", generated("flat", 2000, 1500)});
  for (auto& img : images) img.zstream = idat_stream(img.bytes, &img.inflated);

  const std::vector<std::string> columns = {"libpng", "fast", "fast_scalar", "libpng+count", "fast+count",
                                            "zlib_inflate", "isal_inflate"};
  PngDecoder libpng;
  FastPngDecoder fast(libpng);
  PngDecoder libpng2;
  FastPngDecoder fast_scalar(libpng2, FastPngDecoder::kDefaultBandBytes, false);
  Analyzer analyze_libpng(DecodeLimits{}, PngPath::libpng);
  Analyzer analyze_fast(DecodeLimits{}, PngPath::fast);
  auto isal = std::make_unique<inflate_state>();
  std::vector<std::uint8_t> out(64 << 10);
  const DecodeRequest request{DecodeLimits{}, false};
  std::vector<std::vector<std::vector<double>>> times(columns.size(), std::vector<std::vector<double>>(images.size()));
  for (int run = -1; run < runs; ++run) {
    for (std::size_t i = 0; i < images.size(); ++i) {
      Image& img = images[i];
      std::vector<double> t(columns.size());
      NullSink sink;
      auto decode_libpng = [&] { t[0] = seconds([&] { (void)libpng.decode(img.bytes, request, sink); }); };
      auto decode_fast = [&] { t[1] = seconds([&] { (void)fast.decode(img.bytes, request, sink); }); };
      auto count_libpng = [&] { t[3] = seconds([&] { (void)analyze_libpng.analyze(img.bytes, {}); }); };
      auto count_fast = [&] { t[4] = seconds([&] { (void)analyze_fast.analyze(img.bytes, {}); }); };
      if (run % 2 == 0) {
        decode_libpng();
        decode_fast();
        count_libpng();
        count_fast();
      } else {
        decode_fast();
        decode_libpng();
        count_fast();
        count_libpng();
      }
      img.pixels = sink.pixels;
      t[2] = seconds([&] { (void)fast_scalar.decode(img.bytes, request, sink); });
      std::size_t n1 = 0, n2 = 0;
      t[5] = seconds([&] { n1 = zlib_inflate(img.zstream, out); });
      t[6] = seconds([&] { n2 = isal_inflate_all(img.zstream, out, *isal); });
      if (run == -1) {
        (void)fast.decode(img.bytes, request, sink);
        switch (fast.last_path()) {
          case FastPngDecoder::Path::fast: img.path = "fast"; break;
          default: img.path = "libpng (" + std::string(fast.last_reason()) + ")"; break;
        }
        if (n1 != img.inflated || n2 != img.inflated)
          std::fprintf(stderr, "%s: inflated %zu / %zu bytes, expected %zu\n", img.name.c_str(), n1, n2, img.inflated);
      }
      if (run >= 0)
        for (std::size_t c = 0; c < columns.size(); ++c) times[c][i].push_back(t[c]);
    }
  }

  std::printf("png_bench: %zu PNGs (%s + generated), %d runs, medians of thread CPU time, one thread\n\n",
              images.size(), dir.c_str(), runs);
  std::printf("%-34s %7s", "image", "MP");
  for (const auto& c : columns) std::printf(" %13s", (c + " ms").c_str());
  std::printf(" %7s %7s  %s\n", "decode", "+count", "path");
  std::map<std::string, std::vector<double>> sums;
  std::map<std::string, double> mps;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const double mp = static_cast<double>(images[i].pixels) / 1e6;
    std::vector<double> med(columns.size());
    std::printf("%-34s %7.3f", images[i].name.c_str(), mp);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      med[c] = bench::median(times[c][i]);
      std::printf(" %13.2f", med[c] * 1e3);
    }
    std::printf(" %6.2fx %6.2fx  %s\n", med[0] / med[1], med[3] / med[4], images[i].path.c_str());
    const std::string group = images[i].name.rfind("gen-", 0) == 0 ? "generated" : "corpus";
    for (const std::string& g : {group, std::string("all")}) {
      auto& s = sums[g];
      s.resize(columns.size(), 0);
      for (std::size_t c = 0; c < columns.size(); ++c) s[c] += med[c];
      mps[g] += mp;
    }
  }
  std::printf("\n%-10s %7s", "group", "MP");
  for (const auto& c : columns) std::printf(" %13s", (c + " MP/s").c_str());
  std::printf(" %7s %7s %7s %7s\n", "decode", "+count", "simd", "inflate");
  for (const auto& [g, s] : sums) {
    std::printf("%-10s %7.2f", g.c_str(), mps[g]);
    for (std::size_t c = 0; c < columns.size(); ++c) std::printf(" %13.1f", mps[g] / s[c]);
    std::printf(" %6.2fx %6.2fx %6.2fx %6.2fx\n", s[0] / s[1], s[3] / s[4], s[2] / s[1], s[5] / s[6]);
  }
  std::printf("\ndecode = libpng / fast time (decode-only speed-up), +count = the same for decode + count,\n"
              "simd = fast_scalar / fast, inflate = zlib / ISA-L on the IDAT streams alone\n");
  return 0;
}
