#include "server/http/map_writer.hpp"

namespace huepool::http {

void MapWriter::finish() {
  if (over_) return;
  const ResultJson document = {
      {"results", std::move(results_)}, {"count", count_}, {"failed", failed_}, {"elapsed_ms", elapsed_ms()}};
  const bool keep = settings_.keep_alive && body_read_;
  complete(serialize_response(200, "application/json", json_text(document) + "\n", keep), 200, keep);
}

bool MapWriter::fail(Problem problem) {
  if (failed()) return true;
  complete_with_problem(problem, settings_.keep_alive && body_read_);
  return true;
}

void MapWriter::end_now(Problem problem) {
  if (over_) return;
  complete_with_problem(problem, false);
}

}  // namespace huepool::http
