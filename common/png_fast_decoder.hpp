#pragma once
// PNG without libpng for the files that need nothing of it (ImageDecoder):
// chunks walked and CRC-checked here (png_chunks), the IDAT stream inflated by
// ISA-L in streaming mode (zlib header and Adler-32 checked) into a band of
// filtered rows, the rows unfiltered in place (png_unfilter, SIMD where it
// pays) and converted to the layouts RowSink takes, a band at a time: the
// image is never held whole.
//
// libpng stays, as the path for everything else and as the oracle; the split
// (docs/INPUTS.md "Two PNG paths"):
// - Before any row: a file the chunk walk does not accept (interlaced, any
//   CRC error, truncation, a chunk out of place, a tRNS or PLTE libpng would
//   warn about, an unusual zlib header, ...) goes whole to the libpng decoder,
//   which decides it with its own words.
// - While decoding: anything but a clean stream (an ISA-L error, a bad
//   Adler-32, data that ends early or goes on past the last row, a bad filter
//   type, a palette index beyond the PLTE) hands the file to the libpng
//   decoder from the start, on the same sink (RowSink::on_header() again;
//   this path reports no warning of its own, so there is none to take back).
//   The answer is then libpng's, word for word, including its quirks (it does
//   not always read the Adler-32).
// So the fast path answers only where libpng would have answered the same
// pixels with no warning, and the differential test and fuzz target check it.
//
// Not thread-safe; one per thread, holding its ISA-L state and band buffers
// between calls, like the other decoders.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/image_decoder.hpp"
#include "common/png_decoder.hpp"

struct inflate_state;  // ISA-L's

namespace huepool {

class FastPngDecoder final : public ImageDecoder {
 public:
  // How the last decode() was answered (tests and benchmarks).
  enum class Path : std::uint8_t {
    fast,            // by this decoder alone
    libpng,          // handed to libpng before any row (the chunk walk declined)
    libpng_restart,  // handed to libpng after rows were delivered (an anomaly in the data)
    refused,         // too_large or an on_header() error, before either decoder ran
  };

  static constexpr std::size_t kDefaultBandBytes = PngDecoder::kDefaultBandBytes;
  // oracle: the libpng decoder that takes what this one hands over; it must
  // outlive this decoder. simd: false forces scalar unfiltering (benchmarks).
  explicit FastPngDecoder(PngDecoder& oracle, std::size_t band_bytes = kDefaultBandBytes, bool simd = true);
  ~FastPngDecoder() override;
  FastPngDecoder(const FastPngDecoder&) = delete;
  FastPngDecoder& operator=(const FastPngDecoder&) = delete;

  std::optional<ImageError> decode(std::span<const std::uint8_t> bytes, const DecodeRequest& request,
                                   RowSink& sink) override;

  Path last_path() const noexcept { return last_path_; }
  // Why the last file went to libpng ("" when it did not).
  std::string_view last_reason() const noexcept { return last_reason_; }

 private:
  struct Run;
  PngDecoder& oracle_;
  std::size_t band_bytes_;
  bool simd_;
  Path last_path_ = Path::fast;
  std::string_view last_reason_;
  std::unique_ptr<inflate_state> inflate_;
  std::vector<std::uint8_t> filtered_;  // the previous row, then a band of filtered rows (unfiltered in place)
  std::vector<std::uint8_t> converted_;  // a band of rows in the sink's layout, when the file's is not one
};

}  // namespace huepool
