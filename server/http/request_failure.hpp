#pragma once
// What can end a request from the connection's side, and the one mapping
// from such a failure to what the client is told. The session and the upload
// body report these; they never build a response themselves.

#include <optional>
#include <string_view>

#include "server/config.hpp"
#include "server/http/responses.hpp"

namespace huepool::http {

enum class RequestFailure {
  header_too_large,
  header_malformed,
  header_stalled,
  body_too_large,
  body_malformed,  // bad chunked framing
  body_stalled,
  body_too_slow,   // under the minimum upload rate on average
  client_gone,     // nothing can be sent any more
  drain_expired,   // shutdown's deadline passed while the request was in flight
  connection_limit,  // the client address is at its connection limit (no request read)
};

// The problem+json for a failure; nullopt when there is nobody to tell
// (client_gone). `detail` adds the parser's words where there are some.
std::optional<Problem> problem_for(RequestFailure failure, const Config& config, std::string_view detail = {});

// The whole response for a failure that ends a request before any handler
// answered it (a header that is too large, malformed or late). The
// connection is closed after it. Precondition: not client_gone.
WholeResponse failure_response(RequestFailure failure, const Config& config, std::string_view detail,
                               std::string_view target);

}  // namespace huepool::http
