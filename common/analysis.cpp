#include "common/analysis.hpp"

#include <array>
#include <utility>

namespace huepool {

namespace {
constexpr std::array<std::pair<ErrorCode, std::string_view>, 7> kErrorNames{{
    {ErrorCode::unsupported_format, "unsupported_format"},
    {ErrorCode::decode_failed, "decode_failed"},
    {ErrorCode::too_large, "too_large"},
    {ErrorCode::no_pixels, "no_pixels"},
    {ErrorCode::timeout, "timeout"},
    {ErrorCode::worker_crashed, "worker_crashed"},
    {ErrorCode::internal, "internal"},
}};
}  // namespace

std::string_view format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::png: return "png";
    case ImageFormat::jpeg: return "jpeg";
    case ImageFormat::webp: return "webp";
    case ImageFormat::gif: return "gif";
  }
  return "unknown";
}

std::string_view error_code_name(ErrorCode code) {
  for (const auto& [c, name] : kErrorNames)
    if (c == code) return name;
  return "internal";
}

}  // namespace huepool
