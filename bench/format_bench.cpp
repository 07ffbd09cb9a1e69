// format_bench (issue 15): single-threaded decode-only and decode+count
// throughput of the engine per format, PNG, JPEG, WebP (lossy and lossless
// apart) and GIF, over one directory of images (bench/format_corpus.py makes
// one from ../shared/corpus/seed12: the same pictures in every format).
//
//   format_bench [--runs N] DIR
//
// For every image and run, decode-only (the format's decoder into a sink that
// does nothing) and Analyzer::analyze (decode + exact count + top list) are
// timed back to back in thread CPU time; per image the median of the runs is
// kept, and summed per format. "count share" = 1 - decode/analyze: the part
// of the product's time that counting adds.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "common/analyzer.hpp"
#include "common/gif_decoder.hpp"
#include "common/jpeg_decoder.hpp"
#include "common/png_decoder.hpp"
#include "common/png_fast_decoder.hpp"
#include "common/webp_decoder.hpp"

using namespace huepool;

namespace {

using bench::NullSink;

// WebP lossy and lossless differ tenfold in speed: reported apart.
std::string group_of(const bench::CorpusImage& img) {
  if (img.format != ImageFormat::webp) return std::string(format_name(img.format));
  return img.bytes.size() > 16 && img.bytes[12] == 'V' && img.bytes[15] == 'L' ? "webp-ll" : "webp-lossy";
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    else dir = a;
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: format_bench [--runs N] DIR   (DIR from bench/format_corpus.py)\n");
    return 2;
  }
  std::vector<bench::CorpusImage> images = bench::load_corpus(dir);
  if (images.empty()) {
    std::fprintf(stderr, "format_bench: no image in %s\n", dir.c_str());
    return 2;
  }
  PngDecoder libpng;
  FastPngDecoder png(libpng);
  JpegDecoder jpeg;
  WebpDecoder webp;
  GifDecoder gif;
  auto decoder_for = [&](ImageFormat f) -> ImageDecoder& {
    switch (f) {
      case ImageFormat::png: return png;
      case ImageFormat::jpeg: return jpeg;
      case ImageFormat::webp: return webp;
      case ImageFormat::gif: return gif;
    }
    return png;
  };
  Analyzer analyzer;
  const DecodeRequest request{DecodeLimits{}, false};
  std::vector<std::vector<double>> decode_t(images.size()), analyze_t(images.size());
  for (int run = -1; run < runs; ++run) {  // run -1 warms caches and tables, not recorded
    for (std::size_t i = 0; i < images.size(); ++i) {
      bench::CorpusImage& img = images[i];
      NullSink sink;
      double start = bench::cpu_now();
      const auto error = decoder_for(img.format).decode(img.bytes, request, sink);
      const double decode = bench::cpu_now() - start;
      start = bench::cpu_now();
      const auto outcome = analyzer.analyze(img.bytes, AnalyzeOptions{});
      const double analyze = bench::cpu_now() - start;
      if (error || !std::holds_alternative<ImageAnalysis>(outcome)) {
        std::fprintf(stderr, "format_bench: %s failed: %s\n", img.name.c_str(), error ? error->message.c_str() : "");
        return 1;
      }
      img.pixels = sink.pixels;
      if (run >= 0) {
        decode_t[i].push_back(decode);
        analyze_t[i].push_back(analyze);
      }
    }
  }
  std::printf("format_bench: %zu images from %s, %d runs, medians of thread CPU time; MP/s = megapixels per CPU second\n\n",
              images.size(), dir.c_str(), runs);
  std::printf("%-44s %-10s %8s %10s %10s %10s\n", "image", "group", "MP", "bytes", "decode ms", "analyze ms");
  struct Sum {
    double mp = 0, decode = 0, analyze = 0, bytes = 0;
  };
  std::map<std::string, Sum> sums;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const double mp = static_cast<double>(images[i].pixels) / 1e6;
    const double d = bench::median(decode_t[i]), a = bench::median(analyze_t[i]);
    const std::string g = group_of(images[i]);
    std::printf("%-44s %-10s %8.3f %10zu %10.2f %10.2f\n", images[i].name.c_str(), g.c_str(), mp, images[i].bytes.size(),
                d * 1e3, a * 1e3);
    Sum& s = sums[g];
    s.mp += mp;
    s.decode += d;
    s.analyze += a;
    s.bytes += static_cast<double>(images[i].bytes.size());
  }
  std::printf("\n%-10s %8s %12s %14s %15s %12s\n", "format", "MP", "MB in", "decode MP/s", "analyze MP/s", "count share");
  for (const auto& [g, s] : sums)
    std::printf("%-10s %8.2f %12.2f %14.1f %15.1f %11.1f%%\n", g.c_str(), s.mp, s.bytes / 1e6, s.mp / s.decode,
                s.mp / s.analyze, 100 * (1 - s.decode / s.analyze));
  return 0;
}
