#include "server/http/header_params.hpp"

#include <cctype>

namespace huepool::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

MediaType parse_media_type(std::string_view value) {
  MediaType m;
  const auto semi = value.find(';');
  m.type = to_lower(trim(value.substr(0, semi)));
  if (semi == std::string_view::npos) return m;
  std::string_view rest = value.substr(semi + 1);
  while (!rest.empty()) {
    rest = trim(rest);
    const auto eq = rest.find('=');
    const auto next_semi = rest.find(';');
    if (eq == std::string_view::npos || (next_semi != std::string_view::npos && next_semi < eq)) {
      // A parameter without a value: skip it.
      if (next_semi == std::string_view::npos) break;
      rest.remove_prefix(next_semi + 1);
      continue;
    }
    std::string name = to_lower(trim(rest.substr(0, eq)));
    rest.remove_prefix(eq + 1);
    rest = trim(rest);
    std::string val;
    if (!rest.empty() && rest.front() == '"') {
      std::size_t i = 1;
      bool closed = false;
      for (; i < rest.size(); ++i) {
        const char c = rest[i];
        if (c == '\\' && i + 1 < rest.size()) {
          val.push_back(rest[++i]);
        } else if (c == '"') {
          closed = true;
          ++i;
          break;
        } else {
          val.push_back(c);
        }
      }
      rest.remove_prefix(i);
      if (!closed) rest = {};
      const auto after = rest.find(';');
      rest.remove_prefix(after == std::string_view::npos ? rest.size() : after + 1);
    } else {
      const auto end = rest.find(';');
      val = std::string(trim(rest.substr(0, end)));
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    }
    if (!name.empty()) m.params.emplace(std::move(name), std::move(val));
  }
  return m;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace huepool::http
