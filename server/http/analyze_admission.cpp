#include "server/http/analyze_admission.hpp"

#include <algorithm>

#include "server/http/header_params.hpp"
#include "server/http/multipart_parser.hpp"
#include "server/http/problems.hpp"

namespace huepool::http {

std::variant<AnalyzePlan, Problem> admit_analyze(const RequestHead& head, const Config& config,
                                                 const ServiceState& state) {
  if (state.draining) return problems::shutting_down();

  auto parsed = parse_request_options(head.query);
  if (auto* e = std::get_if<OptionError>(&parsed)) return problems::invalid_option(e->option, e->message);
  AnalyzePlan plan;
  plan.options = std::get<RequestOptions>(std::move(parsed));

  const MediaType media = parse_media_type(head.content_type);
  if (media.type == "multipart/form-data") {
    auto boundary = MultipartParser::boundary_from_content_type(head.content_type);
    if (!boundary) return problems::missing_boundary();
    plan.intake = IntakeKind::multipart;
    plan.boundary = std::move(*boundary);
  } else if (!media.type.starts_with("image/") && media.type != "application/octet-stream") {
    // A raw body's format is sniffed from its bytes, so any image/* type and
    // the generic octet-stream are accepted; other types are a client mistake
    // (e.g. curl --data-binary's default form-urlencoded) worth a clear 415.
    return problems::unsupported_media_type(head.content_type);
  }

  if (head.content_length && *head.content_length > config.max_body_bytes)
    return problems::body_too_large(config.max_body_bytes);
  if (state.queued >= config.max_queued_jobs) return problems::queue_full(state.queued);

  // Like Pool(processes=N) on a smaller machine: asking for more is allowed.
  const unsigned workers = std::max(1u, state.workers);
  plan.processes = plan.options.processes == 0 ? workers : std::min(plan.options.processes, workers);
  plan.ordering = pool::ordering_of(plan.options.mode);
  return plan;
}

}  // namespace huepool::http
