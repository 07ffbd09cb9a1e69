// Query options, header parameters, problem+json and response framing.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "server/http/header_params.hpp"
#include "server/http/metrics.hpp"
#include "server/http/request_options.hpp"
#include "server/http/responses.hpp"
#include "server/http/router.hpp"

using namespace huepool::http;

namespace {
OptionError error_of(std::string_view q) {
  auto r = parse_request_options(q);
  REQUIRE(std::holds_alternative<OptionError>(r));
  return std::get<OptionError>(r);
}
RequestOptions ok(std::string_view q) {
  auto r = parse_request_options(q);
  REQUIRE(std::holds_alternative<RequestOptions>(r));
  return std::get<RequestOptions>(r);
}
}  // namespace

TEST_CASE("request options: defaults and every option") {
  const auto d = ok("");
  CHECK(d.mode == Mode::map);
  CHECK(d.processes == 0);
  CHECK(d.analyze.top == 0);
  CHECK(d.analyze.alpha == huepool::AlphaMode::keep);
  const auto o = ok("mode=imap_unordered&processes=3&top=256&alpha=ignore&name=my%20file+1.png");
  CHECK(o.mode == Mode::imap_unordered);
  CHECK(o.processes == 3);
  CHECK(o.analyze.top == 256);
  CHECK(o.analyze.alpha == huepool::AlphaMode::ignore);
  CHECK(o.name == "my file 1.png");
  CHECK(ok("mode=imap&&").mode == Mode::imap);
}

TEST_CASE("request options: each bad value names its option") {
  CHECK(error_of("mode=pmap").option == "mode");
  CHECK(error_of("top=0").option == "top");
  CHECK(error_of("top=257").option == "top");
  CHECK(error_of("top=1x").option == "top");
  CHECK(error_of("processes=0").option == "processes");
  CHECK(error_of("processes=-1").option == "processes");
  CHECK(error_of("alpha=drop").option == "alpha");
  CHECK(error_of("name=").option == "name");
  CHECK(error_of("colour=red").option == "colour");
  CHECK(error_of("top=1&top=2").option == "top");
  CHECK(error_of("top=%zz").option == "top");
}

TEST_CASE("header params: media types, quoting, percent-decoding") {
  auto m = parse_media_type("Form-Data; name=\"a;b\"; filename=\"c\\\"d.png\"; X=1");
  CHECK(m.type == "form-data");
  CHECK(m.params["name"] == "a;b");
  CHECK(m.params["filename"] == "c\"d.png");
  CHECK(m.params["x"] == "1");
  CHECK(parse_media_type("image/PNG").type == "image/png");
  CHECK(parse_media_type("text/plain; broken; charset=utf-8").params["charset"] == "utf-8");
  CHECK(parse_media_type("a/b; q=\"unterminated").params["q"] == "unterminated");
  // html_form quoting (Content-Disposition): backslash literal, first quote
  // ends, unless a legacy \" sender shows itself; %22 left to the caller.
  auto f = parse_media_type("form-data; a=\"x\\y\"; b=\"dir\\\"; c=\"say \\\"hi\\\"\"; d=\"%22\"",
                            Quoting::html_form);
  CHECK(f.params["a"] == "x\\y");
  CHECK(f.params["b"] == "dir\\");
  CHECK(f.params["c"] == "say \"hi\"");
  CHECK(f.params["d"] == "%22");
  CHECK(percent_decode("a%2", false) == std::nullopt);
  CHECK(percent_decode("a+b", false) == "a+b");
}

TEST_CASE("responses: problem+json per RFC 9457 and HTTP framing") {
  Problem p{413, "body_too_large", "too big", {{"limit", 10}}, 0};
  const auto j = problem_json(p, "/v1/analyze");
  CHECK(j["status"] == 413);
  CHECK(j["title"] == "Payload Too Large");
  CHECK(j["type"] == "about:blank");
  CHECK(j["code"] == "body_too_large");
  CHECK(j["detail"] == "too big");
  CHECK(j["instance"] == "/v1/analyze");
  CHECK(j["limit"] == 10);
  const std::string wire = serialize_problem(Problem{503, "queue_full", "busy", {}, 2}, "/x", false);
  CHECK(wire.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0);
  CHECK(wire.find("Content-Type: application/problem+json\r\n") != std::string::npos);
  CHECK(wire.find("Retry-After: 2\r\n") != std::string::npos);
  CHECK(wire.find("Connection: close\r\n") != std::string::npos);
  const auto body = wire.substr(wire.find("\r\n\r\n") + 4);
  CHECK(wire.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
  // Invalid UTF-8 from a client never throws out of rendering.
  CHECK_NOTHROW(json_text(nlohmann::json{{"name", std::string("bad\xff\xfe")}}));

  std::string chunk;
  append_chunk(chunk, std::string(300, 'a'));
  CHECK(chunk.rfind("12c\r\n", 0) == 0);
  CHECK(chunk.size() == 5 + 300 + 2);
  const auto head = serialize_stream_head("application/x-ndjson", true, true);
  CHECK(head.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(head.find("Connection: close") == std::string::npos);
  CHECK(serialize_stream_head("application/x-ndjson", false, true).find("Connection: close") != std::string::npos);
}

TEST_CASE("router: paths, methods, 404 and 405") {
  using boost::beast::http::verb;
  CHECK(route_request(verb::post, "/v1/analyze").route == Route::analyze);
  CHECK(route_request(verb::get, "/v1/analyze").route == Route::method_not_allowed);
  CHECK(route_request(verb::get, "/v1/analyze").allow == "POST");
  CHECK(route_request(verb::head, "/healthz").route == Route::healthz);
  CHECK(route_request(verb::delete_, "/metrics").route == Route::method_not_allowed);
  CHECK(route_request(verb::get, "/v1/info").route == Route::info);
  CHECK(route_request(verb::get, "/nope").route == Route::not_found);
  CHECK(route_request(verb::get, "/healthz/").route == Route::not_found);
}

TEST_CASE("metrics: Prometheus text with counters, histogram and pool gauges") {
  Metrics m;
  m.request_finished(200);
  m.request_finished(200);
  m.request_finished(413);
  m.image_finished("ok", 3.0);
  m.image_finished("decode_failed", 700.0);
  huepool::pool::PoolStats stats;
  stats.workers = 4;
  stats.live = 4;
  stats.busy = 1;
  stats.queued = 5;
  stats.restarts = 2;
  stats.retries = 1;
  const std::string text = m.prometheus_text(stats, true);
  CHECK(text.find("huepool_http_requests_total{code=\"200\"} 2\n") != std::string::npos);
  CHECK(text.find("huepool_http_requests_total{code=\"413\"} 1\n") != std::string::npos);
  CHECK(text.find("huepool_images_total{result=\"decode_failed\"} 1\n") != std::string::npos);
  CHECK(text.find("huepool_image_duration_seconds_bucket{le=\"0.005\"} 1\n") != std::string::npos);
  CHECK(text.find("huepool_image_duration_seconds_bucket{le=\"1\"} 2\n") != std::string::npos);
  CHECK(text.find("huepool_image_duration_seconds_count 2\n") != std::string::npos);
  CHECK(text.find("huepool_pool_workers_by_state{state=\"busy\"} 1\n") != std::string::npos);
  CHECK(text.find("huepool_pool_workers_by_state{state=\"idle\"} 3\n") != std::string::npos);
  CHECK(text.find("huepool_pool_queue_depth 5\n") != std::string::npos);
  CHECK(text.find("huepool_pool_worker_restarts_total 2\n") != std::string::npos);
  CHECK(text.find("huepool_pool_job_retries_total 1\n") != std::string::npos);
  CHECK(text.find("# TYPE huepool_image_duration_seconds histogram\n") != std::string::npos);
}
