#pragma once
// ResultWriter: one upload's results and its final status in, the bytes of
// its response out, through the Responder. Two shapes, chosen by the mode:
// MapWriter (map: one JSON document at the end) and NdjsonWriter (imap,
// imap_unordered: the stream head, a line per result, then the done line).
// The writer alone decides what a failure looks like at the moment it
// happens (a problem+json while nothing is sent, the done line's error once a
// stream has begun), and it hands the access summary back at the end.
//
// Call order: image_added() for each image as it enters the batch,
// body_read() once the body is consumed, upload_accepted() once the upload is
// known good, result() per result in the batch's order, finish() when the
// batch is done; fail(), end_now() and abandon() may come at any point.
// Single-threaded; the Responder and Metrics must outlive the writer.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "common/analysis.hpp"
#include "common/result_json.hpp"
#include "server/http/metrics.hpp"
#include "server/http/responder.hpp"
#include "server/http/responses.hpp"
#include "server/pool/batch.hpp"
#include "server/pool/mode.hpp"

namespace huepool::http {

struct WriterSettings {
  pool::Mode mode = pool::Mode::map;
  AnalyzeOptions analyze;  // what the results hold (top colours)
  std::string target;      // the problem's `instance`
  bool http11 = true;      // chunked; HTTP/1.0 streams are close-delimited
  bool keep_alive = true;  // the client's wish, before the body's fate is known
  bool respond_after_upload = false;
};

class ResultWriter {
 public:
  static std::unique_ptr<ResultWriter> create(WriterSettings settings, Responder& responder, Metrics& metrics);
  virtual ~ResultWriter() = default;

  virtual void image_added() { ++images_; }
  // The request body was read to its end, so the connection may be kept.
  void body_read() { body_read_ = true; }
  // The upload is complete and holds images: what was held back may go.
  virtual void upload_accepted() {}
  void result(pool::BatchItem item);
  virtual void finish() = 0;
  // A request-level failure. true: the response is over now (nothing had
  // been sent, so the problem+json was): cancel the batch. false: a stream
  // has begun and ends with this problem on its done line after the results
  // still due: close the batch, finish() follows.
  virtual bool fail(Problem problem) = 0;
  // Ends the response now (the drain deadline passed).
  virtual void end_now(Problem problem) = 0;
  // The client is gone: nothing more is written, no summary is given.
  void abandon() { over_ = true; }

  // No more body is wanted: the response is over or a failure is recorded.
  bool failed() const { return over_ || !error_code_.empty(); }
  bool over() const { return over_; }

 protected:
  ResultWriter(WriterSettings settings, Responder& responder, Metrics& metrics);

  virtual void add(ResultJson result) = 0;
  // The last bytes of the response, and its summary.
  void complete(std::string bytes, unsigned status, bool keep_alive);
  void complete_with_problem(const Problem& problem, bool keep_alive);
  double elapsed_ms() const;

  WriterSettings settings_;
  Responder& responder_;
  Metrics& metrics_;
  std::size_t images_ = 0;
  std::size_t count_ = 0;
  std::size_t failed_ = 0;
  bool body_read_ = false;
  bool over_ = false;
  std::string error_code_;  // the request-level problem, once there is one

 private:
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace huepool::http
