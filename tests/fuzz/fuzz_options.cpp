// libFuzzer target (issue 14): everything that reads a request's query and
// headers, and the serve options. Built only with clang and -DHUEPOOL_FUZZ=ON;
// long runs in docs/RELIABILITY.md.
//
// Byte 0 picks the parser (mod 8), the rest is its text:
//   0  parse_request_options (the query of POST /v1/analyze)
//   1  parse_media_type, RFC 9110 quoting (Content-Type)
//   2  parse_media_type, HTML-form quoting; parse_content_disposition
//   3  percent_decode, with and without '+' as space
//   4  MultipartParser::boundary_from_content_type, decode_ext_value
//   5  admit_analyze: the text is "query\ncontent-type\ncontent-length"
//   6  parse_config: the text is NUL-separated flags; "NAME=VALUE" after a
//      \x01 are the environment
//   7  parse_size, parse_duration, parse_mode
// Properties (anything else traps): what parses, written back out, parses to
// the same value (options, percent-encoding, modes, sizes); admission's plan
// respects the configuration it was given; config limits render as JSON.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "server/config.hpp"
#include "server/http/analyze_admission.hpp"
#include "server/http/content_disposition.hpp"
#include "server/http/header_params.hpp"
#include "server/http/multipart_parser.hpp"
#include "server/http/request_options.hpp"
#include "server/pool/mode.hpp"

namespace {

using namespace huepool;
using namespace huepool::http;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void fuzz_request_options(std::string_view text) {
  const auto parsed = parse_request_options(text);
  if (const auto* e = std::get_if<OptionError>(&parsed)) {
    check(!e->message.empty());
    return;
  }
  const auto& o = std::get<RequestOptions>(parsed);
  check(o.processes <= kMaxProcessesParam && o.analyze.top <= kMaxTop);
  check(!o.name.empty() && o.name.size() <= kMaxNameLength);
  // Written back as a canonical query, it parses to the same options.
  std::string query = "mode=" + std::string(mode_name(o.mode)) +
                      "&alpha=" + (o.analyze.alpha == AlphaMode::ignore ? "ignore" : "keep") +
                      "&name=" + percent_encode(o.name);
  if (o.processes) query += "&processes=" + std::to_string(o.processes);
  if (o.analyze.top) query += "&top=" + std::to_string(o.analyze.top);
  if (o.analyze.palette) query += "&palette=" + std::to_string(o.analyze.palette);
  const auto again = parse_request_options(query);
  const auto* p = std::get_if<RequestOptions>(&again);
  check(o.analyze.palette <= kMaxPalette);
  check(p && p->mode == o.mode && p->processes == o.processes && p->analyze.top == o.analyze.top &&
        p->analyze.palette == o.analyze.palette && p->analyze.alpha == o.analyze.alpha && p->name == o.name);
}

void fuzz_percent_decode(std::string_view text) {
  for (const bool plus : {false, true}) {
    const auto decoded = percent_decode(text, plus);
    if (!decoded) continue;
    const auto again = percent_decode(percent_encode(*decoded), plus);
    check(again && *again == *decoded);
  }
}

void fuzz_media_type(std::string_view text, Quoting quoting) {
  const MediaType m = parse_media_type(text, quoting);
  check(m.type == to_lower(m.type));
  for (const auto& [name, value] : m.params) check(name == to_lower(name));
  (void)trim(text);
}

void fuzz_admission(std::string_view text, std::uint8_t state_byte) {
  std::vector<std::string_view> fields;
  while (fields.size() < 2) {
    const auto nl = text.find('\n');
    fields.push_back(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  RequestHead head;
  head.query = std::string(fields[0]);
  head.target = "/v1/analyze?" + head.query;
  head.content_type = std::string(fields[1]);
  std::uint64_t length = 0;
  if (auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), length); ec == std::errc())
    head.content_length = length;
  Config config;
  config.max_body_bytes = 1 << 20;
  config.max_queued_jobs = 8;
  ServiceState state;
  state.draining = state_byte & 1;
  state.queued = (state_byte >> 1) & 15;
  state.workers = state_byte >> 5;
  const auto admitted = admit_analyze(head, config, state);
  const auto* plan = std::get_if<AnalyzePlan>(&admitted);
  if (!plan) return;
  check(!state.draining && state.queued < config.max_queued_jobs);
  check(!head.content_length || *head.content_length <= config.max_body_bytes);
  check(plan->processes >= 1 && plan->processes <= std::max(1u, state.workers));
  check(plan->intake == IntakeKind::raw || !plan->boundary.empty());
  check(plan->ordering == pool::ordering_of(plan->options.mode));
}

std::optional<std::string> lookup(const char* name, void* ctx) {
  const auto& env = *static_cast<const std::map<std::string, std::string>*>(ctx);
  const auto it = env.find(name);
  if (it == env.end()) return std::nullopt;
  return it->second;
}

void fuzz_config(std::string_view text) {
  std::map<std::string, std::string> env;
  if (const auto sep = text.find('\x01'); sep != std::string_view::npos) {
    std::string_view rest = text.substr(sep + 1);
    text = text.substr(0, sep);
    while (!rest.empty()) {
      const auto end = rest.find('\x01');
      const std::string_view entry = rest.substr(0, end);
      rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
      const auto eq = entry.find('=');
      if (eq != std::string_view::npos) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
    }
  }
  std::vector<std::string> args{"serve"};
  while (!text.empty()) {
    const auto end = text.find('\0');
    args.emplace_back(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const ConfigParse parsed = parse_config(static_cast<int>(args.size()), argv.data(), lookup, &env);
  if (parsed.action == ConfigParse::Action::error) {
    check(!parsed.error.empty());
    return;
  }
  (void)parsed.config.pool_config();
  (void)parsed.config.max_buffer_bytes();
  check(config_limits_json(parsed.config).is_object());
}

void fuzz_values(std::string_view text) {
  if (const auto size = parse_size(text)) {
    const auto again = parse_size(std::to_string(*size));
    check(again && *again == *size);
  }
  (void)parse_duration(text);
  if (const auto mode = pool::parse_mode(text)) check(pool::mode_name(*mode) == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  switch (data[0] % 8) {
    case 0: fuzz_request_options(text); break;
    case 1: fuzz_media_type(text, Quoting::rfc9110); break;
    case 2: {
      fuzz_media_type(text, Quoting::html_form);
      const ContentDisposition d = parse_content_disposition(text);
      check(d.type == to_lower(d.type));
      (void)decode_form_escapes(text);
      break;
    }
    case 3: fuzz_percent_decode(text); break;
    case 4: {
      if (const auto boundary = MultipartParser::boundary_from_content_type(text))
        check(!boundary->empty() && boundary->size() <= kMaxBoundaryLength);
      (void)decode_ext_value(text);
      break;
    }
    case 5: fuzz_admission(text, data[1]); break;
    case 6: fuzz_config(text); break;
    case 7: fuzz_values(text); break;
  }
  return 0;
}
