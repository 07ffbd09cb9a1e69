#include "proto/messages.hpp"

#include <algorithm>
#include <cassert>

#include "proto/byte_io.hpp"
#include "proto/frame_codec.hpp"

namespace huepool::proto {

static_assert(kMaxPaletteEntries == huepool::kMaxPalette, "a palette must fit the wire as the engine bounds it");
static_assert(kMaxWarnings == huepool::kMaxWarnings && kMaxWarningLength == huepool::kMaxWarningBytes,
              "a result's warnings must fit the wire as the engine bounds them");

namespace {

// Bodies are built in a scratch vector, then framed; bodies are small except
// inline jobs, whose bytes are copied once more here (<= 64 KiB).
void frame(std::vector<std::uint8_t>& out, MessageType type, const std::vector<std::uint8_t>& body) {
  append_frame(out, type, body);
}

ParseError finish(const ByteReader& r, const char* what) {
  if (r.failed()) return std::string(what) + ": body too short";
  if (r.remaining() != 0) return std::string(what) + ": trailing bytes";
  return std::nullopt;
}

}  // namespace

void encode_ready(std::vector<std::uint8_t>& out, const ReadyMessage& m) {
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  w.u32(m.pid);
  frame(out, MessageType::ready, body);
}

void encode_job(std::vector<std::uint8_t>& out, const JobMessage& m) {
  std::vector<std::uint8_t> body;
  body.reserve(kJobFixedLength + m.inline_bytes.size());
  ByteWriter w(body);
  w.u64(m.job_id);
  w.u16(static_cast<std::uint16_t>(m.options.top));
  w.u8(static_cast<std::uint8_t>(m.options.alpha));
  w.u8(static_cast<std::uint8_t>(m.options.palette));
  w.u8(static_cast<std::uint8_t>(m.payload_kind));
  w.u64(m.limits.max_pixels);
  w.u64(m.limits.max_buffer_bytes);
  w.u64(m.payload_size);
  if (m.payload_kind == PayloadKind::inline_bytes) {
    assert(m.inline_bytes.size() == m.payload_size && m.payload_size <= kInlinePayloadMax);
    w.bytes(m.inline_bytes);
  }
  frame(out, MessageType::job, body);
}

void encode_result(std::vector<std::uint8_t>& out, const ResultMessage& m) {
  const auto& colors = m.analysis.colors;
  assert(!colors.empty() && colors.size() <= kMaxColors);
  std::vector<std::uint8_t> body;
  body.reserve(kResultFixedLength + colors.size() * kResultColorLength);
  ByteWriter w(body);
  w.u64(m.job_id);
  w.u8(static_cast<std::uint8_t>(m.analysis.format));
  w.u32(m.analysis.width);
  w.u32(m.analysis.height);
  w.u64(m.analysis.pixels);
  w.u32(m.analysis.frames);
  w.u32(m.worker_us);
  w.u16(static_cast<std::uint16_t>(colors.size()));
  for (const auto& c : colors) {
    w.u8(c.color.r);
    w.u8(c.color.g);
    w.u8(c.color.b);
    w.u64(c.count);
  }
  const auto& warnings = m.analysis.warnings;
  assert(warnings.size() <= kMaxWarnings);
  w.u8(static_cast<std::uint8_t>(warnings.size()));
  for (const auto& text : warnings) {
    const std::size_t n = std::min(text.size(), kMaxWarningLength);
    w.u16(static_cast<std::uint16_t>(n));
    w.bytes({reinterpret_cast<const std::uint8_t*>(text.data()), n});
  }
  const auto& palette = m.analysis.palette;
  assert(palette.size() <= kMaxPaletteEntries);
  w.u8(static_cast<std::uint8_t>(palette.size()));
  for (const auto& e : palette) {
    w.u8(e.mean.r);
    w.u8(e.mean.g);
    w.u8(e.mean.b);
    w.u64(e.count);
    w.u8(e.dominant.color.r);
    w.u8(e.dominant.color.g);
    w.u8(e.dominant.color.b);
    w.u64(e.dominant.count);
  }
  frame(out, MessageType::result, body);
}

void encode_error(std::vector<std::uint8_t>& out, const ErrorMessage& m) {
  const std::size_t n = std::min(m.error.message.size(), kMaxErrorMessage);
  std::vector<std::uint8_t> body;
  ByteWriter w(body);
  w.u64(m.job_id);
  w.u8(static_cast<std::uint8_t>(m.error.code));
  w.u16(static_cast<std::uint16_t>(n));
  w.bytes({reinterpret_cast<const std::uint8_t*>(m.error.message.data()), n});
  frame(out, MessageType::error, body);
}

ParseError parse_ready(std::span<const std::uint8_t> body, ReadyMessage& out) {
  ByteReader r(body);
  out.pid = r.u32();
  if (auto e = finish(r, "ready")) return e;
  if (out.pid == 0) return std::string("ready: pid 0");
  return std::nullopt;
}

ParseError parse_job(std::span<const std::uint8_t> body, JobMessage& out) {
  ByteReader r(body);
  out.job_id = r.u64();
  const std::uint16_t top = r.u16();
  const std::uint8_t alpha = r.u8();
  const std::uint8_t palette = r.u8();
  const std::uint8_t kind = r.u8();
  out.limits.max_pixels = r.u64();
  out.limits.max_buffer_bytes = r.u64();
  out.payload_size = r.u64();
  if (r.failed()) return std::string("job: body too short");
  if (out.job_id == 0) return std::string("job: id 0");
  if (top > kMaxTop) return "job: top " + std::to_string(top) + " over " + std::to_string(kMaxTop);
  if (alpha > static_cast<std::uint8_t>(AlphaMode::ignore))
    return "job: unknown alpha mode " + std::to_string(alpha);
  if (palette > kMaxPalette) return "job: palette " + std::to_string(palette) + " over " + std::to_string(kMaxPalette);
  out.options.top = top;
  out.options.palette = palette;
  out.options.alpha = static_cast<AlphaMode>(alpha);
  if (kind == static_cast<std::uint8_t>(PayloadKind::inline_bytes)) {
    if (out.payload_size > kInlinePayloadMax) return std::string("job: inline payload over the limit");
    if (out.payload_size != r.remaining()) return std::string("job: inline payload size does not match the body");
    out.payload_kind = PayloadKind::inline_bytes;
    out.inline_bytes = r.bytes(static_cast<std::size_t>(out.payload_size));
  } else if (kind == static_cast<std::uint8_t>(PayloadKind::fd)) {
    if (out.payload_size > kMaxFdPayload) return std::string("job: fd payload over the limit");
    out.payload_kind = PayloadKind::fd;
    out.inline_bytes = {};
  } else {
    return "job: unknown payload kind " + std::to_string(kind);
  }
  return finish(r, "job");
}

ParseError parse_result(std::span<const std::uint8_t> body, ResultMessage& out) {
  ByteReader r(body);
  out.job_id = r.u64();
  const std::uint8_t format = r.u8();
  out.analysis.width = r.u32();
  out.analysis.height = r.u32();
  out.analysis.pixels = r.u64();
  out.analysis.frames = r.u32();
  out.worker_us = r.u32();
  const std::uint16_t n = r.u16();
  if (r.failed()) return std::string("result: body too short");
  if (format < static_cast<std::uint8_t>(ImageFormat::png) || format > static_cast<std::uint8_t>(ImageFormat::gif))
    return "result: unknown format " + std::to_string(format);
  if (n == 0 || n > kMaxColors) return "result: color count " + std::to_string(n);
  // The count is checked against what is really there before anything is sized by it.
  if (r.remaining() < std::size_t{n} * kResultColorLength + 1)
    return std::string("result: color list does not match the body");
  out.analysis.format = static_cast<ImageFormat>(format);
  out.analysis.colors.clear();
  out.analysis.colors.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    ColorCount c;
    c.color.r = r.u8();
    c.color.g = r.u8();
    c.color.b = r.u8();
    c.count = r.u64();
    out.analysis.colors.push_back(c);
  }
  const std::uint8_t warning_count = r.u8();
  if (warning_count > kMaxWarnings) return "result: warning count " + std::to_string(warning_count);
  out.analysis.warnings.clear();
  for (unsigned i = 0; i < warning_count; ++i) {
    const std::uint16_t length = r.u16();
    if (r.failed() || length > kMaxWarningLength || length > r.remaining())
      return std::string("result: warning does not match the body");
    auto text = r.bytes(length);
    out.analysis.warnings.emplace_back(reinterpret_cast<const char*>(text.data()), text.size());
  }
  const std::uint8_t palette_count = r.u8();
  if (r.failed()) return std::string("result: body too short");
  if (palette_count > kMaxPaletteEntries) return "result: palette count " + std::to_string(palette_count);
  if (r.remaining() < std::size_t{palette_count} * kResultPaletteEntryLength)
    return std::string("result: palette does not match the body");
  out.analysis.palette.clear();
  out.analysis.palette.reserve(palette_count);
  for (unsigned i = 0; i < palette_count; ++i) {
    PaletteEntry e;
    e.mean.r = r.u8();
    e.mean.g = r.u8();
    e.mean.b = r.u8();
    e.count = r.u64();
    e.dominant.color.r = r.u8();
    e.dominant.color.g = r.u8();
    e.dominant.color.b = r.u8();
    e.dominant.count = r.u64();
    out.analysis.palette.push_back(e);
  }
  return finish(r, "result");
}

ParseError parse_error(std::span<const std::uint8_t> body, ErrorMessage& out) {
  ByteReader r(body);
  out.job_id = r.u64();
  const std::uint8_t code = r.u8();
  const std::uint16_t n = r.u16();
  if (r.failed()) return std::string("error: body too short");
  if (code == 0 || code > static_cast<std::uint8_t>(ErrorCode::internal))
    return "error: unknown code " + std::to_string(code);
  if (n > kMaxErrorMessage) return std::string("error: message over the limit");
  if (n != r.remaining()) return std::string("error: message length does not match the body");
  auto msg = r.bytes(n);
  out.error.code = static_cast<ErrorCode>(code);
  out.error.message.assign(reinterpret_cast<const char*>(msg.data()), msg.size());
  return finish(r, "error");
}

}  // namespace huepool::proto
