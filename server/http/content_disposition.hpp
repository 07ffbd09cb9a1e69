#pragma once
// The Content-Disposition header of one multipart/form-data part (RFC 7578
// §4.2): its field name and file name, decoded the way real clients encode
// them, which is not the way RFC 9110 quotes strings. Pure functions of their
// input; never throw, never fail: every header yields some name.
//
// Rules, and where they come from:
// 1. A quoted value is read as the WHATWG HTML standard's multipart/form-data
//    encoding writes it (browsers; curl since 7.81): the value runs to the
//    first '"'; a backslash is an ordinary character (curl sends a file named
//    `a\b.png` as filename="a\b.png"). Then exactly the three escapes that
//    encoding makes are undone: `%22` -> '"', `%0D` -> CR, `%0A` -> LF (those
//    byte sequences, upper-case hex, as the standard writes them). No other
//    %XX is decoded, because browsers send every other '%' as it is: a file
//    named `100%41.png` keeps its name. The price, inherent in that encoding
//    (whatwg/html#7575): a name that really contains `%22` comes back with '"'.
// 2. Legacy senders (curl before 7.81, Go's mime/multipart, older Firefox)
//    escape '"' as `\"` instead (RFC 9110 quoted-pair). Their value shows what
//    a WHATWG value never has: bytes other than whitespace between the first
//    '"' and the next ';'. Only then, and only when that '"' follows a
//    backslash, the value is re-read as an RFC 9110 quoted-string (`\x` ->
//    x; then rule 1's three escapes). A WHATWG value is never re-read.
//    Rules 1 and 2 are header_params' Quoting::html_form.
// 3. An unquoted (token) value runs to the next ';', trimmed, with rule 1's
//    three escapes undone.
// 4. `filename*` (an RFC 8187 ext-value, charset'language'%-encoded bytes)
//    wins over `filename`, whichever comes first (RFC 6266 §4.3). RFC 7578
//    §4.2 tells senders not to use it, but some do (often beside a plain
//    `filename`). Charsets: UTF-8 and ISO-8859-1, case-insensitive, converted
//    to UTF-8; the language tag is ignored. A `filename*` that cannot be
//    decoded (another charset, a bad %-escape, invalid UTF-8 under UTF-8, a
//    missing quote) gives way to `filename`; without one it is kept exactly as
//    sent, so the part is still a file and its name still recognisable.
// 5. Parameter names are case-insensitive; a repeated parameter keeps its
//    first value; a parameter without '=' is skipped.
//
// Bytes are not checked for UTF-8 in plain values: invalid UTF-8 passes
// through and is replaced by U+FFFD when a result is written
// (common/result_json.hpp), so a name never costs an image its result.

#include <optional>
#include <string>
#include <string_view>

namespace huepool::http {

struct ContentDisposition {
  std::string type;                     // lower-cased, e.g. "form-data"
  std::string name;                     // name=, decoded; empty when absent
  std::optional<std::string> filename;  // filename* or filename, decoded; absent: not a file
};

ContentDisposition parse_content_disposition(std::string_view value);

// Rule 1's decoding alone: exactly `%22`, `%0D`, `%0A`; everything else as is.
std::string decode_form_escapes(std::string_view text);

// Rule 4's decoding alone: an RFC 8187 ext-value as UTF-8, or nullopt when it
// cannot be decoded.
std::optional<std::string> decode_ext_value(std::string_view value);

}  // namespace huepool::http
