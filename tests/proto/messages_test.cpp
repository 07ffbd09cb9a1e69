// Message bodies: round trips of every message, and bodies that lie (short,
// long, counts that do not match, values out of range).
#include <doctest/doctest.h>

#include <vector>

#include "proto/frame_codec.hpp"
#include "proto/messages.hpp"

using namespace huepool;
using namespace huepool::proto;
using Bytes = std::vector<std::uint8_t>;

namespace {

// Encodes with `enc`, checks the frame, returns the body.
template <class Msg, class Enc>
Bytes body_of(const Msg& m, Enc enc, MessageType type) {
  Bytes f;
  enc(f, m);
  const FrameDecode d = decode_frame(f);
  REQUIRE(d.status == DecodeStatus::complete);
  REQUIRE(d.type == type);
  REQUIRE(d.consumed == f.size());
  return Bytes(d.body.begin(), d.body.end());
}

JobMessage sample_job(const Bytes& image) {
  JobMessage j;
  j.job_id = 0x0102030405060708ull;
  j.options.top = 256;
  j.options.alpha = AlphaMode::ignore;
  j.options.palette = kMaxPalette;
  j.limits = DecodeLimits{333, 444};
  j.payload_kind = PayloadKind::inline_bytes;
  j.payload_size = image.size();
  j.inline_bytes = image;
  return j;
}

}  // namespace

TEST_CASE("messages: ready round trip; pid 0 is malformed") {
  const Bytes b = body_of(ReadyMessage{4711}, encode_ready, MessageType::ready);
  ReadyMessage r;
  CHECK_FALSE(parse_ready(b, r));
  CHECK(r.pid == 4711);
  const Bytes zero = body_of(ReadyMessage{0}, encode_ready, MessageType::ready);
  CHECK(parse_ready(zero, r).has_value());
  CHECK(parse_ready(Bytes{1, 0, 0}, r).has_value());
  CHECK(parse_ready(Bytes{1, 0, 0, 0, 0}, r).has_value());
}

TEST_CASE("messages: job round trip, inline and fd") {
  const Bytes image{1, 2, 3, 4, 5};
  const Bytes b = body_of(sample_job(image), encode_job, MessageType::job);
  CHECK(b.size() == kJobFixedLength + image.size());
  JobMessage j;
  REQUIRE_FALSE(parse_job(b, j));
  CHECK(j.job_id == 0x0102030405060708ull);
  CHECK(j.options.top == 256);
  CHECK(j.options.alpha == AlphaMode::ignore);
  CHECK(j.options.palette == kMaxPalette);
  CHECK(j.limits.max_pixels == 333);
  CHECK(j.limits.max_buffer_bytes == 444);
  CHECK(j.payload_kind == PayloadKind::inline_bytes);
  CHECK(Bytes(j.inline_bytes.begin(), j.inline_bytes.end()) == image);

  JobMessage fdjob = sample_job({});
  fdjob.payload_kind = PayloadKind::fd;
  fdjob.payload_size = 50'000'000;
  const Bytes fb = body_of(fdjob, encode_job, MessageType::job);
  CHECK(fb.size() == kJobFixedLength);
  REQUIRE_FALSE(parse_job(fb, j));
  CHECK(j.payload_kind == PayloadKind::fd);
  CHECK(j.payload_size == 50'000'000);
  CHECK(j.inline_bytes.empty());
}

TEST_CASE("messages: job bodies that lie are malformed") {
  const Bytes image(10, 0x55);
  const Bytes good = body_of(sample_job(image), encode_job, MessageType::job);
  JobMessage j;
  // Byte offsets in the job body (PROTOCOL.md).
  constexpr std::size_t kTop = 8, kAlpha = 10, kPalette = 11, kKind = 12, kSize = 29;
  SUBCASE("every truncation") {
    for (std::size_t n = 0; n < good.size(); ++n) {
      CAPTURE(n);
      CHECK(parse_job(std::span(good).first(n), j).has_value());
    }
  }
  SUBCASE("a trailing byte") {
    Bytes b = good;
    b.push_back(0);
    CHECK(parse_job(b, j).has_value());
  }
  SUBCASE("job id 0") {
    Bytes b = good;
    std::fill(b.begin(), b.begin() + 8, 0);
    CHECK(parse_job(b, j).has_value());
  }
  SUBCASE("top over 256") {
    Bytes b = good;
    b[kTop] = 1;
    b[kTop + 1] = 1;  // 257
    CHECK(parse_job(b, j).has_value());
  }
  SUBCASE("palette over 16") {
    Bytes b = good;
    b[kPalette] = kMaxPalette + 1;
    CHECK(parse_job(b, j).has_value());
    b[kPalette] = 0;  // no palette: still a job
    REQUIRE_FALSE(parse_job(b, j).has_value());
    CHECK(j.options.palette == 0);
  }
  SUBCASE("unknown alpha and payload kind") {
    Bytes b = good;
    b[kAlpha] = 2;
    CHECK(parse_job(b, j).has_value());
    b = good;
    b[kKind] = 2;
    CHECK(parse_job(b, j).has_value());
  }
  SUBCASE("inline size does not match the bytes present") {
    Bytes b = good;
    b[kSize] = 11;
    CHECK(parse_job(b, j).has_value());
    b[kSize] = 9;
    CHECK(parse_job(b, j).has_value());
    b[kSize] = 10;
    b[kSize + 7] = 0x80;  // 2^63 + 10
    CHECK(parse_job(b, j).has_value());
  }
  SUBCASE("fd payload with bytes after it, or over the limit") {
    Bytes b = good;
    b[kKind] = 1;  // fd, but the inline bytes are still there
    CHECK(parse_job(b, j).has_value());
    b.resize(kJobFixedLength);
    CHECK_FALSE(parse_job(b, j).has_value());
    b[kSize + 7] = 0xFF;
    CHECK(parse_job(b, j).has_value());
  }
}

TEST_CASE("messages: result round trip with top colors") {
  ResultMessage m;
  m.job_id = 77;
  m.worker_us = 1234;
  m.analysis.format = ImageFormat::jpeg;
  m.analysis.width = 800;
  m.analysis.height = 600;
  m.analysis.pixels = 480000;
  for (unsigned i = 0; i < kMaxColors; ++i)
    m.analysis.colors.push_back({{static_cast<std::uint8_t>(i), 2, 3}, 1000000000000ull - i});
  const Bytes b = body_of(m, encode_result, MessageType::result);
  ResultMessage r;
  REQUIRE_FALSE(parse_result(b, r));
  CHECK(r.job_id == 77);
  CHECK(r.worker_us == 1234);
  CHECK(r.analysis.format == ImageFormat::jpeg);
  CHECK(r.analysis.width == 800);
  CHECK(r.analysis.height == 600);
  CHECK(r.analysis.pixels == 480000);
  CHECK(r.analysis.colors == m.analysis.colors);
  CHECK(r.analysis.warnings.empty());
  CHECK(r.analysis.frames == 0);
}

TEST_CASE("messages: result frames and the formats that can animate round trip; an unknown format is malformed") {
  ResultMessage m;
  m.job_id = 9;
  m.analysis.width = m.analysis.height = 2;
  m.analysis.pixels = 4;
  m.analysis.colors.push_back({{1, 2, 3}, 4});
  for (const ImageFormat format : {ImageFormat::webp, ImageFormat::gif}) {
    m.analysis.format = format;
    m.analysis.frames = 4000000000u;
    const Bytes b = body_of(m, encode_result, MessageType::result);
    ResultMessage r;
    REQUIRE_FALSE(parse_result(b, r));
    CHECK(r.analysis.format == format);
    CHECK(r.analysis.frames == 4000000000u);
  }
  Bytes b = body_of(m, encode_result, MessageType::result);
  b[8] = 5;  // the format byte follows the job id
  ResultMessage r;
  CHECK(parse_result(b, r).has_value());
  b[8] = 0;
  CHECK(parse_result(b, r).has_value());
}

TEST_CASE("messages: result warnings round trip; too many or too long are malformed") {
  ResultMessage m;
  m.job_id = 5;
  m.analysis.colors = {{{1, 2, 3}, 4}};
  for (std::size_t i = 0; i < proto::kMaxWarnings; ++i) m.analysis.warnings.push_back(std::string(i * 30, 'a' + i));
  m.analysis.warnings.back() = std::string(kMaxWarningLength, 'z');
  const Bytes b = body_of(m, encode_result, MessageType::result);
  ResultMessage r;
  REQUIRE_FALSE(parse_result(b, r));
  CHECK(r.analysis.warnings == m.analysis.warnings);
  for (std::size_t n = 0; n < b.size(); ++n) CHECK(parse_result(std::span(b).first(n), r).has_value());

  m.analysis.warnings = {"one"};
  Bytes lie = body_of(m, encode_result, MessageType::result);
  const std::size_t count_at = kResultFixedLength + kResultColorLength;
  lie[count_at] = proto::kMaxWarnings + 1;  // more warnings than the wire allows
  CHECK(parse_result(lie, r).has_value());
  lie[count_at] = 1;
  lie[count_at + 1] = 0xFF;  // a length past the body
  CHECK(parse_result(lie, r).has_value());
}

TEST_CASE("messages: result palette round trip; counts that lie are malformed") {
  ResultMessage m;
  m.job_id = 6;
  m.analysis.colors = {{{1, 2, 3}, 4}};
  m.analysis.warnings = {"w"};
  for (unsigned i = 0; i < kMaxPalette; ++i)
    m.analysis.palette.push_back(PaletteEntry{{static_cast<std::uint8_t>(i), 20, 30},
                                              5000000000ull - i,
                                              {{static_cast<std::uint8_t>(i), 21, 31}, 4000000000ull - i}});
  const Bytes b = body_of(m, encode_result, MessageType::result);
  CHECK(b.size() == kResultFixedLength + kResultColorLength + 1 + 2 + 1 + 1 +
                        kMaxPalette * kResultPaletteEntryLength);
  ResultMessage r;
  REQUIRE_FALSE(parse_result(b, r));
  CHECK(r.analysis.palette == m.analysis.palette);
  CHECK(r.analysis.warnings == m.analysis.warnings);
  for (std::size_t n = 0; n < b.size(); ++n) CHECK(parse_result(std::span(b).first(n), r).has_value());

  const std::size_t count_at = kResultFixedLength + kResultColorLength + 1 + 2 + 1;
  Bytes lie = b;
  lie[count_at] = kMaxPalette + 1;  // more entries than the wire allows
  CHECK(parse_result(lie, r).has_value());
  lie[count_at] = kMaxPalette - 1;  // one entry left over
  CHECK(parse_result(lie, r).has_value());
  lie = b;
  lie.push_back(0);
  CHECK(parse_result(lie, r).has_value());

  m.analysis.palette.clear();  // no palette asked: count 0, nothing after it
  const Bytes none = body_of(m, encode_result, MessageType::result);
  REQUIRE_FALSE(parse_result(none, r));
  CHECK(r.analysis.palette.empty());
  CHECK(none.back() == 0);
}

TEST_CASE("messages: result bodies that lie are malformed") {
  ResultMessage m;
  m.job_id = 1;
  m.analysis.colors = {{{1, 2, 3}, 4}, {{5, 6, 7}, 3}};
  const Bytes good = body_of(m, encode_result, MessageType::result);
  ResultMessage r;
  constexpr std::size_t kFormat = 8, kCount = kResultFixedLength - 2;
  for (std::size_t n = 0; n < good.size(); ++n) CHECK(parse_result(std::span(good).first(n), r).has_value());
  Bytes b = good;
  b[kFormat] = 5;  // 1 png .. 4 gif
  CHECK(parse_result(b, r).has_value());
  b = good;
  b[kCount] = 3;  // claims three colors, carries two
  CHECK(parse_result(b, r).has_value());
  b[kCount] = 0;
  CHECK(parse_result(b, r).has_value());
  b = good;
  b[kCount] = 0xFF;
  b[kCount + 1] = 0xFF;  // 65535 colors: refused before anything is sized by it
  CHECK(parse_result(b, r).has_value());
  b = good;
  b.push_back(0);
  CHECK(parse_result(b, r).has_value());
}

TEST_CASE("messages: error round trip; long messages are cut; lies are malformed") {
  ErrorMessage m{9, ImageError{ErrorCode::decode_failed, "bad CRC in IDAT"}};
  const Bytes b = body_of(m, encode_error, MessageType::error);
  ErrorMessage r;
  REQUIRE_FALSE(parse_error(b, r));
  CHECK(r.job_id == 9);
  CHECK(r.error.code == ErrorCode::decode_failed);
  CHECK(r.error.message == "bad CRC in IDAT");

  ErrorMessage longer{9, ImageError{ErrorCode::internal, std::string(5000, 'x')}};
  REQUIRE_FALSE(parse_error(body_of(longer, encode_error, MessageType::error), r));
  CHECK(r.error.message.size() == kMaxErrorMessage);

  for (std::size_t n = 0; n < b.size(); ++n) CHECK(parse_error(std::span(b).first(n), r).has_value());
  Bytes c = b;
  c[8] = 0;  // code 0
  CHECK(parse_error(c, r).has_value());
  c[8] = 8;  // past the last code
  CHECK(parse_error(c, r).has_value());
  c = b;
  c[9] = 200;  // message length beyond the body
  CHECK(parse_error(c, r).has_value());
}
