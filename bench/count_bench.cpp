// count_bench: the counting alone, without the decoder next to it. Each image
// is decoded once into memory (rows exactly as the product's decoders hand
// them over); then the product's ColorCounter and any named counting variants
// (bench/engine_count_variants.hpp) count those rows, timed with thread CPU
// time, median of the runs.
//
//   count_bench [--runs N] [--cold] [--variant NAME...] [DIR]
//
// --cold walks a buffer larger than the last-level cache before every timed
// count, so the table starts out of cache, as it does in a worker that has
// just decoded another image. engine_bench measures the product as a whole
// (decode + count); this shows what the counting itself costs per pixel.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "bench/engine_count_variants.hpp"
#include "common/color_counter.hpp"
#include "common/jpeg_decoder.hpp"
#include "common/png_decoder.hpp"

using namespace huepool;

namespace {

constexpr std::size_t kCacheFlushBytes = 128u << 20;  // > the 32 MiB L3 of the dev box

// An image's rows, decoded once, each followed by the row padding counters may read.
class DecodedRows final : public RowSink {
 public:
  void on_warning(std::string_view) noexcept override {}
  std::optional<ImageError> on_header(const ImageHeader& h) noexcept override {
    width_ = h.width;
    height_ = h.height;
    return std::nullopt;
  }
  void on_rows(const std::uint8_t* first, std::size_t stride, std::uint32_t count,
               PixelLayout layout) noexcept override {
    layout_ = layout;
    stride_ = width_ * bytes_per_pixel(layout) + kRowPadding;
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::size_t at = pixels_.size();
      pixels_.resize(at + stride_, 0);
      std::copy_n(first + i * stride, width_ * bytes_per_pixel(layout), pixels_.begin() + static_cast<long>(at));
    }
  }
  std::uint64_t pixels() const { return std::uint64_t{width_} * height_; }
  template <typename Counter>
  void feed(Counter& counter) const {
    for (std::size_t at = 0; at < pixels_.size(); at += stride_) counter.add(pixels_.data() + at, width_, layout_);
  }

 private:
  std::uint32_t width_ = 0, height_ = 0;
  PixelLayout layout_ = PixelLayout::rgb;
  std::size_t stride_ = 0;
  std::vector<std::uint8_t> pixels_;
};

void flush_caches(std::vector<std::uint8_t>& buffer) {
  for (std::size_t i = 0; i < buffer.size(); i += 64) buffer[i] = static_cast<std::uint8_t>(buffer[i] + 1);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 11;
  bool cold = false;
  std::vector<std::string> only;
  std::string dir = "../shared/corpus/seed12";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--cold") cold = true;
    else if (a == "--variant" && i + 1 < argc) only.push_back(argv[++i]);
    else dir = a;
  }
  std::vector<bench::CorpusImage> images = bench::load_corpus(dir);
  if (images.empty()) {
    std::fprintf(stderr, "count_bench: no PNG/JPEG files in %s\n", dir.c_str());
    return 2;
  }
  std::vector<std::unique_ptr<bench::CountVariant>> variants;
  for (auto& v : bench::all_variants())
    if (std::find(only.begin(), only.end(), v->name()) != only.end()) variants.push_back(std::move(v));

  std::vector<DecodedRows> decoded(images.size());
  PngDecoder png;
  JpegDecoder jpeg;
  const DecodeLimits limits;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto error = images[i].format == ImageFormat::png ? png.decode(images[i].bytes, {limits, true}, decoded[i])
                                                            : jpeg.decode(images[i].bytes, {limits, true}, decoded[i]);
    if (error) {
      std::fprintf(stderr, "count_bench: %s: %s\n", images[i].name.c_str(), error->message.c_str());
      return 1;
    }
  }

  ColorCounter counter;
  std::vector<std::uint8_t> flush(cold ? kCacheFlushBytes : 0);
  const std::size_t columns = 1 + variants.size();
  std::vector<std::vector<std::vector<double>>> times(columns, std::vector<std::vector<double>>(images.size()));
  for (int run = -1; run < runs; ++run) {  // run -1 warms the tables up, not recorded
    for (std::size_t i = 0; i < images.size(); ++i) {
      for (std::size_t c = 0; c < columns; ++c) {
        if (cold) flush_caches(flush);
        const double start = bench::cpu_now();
        if (c == 0) {
          counter.begin(decoded[i].pixels());
          decoded[i].feed(counter);
          (void)counter.finish(1);
        } else {
          bench::CountVariant& v = *variants[c - 1];
          v.begin(decoded[i].pixels());
          decoded[i].feed(v);
          (void)v.finish();
        }
        if (run >= 0) times[c][i].push_back(bench::cpu_now() - start);
      }
    }
  }

  std::printf("count_bench: %zu images from %s, %d runs%s, medians of thread CPU time, ns per pixel\n\n",
              images.size(), dir.c_str(), runs, cold ? ", caches flushed before each count" : "");
  std::printf("%-40s %8s %12s", "image", "MP", "product");
  for (const auto& v : variants) std::printf(" %12s", v->name().c_str());
  std::printf("\n");
  std::vector<double> total_ms(columns, 0);
  for (std::size_t i = 0; i < images.size(); ++i) {
    const double pixels = static_cast<double>(decoded[i].pixels());
    std::printf("%-40s %8.3f", images[i].name.c_str(), pixels / 1e6);
    for (std::size_t c = 0; c < columns; ++c) {
      const double t = bench::median(times[c][i]);
      total_ms[c] += t * 1e3;
      std::printf(" %12.2f", t * 1e9 / pixels);
    }
    std::printf("\n");
  }
  std::printf("%-40s %8s", "total ms", "");
  for (const double ms : total_ms) std::printf(" %12.2f", ms);
  std::printf("\n");
  return 0;
}
