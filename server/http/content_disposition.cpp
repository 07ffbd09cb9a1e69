#include "server/http/content_disposition.hpp"

#include <cstdint>

#include "server/http/header_params.hpp"

namespace huepool::http {

namespace {

constexpr auto npos = std::string_view::npos;

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
  const MediaType m = parse_media_type(value, Quoting::html_form);
  const auto param = [&m](const char* key) -> const std::string* {
    const auto it = m.params.find(key);
    return it == m.params.end() ? nullptr : &it->second;
  };
  ContentDisposition d{m.type, {}, {}};
  if (const std::string* name = param("name")) d.name = decode_form_escapes(*name);
  const std::string* plain = param("filename");
  const std::string* ext = param("filename*");
  if (ext) d.filename = decode_ext_value(*ext);
  if (!d.filename && plain) d.filename = decode_form_escapes(*plain);
  if (!d.filename && ext) d.filename = *ext;
  return d;
}

}  // namespace huepool::http
