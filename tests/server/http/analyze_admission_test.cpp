// Admission of POST /v1/analyze: every head, query and limit case the
// end-to-end tests reach through a server, here without one.
#include <doctest/doctest.h>

#include "server/http/analyze_admission.hpp"

using namespace huepool::http;
using huepool::Config;
using huepool::pool::Mode;
using huepool::pool::Ordering;

namespace {

RequestHead multipart_head(std::string query = {}) {
  RequestHead h;
  h.target = "/v1/analyze" + (query.empty() ? std::string() : "?" + query);
  h.query = std::move(query);
  h.content_type = "multipart/form-data; boundary=xyz";
  h.content_length = 1000;
  return h;
}

RequestHead raw_head(std::string content_type, std::string query = {}) {
  RequestHead h = multipart_head(std::move(query));
  h.content_type = std::move(content_type);
  return h;
}

ServiceState pool_of(unsigned workers, std::size_t queued = 0) { return ServiceState{queued, workers, false}; }

Problem refused(const RequestHead& head, const Config& config = {}, ServiceState state = pool_of(4)) {
  auto r = admit_analyze(head, config, state);
  REQUIRE(std::holds_alternative<Problem>(r));
  return std::get<Problem>(r);
}

AnalyzePlan admitted(const RequestHead& head, const Config& config = {}, ServiceState state = pool_of(4)) {
  auto r = admit_analyze(head, config, state);
  REQUIRE(std::holds_alternative<AnalyzePlan>(r));
  return std::get<AnalyzePlan>(r);
}

}  // namespace

TEST_CASE("admission: a multipart upload with defaults uses the whole pool in input order") {
  const AnalyzePlan plan = admitted(multipart_head());
  CHECK(plan.intake == IntakeKind::multipart);
  CHECK(plan.boundary == "xyz");
  CHECK(plan.options.mode == Mode::map);
  CHECK(plan.processes == 4);
  CHECK(plan.ordering == Ordering::input);
}

TEST_CASE("admission: mode picks the ordering; processes is clamped to the pool") {
  CHECK(admitted(multipart_head("mode=imap")).ordering == Ordering::input);
  CHECK(admitted(multipart_head("mode=imap_unordered")).ordering == Ordering::completion);
  CHECK(admitted(multipart_head("processes=2")).processes == 2);
  CHECK(admitted(multipart_head("processes=64")).processes == 4);
  // A pool that reports no workers still runs one image at a time.
  CHECK(admitted(multipart_head(), {}, pool_of(0)).processes == 1);
  const AnalyzePlan plan = admitted(multipart_head("top=3&alpha=ignore"));
  CHECK(plan.options.analyze.top == 3);
  CHECK(plan.options.analyze.alpha == huepool::AlphaMode::ignore);
  CHECK(plan.options.analyze.palette == 0);  // absent: no palette
  CHECK(admitted(multipart_head("palette=1")).options.analyze.palette == 1);
  CHECK(admitted(multipart_head("palette=16&top=2")).options.analyze.palette == 16);
}

TEST_CASE("admission: raw bodies: image/*, octet-stream, and their name") {
  for (const char* type : {"image/png", "image/jpeg", "image/anything", "application/octet-stream", "IMAGE/PNG"}) {
    CAPTURE(type);
    const AnalyzePlan plan = admitted(raw_head(type));
    CHECK(plan.intake == IntakeKind::raw);
  }
  CHECK(admitted(raw_head("image/png", "name=a%20b.png")).options.name == "a b.png");
  CHECK(admitted(raw_head("image/png")).options.name == "image");
}

TEST_CASE("admission: 400 names the bad option") {
  for (const auto& [query, option] : std::vector<std::pair<std::string, std::string>>{
           {"mode=pmap", "mode"}, {"top=0", "top"}, {"top=999", "top"}, {"processes=0", "processes"},
           {"alpha=maybe", "alpha"}, {"colour=red", "colour"}, {"top=1&top=2", "top"},
           {"palette=0", "palette"}, {"palette=17", "palette"}, {"palette=", "palette"}, {"palette=4x", "palette"},
           {"palette=2&palette=3", "palette"}}) {
    CAPTURE(query);
    const Problem p = refused(multipart_head(query));
    CHECK(p.status == 400);
    CHECK(p.code == "invalid_option");
    CHECK(p.extra["option"] == option);
  }
}

TEST_CASE("admission: multipart without a boundary is malformed_multipart") {
  const Problem p = refused(raw_head("multipart/form-data"));
  CHECK(p.status == 400);
  CHECK(p.code == "malformed_multipart");
}

TEST_CASE("admission: 415 for what is not an image upload") {
  for (const char* type : {"text/plain", "", "application/x-www-form-urlencoded"}) {
    CAPTURE(type);
    const Problem p = refused(raw_head(type));
    CHECK(p.status == 415);
    CHECK(p.code == "unsupported_media_type");
  }
}

TEST_CASE("admission: a declared length over the limit is 413 before the body; chunked is not judged here") {
  Config config;
  config.max_body_bytes = 64 * 1024;
  RequestHead head = multipart_head();
  head.content_length = 64 * 1024 + 1;
  const Problem p = refused(head, config);
  CHECK(p.status == 413);
  CHECK(p.code == "body_too_large");
  CHECK(p.extra["limit"] == 64 * 1024);
  head.content_length = 64 * 1024;
  admitted(head, config);
  head.content_length.reset();  // chunked: cut off while reading
  admitted(head, config);
}

TEST_CASE("admission: a full queue is 503 with Retry-After") {
  Config config;
  config.max_queued_jobs = 1;
  const Problem p = refused(multipart_head(), config, pool_of(1, 1));
  CHECK(p.status == 503);
  CHECK(p.code == "queue_full");
  CHECK(p.retry_after_s == 1);
  admitted(multipart_head(), config, pool_of(1, 0));
}

TEST_CASE("admission: a draining server refuses first, whatever else is wrong") {
  ServiceState draining = pool_of(4);
  draining.draining = true;
  const Problem p = refused(raw_head("text/plain", "mode=nope"), {}, draining);
  CHECK(p.status == 503);
  CHECK(p.code == "shutting_down");
  CHECK(p.retry_after_s == 1);
}

TEST_CASE("admission: checks come in a fixed order (query, type, length, queue)") {
  Config config;
  config.max_body_bytes = 10;
  config.max_queued_jobs = 0;
  RequestHead head = raw_head("text/plain", "top=0");
  CHECK(refused(head, config).code == "invalid_option");
  head.query.clear();
  CHECK(refused(head, config).code == "unsupported_media_type");
  head.content_type = "image/png";
  CHECK(refused(head, config).code == "body_too_large");
  head.content_length = 5;
  CHECK(refused(head, config).code == "queue_full");
}
