#pragma once
// JPEG through libjpeg-turbo, reading from memory (ImageDecoder). setjmp/longjmp stay
// inside jpeg_decoder.cpp, in frames that hold no C++ objects; the decompressor
// is destroyed on every path.
//
// Decoder settings are libjpeg-turbo's defaults (islow IDCT, fancy upsampling),
// which are Pillow's, so pixels equal Image.open(f).convert('RGB'). Gray and
// YCbCr/RGB files come out as RGBX; CMYK/YCCK files are read as CMYK and
// converted the way Pillow 9.4 does (Adobe-inverted "CMYK;I", then cmyk2rgb).
// libjpeg's corrupt-data warnings that mean pixels were invented or lost
// (premature end, bad Huffman or arithmetic code, a marker where data was
// due, an inconsistent progression) fail the image: no partial counts.
// Warnings that change no pixel (stray bytes before a marker, which libjpeg
// skips; an unknown JFIF revision; an unknown Adobe transform code, read as
// Pillow reads it; a bad ICC marker, which is not used) are reported through
// RowSink::on_warning. APPn and COM markers are skipped unread (libjpeg keeps
// none unless asked), and a progressive file may hold at most kMaxScans scans.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/image_decoder.hpp"

namespace huepool {

class JpegDecoder final : public ImageDecoder {
 public:
  // Rows are handed over in bands of about this many bytes (at least one
  // libjpeg output batch). Band size made no measurable difference to
  // decode+count (docs/BENCHMARKS.md "Engine"); 64 KiB keeps a band in L2.
  static constexpr std::size_t kDefaultBandBytes = 64 * 1024;
  explicit JpegDecoder(std::size_t band_bytes = kDefaultBandBytes) : band_bytes_(band_bytes) {}

  // A progressive file may hold any number of scans, each a full pass over
  // the coefficients; a hostile one uses that to burn CPU, so more than this
  // many fail the image (libjpeg-turbo 3's own default cap is the same 500).
  static constexpr int kMaxScans = 500;

  std::optional<ImageError> decode(std::span<const std::uint8_t> bytes, const DecodeRequest& request,
                                   RowSink& sink) override;

 private:
  std::size_t band_bytes_;
  std::vector<std::uint8_t> rows_;  // a band of decoded rows
  std::vector<std::uint8_t> rgbx_;  // one converted row, CMYK files only
};

}  // namespace huepool
