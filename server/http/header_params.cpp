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

namespace {

struct Quoted {
  std::string value;
  std::string_view after;  // what follows the closing quote
  bool closed = false;     // false: the value ran to the end of the header
};

// What follows a closing quote: nothing but whitespace before the next ';' or
// the end of the header.
bool ends_cleanly(std::string_view after) {
  for (const char c : after) {
    if (c == ';') return true;
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

// An RFC 9110 quoted-string; `in` starts after the opening quote.
Quoted read_quoted_pairs(std::string_view in) {
  Quoted q;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\\' && i + 1 < in.size()) {
      q.value.push_back(in[++i]);
    } else if (in[i] == '"') {
      q.after = in.substr(i + 1);
      q.closed = true;
      return q;
    } else {
      q.value.push_back(in[i]);
    }
  }
  return q;
}

// Quoting::html_form (see header_params.hpp); `in` starts after the opening
// quote.
Quoted read_html_form_quoted(std::string_view in) {
  const auto close = in.find('"');
  if (close == std::string_view::npos) return {std::string(in), {}, false};
  Quoted q{std::string(in.substr(0, close)), in.substr(close + 1), true};
  if (!ends_cleanly(q.after) && close > 0 && in[close - 1] == '\\') {
    Quoted legacy = read_quoted_pairs(in);
    if (legacy.closed && ends_cleanly(legacy.after)) return legacy;
  }
  return q;
}

}  // namespace

MediaType parse_media_type(std::string_view value, Quoting quoting) {
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
      Quoted q = quoting == Quoting::rfc9110 ? read_quoted_pairs(rest.substr(1))
                                             : read_html_form_quoted(rest.substr(1));
      val = std::move(q.value);
      rest = q.after;
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
