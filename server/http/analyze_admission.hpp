#pragma once
// Admission of POST /v1/analyze: from the request head, the configuration
// and the service's state at the moment the head arrived, either a plan for
// the exchange or the Problem to answer instead. Pure: no I/O, no clock;
// every header, query and limit check of an upload is here, in this order:
// shutting down, query, Content-Type (and boundary), Content-Length, queue.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "server/config.hpp"
#include "server/http/request_options.hpp"
#include "server/http/responses.hpp"
#include "server/pool/mode.hpp"

namespace huepool::http {

// The parts of a request head an upload needs.
struct RequestHead {
  std::string target;  // path and query as sent
  std::string query;
  std::string content_type;
  std::optional<std::uint64_t> content_length;  // absent for chunked bodies
  bool http11 = true;
  bool keep_alive = true;
};

// What admission reads of the running service.
struct ServiceState {
  std::size_t queued = 0;  // jobs waiting in the pool's queue
  unsigned workers = 0;    // the pool's configured size
  bool draining = false;
};

enum class IntakeKind { multipart, raw };

struct AnalyzePlan {
  RequestOptions options;
  IntakeKind intake = IntakeKind::raw;
  std::string boundary;    // multipart only
  unsigned processes = 1;  // `processes=` clamped to the pool, or the whole pool
  pool::Ordering ordering = pool::Ordering::input;
};

std::variant<AnalyzePlan, Problem> admit_analyze(const RequestHead& head, const Config& config,
                                                 const ServiceState& state);

}  // namespace huepool::http
