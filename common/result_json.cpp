#include "common/result_json.hpp"

#include <array>
#include <variant>

namespace huepool {

std::string hex_color(const Rgb& color) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(7, '#');
  const std::array<std::uint8_t, 3> channels{color.r, color.g, color.b};
  for (std::size_t i = 0; i < channels.size(); ++i) {
    out[1 + 2 * i] = kDigits[channels[i] >> 4];
    out[2 + 2 * i] = kDigits[channels[i] & 0x0f];
  }
  return out;
}

namespace {

double percentage_of(std::uint64_t count, std::uint64_t pixels) {
  return pixels == 0 ? 0.0 : 100.0 * static_cast<double>(count) / static_cast<double>(pixels);
}

ResultJson color_entry(const ColorCount& c, std::uint64_t pixels) {
  return ResultJson{{"r", c.color.r},
                        {"g", c.color.g},
                        {"b", c.color.b},
                        {"hex", hex_color(c.color)},
                        {"count", c.count},
                        {"percentage", percentage_of(c.count, pixels)}};
}

}  // namespace

ResultJson result_to_json(const ResultContext& context, const AnalysisOutcome& outcome,
                          const AnalyzeOptions& options) {
  ResultJson j;
  j["index"] = context.index;
  j["name"] = context.name;
  if (const auto* error = std::get_if<ImageError>(&outcome)) {
    j["error"] = {{"code", std::string(error_code_name(error->code))}, {"message", error->message}};
    return j;
  }
  const auto& a = std::get<ImageAnalysis>(outcome);
  if (a.colors.empty()) {  // an analysis always has a winner; guard the contract anyway
    j["error"] = {{"code", std::string(error_code_name(ErrorCode::no_pixels))},
                  {"message", "no pixel was counted"}};
    return j;
  }
  const ColorCount& best = a.colors.front();
  j["format"] = std::string(format_name(a.format));
  j["width"] = a.width;
  j["height"] = a.height;
  j["pixels"] = a.pixels;
  if (a.frames != 0) j["frames"] = a.frames;
  j["color"] = {{"r", best.color.r}, {"g", best.color.g}, {"b", best.color.b}};
  j["hex"] = hex_color(best.color);
  j["count"] = best.count;
  j["percentage"] = percentage_of(best.count, a.pixels);
  j["elapsed_ms"] = context.elapsed_ms;
  j["worker"] = context.worker_pid;
  if (options.top >= 1) {
    ResultJson list = ResultJson::array();
    const std::size_t n = std::min<std::size_t>(options.top, a.colors.size());
    for (std::size_t i = 0; i < n; ++i) list.push_back(color_entry(a.colors[i], a.pixels));
    j["colors"] = std::move(list);
  }
  if (options.palette >= 1) {
    ResultJson list = ResultJson::array();
    for (const PaletteEntry& e : a.palette) {
      ResultJson entry = color_entry(ColorCount{e.mean, e.count}, a.pixels);
      entry["dominant"] = color_entry(e.dominant, a.pixels);
      list.push_back(std::move(entry));
    }
    j["palette"] = std::move(list);
  }
  if (!a.warnings.empty()) j["warnings"] = a.warnings;
  return j;
}

std::string result_text(const ResultJson& result) {
  return result.dump(-1, ' ', false, ResultJson::error_handler_t::replace);
}

}  // namespace huepool
