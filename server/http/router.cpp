#include "server/http/router.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "server/http/web/index_page.hpp"
#include "server/http/request_options.hpp"
#include "server/http/responses.hpp"

namespace huepool::http {

namespace http = boost::beast::http;

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

std::string respond_operation(const Routed& routed, const OperationsView& view, std::string_view target,
                              bool keep_alive, bool head_only, unsigned& status) {
  const auto stats = view.pool.stats();
  switch (routed.route) {
    case Route::healthz:
      status = 200;
      return serialize_response(200, "application/json", "{\"status\":\"ok\"}\n", keep_alive, {}, head_only);
    case Route::readyz: {
      const bool ready = view.pool.ready() && !view.draining;
      status = ready ? 200 : 503;
      nlohmann::json j = {{"ready", ready},
                          {"workers", stats.workers},
                          {"live", stats.live},
                          {"draining", view.draining}};
      return serialize_response(status, "application/json", json_text(j) + "\n", keep_alive, {}, head_only);
    }
    case Route::metrics:
      status = 200;
      return serialize_response(200, "text/plain; version=0.0.4; charset=utf-8",
                                view.metrics.prometheus_text(stats, view.pool.ready()), keep_alive, {},
                                head_only);
    case Route::info: {
      status = 200;
      nlohmann::json j = {
          {"name", "huepool"},
          {"version", HUEPOOL_VERSION},
          {"pid", static_cast<long>(::getpid())},
          {"formats", {"png", "jpeg"}},
          {"modes", {mode_name(Mode::map), mode_name(Mode::imap), mode_name(Mode::imap_unordered)}},
          {"options",
           {{"top", {{"min", 1}, {"max", kMaxTop}}},
            {"alpha", {"keep", "ignore"}},
            {"processes", {{"min", 1}, {"max", stats.workers}}}}},
          {"limits", config_limits_json(view.config)},
          {"pool",
           {{"workers", stats.workers},
            {"live", stats.live},
            {"busy", stats.busy},
            {"queued", stats.queued},
            {"restarts", stats.restarts},
            {"completed", stats.completed}}},
          {"ready", view.pool.ready()},
          {"draining", view.draining}};
      return serialize_response(200, "application/json", json_text(j) + "\n", keep_alive, {}, head_only);
    }
    case Route::index: {
      const std::string_view page = index_page();
      if (!page.empty()) {
        status = 200;
        return serialize_response(200, "text/html; charset=utf-8", page, keep_alive, {}, head_only);
      }
      break;  // no page built in: 404
    }
    case Route::method_not_allowed: {
      status = 405;
      Problem p{405, "method_not_allowed", "this path allows " + std::string(routed.allow),
                {{"allow", std::string(routed.allow)}}, 0};
      return serialize_problem(p, target, keep_alive, head_only);
    }
    case Route::analyze:
    case Route::not_found:
      break;
  }
  status = 404;
  return serialize_problem(Problem{404, "not_found", "no such resource", {}, 0}, target, keep_alive, head_only);
}

}  // namespace huepool::http
