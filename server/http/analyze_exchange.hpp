#pragma once
// AnalyzeExchange: one admitted POST /v1/analyze, and only its wiring:
//
//   body bytes -> UploadIntake -> whole images -> pool::Batch -> ResultWriter
//
// Admission (analyze_admission.hpp) has decided the plan before it exists;
// the writer decides every byte and status of the response; the exchange
// moves images and results between them and turns a failure into "cancel
// the batch" (nothing was sent) or "close it" (a stream ends after the
// results still due).
//
// Threading: everything runs on the server's one io thread. Batch callbacks
// are never called from inside add()/close() (batch.hpp), so they reach the
// exchange directly. Lifetime: owned by the session; Batch callbacks hold only
// a weak_ptr, and a failure or the client's departure cancels the batch.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "server/config.hpp"
#include "server/http/analyze_admission.hpp"
#include "server/http/metrics.hpp"
#include "server/http/responder.hpp"
#include "server/http/result_writer.hpp"
#include "server/http/upload_body.hpp"
#include "server/http/upload_intake.hpp"
#include "server/pool/batch.hpp"

namespace huepool::http {

struct ExchangeContext {
  pool::WorkerPool& pool;
  const Config& config;
  Metrics& metrics;
};

class AnalyzeExchange final : public UploadSink, public std::enable_shared_from_this<AnalyzeExchange> {
 public:
  static std::shared_ptr<AnalyzeExchange> start(ExchangeContext context, Responder& responder,
                                                const RequestHead& head, AnalyzePlan plan);

  bool on_body(std::span<const std::uint8_t> bytes) override;
  void on_body_end() override;
  void on_failure(RequestFailure failure, std::string_view detail) override;

  AnalyzeExchange(ExchangeContext context, std::unique_ptr<ResultWriter> writer, AnalyzeOptions analyze);
  // Cancellation is explicit (a failure, the client gone): the destructor may
  // run during teardown when the pool is already gone, so it touches nothing.
  ~AnalyzeExchange() = default;

 private:
  void on_image(std::string name, proto::ImagePayload payload, std::optional<std::uint64_t> pixels);
  void fail(Problem problem);

  ExchangeContext ctx_;
  std::unique_ptr<ResultWriter> writer_;
  AnalyzeOptions analyze_;
  std::unique_ptr<UploadIntake> intake_;
  std::shared_ptr<pool::Batch> batch_;
};

}  // namespace huepool::http
