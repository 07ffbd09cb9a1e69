#include "server/http/request_options.hpp"

#include <charconv>
#include <set>

#include "server/http/header_params.hpp"

namespace huepool::http {

namespace {

std::optional<unsigned> parse_unsigned(std::string_view text) {
  unsigned v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || p != end) return std::nullopt;
  return v;
}

}  // namespace

std::variant<RequestOptions, OptionError> parse_request_options(std::string_view query) {
  RequestOptions out;
  std::set<std::string> seen;
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!key) return OptionError{std::string(pair.substr(0, eq)), "malformed percent-encoding in the name"};
    if (!value) return OptionError{*key, "malformed percent-encoding in the value"};
    if (!seen.insert(*key).second) return OptionError{*key, "given more than once"};
    const std::string& v = *value;
    if (*key == "mode") {
      const auto mode = pool::parse_mode(v);
      if (!mode) return OptionError{*key, "must be " + std::string(pool::kModeChoices)};
      out.mode = *mode;
    } else if (*key == "processes") {
      auto n = parse_unsigned(v);
      if (!n || *n < 1 || *n > kMaxProcessesParam)
        return OptionError{*key, "must be an integer from 1 to " + std::to_string(kMaxProcessesParam)};
      out.processes = *n;
    } else if (*key == "top") {
      auto n = parse_unsigned(v);
      if (!n || *n < 1 || *n > kMaxTop)
        return OptionError{*key, "must be an integer from 1 to " + std::to_string(kMaxTop)};
      out.analyze.top = *n;
    } else if (*key == "palette") {
      auto n = parse_unsigned(v);
      if (!n || *n < 1 || *n > kMaxPalette)
        return OptionError{*key, "must be an integer from 1 to " + std::to_string(kMaxPalette)};
      out.analyze.palette = *n;
    } else if (*key == "alpha") {
      if (v == "keep") out.analyze.alpha = AlphaMode::keep;
      else if (v == "ignore") out.analyze.alpha = AlphaMode::ignore;
      else return OptionError{*key, "must be keep or ignore"};
    } else if (*key == "name") {
      if (v.empty() || v.size() > kMaxNameLength)
        return OptionError{*key, "must be 1 to " + std::to_string(kMaxNameLength) + " characters"};
      out.name = v;
    } else {
      return OptionError{*key, "unknown option; known: mode, processes, top, palette, alpha, name"};
    }
  }
  return out;
}

}  // namespace huepool::http
