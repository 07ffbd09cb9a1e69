// The map and NDJSON writers against a fake Responder: every byte and status
// of an analyze response, without a socket, a pool or a clock to wait on.
#include <doctest/doctest.h>

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/http/map_writer.hpp"
#include "server/http/ndjson_writer.hpp"
#include "server/http/problems.hpp"

using namespace huepool::http;
using huepool::pool::BatchItem;
using huepool::pool::Mode;
using nlohmann::json;

namespace {

class FakeResponder final : public Responder {
 public:
  void send(std::string bytes) override {
    REQUIRE_FALSE(summary);  // nothing after the end
    sent.push_back(std::move(bytes));
  }
  void response_done(ResponseSummary s) override {
    REQUIRE_FALSE(summary);  // exactly once
    summary = std::move(s);
  }

  std::string all() const {
    std::string out;
    for (const auto& s : sent) out += s;
    return out;
  }
  std::string head() const { return all().substr(0, all().find("\r\n\r\n") + 4); }
  std::string body() const { return all().substr(all().find("\r\n\r\n") + 4); }

  std::vector<std::string> sent;
  std::optional<ResponseSummary> summary;
};

BatchItem ok_item(std::size_t index, std::string name) {
  huepool::ImageAnalysis a;
  a.width = 2;
  a.height = 1;
  a.pixels = 2;
  a.colors = {{{1, 2, 3}, 2}};
  return BatchItem{index, std::move(name), huepool::pool::JobResult{a, 42, 1.5, {}, {}, 0.25}};
}

BatchItem failed_item(std::size_t index, std::string name) {
  return BatchItem{index, std::move(name),
                   huepool::pool::JobResult{huepool::ImageError{huepool::ErrorCode::decode_failed, "bad"}, 42, 1.0,
                                            {}, {}}};
}

WriterSettings settings(Mode mode) {
  WriterSettings s;
  s.mode = mode;
  s.target = "/v1/analyze";
  return s;
}

// Undoes chunked framing: the lines of an NDJSON body.
std::vector<json> chunked_lines(const std::string& body) {
  std::vector<json> lines;
  std::size_t at = 0;
  for (;;) {
    const std::size_t eol = body.find("\r\n", at);
    REQUIRE(eol != std::string::npos);
    const std::size_t size = std::stoul(body.substr(at, eol - at), nullptr, 16);
    if (size == 0) {
      CHECK(body.substr(eol) == "\r\n\r\n");
      return lines;
    }
    const std::string chunk = body.substr(eol + 2, size);
    REQUIRE(chunk.ends_with("\n"));
    lines.push_back(json::parse(chunk));
    at = eol + 2 + size + 2;
  }
}

std::vector<json> plain_lines(const std::string& body) {
  std::vector<json> lines;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

}  // namespace

TEST_CASE("map writer: one document at the end, results in the order given") {
  FakeResponder out;
  Metrics metrics;
  MapWriter w(settings(Mode::map), out, metrics);
  w.image_added();
  w.image_added();
  w.body_read();
  w.upload_accepted();
  w.result(ok_item(0, "a.png"));
  w.result(failed_item(1, "b.png"));
  CHECK(out.sent.empty());  // nothing before the end
  w.finish();
  REQUIRE(out.summary);
  CHECK(out.all().starts_with("HTTP/1.1 200 "));
  CHECK(out.head().find("Content-Type: application/json\r\n") != std::string::npos);
  CHECK(out.head().find("Connection: close") == std::string::npos);
  const json doc = json::parse(out.body());
  CHECK(doc["count"] == 2);
  CHECK(doc["failed"] == 1);
  CHECK(doc.contains("elapsed_ms"));
  REQUIRE(doc["results"].size() == 2);
  CHECK(doc["results"][0]["name"] == "a.png");
  CHECK(doc["results"][0]["hex"] == "#010203");
  CHECK(doc["results"][1]["error"]["code"] == "decode_failed");
  CHECK(out.summary->status == 200);
  CHECK(out.summary->keep_alive);
  CHECK(out.summary->error.empty());
  REQUIRE(out.summary->upload);
  CHECK(out.summary->upload->mode == "map");
  CHECK(out.summary->upload->images == 2);
  CHECK(out.summary->upload->failed == 1);
  const std::string text = metrics.prometheus_text({}, true);
  CHECK(text.find("huepool_images_total{result=\"decode_failed\"} 1\n") != std::string::npos);
  // The worker's own time (the result frame's worker_us) is counted apart from the latency.
  CHECK(text.find("huepool_image_worker_seconds_total 0.00025\n") != std::string::npos);
}

TEST_CASE("map writer: a failure is the problem with its own status; keep-alive only after the whole body") {
  SUBCASE("before the body was read: close after it") {
    FakeResponder out;
    Metrics metrics;
    MapWriter w(settings(Mode::map), out, metrics);
    w.image_added();
    CHECK(w.fail(problems::too_many_images(1)));
    REQUIRE(out.summary);
    CHECK(out.all().starts_with("HTTP/1.1 413 "));
    CHECK(out.head().find("application/problem+json") != std::string::npos);
    CHECK(out.head().find("Connection: close\r\n") != std::string::npos);
    CHECK(json::parse(out.body())["instance"] == "/v1/analyze");
    CHECK(out.summary->status == 413);
    CHECK(out.summary->error == "too_many_images");
    CHECK_FALSE(out.summary->keep_alive);
    CHECK(out.summary->upload->images == 1);
    CHECK(w.failed());
    w.result(ok_item(0, "late.png"));  // a result after the end is dropped
    w.finish();
  }
  SUBCASE("after the body: the connection may stay") {
    FakeResponder out;
    Metrics metrics;
    MapWriter w(settings(Mode::map), out, metrics);
    w.body_read();
    CHECK(w.fail(problems::no_image()));
    CHECK(out.summary->status == 422);
    CHECK(out.summary->keep_alive);
  }
  SUBCASE("the drain deadline: 503, closed") {
    FakeResponder out;
    Metrics metrics;
    MapWriter w(settings(Mode::map), out, metrics);
    w.image_added();
    w.body_read();
    w.end_now(problems::drain_expired());
    CHECK(out.summary->status == 503);
    CHECK(out.summary->error == "shutting_down");
    CHECK_FALSE(out.summary->keep_alive);
  }
}

TEST_CASE("ndjson writer: the head goes with the first image, a chunk per result, then the done line") {
  FakeResponder out;
  Metrics metrics;
  NdjsonWriter w(settings(Mode::imap_unordered), out, metrics);
  CHECK(out.sent.empty());  // no image yet: a 422 is still possible
  w.image_added();
  REQUIRE(out.sent.size() == 1);
  CHECK(out.sent[0].starts_with("HTTP/1.1 200 "));
  CHECK(out.sent[0].find("Content-Type: application/x-ndjson\r\n") != std::string::npos);
  CHECK(out.sent[0].find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  w.image_added();
  w.result(ok_item(1, "b.png"));
  CHECK(out.sent.size() == 2);  // each line as soon as it is given
  w.body_read();
  w.upload_accepted();
  w.result(failed_item(0, "a.png"));
  CHECK_FALSE(out.summary);
  w.finish();
  REQUIRE(out.summary);
  const auto lines = chunked_lines(out.body());
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["index"] == 1);
  CHECK(lines[1]["index"] == 0);
  CHECK(lines[2]["done"] == true);
  CHECK(lines[2]["count"] == 2);
  CHECK(lines[2]["failed"] == 1);
  CHECK_FALSE(lines[2].contains("error"));
  CHECK(out.summary->status == 200);
  CHECK(out.summary->keep_alive);
  CHECK(out.summary->error.empty());
  CHECK(out.summary->upload->mode == "imap_unordered");
  CHECK(out.summary->upload->images == 2);
  CHECK(metrics.prometheus_text({}, true).find("huepool_http_streams_total 1\n") != std::string::npos);
}

TEST_CASE("ndjson writer: HTTP/1.0 streams are close-delimited lines") {
  FakeResponder out;
  Metrics metrics;
  WriterSettings s = settings(Mode::imap);
  s.http11 = false;
  NdjsonWriter w(s, out, metrics);
  w.image_added();
  w.body_read();
  w.upload_accepted();
  w.result(ok_item(0, "a.png"));
  w.finish();
  CHECK(out.head().find("Transfer-Encoding") == std::string::npos);
  CHECK(out.head().find("Connection: close\r\n") != std::string::npos);
  const auto lines = plain_lines(out.body());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["name"] == "a.png");
  CHECK(lines[1]["done"] == true);
  CHECK_FALSE(out.summary->keep_alive);
}

TEST_CASE("ndjson writer: a failure before the first image is a real status") {
  FakeResponder out;
  Metrics metrics;
  NdjsonWriter w(settings(Mode::imap), out, metrics);
  CHECK(w.fail(problems::malformed_multipart("no delimiter")));
  CHECK(out.all().starts_with("HTTP/1.1 400 "));
  CHECK(out.summary->status == 400);
  CHECK(out.summary->error == "malformed_multipart");
  CHECK(metrics.prometheus_text({}, true).find("huepool_http_streams_total 0\n") != std::string::npos);
}

TEST_CASE("ndjson writer: after the head, a failure waits for the results due, then ends the done line") {
  FakeResponder out;
  Metrics metrics;
  NdjsonWriter w(settings(Mode::imap), out, metrics);
  w.image_added();
  w.image_added();
  CHECK_FALSE(w.fail(problems::body_too_large(100)));  // the stream goes on: close the batch, not cancel
  CHECK(w.failed());
  CHECK_FALSE(w.over());
  CHECK_FALSE(out.summary);
  CHECK_FALSE(w.fail(problems::body_timeout()));  // the first failure is the one reported
  w.result(ok_item(0, "a.png"));
  w.result(ok_item(1, "b.png"));
  w.finish();
  const auto lines = chunked_lines(out.body());
  REQUIRE(lines.size() == 3);
  CHECK(lines[2]["done"] == true);
  CHECK(lines[2]["count"] == 2);
  CHECK(lines[2]["error"] == json{{"status", 413}, {"code", "body_too_large"},
                                  {"message", "the body is larger than 100 bytes"}});
  CHECK(out.summary->status == 200);
  CHECK(out.summary->error == "body_too_large");
  CHECK_FALSE(out.summary->keep_alive);
}

TEST_CASE("ndjson writer: the drain deadline ends a stream at once with a shutting_down done line") {
  FakeResponder out;
  Metrics metrics;
  NdjsonWriter w(settings(Mode::imap), out, metrics);
  w.image_added();
  w.end_now(problems::drain_expired());
  const auto lines = chunked_lines(out.body());
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["error"]["status"] == 503);
  CHECK(lines[0]["error"]["code"] == "shutting_down");
  CHECK(out.summary->status == 200);
  CHECK(out.summary->error == "shutting_down");
  CHECK_FALSE(out.summary->keep_alive);
  w.finish();  // the batch's end after that writes nothing
}

TEST_CASE("ndjson writer: respond_after_upload holds the head and the lines until the upload is complete") {
  WriterSettings s = settings(Mode::imap_unordered);
  s.respond_after_upload = true;
  SUBCASE("complete upload: head, then the held lines, then the rest") {
    FakeResponder out;
    Metrics metrics;
    NdjsonWriter w(s, out, metrics);
    w.image_added();
    w.result(ok_item(0, "a.png"));
    CHECK(out.sent.empty());
    w.body_read();
    w.upload_accepted();
    REQUIRE(out.sent.size() == 2);
    CHECK(out.sent[0].starts_with("HTTP/1.1 200 "));
    w.image_added();  // no second head
    w.result(ok_item(1, "b.png"));
    w.finish();
    const auto lines = chunked_lines(out.body());
    REQUIRE(lines.size() == 3);
    CHECK(lines[0]["name"] == "a.png");
    CHECK(lines[1]["name"] == "b.png");
  }
  SUBCASE("a failure during the upload keeps its status") {
    FakeResponder out;
    Metrics metrics;
    NdjsonWriter w(s, out, metrics);
    w.image_added();
    w.result(ok_item(0, "a.png"));
    CHECK(w.fail(problems::body_too_large(10)));
    CHECK(out.all().starts_with("HTTP/1.1 413 "));
    CHECK(out.summary->status == 413);
  }
}

TEST_CASE("writers: a client that is gone gets nothing more, and no summary") {
  for (const Mode mode : {Mode::map, Mode::imap}) {
    FakeResponder out;
    Metrics metrics;
    auto w = ResultWriter::create(settings(mode), out, metrics);
    w->image_added();
    const std::size_t before = out.sent.size();
    w->abandon();
    CHECK(w->over());
    w->result(ok_item(0, "a.png"));
    w->finish();
    w->end_now(problems::drain_expired());
    CHECK(out.sent.size() == before);
    CHECK_FALSE(out.summary);
  }
}
