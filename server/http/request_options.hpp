#pragma once
// The query of POST /v1/analyze, parsed and validated: mode, processes, top,
// palette, alpha, name. Any unknown, repeated or invalid parameter is an OptionError
// that names it (the handler answers 400 problem+json with that name).

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/analysis.hpp"
#include "server/pool/mode.hpp"

namespace huepool::http {

using pool::Mode;
using pool::mode_name;

inline constexpr unsigned kMaxProcessesParam = 65536;  // clamped to the pool size later
inline constexpr std::size_t kMaxNameLength = 1024;

struct RequestOptions {
  Mode mode = Mode::map;
  unsigned processes = 0;  // 0: every worker of the pool
  AnalyzeOptions analyze;
  std::string name = "image";  // the raw-body image's name (?name=)
};

struct OptionError {
  std::string option;   // the parameter's name as sent
  std::string message;  // what is wrong and what is allowed
};

std::variant<RequestOptions, OptionError> parse_request_options(std::string_view query);

}  // namespace huepool::http
