// UploadIntake: whole images out of a streamed body; small inline, large in a
// memfd with the same bytes; limits and form fields.
#include <doctest/doctest.h>

#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "server/http/upload_intake.hpp"
#include "tests/proto/memfd_pin.hpp"

using namespace huepool::http;

namespace {

struct Received {
  std::string name;
  std::string bytes;
  bool via_fd;
  std::optional<std::uint64_t> pixels;
};

std::string read_payload(const huepool::proto::ImagePayload& p) {
  if (!p.is_fd()) {
    auto b = p.inline_bytes();
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }
  std::string out(p.size(), '\0');
  std::size_t at = 0;
  while (at < out.size()) {
    const ssize_t n = ::pread(p.fd(), out.data() + at, out.size() - at, static_cast<off_t>(at));
    REQUIRE(n > 0);
    at += static_cast<std::size_t>(n);
  }
  return out;
}

std::span<const std::uint8_t> span_of(const std::string& s, std::size_t from, std::size_t n) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()) + from, std::min(n, s.size() - from)};
}

const std::string kB = "bnd";

std::string part(const std::string& disposition, const std::string& data, const std::string& type = "") {
  std::string p = "--" + kB + "\r\nContent-Disposition: form-data; " + disposition + "\r\n";
  if (!type.empty()) p += "Content-Type: " + type + "\r\n";
  return p + "\r\n" + data + "\r\n";
}

// The first 24 bytes of a PNG stating width x height, then filler: the
// intake reads only the stated size (the decoder, not the intake, checks files).
std::string png_head(std::uint32_t w, std::uint32_t h, std::size_t filler) {
  std::string s("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  for (std::uint32_t v : {w, h})
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xFF));
  return s + std::string(filler, 'x');
}

}  // namespace

TEST_CASE("intake: file parts become images in order, fields are ignored, memfd for large ones") {
  std::string big(200'000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
  const std::string body = part("name=\"a\"; filename=\"small.png\"", "tiny") + part("name=\"comment\"", "hello") +
                           part("name=\"b\"; filename=\"big.jpg\"", big) +
                           part("name=\"typed\"", "rawfield", "image/png") +
                           part("name=\"empty\"; filename=\"\"", "") + "--" + kB + "--\r\n";
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, body.size()}) {
    std::vector<Received> got;
    auto intake = UploadIntake::multipart(kB, UploadIntake::Limits{1024, 10},
                                          [&](std::string name, huepool::proto::ImagePayload p, auto pixels) {
                                            got.push_back({name, read_payload(p), p.is_fd(), pixels});
                                          });
    for (std::size_t at = 0; at < body.size(); at += piece) REQUIRE(!intake->feed(span_of(body, at, piece)));
    REQUIRE(!intake->finish());
    REQUIRE(got.size() == 3);
    CHECK(intake->images() == 3);
    CHECK(got[0].name == "small.png");
    CHECK(got[0].bytes == "tiny");
    CHECK(!got[0].via_fd);
    CHECK(got[1].name == "big.jpg");
    CHECK(got[1].bytes == big);
    CHECK(got[1].via_fd);
    CHECK(got[2].name == "typed");
    CHECK(got[2].bytes == "rawfield");
  }
}

TEST_CASE("intake: an image is delivered as soon as its part closes, before the body ends") {
  const std::string body = part("name=\"a\"; filename=\"1.png\"", "one") + part("name=\"a\"; filename=\"2.png\"", "two");
  int delivered = 0;
  auto intake = UploadIntake::multipart(kB, UploadIntake::Limits{}, [&](std::string, huepool::proto::ImagePayload, auto) {
    ++delivered;
  });
  // The first part's closing delimiter is the second part's opening one.
  const auto second = body.find("--" + kB, 2);
  REQUIRE(!intake->feed(span_of(body, 0, second + 2 + kB.size())));
  CHECK(delivered == 1);
}

TEST_CASE("intake: too many images is a 413, malformed multipart a 400") {
  std::string body;
  for (int i = 0; i < 4; ++i) body += part("name=\"f\"; filename=\"x\"", "data");
  body += "--" + kB + "--";
  auto intake = UploadIntake::multipart(kB, UploadIntake::Limits{64, 3}, [](auto, auto, auto) {});
  const auto p = intake->feed(span_of(body, 0, body.size()));
  REQUIRE(p);
  CHECK(p->status == 413);
  CHECK(p->code == "too_many_images");
  CHECK(intake->images() == 3);

  auto bad = UploadIntake::multipart(kB, UploadIntake::Limits{}, [](auto, auto, auto) {});
  const std::string unterminated = part("name=\"f\"; filename=\"x\"", "data");
  CHECK(!bad->feed(span_of(unterminated, 0, unterminated.size())));
  const auto q = bad->finish();
  REQUIRE(q);
  CHECK(q->status == 400);
  CHECK(q->code == "malformed_multipart");
}

TEST_CASE("intake: a raw body is one image at the end; an empty one is none") {
  std::vector<Received> got;
  auto intake = UploadIntake::raw("pic.png", UploadIntake::Limits{4, 1}, [&](std::string n, huepool::proto::ImagePayload p, auto pixels) {
    got.push_back({n, read_payload(p), p.is_fd(), pixels});
  });
  const std::string data = "0123456789";
  CHECK(!intake->feed(span_of(data, 0, 3)));
  CHECK(!intake->feed(span_of(data, 3, 100)));
  CHECK(got.empty());
  CHECK(!intake->finish());
  REQUIRE(got.size() == 1);
  CHECK(got[0].name == "pic.png");
  CHECK(got[0].bytes == data);
  CHECK(got[0].via_fd);

  auto empty = UploadIntake::raw("x", UploadIntake::Limits{}, [&](auto, auto, auto) { FAIL("no image expected"); });
  CHECK(!empty->finish());
  CHECK(empty->images() == 0);
}

TEST_CASE("intake: each image comes with the pixel count its header states, however the body is cut") {
  const std::string body = part("name=\"a\"; filename=\"wide.png\"", png_head(4000, 3, 70'000)) +
                           part("name=\"a\"; filename=\"note.txt\"", "not an image") +
                           part("name=\"a\"; filename=\"small.png\"", png_head(7, 5, 10)) + "--" + kB + "--\r\n";
  for (std::size_t piece : {std::size_t{1}, std::size_t{5}, std::size_t{4096}, body.size()}) {
    CAPTURE(piece);
    std::vector<Received> got;
    auto intake = UploadIntake::multipart(kB, UploadIntake::Limits{1024, 10},
                                          [&](std::string name, huepool::proto::ImagePayload p, auto pixels) {
                                            got.push_back({name, read_payload(p), p.is_fd(), pixels});
                                          });
    for (std::size_t at = 0; at < body.size(); at += piece) REQUIRE(!intake->feed(span_of(body, at, piece)));
    REQUIRE(!intake->finish());
    REQUIRE(got.size() == 3);
    CHECK(got[0].pixels == 12'000u);
    CHECK(got[0].via_fd);
    CHECK(got[1].pixels == std::nullopt);
    CHECK(got[2].pixels == 35u);
  }
  std::vector<Received> raw;
  auto intake = UploadIntake::raw("r.png", UploadIntake::Limits{}, [&](std::string n, huepool::proto::ImagePayload p,
                                                                     auto pixels) {
    raw.push_back({n, read_payload(p), p.is_fd(), pixels});
  });
  const std::string data = png_head(640, 480, 100);
  for (std::size_t at = 0; at < data.size(); at += 3) CHECK(!intake->feed(span_of(data, at, 3)));
  CHECK(!intake->finish());
  REQUIRE(raw.size() == 1);
  CHECK(raw[0].pixels == 640u * 480u);
}

TEST_CASE("intake: an image whose memfd cannot be sealed is the request's problem, not an exception") {
  // Sealing fails with EBUSY while the memfd is mapped writable
  // (tests/proto/memfd_pin.hpp); the kernel can return the same error on its own.
  const std::string large(5000, 'p');
  SUBCASE("raw") {
    auto intake = UploadIntake::raw("pic.png", UploadIntake::Limits{4, 16},
                                    [&](auto, auto, auto) { FAIL("no image expected"); });
    CHECK(!intake->feed(span_of(large, 0, large.size())));
    const huepool::testing::WritableMemfdMapping pin("huepool-image");
    REQUIRE(pin.mapped());
    const auto problem = intake->finish();
    REQUIRE(problem);
    CHECK(problem->status == 500);
    CHECK(problem->detail.find("seal memfd") != std::string::npos);
    CHECK(intake->images() == 0);
  }
  SUBCASE("multipart: the images before it are delivered, the failing one is not") {
    std::vector<Received> got;
    auto intake = UploadIntake::multipart(kB, UploadIntake::Limits{4, 16}, [&](std::string n, auto p, auto pixels) {
      got.push_back({n, read_payload(p), p.is_fd(), pixels});
    });
    const std::string first = part("name=\"f\"; filename=\"a.png\"", large);
    const std::string second_open = "--" + kB + "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"b.png\"\r\n\r\n" + large;
    CHECK(!intake->feed(span_of(first, 0, first.size())));
    CHECK(!intake->feed(span_of(second_open, 0, second_open.size())));
    REQUIRE(got.size() == 1);
    CHECK(got[0].name == "a.png");
    const huepool::testing::WritableMemfdMapping pin("huepool-image");
    REQUIRE(pin.mapped());
    const std::string close = "\r\n--" + kB + "--\r\n";
    auto problem = intake->feed(span_of(close, 0, close.size()));
    if (!problem) problem = intake->finish();
    REQUIRE(problem);
    CHECK(problem->status == 500);
    CHECK(problem->detail.find("seal memfd") != std::string::npos);
    CHECK(got.size() == 1);
  }
}
