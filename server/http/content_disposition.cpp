#include "server/http/content_disposition.hpp"

#include <cstdint>
#include <utility>

#include "server/http/header_params.hpp"

namespace huepool::http {

namespace {

constexpr auto npos = std::string_view::npos;

// What follows a closing quote: true when nothing but whitespace comes before
// the next ';' or the end of the header.
bool ends_cleanly(std::string_view after) {
  for (const char c : after) {
    if (c == ';') return true;
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

// Rule 2's reading: an RFC 9110 quoted-string body (`in` starts after the
// opening quote); nullopt unless it closes and ends cleanly.
std::optional<std::pair<std::string, std::string_view>> read_quoted_pairs(std::string_view in) {
  std::string value;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 1 < in.size()) {
      value.push_back(in[++i]);
    } else if (in[i] == '"') {
      const std::string_view after = in.substr(i + 1);
      if (!ends_cleanly(after)) return std::nullopt;
      return std::pair{std::move(value), after};
    } else {
      value.push_back(in[i]);
    }
  }
  return std::nullopt;
}

// A quoted value (`in` starts after the opening quote), rules 1 and 2: the
// value and what follows its closing quote (empty when it never closes, and
// then the value is the rest of the header). `form_escapes`: undo rule 1's
// three escapes (not for filename*, whose %-escapes are its own).
std::pair<std::string, std::string_view> read_quoted(std::string_view in, bool form_escapes) {
  const auto close = in.find('"');
  const std::string_view text = in.substr(0, close);
  const std::string_view after = close == npos ? std::string_view{} : in.substr(close + 1);
  if (close != npos && !ends_cleanly(after) && close > 0 && in[close - 1] == '\\')
    if (auto legacy = read_quoted_pairs(in)) return std::move(*legacy);
  return {form_escapes ? decode_form_escapes(text) : std::string(text), after};
}

bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<std::uint8_t>(s[i]);
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      extra = 1;
      cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      extra = 2;
      cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      extra = 3;
      cp = b & 0x07;
    } else {
      return false;  // a continuation byte first, an overlong C0/C1 lead, or F5..FF
    }
    if (s.size() - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto c = static_cast<std::uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    const std::uint32_t min = extra == 1 ? 0x80 : extra == 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (const char ch : s) {
    const auto b = static_cast<std::uint8_t>(ch);
    if (b < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xC0 | (b >> 6)));
      out.push_back(static_cast<char>(0x80 | (b & 0x3F)));
    }
  }
  return out;
}

}  // namespace

std::string decode_form_escapes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::string_view at = text.substr(i, 3);
    if (at == "%22") out.push_back('"');
    else if (at == "%0D") out.push_back('\r');
    else if (at == "%0A") out.push_back('\n');
    else {
      out.push_back(text[i]);
      continue;
    }
    i += 2;
  }
  return out;
}

std::optional<std::string> decode_ext_value(std::string_view value) {
  const auto charset_end = value.find('\'');
  if (charset_end == npos) return std::nullopt;
  const auto language_end = value.find('\'', charset_end + 1);
  if (language_end == npos) return std::nullopt;
  auto bytes = percent_decode(value.substr(language_end + 1), false);
  if (!bytes) return std::nullopt;
  const std::string charset = to_lower(value.substr(0, charset_end));
  if (charset == "utf-8") {
    if (!is_valid_utf8(*bytes)) return std::nullopt;
    return bytes;
  }
  if (charset == "iso-8859-1") return latin1_to_utf8(*bytes);
  return std::nullopt;
}

ContentDisposition parse_content_disposition(std::string_view value) {
  ContentDisposition d;
  const auto semi = value.find(';');
  d.type = to_lower(trim(value.substr(0, semi)));
  std::string_view rest = semi == npos ? std::string_view{} : value.substr(semi + 1);
  std::optional<std::string> name, filename, ext_filename;
  while (!rest.empty()) {
    rest = trim(rest);
    const auto eq = rest.find('=');
    const auto next = rest.find(';');
    if (eq == npos || (next != npos && next < eq)) {  // rule 5: no '=', skipped
      if (next == npos) break;
      rest.remove_prefix(next + 1);
      continue;
    }
    const std::string key = to_lower(trim(rest.substr(0, eq)));
    const bool form_escapes = key != "filename*";
    rest = trim(rest.substr(eq + 1));
    std::string val;
    if (!rest.empty() && rest.front() == '"') {
      auto [v, after] = read_quoted(rest.substr(1), form_escapes);
      val = std::move(v);
      rest = after;
    } else {
      const std::string_view token = trim(rest.substr(0, rest.find(';')));
      val = form_escapes ? decode_form_escapes(token) : std::string(token);
    }
    const auto end = rest.find(';');
    rest.remove_prefix(end == npos ? rest.size() : end + 1);

    std::optional<std::string>* slot = key == "name" ? &name
                                       : key == "filename" ? &filename
                                       : key == "filename*" ? &ext_filename
                                                            : nullptr;
    if (slot && !*slot) *slot = std::move(val);
  }
  d.name = name.value_or("");
  if (!ext_filename) {
    d.filename = std::move(filename);
  } else if (auto decoded = decode_ext_value(*ext_filename)) {
    d.filename = std::move(decoded);
  } else {
    d.filename = filename ? std::move(filename) : std::move(ext_filename);
  }
  return d;
}

}  // namespace huepool::http
