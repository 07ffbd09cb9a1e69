#include "server/http/analyze_exchange.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>

#include "common/result_json.hpp"
#include "server/http/header_params.hpp"
#include "server/http/multipart_parser.hpp"

namespace huepool::http {

namespace {

constexpr std::string_view kNdjson = "application/x-ndjson";
constexpr unsigned kQueueFullRetryAfterS = 1;

}  // namespace

std::variant<std::shared_ptr<AnalyzeExchange>, Problem> AnalyzeExchange::start(
    ExchangeContext ctx, Responder& responder, boost::asio::any_io_executor executor, RequestHead head) {
  auto parsed = parse_request_options(head.query);
  if (auto* e = std::get_if<OptionError>(&parsed))
    return Problem{400, "invalid_option", "option '" + e->option + "' " + e->message, {{"option", e->option}}, 0};
  RequestOptions options = std::get<RequestOptions>(std::move(parsed));

  const MediaType media = parse_media_type(head.content_type);
  std::optional<std::string> boundary;
  if (media.type == "multipart/form-data") {
    boundary = MultipartParser::boundary_from_content_type(head.content_type);
    if (!boundary)
      return Problem{400, "malformed_multipart", "multipart/form-data needs a valid boundary parameter", {}, 0};
  } else if (!media.type.starts_with("image/") && media.type != "application/octet-stream") {
    // A raw body's format is sniffed from its bytes, so any image/* type and
    // the generic octet-stream are accepted; other types are a client mistake
    // (e.g. curl --data-binary's default form-urlencoded) worth a clear 415.
    return Problem{415, "unsupported_media_type",
                   head.content_type.empty()
                       ? std::string("no Content-Type: send multipart/form-data, an image/* or an "
                                     "application/octet-stream body")
                       : "Content-Type '" + head.content_type +
                             "' is neither multipart/form-data, image/* nor application/octet-stream",
                   {}, 0};
  }
  if (head.content_length && *head.content_length > ctx.config.max_body_bytes)
    return Problem{413, "body_too_large",
                   "the body is larger than " + std::to_string(ctx.config.max_body_bytes) + " bytes",
                   {{"limit", ctx.config.max_body_bytes}}, 0};
  const auto stats = ctx.pool.stats();
  if (stats.queued >= ctx.config.max_queued_jobs)
    return Problem{503, "queue_full", "the image queue is full; retry shortly",
                   {{"queued", stats.queued}}, kQueueFullRetryAfterS};

  auto self = std::make_shared<AnalyzeExchange>(ctx, responder, std::move(executor), std::move(head),
                                                std::move(options));
  const UploadIntake::Limits limits{ctx.config.inline_max_bytes, ctx.config.max_images};
  auto ready = [raw = self.get()](std::string name, proto::ImagePayload payload) {
    raw->on_image(std::move(name), std::move(payload));
  };
  self->intake_ = boundary ? UploadIntake::multipart(*boundary, limits, ready)
                           : UploadIntake::raw(self->options_.name, limits, ready);

  const unsigned workers = std::max(1u, stats.workers);
  const unsigned processes = self->options_.processes == 0 ? workers : std::min(self->options_.processes, workers);
  const auto ordering =
      self->options_.mode == Mode::imap_unordered ? pool::Ordering::completion : pool::Ordering::input;
  // Batch callbacks run on the io thread; post them onto the connection's
  // executor (never inline: they may fire inside add()/close()).
  std::weak_ptr<AnalyzeExchange> weak = self;
  auto emit = [weak, ex = self->executor_](pool::BatchItem item) {
    boost::asio::post(ex, [weak, item = std::move(item)]() mutable {
      if (auto s = weak.lock()) s->on_result(std::move(item));
    });
  };
  auto done = [weak, ex = self->executor_]() {
    boost::asio::post(ex, [weak]() {
      if (auto s = weak.lock()) s->on_batch_done();
    });
  };
  self->batch_ = pool::Batch::create(ctx.pool, ordering, processes, std::move(emit), std::move(done));
  return self;
}

AnalyzeExchange::AnalyzeExchange(ExchangeContext context, Responder& responder,
                                 boost::asio::any_io_executor executor, RequestHead head, RequestOptions options)
    : ctx_(context),
      responder_(responder),
      executor_(std::move(executor)),
      head_(std::move(head)),
      options_(std::move(options)) {
}

// Cancellation is explicit (abort, drain_expired, fail): the destructor may run
// during teardown when the pool is already gone, so it touches nothing else.
AnalyzeExchange::~AnalyzeExchange() = default;

double AnalyzeExchange::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
}

bool AnalyzeExchange::on_body(std::span<const std::uint8_t> bytes) {
  if (failed_ || finished_) return false;
  if (auto problem = intake_->feed(bytes)) fail(std::move(*problem));
  return !failed_;
}

void AnalyzeExchange::on_body_end() {
  if (failed_ || finished_) return;
  body_done_ = true;
  if (auto problem = intake_->finish()) {
    fail(std::move(*problem));
    return;
  }
  if (added_ == 0) {
    fail(Problem{422, "no_image", "the request holds no image", {}, 0});
    return;
  }
  if (options_.mode != Mode::map && !stream_started_) {  // respond_after_upload held it back
    start_stream();
    if (!held_.empty()) responder_.send(std::exchange(held_, {}));
  }
  batch_->close();
}

void AnalyzeExchange::on_image(std::string name, proto::ImagePayload payload) {
  if (failed_ || finished_) return;
  if (options_.mode != Mode::map && !stream_started_ && !ctx_.config.respond_after_upload) start_stream();
  ++added_;
  batch_->add(std::move(name), std::move(payload), options_.analyze);
}

void AnalyzeExchange::start_stream() {
  stream_started_ = true;
  ctx_.metrics.stream_started();
  responder_.send(serialize_stream_head(kNdjson, head_.http11, head_.keep_alive));
}

void AnalyzeExchange::on_result(pool::BatchItem item) {
  if (finished_) return;
  ++emitted_;
  const auto* error = std::get_if<ImageError>(&item.result.outcome);
  if (error) ++failed_results_;
  ctx_.metrics.image_finished(error ? error_code_name(error->code) : "ok", item.result.elapsed_ms);
  ResultJson j =
      result_to_json(ResultContext{item.index, std::move(item.name), item.result.elapsed_ms, item.result.worker_pid},
                     item.result.outcome, options_.analyze);
  if (options_.mode == Mode::map) {
    results_.push_back(std::move(j));
    return;
  }
  std::string line = json_text(j);
  line += '\n';
  std::string chunk;
  if (head_.http11) {
    chunk.reserve(line.size() + 16);
    append_chunk(chunk, line);
  } else {
    chunk = std::move(line);
  }
  if (!stream_started_) {  // respond_after_upload: the upload is still arriving
    held_ += chunk;
    return;
  }
  responder_.send(std::move(chunk));
}

std::string AnalyzeExchange::done_line(const Problem* problem) const {
  ResultJson j = {{"done", true}, {"count", emitted_}, {"failed", failed_results_}, {"elapsed_ms", elapsed_ms()}};
  if (problem) j["error"] = {{"status", problem->status}, {"code", problem->code}, {"message", problem->detail}};
  std::string line = json_text(j);
  line += '\n';
  if (!head_.http11) return line;
  std::string out;
  append_chunk(out, line);
  out += kLastChunk;
  return out;
}

void AnalyzeExchange::on_batch_done() {
  if (finished_) return;
  if (options_.mode == Mode::map) {
    const ResultJson document = {{"results", std::move(results_)},
                                 {"count", emitted_},
                                 {"failed", failed_results_},
                                 {"elapsed_ms", elapsed_ms()}};
    const bool keep = head_.keep_alive && body_done_;
    finish_response(serialize_response(200, "application/json", json_text(document) + "\n", keep), 200, keep);
    return;
  }
  const Problem* problem = stream_error_ ? &*stream_error_ : nullptr;
  const bool keep = head_.keep_alive && head_.http11 && body_done_ && !problem;
  finish_response(done_line(problem), 200, keep);
}

void AnalyzeExchange::fail(Problem problem) {
  if (failed_ || finished_) return;
  failed_ = true;
  problem_code_ = problem.code;
  if (!stream_started_) {
    batch_->cancel();
    const bool keep = head_.keep_alive && body_done_;
    finish_response(serialize_problem(problem, head_.target, keep), problem.status, keep);
    return;
  }
  // The stream's status is sent: every image received so far still gets its
  // line, then the done line carries the problem (on_batch_done).
  stream_error_ = std::move(problem);
  batch_->close();
}

void AnalyzeExchange::abort() {
  if (finished_) return;
  finished_ = true;
  failed_ = true;
  if (problem_code_.empty()) problem_code_ = "client_gone";
  batch_->cancel();
}

void AnalyzeExchange::drain_expired() {
  if (finished_) return;
  batch_->cancel();
  Problem problem{503, "shutting_down", "the server is shutting down and its drain timeout has passed", {}, 0};
  problem_code_ = problem.code;
  failed_ = true;
  if (!stream_started_) {
    finish_response(serialize_problem(problem, head_.target, false), 503, false);
    return;
  }
  finish_response(done_line(&problem), 200, false);
}

void AnalyzeExchange::finish_response(std::string bytes, unsigned status, bool keep_alive) {
  finished_ = true;
  responder_.send(std::move(bytes));
  responder_.response_done(status, keep_alive);
}

}  // namespace huepool::http
