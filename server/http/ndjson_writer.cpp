#include "server/http/ndjson_writer.hpp"

#include <utility>

namespace huepool::http {

void NdjsonWriter::image_added() {
  ResultWriter::image_added();
  if (!started_ && !over_ && !settings_.respond_after_upload) start();
}

void NdjsonWriter::upload_accepted() {
  if (started_ || over_) return;
  start();
  if (!held_.empty()) responder_.send(std::exchange(held_, {}));
}

void NdjsonWriter::start() {
  started_ = true;
  metrics_.stream_started();
  responder_.send(serialize_stream_head(kNdjsonType, settings_.http11, settings_.keep_alive));
}

std::string NdjsonWriter::framed(std::string line) const {
  line += '\n';
  if (!settings_.http11) return line;
  std::string chunk;
  chunk.reserve(line.size() + 16);
  append_chunk(chunk, line);
  return chunk;
}

void NdjsonWriter::add(ResultJson result) {
  std::string chunk = framed(json_text(result));
  if (!started_) {  // respond_after_upload: the upload is still arriving
    held_ += chunk;
    return;
  }
  responder_.send(std::move(chunk));
}

std::string NdjsonWriter::done_line(const Problem* problem) const {
  ResultJson j = {{"done", true}, {"count", count_}, {"failed", failed_}, {"elapsed_ms", elapsed_ms()}};
  if (problem) j["error"] = {{"status", problem->status}, {"code", problem->code}, {"message", problem->detail}};
  std::string out = framed(json_text(j));
  if (settings_.http11) out += kLastChunk;
  return out;
}

void NdjsonWriter::finish() {
  if (over_) return;
  const Problem* problem = error_ ? &*error_ : nullptr;
  const bool keep = settings_.keep_alive && settings_.http11 && body_read_ && !problem;
  complete(done_line(problem), 200, keep);
}

bool NdjsonWriter::fail(Problem problem) {
  if (failed()) return over_;
  if (!started_) {
    complete_with_problem(problem, settings_.keep_alive && body_read_);
    return true;
  }
  // The status is sent: every image received so far still gets its line.
  error_code_ = problem.code;
  error_ = std::move(problem);
  return false;
}

void NdjsonWriter::end_now(Problem problem) {
  if (over_) return;
  if (!started_) {
    complete_with_problem(problem, false);
    return;
  }
  error_code_ = problem.code;
  complete(done_line(&problem), 200, false);
}

}  // namespace huepool::http
