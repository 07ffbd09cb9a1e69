// libFuzzer target (issue 14): the server-worker wire format (proto/), which
// both ends read from a peer they do not trust (a worker may be compromised by
// its image; the server's frames reach a worker only through this codec).
// Built only with clang and -DHUEPOOL_FUZZ=ON; long runs in docs/RELIABILITY.md.
//
// Byte 0 picks the mode:
//   bit 0 clear  the rest is a byte stream read frame by frame, as
//                FrameSocket reads a socket;
//   bit 0 set    byte 1 is a message type and the rest a body, framed here,
//                so that mutations reach the message parsers directly.
// bits 1-7 pick a split point for the prefix check below.
// Properties checked (anything else traps):
//   - decode_frame on any proper prefix of a complete frame says need_more;
//     a malformed verdict stays malformed however many bytes follow;
//   - every body that parses re-encodes to exactly the frame it came from
//     (round trip), and the re-encoded frame parses to the same message.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "proto/frame_codec.hpp"
#include "proto/messages.hpp"

namespace {

using namespace huepool;
using namespace huepool::proto;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool same(const ImageAnalysis& a, const ImageAnalysis& b) {
  return a.format == b.format && a.width == b.width && a.height == b.height && a.pixels == b.pixels &&
         a.colors == b.colors && a.warnings == b.warnings;
}

// Parses one complete frame's body by its type; when it parses, encodes the
// message again and checks that the bytes and the reparsed message are equal.
void round_trip(MessageType type, std::span<const std::uint8_t> frame, std::span<const std::uint8_t> body) {
  std::vector<std::uint8_t> again;
  switch (type) {
    case MessageType::ready: {
      ReadyMessage m;
      if (parse_ready(body, m)) return;
      encode_ready(again, m);
      ReadyMessage n;
      check(!parse_ready(std::span(again).subspan(kHeaderLength), n) && n.pid == m.pid);
      break;
    }
    case MessageType::job: {
      JobMessage m;
      if (parse_job(body, m)) return;
      check(m.payload_kind != PayloadKind::inline_bytes || m.inline_bytes.size() == m.payload_size);
      encode_job(again, m);
      JobMessage n;
      check(!parse_job(std::span(again).subspan(kHeaderLength), n));
      check(n.job_id == m.job_id && n.options.top == m.options.top && n.options.alpha == m.options.alpha &&
            n.limits == m.limits && n.payload_kind == m.payload_kind && n.payload_size == m.payload_size &&
            std::equal(n.inline_bytes.begin(), n.inline_bytes.end(), m.inline_bytes.begin(),
                       m.inline_bytes.end()));
      break;
    }
    case MessageType::result: {
      ResultMessage m;
      if (parse_result(body, m)) return;
      encode_result(again, m);
      ResultMessage n;
      check(!parse_result(std::span(again).subspan(kHeaderLength), n));
      check(n.job_id == m.job_id && n.worker_us == m.worker_us && same(n.analysis, m.analysis));
      break;
    }
    case MessageType::error: {
      ErrorMessage m;
      if (parse_error(body, m)) return;
      encode_error(again, m);
      ErrorMessage n;
      check(!parse_error(std::span(again).subspan(kHeaderLength), n));
      check(n.job_id == m.job_id && n.error.code == m.error.code && n.error.message == m.error.message);
      break;
    }
  }
  check(again.size() == frame.size() && std::equal(again.begin(), again.end(), frame.begin()));
}

void read_stream(std::span<const std::uint8_t> stream, std::size_t split) {
  while (!stream.empty()) {
    const FrameDecode d = decode_frame(stream);
    if (d.status == DecodeStatus::need_more) return;
    if (d.status == DecodeStatus::malformed) {
      check(!d.error.empty());
      // More bytes after a malformed header never make it well-formed.
      std::vector<std::uint8_t> longer(stream.begin(), stream.end());
      longer.resize(longer.size() + kHeaderLength + 1, 0);
      check(decode_frame(longer).status == DecodeStatus::malformed);
      return;
    }
    check(d.consumed >= kHeaderLength && d.consumed <= stream.size() &&
          d.body.size() == d.consumed - kHeaderLength && d.body.data() == stream.data() + kHeaderLength);
    // A proper prefix of a frame is never complete, never malformed.
    check(decode_frame(stream.first(d.consumed - 1)).status == DecodeStatus::need_more);
    check(decode_frame(stream.first(split % d.consumed)).status == DecodeStatus::need_more);
    round_trip(d.type, stream.first(d.consumed), d.body);
    stream = stream.subspan(d.consumed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t split = data[0] >> 1;
  if ((data[0] & 1) == 0) {
    read_stream({data + 1, size - 1}, split);
    return 0;
  }
  if (size < 2) return 0;
  const std::span<const std::uint8_t> body(data + 2, size - 2);
  if (body.size() > kMaxBodyLength) return 0;
  const auto type = static_cast<MessageType>(1 + data[1] % kMaxMessageType);
  std::vector<std::uint8_t> frame;
  append_frame(frame, type, body);
  read_stream(frame, split);
  return 0;
}
