// The operations endpoints from a snapshot of the server, and the access
// summary each answer carries.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "server/http/router.hpp"

using namespace huepool::http;
using boost::beast::http::verb;

namespace {

struct Fixture {
  huepool::Config config;
  Metrics metrics;
  OperationsView view(bool ready, bool draining = false) const {
    huepool::pool::PoolStats stats;
    stats.workers = 2;
    stats.live = ready ? 2 : 0;
    return OperationsView{config, stats, ready, metrics, draining};
  }
};

nlohmann::json body_of(const std::string& response) {
  return nlohmann::json::parse(response.substr(response.find("\r\n\r\n") + 4));
}

}  // namespace

TEST_CASE("router: readyz while the workers start is a 503 answer, not a problem") {
  // The access log used to record "error":"method_not_allowed" for it.
  const Fixture f;
  const WholeResponse r = respond_operation(route_request(verb::get, "/readyz"), f.view(false), "/readyz", true, false);
  CHECK(r.summary.status == 503);
  CHECK(r.summary.error.empty());
  CHECK(r.bytes.find("application/json") != std::string::npos);
  CHECK(body_of(r.bytes)["ready"] == false);
  CHECK(body_of(r.bytes)["live"] == 0);
}

TEST_CASE("router: readyz is 200 when every worker is up, 503 while draining") {
  const Fixture f;
  const Routed readyz = route_request(verb::get, "/readyz");
  CHECK(respond_operation(readyz, f.view(true), "/readyz", true, false).summary.status == 200);
  const WholeResponse draining = respond_operation(readyz, f.view(true, true), "/readyz", true, false);
  CHECK(draining.summary.status == 503);
  CHECK(draining.summary.error.empty());
  CHECK(body_of(draining.bytes)["draining"] == true);
}

TEST_CASE("router: 404 and 405 carry their problem codes") {
  const Fixture f;
  const WholeResponse missing = respond_operation(route_request(verb::get, "/nope"), f.view(true), "/nope", true, false);
  CHECK(missing.summary.status == 404);
  CHECK(missing.summary.error == "not_found");
  const WholeResponse wrong =
      respond_operation(route_request(verb::post, "/healthz"), f.view(true), "/healthz", true, false);
  CHECK(wrong.summary.status == 405);
  CHECK(wrong.summary.error == "method_not_allowed");
  CHECK(wrong.bytes.find("Allow: GET, HEAD\r\n") != std::string::npos);
}

TEST_CASE("router: HEAD gets the head only; keep-alive follows the caller") {
  const Fixture f;
  const WholeResponse r = respond_operation(route_request(verb::head, "/healthz"), f.view(true), "/healthz", false, true);
  CHECK(r.summary.status == 200);
  CHECK_FALSE(r.summary.keep_alive);
  CHECK(r.bytes.ends_with("\r\n\r\n"));
  CHECK(r.bytes.find("Connection: close\r\n") != std::string::npos);
}

TEST_CASE("router: /v1/info lists the modes from the one Mode enum") {
  const Fixture f;
  const WholeResponse r = respond_operation(route_request(verb::get, "/v1/info"), f.view(true), "/v1/info", true, false);
  CHECK(body_of(r.bytes)["modes"] == nlohmann::json{"map", "imap", "imap_unordered"});
}
