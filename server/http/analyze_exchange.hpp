#pragma once
// AnalyzeExchange: one POST /v1/analyze, from validated headers to the last
// byte of its response. The session feeds it body bytes as they arrive; each
// image is added to a pool::Batch the moment its part is complete, so work
// overlaps the upload; results become a JSON document (map) or NDJSON lines
// in chunks (imap, imap_unordered) written through the Responder.
//
// Status decisions: every check on the headers (query, Content-Type, length,
// queue) happens in start(). A streamed response begins when the first image
// has been received; until then a failure is still a problem+json response
// with its own status; after it, the stream ends with the DESIGN §2 done line
// carrying the error, after a line for every image received before it.
//
// Threading: everything runs on the io thread; Batch callbacks are bounced
// onto the connection's executor (its strand) before they touch the exchange.
// Lifetime: owned by the session; Batch callbacks hold only a weak_ptr, and
// abort() cancels the batch, so no callback outlives the exchange.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include <boost/asio/any_io_executor.hpp>

#include "common/result_json.hpp"
#include "server/config.hpp"
#include "server/http/metrics.hpp"
#include "server/http/request_options.hpp"
#include "server/http/responder.hpp"
#include "server/http/responses.hpp"
#include "server/http/upload_intake.hpp"
#include "server/pool/batch.hpp"

namespace huepool::http {

// The parts of a request header the exchange needs.
struct RequestHead {
  std::string target;  // path and query as sent
  std::string query;
  std::string content_type;
  std::optional<std::uint64_t> content_length;  // absent for chunked bodies
  bool http11 = true;
  bool keep_alive = true;
};

struct ExchangeContext {
  pool::WorkerPool& pool;
  const Config& config;
  Metrics& metrics;
};

class AnalyzeExchange : public std::enable_shared_from_this<AnalyzeExchange> {
 public:
  // Validates the headers; a Problem means "answer it, no exchange".
  static std::variant<std::shared_ptr<AnalyzeExchange>, Problem> start(ExchangeContext context,
                                                                        Responder& responder,
                                                                        boost::asio::any_io_executor executor,
                                                                        RequestHead head);

  // Body bytes in order. Returns false once the request has failed (its
  // response is then queued or will end the stream): stop reading the body.
  bool on_body(std::span<const std::uint8_t> bytes);
  void on_body_end();
  // A failure the session saw (body timeout, bad chunked framing).
  void fail(Problem problem);
  // The client is gone: cancel queued work; nothing more is sent.
  void abort();
  // Shutdown's drain deadline passed: end the response now.
  void drain_expired();

  bool failed() const { return failed_; }
  bool finished() const { return finished_; }
  Mode mode() const { return options_.mode; }
  std::size_t images() const { return added_; }
  std::size_t results_failed() const { return failed_results_; }
  const std::string& problem_code() const { return problem_code_; }

  AnalyzeExchange(ExchangeContext context, Responder& responder, boost::asio::any_io_executor executor,
                  RequestHead head, RequestOptions options);
  ~AnalyzeExchange();

 private:
  void on_image(std::string name, proto::ImagePayload payload);
  void on_result(pool::BatchItem item);
  void on_batch_done();
  void start_stream();
  void finish_response(std::string bytes, unsigned status, bool keep_alive);
  std::string done_line(const Problem* problem) const;
  double elapsed_ms() const;

  ExchangeContext ctx_;
  Responder& responder_;
  boost::asio::any_io_executor executor_;
  RequestHead head_;
  RequestOptions options_;
  std::unique_ptr<UploadIntake> intake_;
  std::shared_ptr<pool::Batch> batch_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

  ResultJson results_ = ResultJson::array();  // map: the results, in input order, until the end
  std::size_t added_ = 0;
  std::size_t emitted_ = 0;
  std::size_t failed_results_ = 0;
  bool body_done_ = false;
  bool stream_started_ = false;
  bool failed_ = false;
  bool finished_ = false;
  std::optional<Problem> stream_error_;  // ends the stream once the batch is done
  std::string held_;  // respond_after_upload: lines finished before the upload ended
  std::string problem_code_;
};

}  // namespace huepool::http
