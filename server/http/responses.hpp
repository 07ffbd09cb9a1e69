#pragma once
// Serialized HTTP/1.1 responses: whole responses (JSON documents, problem+json,
// plain text), the head of a streamed response, and chunk framing. Every byte
// a session writes comes from here, so framing rules live in one place.
// Pure functions; JSON is rendered with invalid UTF-8 replaced, never thrown.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace huepool::http {

// A request-level failure (RFC 9457 problem details). `code` is stable API.
struct Problem {
  unsigned status = 400;
  std::string code;
  std::string detail;
  nlohmann::json extra = nlohmann::json::object();  // extension members, e.g. {"option":"top"}
  unsigned retry_after_s = 0;                       // Retry-After header when non-zero
};

// The images side of an analyze response.
struct UploadSummary {
  std::string mode;
  std::size_t images = 0;  // received into the batch
  std::size_t failed = 0;  // results that carry an error
};

// What the access log and the metrics record of a finished response.
struct ResponseSummary {
  unsigned status = 0;
  // The connection may carry another request (the body was consumed and
  // nothing failed).
  bool keep_alive = false;
  std::string error;  // the request-level problem code, if there was one
  std::optional<UploadSummary> upload;
};

// A response decided at once: its bytes and its summary.
struct WholeResponse {
  std::string bytes;
  ResponseSummary summary;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

std::string json_text(const nlohmann::json& j);          // compact, invalid UTF-8 replaced
std::string json_text(const nlohmann::ordered_json& j);  // same, members in insertion order

nlohmann::json problem_json(const Problem& problem, std::string_view instance);

std::string serialize_response(unsigned status, std::string_view content_type, std::string_view body,
                               bool keep_alive, const HeaderList& extra = {}, bool head_only = false);
std::string serialize_problem(const Problem& problem, std::string_view instance, bool keep_alive,
                              bool head_only = false);
WholeResponse problem_response(const Problem& problem, std::string_view instance, bool keep_alive,
                               bool head_only = false);

// Head of a streamed body: chunked for HTTP/1.1, close-delimited for HTTP/1.0.
std::string serialize_stream_head(std::string_view content_type, bool chunked, bool keep_alive);
void append_chunk(std::string& out, std::string_view data);  // one chunk, data must be non-empty
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace huepool::http
