#pragma once
// Message layer of proto/PROTOCOL.md: typed bodies of ready, job, result and
// error frames. encode_* append a whole frame (header included) to `out`;
// parse_* read one body (as returned by decode_frame) and return an error
// message when it is malformed, std::nullopt when it parsed exactly.
// Pure functions, no I/O, thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/analysis.hpp"
#include "proto/wire_format.hpp"

namespace huepool::proto {

// A result frame must be able to carry every colour a job may ask for.
static_assert(kMaxColors >= kMaxTop);

struct ReadyMessage {
  std::uint32_t pid = 0;
};

struct JobMessage {
  std::uint64_t job_id = 0;
  AnalyzeOptions options;
  DecodeLimits limits;
  PayloadKind payload_kind = PayloadKind::inline_bytes;
  std::uint64_t payload_size = 0;
  // Inline image bytes; on parse they point into the parsed body.
  std::span<const std::uint8_t> inline_bytes;
};

struct ResultMessage {
  std::uint64_t job_id = 0;
  ImageAnalysis analysis;
  std::uint32_t worker_us = 0;
};

struct ErrorMessage {
  std::uint64_t job_id = 0;
  ImageError error;
};

using ParseError = std::optional<std::string>;

void encode_ready(std::vector<std::uint8_t>& out, const ReadyMessage& m);
// Precondition: inline payloads hold payload_size <= kInlinePayloadMax bytes.
void encode_job(std::vector<std::uint8_t>& out, const JobMessage& m);
// Precondition: 1..kMaxColors colors, at most kMaxWarnings warnings (each cut
// to kMaxWarningLength bytes).
void encode_result(std::vector<std::uint8_t>& out, const ResultMessage& m);
// Messages longer than kMaxErrorMessage are cut (at a byte boundary).
void encode_error(std::vector<std::uint8_t>& out, const ErrorMessage& m);

ParseError parse_ready(std::span<const std::uint8_t> body, ReadyMessage& out);
ParseError parse_job(std::span<const std::uint8_t> body, JobMessage& out);
ParseError parse_result(std::span<const std::uint8_t> body, ResultMessage& out);
ParseError parse_error(std::span<const std::uint8_t> body, ErrorMessage& out);

}  // namespace huepool::proto
