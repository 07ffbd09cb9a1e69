#pragma once
// Small, allocation-light helpers for HTTP header values: media types with
// parameters (Content-Type, a multipart part's Content-Disposition) and
// percent-decoding. Pure functions of their input; never throw on bad input.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace huepool::http {

struct MediaType {
  std::string type;                          // lower-cased "type/subtype" (or "form-data")
  std::map<std::string, std::string> params;  // names lower-cased, values unquoted
};

// How a quoted parameter value is read.
enum class Quoting {
  // RFC 9110 quoted-string: `\x` is x. Content-Type.
  rfc9110,
  // As browsers and curl (>= 7.81) write multipart/form-data names, following
  // the WHATWG HTML standard: the value runs to the first '"', a backslash is
  // an ordinary character, and its %22/%0D/%0A are left for the caller
  // (content_disposition.hpp). Only where that reading leaves more than
  // whitespace between the first '"' and the next ';', and that '"' follows
  // a backslash, is the value a legacy sender's (curl < 7.81, Go, older
  // Firefox) and read as rfc9110.
  html_form,
};

// Parses `type/subtype; name=value; name="quoted value"`. An unterminated
// quoted value runs to the end; bytes between a closing quote and the next
// ';' are skipped. Parameters without '=' are skipped; names are lower-cased;
// a repeated parameter keeps its first value.
MediaType parse_media_type(std::string_view value, Quoting quoting = Quoting::rfc9110);

// Decodes %XX escapes (and '+' as space when `plus_is_space`); nullopt on a
// malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);

}  // namespace huepool::http
