#pragma once
// What the engine benchmarks share: the corpus as bytes, thread CPU time,
// medians, and a sink that does nothing with decoded rows.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/analysis.hpp"
#include "common/pixel_rows.hpp"

namespace huepool::bench {

struct CorpusImage {
  std::string name;  // file name, without the directory
  ImageFormat format;
  std::vector<std::uint8_t> bytes;
  std::uint64_t pixels = 0;  // filled in by whoever decodes it
};

// Every PNG/JPEG file directly in `dir` (sniffed, not by extension), by name.
std::vector<CorpusImage> load_corpus(const std::string& dir);

// Thread CPU time in seconds, not wall time: on a shared 2-core box a
// descheduled slice would otherwise land in whichever column was running.
double cpu_now();

double median(std::vector<double> v);

// Decode-only timing: takes the rows and does nothing with them but keep one
// byte observable (so the decode is not optimised away); records the pixels.
class NullSink final : public RowSink {
 public:
  void on_warning(std::string_view) noexcept override {}
  std::optional<ImageError> on_header(const ImageHeader& h) noexcept override {
    pixels = std::uint64_t{h.width} * h.height;
    return std::nullopt;
  }
  void on_rows(const std::uint8_t* first, std::size_t, std::uint32_t, PixelLayout) noexcept override {
    sink_byte ^= first[0];
  }
  std::uint64_t pixels = 0;
  std::uint8_t sink_byte = 0;
};

}  // namespace huepool::bench
