#include "server/http/request_failure.hpp"

#include "server/http/problems.hpp"

namespace huepool::http {

std::optional<Problem> problem_for(RequestFailure failure, const Config& config, std::string_view detail) {
  switch (failure) {
    case RequestFailure::header_too_large: return problems::header_too_large(config.max_header_bytes);
    case RequestFailure::header_malformed: return problems::bad_request(detail);
    case RequestFailure::header_stalled: return problems::header_timeout();
    case RequestFailure::body_too_large: return problems::body_too_large(config.max_body_bytes);
    case RequestFailure::body_malformed: return problems::malformed_body(detail);
    case RequestFailure::body_stalled: return problems::body_timeout();
    case RequestFailure::body_too_slow: return problems::upload_too_slow(config.min_upload_rate);
    case RequestFailure::client_gone: return std::nullopt;
    case RequestFailure::drain_expired: return problems::drain_expired();
    case RequestFailure::connection_limit: return problems::too_many_connections(config.max_connections_per_client);
  }
  return std::nullopt;
}

WholeResponse failure_response(RequestFailure failure, const Config& config, std::string_view detail,
                               std::string_view target) {
  return problem_response(problem_for(failure, config, detail).value(), target, false);
}

}  // namespace huepool::http
