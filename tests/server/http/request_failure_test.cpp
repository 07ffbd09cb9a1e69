// The one mapping from what the connection sees to what the client is told.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "server/http/request_failure.hpp"

using namespace huepool::http;
using huepool::Config;

namespace {

nlohmann::json body_of(const std::string& response) {
  return nlohmann::json::parse(response.substr(response.find("\r\n\r\n") + 4));
}

}  // namespace

TEST_CASE("request failures: each has its status and stable code") {
  Config config;
  config.max_body_bytes = 1000;
  config.max_header_bytes = 2000;
  struct Row {
    RequestFailure failure;
    unsigned status;
    const char* code;
  };
  for (const Row& row : {Row{RequestFailure::header_too_large, 431, "header_too_large"},
                         Row{RequestFailure::header_malformed, 400, "bad_request"},
                         Row{RequestFailure::header_stalled, 408, "header_timeout"},
                         Row{RequestFailure::body_too_large, 413, "body_too_large"},
                         Row{RequestFailure::body_malformed, 400, "malformed_body"},
                         Row{RequestFailure::body_stalled, 408, "body_timeout"},
                         Row{RequestFailure::body_too_slow, 408, "upload_too_slow"},
                         Row{RequestFailure::drain_expired, 503, "shutting_down"},
                         Row{RequestFailure::connection_limit, 429, "too_many_connections"}}) {
    CAPTURE(row.code);
    const auto p = problem_for(row.failure, config, "why");
    REQUIRE(p);
    CHECK(p->status == row.status);
    CHECK(p->code == row.code);
  }
  CHECK(problem_for(RequestFailure::body_too_large, config)->extra["limit"] == 1000);
  CHECK(problem_for(RequestFailure::header_too_large, config)->extra["limit"] == 2000);
  config.min_upload_rate = 4096;
  config.max_connections_per_client = 7;
  CHECK(problem_for(RequestFailure::body_too_slow, config)->extra["min_rate"] == 4096);
  CHECK(problem_for(RequestFailure::connection_limit, config)->extra["limit"] == 7);
  CHECK(problem_for(RequestFailure::connection_limit, config)->retry_after_s == 1);
  CHECK(problem_for(RequestFailure::body_malformed, config, "bad chunk")->detail.find("bad chunk") !=
        std::string::npos);
}

TEST_CASE("request failures: a client that is gone is told nothing") {
  CHECK_FALSE(problem_for(RequestFailure::client_gone, Config{}).has_value());
}

TEST_CASE("request failures: the whole response closes the connection and names its code") {
  const WholeResponse r = failure_response(RequestFailure::header_stalled, Config{}, {}, "");
  CHECK(r.bytes.starts_with("HTTP/1.1 408 "));
  CHECK(r.bytes.find("Connection: close\r\n") != std::string::npos);
  CHECK(r.summary.status == 408);
  CHECK(r.summary.error == "header_timeout");
  CHECK_FALSE(r.summary.keep_alive);
  CHECK_FALSE(r.summary.upload.has_value());
  CHECK(body_of(r.bytes)["code"] == "header_timeout");
}
