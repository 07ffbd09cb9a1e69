#include "server/http/router.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "server/http/web/index_page.hpp"
#include "server/http/request_options.hpp"
#include "server/http/problems.hpp"
#include "server/http/responses.hpp"

namespace huepool::http {

namespace http = boost::beast::http;

namespace {

nlohmann::json mode_names() {
  nlohmann::json names = nlohmann::json::array();
  for (const Mode m : pool::kModes) names.push_back(mode_name(m));
  return names;
}

}  // namespace

Routed route_request(http::verb method, std::string_view path) {
  struct Entry {
    std::string_view path;
    Route route;
    bool post;  // POST only; otherwise GET and HEAD
  };
  static constexpr Entry kRoutes[] = {
      {"/v1/analyze", Route::analyze, true}, {"/healthz", Route::healthz, false},
      {"/readyz", Route::readyz, false},     {"/metrics", Route::metrics, false},
      {"/v1/info", Route::info, false},      {"/", Route::index, false},
  };
  for (const auto& e : kRoutes) {
    if (e.path != path) continue;
    if (e.post) return method == http::verb::post ? Routed{e.route, {}} : Routed{Route::method_not_allowed, "POST"};
    if (method == http::verb::get || method == http::verb::head) return Routed{e.route, {}};
    return Routed{Route::method_not_allowed, "GET, HEAD"};
  }
  return Routed{Route::not_found, {}};
}

WholeResponse respond_operation(const Routed& routed, const OperationsView& view, std::string_view target,
                                bool keep_alive, bool head_only) {
  const auto& stats = view.pool;
  auto answer = [&](unsigned status, std::string_view type, std::string_view body) {
    return WholeResponse{serialize_response(status, type, body, keep_alive, {}, head_only),
                         ResponseSummary{status, keep_alive, {}, std::nullopt}};
  };
  auto problem = [&](const Problem& p) { return problem_response(p, target, keep_alive, head_only); };
  switch (routed.route) {
    case Route::healthz:
      return answer(200, "application/json", "{\"status\":\"ok\"}\n");
    case Route::readyz: {
      const bool ready = view.ready && !view.draining;
      nlohmann::json j = {{"ready", ready},
                          {"workers", stats.workers},
                          {"live", stats.live},
                          {"draining", view.draining}};
      return answer(ready ? 200 : 503, "application/json", json_text(j) + "\n");
    }
    case Route::metrics:
      return answer(200, "text/plain; version=0.0.4; charset=utf-8", view.metrics.prometheus_text(stats, view.ready));
    case Route::info: {
      nlohmann::json j = {
          {"name", "huepool"},
          {"version", HUEPOOL_VERSION},
          {"pid", static_cast<long>(::getpid())},
          {"formats", {"png", "jpeg", "webp", "gif"}},
          {"modes", mode_names()},
          {"options",
           {{"top", {{"min", 1}, {"max", kMaxTop}}},
            {"palette", {{"min", 1}, {"max", kMaxPalette}}},
            {"alpha", {"keep", "ignore"}},
            {"processes", {{"min", 1}, {"max", stats.workers}}}}},
          {"limits", config_limits_json(view.config)},
          {"pool",
           {{"workers", stats.workers},
            {"live", stats.live},
            {"busy", stats.busy},
            {"queued", stats.queued},
            {"restarts", stats.restarts},
            {"retries", stats.retries},
            {"completed", stats.completed}}},
          {"ready", view.ready},
          {"draining", view.draining}};
      return answer(200, "application/json", json_text(j) + "\n");
    }
    case Route::index: {
      const std::string_view page = index_page();
      if (!page.empty()) return answer(200, "text/html; charset=utf-8", page);
      break;  // no page built in: 404
    }
    case Route::method_not_allowed:
      return problem(problems::method_not_allowed(routed.allow));
    case Route::analyze:
    case Route::not_found:
      break;
  }
  return problem(problems::not_found());
}

}  // namespace huepool::http
