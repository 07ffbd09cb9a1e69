// The frame layer on its own: round trips, every header field corrupted,
// truncation at every length, and lengths that must not be trusted.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "proto/frame_codec.hpp"

using namespace huepool::proto;
using Bytes = std::vector<std::uint8_t>;

namespace {
Bytes frame_of(MessageType t, const Bytes& body) {
  Bytes out;
  append_frame(out, t, body);
  return out;
}
}  // namespace

TEST_CASE("frame: header layout is the documented one") {
  const Bytes f = frame_of(MessageType::job, {0xAA, 0xBB, 0xCC});
  CHECK(f == Bytes{'H', 'P', kVersion, 2, 3, 0, 0, 0, 0xAA, 0xBB, 0xCC});
}

TEST_CASE("frame: round trip, including an empty body and the largest body") {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, kMaxBodyLength}) {
    CAPTURE(n);
    Bytes body(n);
    for (std::size_t i = 0; i < n; ++i) body[i] = static_cast<std::uint8_t>(i * 31);
    const Bytes f = frame_of(MessageType::result, body);
    const FrameDecode d = decode_frame(f);
    REQUIRE(d.status == DecodeStatus::complete);
    CHECK(d.type == MessageType::result);
    CHECK(d.consumed == kHeaderLength + n);
    CHECK(Bytes(d.body.begin(), d.body.end()) == body);
  }
}

TEST_CASE("frame: every truncation needs more, never malformed or complete") {
  const Bytes f = frame_of(MessageType::error, Bytes(40, 7));
  for (std::size_t n = 0; n < f.size(); ++n) {
    CAPTURE(n);
    CHECK(decode_frame(std::span(f).first(n)).status == DecodeStatus::need_more);
  }
}

TEST_CASE("frame: two frames back to back decode one at a time") {
  Bytes stream = frame_of(MessageType::ready, Bytes{1, 0, 0, 0});
  const std::size_t first = stream.size();
  append_frame(stream, MessageType::job, Bytes{9, 9});
  const FrameDecode a = decode_frame(stream);
  REQUIRE(a.status == DecodeStatus::complete);
  CHECK(a.consumed == first);
  const FrameDecode b = decode_frame(std::span(stream).subspan(a.consumed));
  REQUIRE(b.status == DecodeStatus::complete);
  CHECK(b.type == MessageType::job);
  CHECK(b.body.size() == 2);
}

TEST_CASE("frame: corrupted header fields are malformed") {
  const Bytes good = frame_of(MessageType::job, {1, 2, 3});
  SUBCASE("magic, first byte: seen after one byte") {
    Bytes f = good;
    f[0] ^= 0xFF;
    CHECK(decode_frame(std::span(f).first(1)).status == DecodeStatus::malformed);
    CHECK(decode_frame(f).status == DecodeStatus::malformed);
  }
  SUBCASE("magic, second byte") {
    Bytes f = good;
    f[1] = 'X';
    CHECK(decode_frame(std::span(f).first(2)).status == DecodeStatus::malformed);
  }
  SUBCASE("version") {
    for (std::uint8_t v : {0, 1, 2, 3, 5, 255}) {  // 1: before warnings, 2: before the palette, 3: before frames
      Bytes f = good;
      f[2] = v;
      const FrameDecode d = decode_frame(f);
      CHECK(d.status == DecodeStatus::malformed);
      CHECK(d.error.find("version") != std::string::npos);
    }
  }
  SUBCASE("type") {
    for (std::uint8_t t : {0, 5, 200}) {
      Bytes f = good;
      f[3] = t;
      CHECK(decode_frame(f).status == DecodeStatus::malformed);
    }
  }
}

TEST_CASE("frame: a length over the limit is malformed at once, not a wait for 4 GiB") {
  for (std::uint32_t len : {std::uint32_t(kMaxBodyLength + 1), 0xFFFFFFFFu, 0x80000000u}) {
    CAPTURE(len);
    Bytes f{'H', 'P', kVersion, 3, static_cast<std::uint8_t>(len), static_cast<std::uint8_t>(len >> 8),
            static_cast<std::uint8_t>(len >> 16), static_cast<std::uint8_t>(len >> 24)};
    const FrameDecode d = decode_frame(f);
    CHECK(d.status == DecodeStatus::malformed);
    CHECK(d.consumed == 0);
  }
}

TEST_CASE("frame: a length that promises more than arrived waits, then completes") {
  Bytes f = frame_of(MessageType::result, Bytes(100, 1));
  const Bytes whole = f;
  f.resize(60);
  CHECK(decode_frame(f).status == DecodeStatus::need_more);
  CHECK(decode_frame(whole).status == DecodeStatus::complete);
}

TEST_CASE("frame: random damage never reads out of bounds and never completes with a wrong size") {
  const Bytes good = frame_of(MessageType::result, Bytes(64, 5));
  std::uint32_t seed = 12345;
  auto next = [&seed] {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    return seed;
  };
  for (int round = 0; round < 5000; ++round) {
    Bytes f = good;
    const int flips = 1 + static_cast<int>(next() % 4);
    for (int i = 0; i < flips; ++i) f[next() % f.size()] ^= static_cast<std::uint8_t>(1 + next() % 255);
    f.resize(next() % (f.size() + 1));
    const FrameDecode d = decode_frame(f);
    if (d.status == DecodeStatus::complete) {
      CHECK(d.consumed <= f.size());
      CHECK(d.consumed == kHeaderLength + d.body.size());
    }
  }
}
