#pragma once
// Constants of the server-worker wire format (proto/PROTOCOL.md). Shared by
// both ends; only values here, no code. Change PROTOCOL.md and kVersion first.

#include <cstddef>
#include <cstdint>

namespace huepool::proto {

inline constexpr std::uint16_t kMagic = 0x5048;  // bytes 'H','P' little-endian
inline constexpr std::uint8_t kVersion = 4;
inline constexpr std::size_t kHeaderLength = 8;  // magic u16, version u8, type u8, body_length u32

// Images up to this size travel inside the job frame; larger ones as a memfd.
inline constexpr std::size_t kInlinePayloadMax = 64 * 1024;
// The largest body a reader accepts: an inline job plus its fixed fields, with room.
inline constexpr std::size_t kMaxBodyLength = 128 * 1024;
// The largest image a job may announce through an fd (1 TiB: a sanity bound,
// the server's own byte limits are far lower).
inline constexpr std::uint64_t kMaxFdPayload = 1ull << 40;
inline constexpr std::size_t kMaxErrorMessage = 1024;
inline constexpr std::size_t kMaxColors = 256;
// A result's warnings (common/analysis.hpp bounds them; the wire repeats the bound).
inline constexpr std::size_t kMaxWarnings = 8;
inline constexpr std::size_t kMaxWarningLength = 240;
// A result's palette (common/analysis.hpp kMaxPalette; the wire repeats the bound).
inline constexpr std::size_t kMaxPaletteEntries = 16;
// The worker's end of its socket, fixed by the spawner.
inline constexpr int kWorkerSocketFd = 3;

enum class MessageType : std::uint8_t { ready = 1, job = 2, result = 3, error = 4 };
inline constexpr std::uint8_t kMaxMessageType = 4;

enum class PayloadKind : std::uint8_t { inline_bytes = 0, fd = 1 };

// Fixed part of a job body: job_id u64, top u16, alpha u8, palette u8,
// payload_kind u8, max_pixels u64, max_buffer_bytes u64, payload_size u64.
inline constexpr std::size_t kJobFixedLength = 8 + 2 + 1 + 1 + 1 + 8 + 8 + 8;
// Result: job_id, format, width, height, pixels, worker_us, color_count.
inline constexpr std::size_t kResultFixedLength = 8 + 1 + 4 + 4 + 8 + 4 + 4 + 2;
inline constexpr std::size_t kResultColorLength = 3 + 8;
// After the colors: warning_count u8, then each warning as a string (u16 length + bytes).
inline constexpr std::size_t kResultWarningsMaxLength = 1 + kMaxWarnings * (2 + kMaxWarningLength);
// After the warnings: palette_count u8, then each entry: mean r,g,b, count u64,
// dominant r,g,b, dominant count u64.
inline constexpr std::size_t kResultPaletteEntryLength = 3 + 8 + 3 + 8;
inline constexpr std::size_t kResultPaletteMaxLength = 1 + kMaxPaletteEntries * kResultPaletteEntryLength;
inline constexpr std::size_t kErrorFixedLength = 8 + 1 + 2;

static_assert(kJobFixedLength + kInlinePayloadMax <= kMaxBodyLength);
static_assert(kResultFixedLength + kMaxColors * kResultColorLength + kResultWarningsMaxLength +
                  kResultPaletteMaxLength <=
              kMaxBodyLength);
static_assert(kErrorFixedLength + kMaxErrorMessage <= kMaxBodyLength);

}  // namespace huepool::proto
