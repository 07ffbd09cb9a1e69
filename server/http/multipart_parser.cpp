#include "server/http/multipart_parser.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>

#include "server/http/content_disposition.hpp"
#include "server/http/header_params.hpp"

namespace huepool::http {

namespace {

// RFC 2046 §5.1.1 bcharsnospace plus space (not last). Crucially no CR or LF:
// the delimiter "\r\n--boundary" then holds '\r' only at position 0, which is
// what lets scan_for_delimiter drop a held-back prefix without rescanning it.
bool is_bchar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::strchr("'()+_,-./:=? ", c) != nullptr && c != '\0';
}

}  // namespace

std::optional<std::string> MultipartParser::boundary_from_content_type(std::string_view content_type) {
  const MediaType media = parse_media_type(content_type);
  if (media.type != "multipart/form-data") return std::nullopt;
  auto it = media.params.find("boundary");
  if (it == media.params.end()) return std::nullopt;
  const std::string& b = it->second;
  if (b.empty() || b.size() > kMaxBoundaryLength || b.back() == ' ') return std::nullopt;
  if (!std::all_of(b.begin(), b.end(), is_bchar)) return std::nullopt;
  return b;
}

MultipartParser::MultipartParser(std::string boundary) : delimiter_("\r\n--" + boundary) {
  // The first delimiter may open the body without a preceding CRLF: start as
  // if a CRLF had been seen and held back.
  held_ = "\r\n";
}

MultipartParser::Status MultipartParser::fail(std::string message) {
  state_ = State::failed;
  status_ = Status::malformed;
  error_ = std::move(message);
  return status_;
}

std::size_t MultipartParser::scan_for_delimiter(std::span<const std::uint8_t> in, bool emit,
                                                MultipartHandler& handler, bool& found) {
  found = false;
  const auto* data = reinterpret_cast<const char*>(in.data());
  if (!held_.empty()) {
    const std::size_t need = delimiter_.size() - held_.size();
    const std::size_t n = std::min(need, in.size());
    if (std::memcmp(data, delimiter_.data() + held_.size(), n) == 0) {
      if (n == need) {
        held_.clear();
        found = true;
        return n;
      }
      held_.append(data, n);  // still a prefix; all of `in` was consumed
      return n;
    }
    // Not a delimiter after all: the held bytes were data. No delimiter can
    // start inside them, since '\r' occurs in the delimiter only at its start.
    if (emit)
      handler.on_part_data({reinterpret_cast<const std::uint8_t*>(held_.data()), held_.size()});
    held_.clear();
  }
  std::size_t start = 0;
  std::size_t pos = 0;
  while (pos < in.size()) {
    const void* cr = std::memchr(data + pos, '\r', in.size() - pos);
    if (!cr) break;
    const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(cr) - data);
    const std::size_t n = std::min(in.size() - at, delimiter_.size());
    if (std::memcmp(data + at, delimiter_.data(), n) == 0) {
      if (emit && at > start) handler.on_part_data(in.subspan(start, at - start));
      if (n == delimiter_.size()) {
        found = true;
        return at + n;
      }
      held_.assign(data + at, n);  // a prefix of the delimiter ends this piece
      return in.size();
    }
    pos = at + 1;
  }
  if (emit && in.size() > start) handler.on_part_data(in.subspan(start));
  return in.size();
}

bool MultipartParser::parse_headers(PartHeaders& out) {
  // header_buf_ holds the block up to and including its final CRLF CRLF.
  std::string_view block(header_buf_);
  std::string disposition;
  while (!block.empty()) {
    const auto eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
    if (line.empty()) continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      error_ = "part header line without a name";
      return false;
    }
    std::string name = to_lower(trim(line.substr(0, colon)));
    std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-disposition") disposition = std::string(value);
    else if (name == "content-type") out.content_type = to_lower(value);
  }
  if (!disposition.empty()) {
    ContentDisposition d = parse_content_disposition(disposition);
    out.field_name = std::move(d.name);
    out.filename = std::move(d.filename);
  }
  return true;
}

MultipartParser::Status MultipartParser::feed(std::span<const std::uint8_t> in, MultipartHandler& handler) {
  if (status_ != Status::need_more) return status_;
  std::size_t i = 0;
  while (i < in.size()) {
    const char c = static_cast<char>(in[i]);
    switch (state_) {
      case State::preamble:
      case State::body: {
        bool found = false;
        const bool in_part = state_ == State::body;
        i += scan_for_delimiter(in.subspan(i), in_part, handler, found);
        if (found) {
          if (in_part) handler.on_part_end();
          state_ = State::after_delimiter;
        }
        break;
      }
      case State::after_delimiter:
        if (c == '-') {
          state_ = State::close_dash;
          ++i;
        } else if (c == ' ' || c == '\t') {
          state_ = State::padding;
        } else if (c == '\r') {
          state_ = State::padding_lf;
          ++i;
        } else {
          return fail("boundary not followed by CRLF or '--'");
        }
        break;
      case State::close_dash:
        if (c != '-') return fail("boundary followed by a single '-'");
        state_ = State::done;
        status_ = Status::complete;
        return status_;  // the rest is the epilogue
      case State::padding:
        if (c == ' ' || c == '\t') ++i;
        else if (c == '\r') {
          state_ = State::padding_lf;
          ++i;
        } else {
          return fail("unexpected bytes after a boundary");
        }
        break;
      case State::padding_lf:
        if (c != '\n') return fail("boundary line not ended by CRLF");
        ++i;
        header_buf_.clear();
        state_ = State::headers;
        break;
      case State::headers: {
        const std::size_t old = header_buf_.size();
        const std::size_t take = std::min(in.size() - i, kMaxPartHeaderBytes + 4 - old);
        header_buf_.append(reinterpret_cast<const char*>(in.data()) + i, take);
        std::size_t end = std::string::npos;  // index just past the blank line
        if (header_buf_.size() >= 2 && header_buf_.compare(0, 2, "\r\n") == 0) {
          end = 2;  // no header lines at all
        } else {
          const auto p = header_buf_.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
          if (p != std::string::npos) end = p + 4;
        }
        if (end == std::string::npos) {
          if (header_buf_.size() > kMaxPartHeaderBytes) return fail("part headers too large");
          i += take;
          break;
        }
        i += end - old;
        header_buf_.resize(end);
        PartHeaders headers;
        if (!parse_headers(headers)) return fail(error_);
        handler.on_part_begin(headers);
        state_ = State::body;
        break;
      }
      case State::done:
        return status_;
      case State::failed:
        return status_;
    }
  }
  return status_;
}

MultipartParser::Status MultipartParser::finish() {
  if (status_ == Status::need_more) return fail("body ended before the closing boundary");
  return status_;
}

}  // namespace huepool::http
