#include "proto/frame_codec.hpp"

#include <cassert>

#include "proto/byte_io.hpp"

namespace huepool::proto {

FrameDecode decode_frame(std::span<const std::uint8_t> buffer) {
  FrameDecode d;
  // Validate as much of the header as has arrived, so garbage is reported as
  // soon as it is visible rather than after waiting for more bytes.
  if (buffer.size() >= 1 && buffer[0] != static_cast<std::uint8_t>(kMagic & 0xff)) {
    d.status = DecodeStatus::malformed;
    d.error = "bad magic";
    return d;
  }
  if (buffer.size() >= 2 && buffer[1] != static_cast<std::uint8_t>(kMagic >> 8)) {
    d.status = DecodeStatus::malformed;
    d.error = "bad magic";
    return d;
  }
  if (buffer.size() < kHeaderLength) return d;

  ByteReader r(buffer.first(kHeaderLength));
  r.u16();
  const std::uint8_t version = r.u8();
  const std::uint8_t type = r.u8();
  const std::uint32_t body_length = r.u32();
  if (version != kVersion) {
    d.status = DecodeStatus::malformed;
    d.error = "unsupported protocol version " + std::to_string(version);
    return d;
  }
  if (type == 0 || type > kMaxMessageType) {
    d.status = DecodeStatus::malformed;
    d.error = "unknown message type " + std::to_string(type);
    return d;
  }
  if (body_length > kMaxBodyLength) {
    d.status = DecodeStatus::malformed;
    d.error = "body length " + std::to_string(body_length) + " over the limit";
    return d;
  }
  if (buffer.size() - kHeaderLength < body_length) return d;
  d.status = DecodeStatus::complete;
  d.type = static_cast<MessageType>(type);
  d.body = buffer.subspan(kHeaderLength, body_length);
  d.consumed = kHeaderLength + body_length;
  return d;
}

void append_frame(std::vector<std::uint8_t>& out, MessageType type,
                  std::span<const std::uint8_t> body) {
  assert(body.size() <= kMaxBodyLength);
  out.reserve(out.size() + kHeaderLength + body.size());
  ByteWriter w(out);
  w.u16(kMagic);
  w.u8(kVersion);
  w.u8(static_cast<std::uint8_t>(type));
  w.u32(static_cast<std::uint32_t>(body.size()));
  w.bytes(body);
}

}  // namespace huepool::proto
