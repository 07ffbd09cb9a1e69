// palette_bench (issue 15): what palette=K adds to decode+count, image by
// image, in the same run.
//
//   palette_bench [--runs N] [--palette K] [DIR]   (defaults: 15 runs, K = 8, ../shared/corpus/seed12)
//
// One Analyzer (as a worker holds one), warmed up first. For every image and
// run, the two columns are timed back to back, in alternating order:
//   count          Analyzer::analyze with the default options (decode + exact count)
//   count+palette  the same with palette=K
//   palette alone  PaletteBuilder::build on the image's exact histogram (counted
//                  once beforehand), repeated: the palette's own cost, which
//                  the difference of the two columns above measures only
//                  through the noise of a decode on a shared machine
// Times are thread CPU time; per image the median of the runs; overall the
// sum of the per-image medians, and the median of the per-image ratios. The
// palette of every run is checked to be the same as the first (determinism),
// and the same as the one built from the histogram alone.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "bench/bench_support.hpp"
#include "common/analyzer.hpp"
#include "common/color_counter.hpp"
#include "common/jpeg_decoder.hpp"
#include "common/palette.hpp"
#include "common/png_decoder.hpp"
#include "common/png_fast_decoder.hpp"

using namespace huepool;

namespace {

// Decoded rows straight into a counter, as the Analyzer's own sink does.
class CounterSink final : public RowSink {
 public:
  explicit CounterSink(ColorCounter& counter) : counter_(counter) {}
  std::optional<ImageError> on_header(const ImageHeader& h) noexcept override {
    width_ = h.width;
    counter_.begin(std::uint64_t{h.width} * h.height);
    return std::nullopt;
  }
  void on_rows(const std::uint8_t* first, std::size_t stride, std::uint32_t count, PixelLayout layout) noexcept override {
    for (std::uint32_t i = 0; i < count; ++i) counter_.add(first + i * stride, width_, layout);
  }
  void on_warning(std::string_view) noexcept override {}

 private:
  ColorCounter& counter_;
  std::uint32_t width_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  unsigned runs = 15, palette = 8;
  std::string dir = "../shared/corpus/seed12";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = static_cast<unsigned>(std::stoul(argv[++i]));
    else if (std::strcmp(argv[i], "--palette") == 0 && i + 1 < argc) palette = static_cast<unsigned>(std::stoul(argv[++i]));
    else dir = argv[i];
  }
  const auto images = bench::load_corpus(dir);
  if (images.empty()) {
    std::fprintf(stderr, "palette_bench: no PNG/JPEG in %s\n", dir.c_str());
    return 2;
  }
  Analyzer analyzer;
  analyzer.warm_up();
  const AnalyzeOptions plain{};
  const AnalyzeOptions with_palette{0, AlphaMode::keep, palette};

  std::printf("palette=%u, %u runs, thread CPU time, median per image (ms)\n", palette, runs);
  std::printf("%-36s %10s %14s %9s %7s %8s %9s %14s\n", "image", "count", "count+palette", "added", "ratio", "entries",
              "distinct", "palette alone");
  double sum_plain = 0, sum_palette = 0, worst_added = 0, sum_alone = 0, worst_alone = 0;
  ColorCounter counter;
  PngDecoder png;
  FastPngDecoder fast_png(png);
  JpegDecoder jpeg;
  PaletteBuilder builder;
  std::vector<double> ratios;
  int failures = 0;
  for (const auto& image : images) {
    std::vector<double> t_plain, t_palette;
    std::vector<PaletteEntry> first;
    std::size_t entries = 0;
    for (unsigned r = 0; r < runs; ++r) {
      for (int turn = 0; turn < 2; ++turn) {
        const bool palette_turn = (turn == 0) == (r % 2 == 0);
        const double start = bench::cpu_now();
        AnalysisOutcome outcome = analyzer.analyze(image.bytes, palette_turn ? with_palette : plain);
        const double elapsed = bench::cpu_now() - start;
        const auto* a = std::get_if<ImageAnalysis>(&outcome);
        if (!a) {
          std::fprintf(stderr, "palette_bench: %s failed: %s\n", image.name.c_str(),
                       std::get<ImageError>(outcome).message.c_str());
          return 1;
        }
        (palette_turn ? t_palette : t_plain).push_back(elapsed * 1e3);
        if (palette_turn) {
          if (first.empty()) first = a->palette;
          else if (a->palette != first) ++failures;
          entries = a->palette.size();
        }
      }
    }
    // The palette alone, on the histogram counted once.
    CounterSink sink(counter);
    ImageDecoder& decoder = image.format == ImageFormat::png ? static_cast<ImageDecoder&>(fast_png) : jpeg;
    if (decoder.decode(image.bytes, DecodeRequest{DecodeLimits{}, false}, sink)) return 1;
    (void)counter.finish(1);
    std::vector<double> t_alone;
    for (unsigned r = 0; r < 2 * runs; ++r) {
      const double start = bench::cpu_now();
      const std::vector<PaletteEntry> alone = builder.build(counter.counted_colors(), palette);
      t_alone.push_back((bench::cpu_now() - start) * 1e3);
      if (alone != first) ++failures;
    }
    const double p = bench::median(t_plain), q = bench::median(t_palette), alone = bench::median(t_alone);
    sum_plain += p;
    sum_palette += q;
    sum_alone += alone;
    worst_added = std::max(worst_added, q - p);
    worst_alone = std::max(worst_alone, alone);
    ratios.push_back(q / p);
    std::printf("%-36s %10.2f %14.2f %9.2f %7.3f %8zu %9zu %14.3f\n", image.name.c_str(), p, q, q - p, q / p, entries,
                counter.distinct(), alone);
  }
  std::printf("%-36s %10.2f %14.2f %9.2f %7.3f\n", "sum of medians", sum_plain, sum_palette, sum_palette - sum_plain,
              sum_palette / sum_plain);
  std::printf("median of per-image ratios: %.3f; most added to one image: %.2f ms\n", bench::median(ratios),
              worst_added);
  std::printf("palette alone: %.2f ms in all = %.1f%% of the decode+count sum; at most %.3f ms for one image\n",
              sum_alone, 100.0 * sum_alone / sum_plain, worst_alone);
  if (failures) std::printf("NOT DETERMINISTIC: %d runs gave another palette\n", failures);
  return failures ? 1 : 0;
}
