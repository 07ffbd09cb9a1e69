#pragma once
// Small, allocation-light helpers for HTTP header values: media types with
// parameters (Content-Type; RFC 9110 quoted-strings) and percent-decoding.
// Pure functions of their input; never throw on bad input. A multipart part's
// Content-Disposition is not read here: its values are quoted the way
// browsers and curl send them, see content_disposition.hpp.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace huepool::http {

struct MediaType {
  std::string type;                          // lower-cased "type/subtype" (or "form-data")
  std::map<std::string, std::string> params;  // names lower-cased, values unquoted
};

// Parses `type/subtype; name=value; name="quoted \" value"`. Unparseable
// parameters are skipped; a repeated parameter keeps its first value.
MediaType parse_media_type(std::string_view value);

// Decodes %XX escapes (and '+' as space when `plus_is_space`); nullopt on a
// malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);

}  // namespace huepool::http
