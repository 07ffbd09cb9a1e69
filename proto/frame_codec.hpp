#pragma once
// Frame layer of proto/PROTOCOL.md: the 8-byte header and the body it frames.
// decode_frame() is the one place that reads a header from untrusted bytes; it
// never trusts body_length beyond kMaxBodyLength and has three outcomes.
// Pure functions, no I/O, thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "proto/wire_format.hpp"

namespace huepool::proto {

enum class DecodeStatus { need_more, complete, malformed };

struct FrameDecode {
  DecodeStatus status = DecodeStatus::need_more;
  MessageType type = MessageType::ready;  // valid when complete
  std::span<const std::uint8_t> body;      // valid when complete; points into the input
  std::size_t consumed = 0;                // bytes of the input the frame used (complete only)
  std::string error;                       // why, when malformed
};

// Looks at the front of `buffer` (bytes received so far).
FrameDecode decode_frame(std::span<const std::uint8_t> buffer);

// Appends header + body to `out`. Precondition: body.size() <= kMaxBodyLength.
void append_frame(std::vector<std::uint8_t>& out, MessageType type,
                  std::span<const std::uint8_t> body);

}  // namespace huepool::proto
