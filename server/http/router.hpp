#pragma once
// Routing and the operations endpoints. route_request() maps a method and a
// path to a route (or 404/405); respond_operation() answers the GET routes
// from a snapshot of the server's state. Pure: no I/O, no session state.
// The answer names its own problem code, if it is one: a status alone does
// not say (readyz's 503 is an answer, not a problem).

#include <string>
#include <string_view>

#include <boost/beast/http/verb.hpp>

#include "server/config.hpp"
#include "server/http/metrics.hpp"
#include "server/http/responses.hpp"
#include "server/pool/worker_pool.hpp"

namespace huepool::http {

enum class Route { healthz, readyz, metrics, info, index, analyze, not_found, method_not_allowed };

struct Routed {
  Route route = Route::not_found;
  std::string_view allow;  // for method_not_allowed
};

Routed route_request(boost::beast::http::verb method, std::string_view path);

struct OperationsView {
  const Config& config;
  pool::PoolStats pool;
  bool ready = false;  // every worker is up
  const Metrics& metrics;
  bool draining = false;
};

// The response for healthz/readyz/metrics/info/index and the 404/405
// problems. `head_only` for HEAD requests.
WholeResponse respond_operation(const Routed& routed, const OperationsView& view, std::string_view target,
                                bool keep_alive, bool head_only);

}  // namespace huepool::http
