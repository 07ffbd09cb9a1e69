#include "server/http/analyze_exchange.hpp"

#include <utility>

#include "server/http/problems.hpp"

namespace huepool::http {

std::shared_ptr<AnalyzeExchange> AnalyzeExchange::start(ExchangeContext ctx, Responder& responder,
                                                        const RequestHead& head, AnalyzePlan plan) {
  auto writer = ResultWriter::create(
      WriterSettings{plan.options.mode, plan.options.analyze, head.target, head.http11, head.keep_alive,
                     ctx.config.respond_after_upload},
      responder, ctx.metrics);
  auto self = std::make_shared<AnalyzeExchange>(ctx, std::move(writer), plan.options.analyze);

  const UploadIntake::Limits limits{ctx.config.inline_max_bytes, ctx.config.max_images};
  auto ready = [raw = self.get()](std::string name, proto::ImagePayload payload, std::optional<std::uint64_t> pixels) {
    raw->on_image(std::move(name), std::move(payload), pixels);
  };
  self->intake_ = plan.intake == IntakeKind::multipart
                      ? UploadIntake::multipart(std::move(plan.boundary), limits, std::move(ready))
                      : UploadIntake::raw(std::move(plan.options.name), limits, std::move(ready));

  std::weak_ptr<AnalyzeExchange> weak = self;
  self->batch_ = pool::Batch::create(
      ctx.pool, plan.ordering, plan.processes,
      [weak](pool::BatchItem item) {
        if (auto s = weak.lock()) s->writer_->result(std::move(item));
      },
      [weak] {
        if (auto s = weak.lock()) s->writer_->finish();
      });
  return self;
}

AnalyzeExchange::AnalyzeExchange(ExchangeContext context, std::unique_ptr<ResultWriter> writer,
                                 AnalyzeOptions analyze)
    : ctx_(context), writer_(std::move(writer)), analyze_(analyze) {}

bool AnalyzeExchange::on_body(std::span<const std::uint8_t> bytes) {
  if (writer_->failed()) return false;
  if (auto problem = intake_->feed(bytes)) fail(std::move(*problem));
  return !writer_->failed();
}

void AnalyzeExchange::on_body_end() {
  if (writer_->failed()) return;
  writer_->body_read();
  if (auto problem = intake_->finish()) return fail(std::move(*problem));
  if (intake_->images() == 0) return fail(problems::no_image());
  writer_->upload_accepted();
  batch_->close();
}

void AnalyzeExchange::on_image(std::string name, proto::ImagePayload payload, std::optional<std::uint64_t> pixels) {
  if (writer_->failed()) return;
  writer_->image_added();
  batch_->add(std::move(name), std::move(payload), analyze_, pixels);
}

void AnalyzeExchange::on_failure(RequestFailure failure, std::string_view detail) {
  switch (failure) {
    case RequestFailure::client_gone:
      if (writer_->over()) return;
      writer_->abandon();
      batch_->cancel();
      return;
    case RequestFailure::drain_expired:
      if (writer_->over()) return;
      batch_->cancel();
      writer_->end_now(*problem_for(failure, ctx_.config, detail));
      return;
    default:
      if (auto problem = problem_for(failure, ctx_.config, detail)) fail(std::move(*problem));
      return;
  }
}

void AnalyzeExchange::fail(Problem problem) {
  if (writer_->failed()) return;
  if (writer_->fail(std::move(problem)))
    batch_->cancel();
  else
    batch_->close();
}

}  // namespace huepool::http
