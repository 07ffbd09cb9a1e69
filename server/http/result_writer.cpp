#include "server/http/result_writer.hpp"

#include "server/http/map_writer.hpp"
#include "server/http/ndjson_writer.hpp"

namespace huepool::http {

std::unique_ptr<ResultWriter> ResultWriter::create(WriterSettings settings, Responder& responder,
                                                   Metrics& metrics) {
  if (pool::streams(settings.mode)) return std::make_unique<NdjsonWriter>(std::move(settings), responder, metrics);
  return std::make_unique<MapWriter>(std::move(settings), responder, metrics);
}

ResultWriter::ResultWriter(WriterSettings settings, Responder& responder, Metrics& metrics)
    : settings_(std::move(settings)), responder_(responder), metrics_(metrics) {}

void ResultWriter::result(pool::BatchItem item) {
  if (over_) return;
  ++count_;
  const auto* error = std::get_if<ImageError>(&item.result.outcome);
  if (error) ++failed_;
  metrics_.image_finished(error ? error_code_name(error->code) : "ok", item.result.elapsed_ms,
                          item.result.worker_ms);
  add(result_to_json(ResultContext{item.index, std::move(item.name), item.result.elapsed_ms, item.result.worker_pid},
                     item.result.outcome, settings_.analyze));
}

void ResultWriter::complete(std::string bytes, unsigned status, bool keep_alive) {
  over_ = true;
  responder_.send(std::move(bytes));
  responder_.response_done(ResponseSummary{
      status, keep_alive, error_code_,
      UploadSummary{std::string(pool::mode_name(settings_.mode)), images_, failed_}});
}

void ResultWriter::complete_with_problem(const Problem& problem, bool keep_alive) {
  error_code_ = problem.code;
  complete(serialize_problem(problem, settings_.target, keep_alive), problem.status, keep_alive);
}

double ResultWriter::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
}

}  // namespace huepool::http
