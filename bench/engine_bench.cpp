// engine_bench: single-threaded decode-only vs decode+count throughput of the
// common/ engine over a directory of real images (default: the shared corpus).
//
//   engine_bench [--runs N] [--min] [--variants | --variant NAME...] [DIR]
//
// Times are thread CPU time (CLOCK_THREAD_CPUTIME_ID), so other processes on
// the machine cost less noise; the caches they share still add some.
// For every image and run, the variants are timed back to back, so each ratio
// compares numbers from the same run under the same machine conditions. Per
// image the median of the runs is kept (--min: the fastest run, the better
// estimate of the work itself when a shared machine only ever adds time); per
// format and overall these are
// summed. Columns:
//   decode      the engine's decoders (same settings and output layout as the
//               analyzer; PNG: the fast path), rows handed to a sink that does nothing
//   jcs_rgb     JPEG only: plain libjpeg-turbo JCS_RGB output (Pillow's
//               setting), to show the RGBX output the engine asks for costs nothing
//   analyze     Analyzer::analyze: decode + exact count + top list, the product
//               (decoders hand over 64 KiB bands of rows)
//   count_row   the product's decoders and counter, but rows handed over one
//               at a time (one libjpeg batch) instead of in bands
//   count_256k  the same with 256 KiB bands
//   --variants  adds the counting ideas in bench/engine_count_variants.hpp,
//               each fed by the same decoder
//   --variant   only the named idea (may be repeated)
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <jpeglib.h>

#include "bench/bench_support.hpp"
#include "bench/engine_count_variants.hpp"
#include "common/analyzer.hpp"
#include "common/color_counter.hpp"
#include "common/jpeg_decoder.hpp"
#include "common/png_decoder.hpp"
#include "common/png_fast_decoder.hpp"

using namespace huepool;

namespace {

using bench::cpu_now;
using bench::median;

using bench::NullSink;

// Feeds decoded rows to a counter: the product's ColorCounter or a variant.
template <typename Counter>
class CountingSink final : public RowSink {
 public:
  explicit CountingSink(Counter& c) : counter_(c) {}
  void on_warning(std::string_view) noexcept override {}
  std::optional<ImageError> on_header(const ImageHeader& h) noexcept override {
    width_ = h.width;
    counter_.begin(std::uint64_t{h.width} * h.height);
    return std::nullopt;
  }
  void on_rows(const std::uint8_t* first, std::size_t stride, std::uint32_t count, PixelLayout layout) noexcept override {
    for (std::uint32_t i = 0; i < count; ++i) counter_.add(first + i * stride, width_, layout);
  }

 private:
  Counter& counter_;
  std::uint32_t width_ = 0;
};

double seconds(const std::function<void()>& f) {
  const double start = cpu_now();
  f();
  return cpu_now() - start;
}

void jcs_rgb_decode(const std::vector<std::uint8_t>& bytes, std::vector<std::uint8_t>& row) {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr err{};
  cinfo.err = jpeg_std_error(&err);  // corpus files are valid: default error_exit is fine here
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), bytes.size());
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  row.resize(std::size_t{cinfo.output_width} * 3 * 4);
  JSAMPROW rows[4] = {row.data(), row.data() + cinfo.output_width * 3, row.data() + cinfo.output_width * 6,
                      row.data() + cinfo.output_width * 9};
  while (cinfo.output_scanline < cinfo.output_height)
    jpeg_read_scanlines(&cinfo, rows, std::min<JDIMENSION>(4, cinfo.rec_outbuf_height));
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 7;
  bool use_min = false;
  bool variants = false;
  std::vector<std::string> only;
  std::string dir = "../shared/corpus/seed12";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--min") use_min = true;
    else if (a == "--variants") variants = true;
    else if (a == "--variant" && i + 1 < argc) only.push_back(argv[++i]);
    else dir = a;
  }
  std::vector<bench::CorpusImage> images = bench::load_corpus(dir);
  if (images.empty()) {
    std::fprintf(stderr, "engine_bench: no PNG/JPEG files in %s\n", dir.c_str());
    return 2;
  }

  std::vector<std::string> columns = {"decode", "jcs_rgb", "analyze", "count_row", "count_256k"};
  std::vector<std::unique_ptr<bench::CountVariant>> variant_impls;
  if (variants || !only.empty())
    for (auto& v : bench::all_variants()) {
      if (!only.empty() && std::find(only.begin(), only.end(), v->name()) == only.end()) continue;
      columns.push_back(v->name());
      variant_impls.push_back(std::move(v));
    }

  // PNG: the product's decoder, the fast path (libpng behind it for what it
  // hands over); bench/png_bench compares it with libpng alone.
  PngDecoder libpng, libpng_row(1), libpng_256k(256 << 10);
  FastPngDecoder png(libpng);
  JpegDecoder jpeg;
  JpegDecoder jpeg_row(1);          // one libjpeg batch per band: count right after each row
  JpegDecoder jpeg_256k(256 << 10);
  FastPngDecoder png_row(libpng_row, 1);  // one row per band
  FastPngDecoder png_256k(libpng_256k, 256 << 10);
  ColorCounter counter;             // the product's counter, fed by the decoders above
  CountingSink<ColorCounter> counter_sink(counter);
  Analyzer analyzer;
  std::vector<std::uint8_t> scratch;
  const DecodeLimits limits;
  // times[column][image][run]
  std::vector<std::vector<std::vector<double>>> times(columns.size(),
                                                      std::vector<std::vector<double>>(images.size()));
  for (int run = -1; run < runs; ++run) {  // run -1 warms caches and tables, not recorded
    for (std::size_t i = 0; i < images.size(); ++i) {
      bench::CorpusImage& img = images[i];
      std::vector<double> t(columns.size(), 0);
      NullSink null_sink;
      t[0] = seconds([&] {
        if (img.format == ImageFormat::png) (void)png.decode(img.bytes, {limits, false}, null_sink);
        else (void)jpeg.decode(img.bytes, {limits, false}, null_sink);
      });
      img.pixels = null_sink.pixels;
      t[1] = img.format == ImageFormat::jpeg ? seconds([&] { jcs_rgb_decode(img.bytes, scratch); }) : t[0];
      t[2] = seconds([&] { (void)analyzer.analyze(img.bytes, AnalyzeOptions{}); });
      t[3] = seconds([&] {
        if (img.format == ImageFormat::png) (void)png_row.decode(img.bytes, {limits, false}, counter_sink);
        else (void)jpeg_row.decode(img.bytes, {limits, false}, counter_sink);
        (void)counter.finish(1);
      });
      t[4] = seconds([&] {
        if (img.format == ImageFormat::png) (void)png_256k.decode(img.bytes, {limits, false}, counter_sink);
        else (void)jpeg_256k.decode(img.bytes, {limits, false}, counter_sink);
        (void)counter.finish(1);
      });
      for (std::size_t v = 0; v < variant_impls.size(); ++v) {
        CountingSink<bench::CountVariant> sink(*variant_impls[v]);
        t[5 + v] = seconds([&] {
          if (img.format == ImageFormat::png) (void)png.decode(img.bytes, {limits, false}, sink);
          else (void)jpeg.decode(img.bytes, {limits, false}, sink);
          variant_impls[v]->finish();
        });
      }
      if (run >= 0)
        for (std::size_t c = 0; c < columns.size(); ++c) times[c][i].push_back(t[c]);
    }
  }

  std::printf("engine_bench: %zu images from %s, %d runs, %s of thread CPU time; MP/s = megapixels per CPU second, one thread\n\n",
              images.size(), dir.c_str(), runs, use_min ? "minimum" : "medians");
  std::printf("%-40s %9s", "image", "MP");
  for (const auto& c : columns) std::printf(" %12s", (c + " ms").c_str());
  std::printf(" %8s\n", "ratio");
  std::map<std::string, std::vector<double>> group_time;  // format -> per column sum of medians
  std::map<std::string, double> group_mp;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const std::string g = std::string(format_name(images[i].format));
    const double mp = static_cast<double>(images[i].pixels) / 1e6;
    std::printf("%-40s %9.3f", images[i].name.c_str(), mp);
    std::vector<double> med(columns.size());
    for (std::size_t c = 0; c < columns.size(); ++c) {
      med[c] = use_min ? *std::min_element(times[c][i].begin(), times[c][i].end()) : median(times[c][i]);
      std::printf(" %12.2f", med[c] * 1e3);
    }
    std::printf(" %8.3f\n", med[0] / med[2]);
    for (const std::string& key : {g, std::string("all")}) {
      auto& sums = group_time[key];
      sums.resize(columns.size(), 0);
      for (std::size_t c = 0; c < columns.size(); ++c) sums[c] += med[c];
      group_mp[key] += mp;
    }
  }
  std::printf("\nthroughput (MP/s) and ratio to decode-only (1.000 = counting is free):\n");
  std::printf("%-8s %8s", "group", "MP");
  for (const auto& c : columns) std::printf(" %15s", c.c_str());
  std::printf("\n");
  for (const auto& [g, sums] : group_time) {
    std::printf("%-8s %8.2f", g.c_str(), group_mp[g]);
    for (std::size_t c = 0; c < columns.size(); ++c) std::printf(" %7.1f (%5.3f)", group_mp[g] / sums[c], sums[0] / sums[c]);
    std::printf("\n");
  }
  return 0;
}
