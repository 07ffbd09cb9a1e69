#pragma once
// The one place that knows the JSON shape of a per-image result (DESIGN.md §2).
// The CLI, the pool tests and the HTTP server all call result_to_json(); nobody
// else assembles result objects.
//
// Success: {"index","name","format","width","height","pixels","color":{"r","g","b"},
//           "hex","count","percentage","elapsed_ms","worker"}
//           plus "colors":[{"r","g","b","hex","count","percentage"},...] when options.top >= 1,
//           plus "palette":[{"r","g","b","hex","count","percentage","dominant":{"r","g","b","hex",
//           "count","percentage"}},...] when options.palette >= 1 (docs/PALETTE.md),
//           plus "warnings":["..."] when the file had defects that changed no counted pixel.
// Failure: {"index","name","error":{"code","message"}}.
// percentage = 100.0 * count / pixels as a full-precision double.

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "common/analysis.hpp"

namespace huepool {

struct ResultContext {
  std::size_t index = 0;
  std::string name;
  double elapsed_ms = 0;
  int worker_pid = 0;
};

// Members keep DESIGN's order ("index" first), hence ordered_json: clients
// and people reading NDJSON by eye see the fields as documented.
using ResultJson = nlohmann::ordered_json;

ResultJson result_to_json(const ResultContext& context, const AnalysisOutcome& outcome,
                          const AnalyzeOptions& options);

// Compact one-line text of a result. Invalid UTF-8 (a file name from a
// non-UTF-8 file system, a multipart filename) is replaced by U+FFFD, never
// thrown: a name must not cost an image its result.
std::string result_text(const ResultJson& result);

// "#rrggbb", lower-case.
std::string hex_color(const Rgb& color);

}  // namespace huepool
