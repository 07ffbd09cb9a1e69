// End-to-end: the real `huepool serve` on an ephemeral port. Upload forms,
// the three modes, options, request-level errors, operations endpoints,
// keep-alive and pipelining.
#include <doctest/doctest.h>

#include <cstdio>
#include <set>
#include <thread>

#include "e2e_checks.hpp"
#include "e2e_support.hpp"
#include "tests/common/test_images.hpp"
#include "tests/common/webp_gif_images.hpp"

using namespace huepool::e2e;
using nlohmann::json;

namespace {

ServerProcess& server() {
  static ServerProcess s;
  return s;
}

// A PNG whose colors have the given counts, laid out in runs (row-major).
Bytes counted_png(std::uint32_t w, std::uint32_t h, const std::vector<std::pair<huepool::Rgb, std::size_t>>& runs,
                  const std::vector<std::uint8_t>* alpha = nullptr) {
  huepool::test::PngSpec spec;
  spec.width = w;
  spec.height = h;
  spec.color_type = alpha ? 6 : 2;
  std::vector<std::uint16_t> samples;
  std::size_t pixel = 0;
  for (const auto& [c, n] : runs)
    for (std::size_t i = 0; i < n; ++i, ++pixel) {
      samples.insert(samples.end(), {c.r, c.g, c.b});
      if (alpha) samples.push_back((*alpha)[pixel]);
    }
  REQUIRE(pixel == static_cast<std::size_t>(w) * h);
  return huepool::test::encode_png(spec, samples);
}

Bytes gray_jpeg(std::uint32_t w, std::uint32_t h) {
  huepool::test::JpegSpec spec;
  spec.width = w;
  spec.height = h;
  spec.color = huepool::test::JpegColor::gray;
  return huepool::test::encode_jpeg(spec, std::vector<std::uint8_t>(static_cast<std::size_t>(w) * h, 128));
}

Response post_multipart(int port, const std::string& query, const Multipart& m) {
  return http_request(port, "POST", "/v1/analyze" + query, {{"Content-Type", m.content_type()}}, m.body());
}

// Images of different sizes, so completion order differs from input order.
Multipart six_images() {
  Multipart m;
  m.file("image", "big.png", two_color_png(1500, 1500, 1, 2, 3), "image/png");
  for (int i = 1; i < 6; ++i)
    m.file("image", "small" + std::to_string(i) + ".png",
           two_color_png(8, 8, static_cast<std::uint8_t>(10 * i), 0, 0), "image/png");
  return m;
}

}  // namespace

TEST_CASE("map: multipart results in input order with the known answers") {
  Multipart m;
  m.file("image", "a.png", two_color_png(40, 30, 10, 20, 30), "image/png")
      .field("comment", "form fields are ignored")
      .file("other", "b.jpg", gray_jpeg(16, 16), "image/jpeg")
      .file("image", "c.png", two_color_png(20, 20, 200, 100, 0));
  const Response r = post_multipart(server().port(), "", m);
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type") == "application/json");
  const json j = r.json();
  CHECK(j["count"] == 3);
  CHECK(j["failed"] == 0);
  CHECK(j["elapsed_ms"].get<double>() >= 0);
  const auto& res = j["results"];
  REQUIRE(res.size() == 3);
  for (int i = 0; i < 3; ++i) CHECK(res[i]["index"] == i);
  CHECK(res[0]["name"] == "a.png");
  CHECK(res[0]["format"] == "png");
  CHECK(res[0]["width"] == 40);
  CHECK(res[0]["height"] == 30);
  CHECK(res[0]["pixels"] == 1200);
  CHECK(res[0]["hex"] == "#0a141e");
  CHECK(res[0]["color"] == json{{"r", 10}, {"g", 20}, {"b", 30}});
  CHECK(res[0]["count"] == 900);
  CHECK(res[0]["percentage"].get<double>() == 75.0);
  CHECK(res[0]["worker"].get<int>() > 0);
  CHECK(res[1]["name"] == "b.jpg");
  CHECK(res[1]["format"] == "jpeg");
  CHECK(res[1]["pixels"] == 256);
  CHECK(res[2]["hex"] == "#c86400");
  CHECK(res[2]["count"] == 300);
}

TEST_CASE("raw body: one image named by ?name=") {
  const Bytes png = two_color_png(10, 10, 5, 6, 7);
  const Response r = http_request(server().port(), "POST", "/v1/analyze?name=my%20pic.png",
                                  {{"Content-Type", "image/png"}}, as_string(png));
  REQUIRE(r.status == 200);
  const json j = r.json();
  REQUIRE(j["results"].size() == 1);
  CHECK(j["results"][0]["name"] == "my pic.png");
  CHECK(j["results"][0]["hex"] == "#050607");
  // The format is sniffed from the bytes, not taken from the Content-Type.
  const Response r2 = http_request(server().port(), "POST", "/v1/analyze", {{"Content-Type", "image/jpeg"}},
                                   as_string(png));
  REQUIRE(r2.status == 200);
  CHECK(r2.json()["results"][0]["format"] == "png");
  CHECK(r2.json()["results"][0]["name"] == "image");
  // A raw body of unstated type (application/octet-stream) is sniffed too.
  const Response r3 = http_request(server().port(), "POST", "/v1/analyze?name=blob",
                                   {{"Content-Type", "application/octet-stream"}}, as_string(png));
  REQUIRE(r3.status == 200);
  CHECK(r3.json()["results"][0]["format"] == "png");
  CHECK(r3.json()["results"][0]["hex"] == "#050607");
}

TEST_CASE("imap: NDJSON lines in input order, then the done line") {
  const Response r = post_multipart(server().port(), "?mode=imap", six_images());
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type") == "application/x-ndjson");
  CHECK(r.header("transfer-encoding") == "chunked");
  const auto lines = ndjson_lines(r.body);
  REQUIRE(lines.size() == 7);
  for (int i = 0; i < 6; ++i) {
    CHECK(lines[i]["index"] == i);
    CHECK(!lines[i].contains("error"));
  }
  CHECK(lines[0]["name"] == "big.png");
  CHECK(lines[6] == json{{"done", true}, {"count", 6}, {"failed", 0}, {"elapsed_ms", lines[6]["elapsed_ms"]}});
}

TEST_CASE("imap_unordered: every index exactly once, done line last") {
  const Response r = post_multipart(server().port(), "?mode=imap_unordered", six_images());
  REQUIRE(r.status == 200);
  const auto lines = ndjson_lines(r.body);
  REQUIRE(lines.size() == 7);
  std::set<int> seen;
  for (int i = 0; i < 6; ++i) {
    CHECK(!lines[i].contains("done"));
    seen.insert(lines[i]["index"].get<int>());
    // index matches the name given in the upload
    const int idx = lines[i]["index"];
    CHECK(lines[i]["name"] == (idx == 0 ? std::string("big.png") : "small" + std::to_string(idx) + ".png"));
  }
  CHECK(seen == std::set<int>{0, 1, 2, 3, 4, 5});
  CHECK(lines[6]["done"] == true);
  CHECK(lines[6]["count"] == 6);
}

TEST_CASE("imap_unordered: the first line arrives while the upload is still going") {
  Multipart first;
  first.file("image", "first.png", two_color_png(8, 8, 1, 1, 1), "image/png");
  Multipart rest("e2e-boundary-3f9a1c");
  rest.file("image", "second.png", two_color_png(8, 8, 2, 2, 2), "image/png");
  // The first part is complete once the next delimiter has been seen: send it
  // and the next delimiter line, and hold the rest back.
  const std::string head_part = first.body(false) + "--" + first.boundary() + "\r\n";
  const std::string full = first.body(false) + rest.body(true);
  REQUIRE(full.compare(0, head_part.size(), head_part) == 0);
  Connection c(server().port());
  c.send("POST /v1/analyze?mode=imap_unordered HTTP/1.1\r\nHost: x\r\nContent-Type: " + first.content_type() +
         "\r\nContent-Length: " + std::to_string(full.size()) + "\r\n\r\n" + head_part);
  const Response head = c.read_head();
  REQUIRE(head.status == 200);
  const auto line = c.read_line();
  REQUIRE(line);
  const json j = json::parse(*line);
  CHECK(j["index"] == 0);
  CHECK(j["name"] == "first.png");
  c.send(full.substr(head_part.size()));
  const json second = json::parse(*c.read_line());
  CHECK(second["index"] == 1);
  const json done = json::parse(*c.read_line());
  CHECK(done["done"] == true);
  CHECK(done["count"] == 2);
  CHECK(!c.read_line());
}

TEST_CASE("top=K lists the K most common colors; alpha=ignore skips transparent pixels") {
  const huepool::Rgb a{1, 2, 3}, b{200, 100, 50}, c{9, 9, 9}, d{0, 255, 0};
  const Bytes four = counted_png(10, 10, {{a, 40}, {b, 30}, {c, 20}, {d, 10}});
  Multipart m;
  m.file("image", "four.png", four, "image/png");
  json res = post_multipart(server().port(), "?top=3", m).json()["results"][0];
  REQUIRE(res["colors"].size() == 3);
  CHECK(res["colors"][0]["hex"] == "#010203");
  CHECK(res["colors"][0]["count"] == 40);
  CHECK(res["colors"][1]["hex"] == "#c86432");
  CHECK(res["colors"][2]["hex"] == "#090909");
  CHECK(res["colors"][2]["percentage"].get<double>() == 20.0);
  res = post_multipart(server().port(), "", m).json()["results"][0];
  CHECK(!res.contains("colors"));

  std::vector<std::uint8_t> alpha(100, 255);
  for (int i = 0; i < 60; ++i) alpha[i] = 0;  // the 60 pixels of `a` are transparent
  const Bytes rgba = counted_png(10, 10, {{a, 60}, {b, 30}, {c, 10}}, &alpha);
  Multipart m2;
  m2.file("image", "rgba.png", rgba, "image/png");
  res = post_multipart(server().port(), "?alpha=keep", m2).json()["results"][0];
  CHECK(res["hex"] == "#010203");
  CHECK(res["pixels"] == 100);
  res = post_multipart(server().port(), "?alpha=ignore", m2).json()["results"][0];
  CHECK(res["hex"] == "#c86432");
  CHECK(res["pixels"] == 40);
  CHECK(res["percentage"].get<double>() == 75.0);
  // Fully transparent: a per-image error, not a failed request.
  const std::vector<std::uint8_t> all_clear(16, 0);
  const Bytes clear = counted_png(4, 4, {{a, 16}}, &all_clear);
  Multipart m3;
  m3.file("image", "clear.png", clear, "image/png");
  const json doc = post_multipart(server().port(), "?alpha=ignore", m3).json();
  CHECK(doc["failed"] == 1);
  CHECK(doc["results"][0]["error"]["code"] == "no_pixels");
}

TEST_CASE("palette=K clusters the exact histogram through the pool; alpha=ignore applies; absent, no palette") {
  const huepool::Rgb a{1, 2, 3}, a2{3, 2, 1}, b{200, 100, 50}, c{20, 220, 20};
  const Bytes four = counted_png(10, 10, {{a, 40}, {a2, 20}, {b, 30}, {c, 10}});
  Multipart m;
  m.file("image", "four.png", four, "image/png");
  // Three clusters of four colors: the two near-blacks merge.
  json res = post_multipart(server().port(), "?palette=3&top=2", m).json()["results"][0];
  REQUIRE(res["palette"].size() == 3);
  CHECK(res["colors"].size() == 2);
  CHECK(res["palette"][0]["count"] == 60);
  CHECK(res["palette"][0]["percentage"].get<double>() == 60.0);
  CHECK(res["palette"][0]["hex"] == "#020202");  // (40*(1,2,3) + 20*(3,2,1)) / 60 = (1.67, 2, 2.33), rounded
  CHECK(res["palette"][0]["dominant"] == json({{"r", 1}, {"g", 2}, {"b", 3}, {"hex", "#010203"}, {"count", 40},
                                               {"percentage", 40.0}}));
  CHECK(res["palette"][1]["hex"] == "#c86432");
  CHECK(res["palette"][1]["count"] == 30);
  CHECK(res["palette"][2]["hex"] == "#14dc14");
  CHECK(res["palette"][2]["count"] == 10);
  // Streamed the same.
  const auto lines = ndjson_lines(post_multipart(server().port(), "?mode=imap&palette=3&top=2", m).body);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["palette"] == res["palette"]);
  // Without the option the result has no palette member at all.
  res = post_multipart(server().port(), "?top=2", m).json()["results"][0];
  CHECK(!res.contains("palette"));

  std::vector<std::uint8_t> alpha(100, 255);
  for (int i = 0; i < 60; ++i) alpha[i] = 0;  // the 60 pixels of `a` are transparent
  Multipart m2;
  m2.file("image", "rgba.png", counted_png(10, 10, {{a, 60}, {b, 30}, {c, 10}}, &alpha), "image/png");
  res = post_multipart(server().port(), "?alpha=ignore&palette=16", m2).json()["results"][0];
  REQUIRE(res["palette"].size() == 2);
  CHECK(res["palette"][0]["hex"] == "#c86432");
  CHECK(res["palette"][0]["percentage"].get<double>() == 75.0);
  CHECK(res["palette"][1]["hex"] == "#14dc14");
}

TEST_CASE("WebP and GIF through the workers: format, frames, alpha=ignore, in every mode and as a raw body") {
  using huepool::Rgb;
  // WebP lossless 4x4: 10 pixels of `a` (6 of them transparent), 6 of `b`.
  const Rgb a{1, 2, 3}, b{200, 100, 50};
  std::vector<std::uint8_t> rgba;
  for (int i = 0; i < 16; ++i) rgba.insert(rgba.end(), {i < 10 ? a.r : b.r, i < 10 ? a.g : b.g, i < 10 ? a.b : b.b,
                                                        static_cast<std::uint8_t>(i < 6 ? 0 : 255)});
  const Bytes webp = huepool::test::encode_webp(4, 4, rgba, -1);
  // GIF: a 3x2 first frame on a 5x2 screen (4 fill pixels of index 0 = `b`; `a` 4 times inside), two more frames.
  huepool::test::GifFrame first{1, 0, 3, 2, {1, 1, 1, 1, 0, 2}, {}, std::nullopt, false};
  huepool::test::GifFrame later{0, 0, 1, 1, {2}, {}, std::nullopt, false};
  const Bytes gif = huepool::test::encode_gif({5, 2, {b, a, Rgb{9, 9, 9}}, 2, {first, later, later}});
  Multipart m;
  m.file("image", "a.webp", webp, "image/webp");
  m.file("image", "b.gif", gif, "image/gif");
  for (const char* mode : {"map", "imap", "imap_unordered"}) {
    CAPTURE(mode);
    const Response r = post_multipart(server().port(), std::string("?alpha=ignore&mode=") + mode, m);
    REQUIRE(r.status == 200);
    std::vector<json> results;
    if (std::string(mode) == "map") {
      const json doc = r.json();
      for (const auto& x : doc["results"]) results.push_back(x);
    } else {
      for (const auto& x : ndjson_lines(r.body))
        if (x.contains("index")) results.push_back(x);
    }
    REQUIRE(results.size() == 2);
    for (const json& res : results) {
      INFO(res.dump());
      if (res["index"] == 0) {
        CHECK(res["format"] == "webp");
        CHECK(res["frames"] == 1);
        CHECK(res["pixels"] == 10);  // the 6 transparent pixels are not counted
        CHECK(res["hex"] == "#c86432");
        CHECK(res["count"] == 6);
      } else {
        CHECK(res["format"] == "gif");
        CHECK(res["frames"] == 3);
        CHECK(res["width"] == 5);
        CHECK(res["pixels"] == 10);  // no transparent index: every pixel counts
        CHECK(res["hex"] == "#c86432");
        CHECK(res["count"] == 5);  // 4 outside the frame (index 0, not the background 2) and 1 inside
      }
    }
  }
  const Response raw = http_request(server().port(), "POST", "/v1/analyze?name=b.gif", {{"Content-Type", "image/gif"}},
                                    std::string(gif.begin(), gif.end()));
  REQUIRE(raw.status == 200);
  const json res = raw.json()["results"][0];
  CHECK(res["format"] == "gif");
  CHECK(res["hex"] == "#c86432");
  CHECK(res["count"] == 5);
  CHECK(res["frames"] == 3);
}

TEST_CASE("processes=1: one image in the pool at a time, so completion order is input order") {
  Multipart m;
  m.file("image", "big.png", two_color_png(1200, 1200, 1, 2, 3), "image/png");
  for (int i = 1; i < 5; ++i) m.file("image", "s.png", two_color_png(4, 4, 9, 9, 9), "image/png");
  const auto lines = ndjson_lines(post_multipart(server().port(), "?mode=imap_unordered&processes=1", m).body);
  REQUIRE(lines.size() == 6);
  for (int i = 0; i < 5; ++i) CHECK(lines[i]["index"] == i);
}

TEST_CASE("a corrupt image among good ones fails alone") {
  Bytes truncated = two_color_png(64, 64, 1, 2, 3);
  truncated.resize(truncated.size() / 2);
  const std::string text = "this is not an image";
  Multipart m;
  m.file("image", "good1.png", two_color_png(8, 8, 50, 60, 70))
      .file("image", "truncated.png", truncated)
      .file("image", "notes.txt", Bytes(text.begin(), text.end()), "text/plain")
      .file("image", "good2.png", two_color_png(8, 8, 80, 90, 100));
  for (const char* mode : {"map", "imap", "imap_unordered"}) {
    INFO(mode);
    const Response r = post_multipart(server().port(), std::string("?mode=") + mode, m);
    REQUIRE(r.status == 200);
    std::vector<json> results;
    json summary;
    if (std::string(mode) == "map") {
      summary = r.json();
      for (const auto& x : summary["results"]) results.push_back(x);
    } else {
      auto lines = ndjson_lines(r.body);
      summary = lines.back();
      lines.pop_back();
      results = lines;
    }
    CHECK(summary["count"] == 4);
    CHECK(summary["failed"] == 2);
    REQUIRE(results.size() == 4);
    std::map<int, json> by_index;
    for (const auto& x : results) by_index[x["index"]] = x;
    CHECK(by_index[0]["hex"] == "#323c46");
    CHECK(by_index[1]["error"]["code"] == "decode_failed");
    CHECK(by_index[1]["name"] == "truncated.png");
    CHECK(by_index[2]["error"]["code"] == "unsupported_format");
    CHECK(by_index[3]["hex"] == "#505a64");
  }
}

TEST_CASE("request errors are problem+json with the right status") {
  const int port = server().port();
  Multipart one;
  one.file("image", "a.png", two_color_png(4, 4, 1, 1, 1));
  SUBCASE("400 names the bad option") {
    for (const auto& [query, option] : std::vector<std::pair<std::string, std::string>>{
             {"?mode=pmap", "mode"}, {"?top=0", "top"}, {"?top=999", "top"}, {"?processes=0", "processes"},
             {"?palette=0", "palette"}, {"?palette=17", "palette"}, {"?palette=two", "palette"},
             {"?alpha=maybe", "alpha"}, {"?colour=red", "colour"}}) {
      const Response r = post_multipart(port, query, one);
      check_problem(r, 400, "invalid_option");
      CHECK(r.json()["option"] == option);
    }
  }
  SUBCASE("400 malformed multipart") {
    check_problem(http_request(port, "POST", "/v1/analyze", {{"Content-Type", "multipart/form-data"}}, "x"), 400,
                  "malformed_multipart");
    check_problem(http_request(port, "POST", "/v1/analyze", {{"Content-Type", one.content_type()}},
                               one.body(false)),
                  400, "malformed_multipart");
    check_problem(http_request(port, "POST", "/v1/analyze", {{"Content-Type", one.content_type()}},
                               "--" + one.boundary() + "garbage"),
                  400, "malformed_multipart");
  }
  SUBCASE("404 and 405") {
    check_problem(get(port, "/nope"), 404, "not_found");
    const Response r = get(port, "/v1/analyze");
    check_problem(r, 405, "method_not_allowed");
    CHECK(r.header("allow") == "POST");
    check_problem(http_request(port, "POST", "/healthz"), 405, "method_not_allowed");
  }
  SUBCASE("415 not an image upload") {
    check_problem(http_request(port, "POST", "/v1/analyze", {{"Content-Type", "text/plain"}}, "hello"), 415,
                  "unsupported_media_type");
    check_problem(http_request(port, "POST", "/v1/analyze", {}, "hello"), 415, "unsupported_media_type");
    check_problem(http_request(port, "POST", "/v1/analyze", {{"Content-Type", "application/x-www-form-urlencoded"}},
                               "x"),
                  415, "unsupported_media_type");
  }
  SUBCASE("422 no image") {
    Multipart fields;
    fields.field("a", "b");
    check_problem(post_multipart(port, "", fields), 422, "no_image");
    check_problem(post_multipart(port, "?mode=imap", fields), 422, "no_image");
    check_problem(http_request(port, "POST", "/v1/analyze", {{"Content-Type", "image/png"}}, ""), 422, "no_image");
  }
}

TEST_CASE("413: body and image count over the limits") {
  ServerProcess small({"--max-body-bytes=64KiB", "--max-images=2"}, 1);
  Multipart three;
  for (int i = 0; i < 3; ++i) three.file("image", "x.png", two_color_png(4, 4, 1, 1, 1));
  Response r = post_multipart(small.port(), "", three);
  check_problem(r, 413, "too_many_images");
  CHECK(r.json()["limit"] == 2);
  // Declared length over the limit: refused before the body is read.
  Multipart big;
  big.file("image", "big.bin", Bytes(70 * 1024, 7));
  r = post_multipart(small.port(), "", big);
  check_problem(r, 413, "body_too_large");
  CHECK(r.json()["limit"] == 64 * 1024);
  // A chunked body has no declared length: cut off when it passes the limit.
  Connection c(small.port());
  const std::string body = big.body();
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", body.size());
  c.send("POST /v1/analyze HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: " + big.content_type() +
         "\r\n\r\n" + size + body + "\r\n0\r\n\r\n");
  check_problem(c.read_response(), 413, "body_too_large");
  // The server is fine afterwards.
  CHECK(get(small.port(), "/healthz").status == 200);
}

TEST_CASE("503 with Retry-After when the queue is full") {
  ServerProcess busy({"--max-queued-jobs=1"}, 1);
  Multipart slow;
  slow.file("image", "slow.png", slow_png(), "image/png");
  // Two slow uploads: one runs on the only worker, the other waits in the queue.
  std::vector<std::thread> clients;
  std::vector<Response> answers(2);
  for (int i = 0; i < 2; ++i)
    clients.emplace_back([&, i] { answers[i] = post_multipart(busy.port(), "", slow); });
  // Until the queue holds one image.
  wait_info(busy.port(), [](const json& info) { return info["pool"]["queued"].get<int>() >= 1; });
  Multipart one;
  one.file("image", "a.png", two_color_png(4, 4, 1, 1, 1));
  const Response r = post_multipart(busy.port(), "", one);
  check_problem(r, 503, "queue_full");
  CHECK(r.header("retry-after") == "1");
  for (auto& t : clients) t.join();
  for (const auto& a : answers) {
    CHECK(a.status == 200);
    CHECK(a.json()["failed"] == 0);
  }
}

TEST_CASE("operations endpoints") {
  const int port = server().port();
  Response r = get(port, "/healthz");
  CHECK(r.status == 200);
  CHECK(r.json()["status"] == "ok");
  r = get(port, "/readyz");
  CHECK(r.status == 200);
  CHECK(r.json()["ready"] == true);
  r = get(port, "/v1/info");
  REQUIRE(r.status == 200);
  const json info = r.json();
  CHECK(info["name"] == "huepool");
  CHECK(info["formats"] == json{"png", "jpeg", "webp", "gif"});
  CHECK(info["pool"]["workers"] == 2);
  CHECK(info["limits"]["max_images"] == 256);
  CHECK(info["limits"]["max_body_bytes"] == 64 * 1024 * 1024);
  CHECK(info["limits"]["max_pixels"] == 100000000);
  // A request first, so the counters below have something in them.
  Multipart one;
  one.file("image", "a.png", two_color_png(4, 4, 1, 1, 1));
  REQUIRE(post_multipart(port, "", one).status == 200);
  r = get(port, "/metrics");
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
  for (const char* name : {"huepool_http_requests_total{code=\"200\"}", "huepool_images_total{result=\"ok\"}",
                           "huepool_image_duration_seconds_bucket{le=\"+Inf\"}", "huepool_pool_queue_depth",
                           "huepool_pool_workers_by_state{state=\"busy\"}", "huepool_pool_worker_restarts_total"}) {
    INFO(name);
    CHECK(r.body.find(name) != std::string::npos);
  }
  r = http_request(port, "HEAD", "/healthz");
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  // The access log has one JSON line per request. A request's line is written
  // right after its response is handed to the socket: one more round trip
  // makes sure the lines of the requests above are there.
  REQUIRE(get(port, "/healthz").status == 200);
  const std::string log = server().log();
  CHECK(log.find("\"target\":\"/metrics\"") != std::string::npos);
  CHECK(log.find("\"method\":\"HEAD\"") != std::string::npos);
  CHECK(log.find("\"mode\":\"map\"") != std::string::npos);
}

TEST_CASE("keep-alive and pipelining: answers in order on one connection") {
  Connection c(server().port());
  const Bytes png = two_color_png(6, 6, 3, 3, 3);
  const std::string post = "POST /v1/analyze?name=p.png HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: " +
                           std::to_string(png.size()) + "\r\n\r\n" + as_string(png);
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + post + "GET /v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n" + post);
  CHECK(c.read_response().json()["status"] == "ok");
  CHECK(c.read_response().json()["results"][0]["name"] == "p.png");
  CHECK(c.read_response().status == 404);
  CHECK(c.read_response().json()["results"][0]["hex"] == "#030303");
  // Still open for more.
  c.send("GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(c.read_response().status == 200);
  CHECK(c.wait_closed(std::chrono::milliseconds(10'000)));
}

TEST_CASE("huepool healthcheck exits 0 on a live server, 1 otherwise") {
  const std::string bin = env_or("HUEPOOL_BIN", "huepool");
  const std::string ok = bin + " healthcheck --url http://127.0.0.1:" + std::to_string(server().port()) + "/healthz";
  CHECK(std::system(ok.c_str()) == 0);
  const std::string missing = bin + " healthcheck --timeout 2s --url http://127.0.0.1:" +
                              std::to_string(server().port()) + "/nope 2>/dev/null";
  CHECK(WEXITSTATUS(std::system(missing.c_str())) == 1);
  const std::string closed = bin + " healthcheck --timeout 2s --url http://127.0.0.1:1/healthz 2>/dev/null";
  CHECK(WEXITSTATUS(std::system(closed.c_str())) == 1);
}

TEST_CASE("a chunked upload stopping inside its chunk framing: the server answers up to there, then the rest") {
  // Six images in 37-byte chunks. The upload stops five times, each time just
  // past the delimiter that completes an image and inside the chunk framing
  // that follows (between a data CRLF's CR and LF, between the size digits,
  // between a size line's CR and LF). At each stop the test waits until the
  // pool has finished that image: the server has parsed the bytes up to the
  // stop, by protocol rather than by a sleep, and must resume mid-line.
  constexpr int kImages = 6;
  Multipart m;
  for (int i = 0; i < kImages; ++i)
    m.file("image", "p" + std::to_string(i) + ".png",
           two_color_png(30, 30, static_cast<std::uint8_t>(i + 1), 8, 9), "image/png");
  const std::string body = m.body();
  constexpr std::size_t kChunk = 37;  // two hex digits of size: "25"
  struct ChunkSpan {
    std::size_t size_line_at;  // wire offset of the chunk-size line
    std::size_t data_end;      // wire offset just past the chunk data (its CRLF follows)
    std::size_t body_end;      // body offset just past this chunk's data
  };
  std::string wire;
  std::vector<ChunkSpan> chunks;
  for (std::size_t at = 0; at < body.size(); at += kChunk) {
    const std::string piece = body.substr(at, kChunk);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    const std::size_t size_line_at = wire.size();
    wire += size + piece;
    chunks.push_back({size_line_at, wire.size(), at + piece.size()});
    wire += "\r\n";
  }
  wire += "0\r\n\r\n";
  // Image i is complete once the delimiter line after it has arrived.
  const std::string delimiter = "--" + m.boundary() + "\r\n";
  std::vector<std::size_t> stops;
  std::size_t search = body.find(delimiter) + delimiter.size();  // past the opening delimiter
  for (int i = 0; i + 1 < kImages; ++i) {
    const std::size_t found = body.find(delimiter, search);
    REQUIRE(found != std::string::npos);
    const std::size_t complete_at = found + delimiter.size();
    search = complete_at;
    std::size_t c = 0;
    while (chunks[c].body_end < complete_at) ++c;
    REQUIRE(c + 1 < chunks.size());
    REQUIRE(chunks[c + 1].data_end - chunks[c + 1].size_line_at == 4 + kChunk);  // "25\r\n" + data
    switch (i % 3) {
      case 0: stops.push_back(chunks[c].data_end + 1); break;      // CR | LF after the data
      case 1: stops.push_back(chunks[c + 1].size_line_at + 1); break;  // "2" | "5"
      default: stops.push_back(chunks[c + 1].size_line_at + 3); break;  // "25\r" | "\n"
    }
  }
  const auto completed_before = get(server().port(), "/v1/info").json()["pool"]["completed"].get<std::uint64_t>();
  Connection c(server().port());
  c.send("POST /v1/analyze?mode=imap HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: " +
         m.content_type() + "\r\n\r\n");
  std::size_t sent = 0;
  for (std::size_t i = 0; i < stops.size(); ++i) {
    c.send(wire.substr(sent, stops[i] - sent));
    sent = stops[i];
    wait_info(server().port(), [&](const json& info) {
      return info["pool"]["completed"].get<std::uint64_t>() >= completed_before + i + 1;
    });
  }
  c.send(wire.substr(sent));
  const Response r = c.read_response();
  REQUIRE(r.status == 200);
  const auto lines = ndjson_lines(r.body);
  REQUIRE(lines.size() == kImages + 1);
  for (int i = 0; i < kImages; ++i) {
    CHECK(lines[i]["index"] == i);
    CHECK(lines[i]["color"]["r"] == i + 1);
  }
  CHECK(lines[kImages]["count"] == kImages);
  CHECK(lines[kImages]["failed"] == 0);
}

