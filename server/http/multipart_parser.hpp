#pragma once
// MultipartParser: an incremental multipart/form-data parser (RFC 7578 / RFC
// 2046 §5.1) for a body that arrives in pieces of any size. feed() can be
// called with every split of the body and produces the same events.
//
// Three outcomes per call: need_more (all bytes consumed, the body is not over
// yet), complete (the closing delimiter was seen; anything after it is the
// epilogue and ignored), malformed (error() says why; the parser stays
// malformed). It trusts no length: a part's Content-Length header is ignored
// and part data ends only at a delimiter. Memory is bounded: part headers are
// capped (kMaxPartHeaderBytes) and at most one delimiter's length is held back
// between calls; part data is handed out as it streams, never buffered.
//
// Not thread-safe; one parser per request body.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace huepool::http {

inline constexpr std::size_t kMaxPartHeaderBytes = 16 * 1024;
inline constexpr std::size_t kMaxBoundaryLength = 70;  // RFC 2046 §5.1.1

struct PartHeaders {
  std::string field_name;                // Content-Disposition name=, decoded (content_disposition.hpp)
  std::optional<std::string> filename;   // filename* or filename=, decoded (absent: a plain field)
  std::string content_type;              // as sent, lower-cased; empty when absent
};

class MultipartHandler {
 public:
  virtual ~MultipartHandler() = default;
  virtual void on_part_begin(const PartHeaders& headers) = 0;
  virtual void on_part_data(std::span<const std::uint8_t> bytes) = 0;
  virtual void on_part_end() = 0;
};

class MultipartParser {
 public:
  enum class Status { need_more, complete, malformed };

  // The boundary parameter of a multipart/form-data Content-Type, validated
  // against RFC 2046's character set; nullopt when missing or invalid.
  static std::optional<std::string> boundary_from_content_type(std::string_view content_type);

  explicit MultipartParser(std::string boundary);  // a boundary from boundary_from_content_type

  Status feed(std::span<const std::uint8_t> bytes, MultipartHandler& handler);
  // The body ended: complete if the closing delimiter was seen, else malformed.
  Status finish();

  Status status() const { return status_; }
  const std::string& error() const { return error_; }

 private:
  enum class State { preamble, after_delimiter, padding, padding_lf, headers, body, close_dash, done, failed };

  Status fail(std::string message);
  std::size_t scan_for_delimiter(std::span<const std::uint8_t> in, bool emit, MultipartHandler& handler,
                                 bool& found);
  bool parse_headers(PartHeaders& out);

  std::string delimiter_;  // "\r\n--" + boundary
  std::string held_;       // a proper prefix of delimiter_ held back from the last call
  std::string header_buf_;
  State state_ = State::preamble;
  Status status_ = Status::need_more;
  std::string error_;
};

}  // namespace huepool::http
