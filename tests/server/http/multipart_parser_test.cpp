// MultipartParser: the same events for every split of a body, the three
// outcomes, and no trust in anything the body claims.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "server/http/multipart_parser.hpp"

using huepool::http::MultipartHandler;
using huepool::http::MultipartParser;
using huepool::http::PartHeaders;
using Status = MultipartParser::Status;

namespace {

// Records events; consecutive data pieces are merged, since how data is cut
// into pieces depends on the split and is not part of the contract.
struct Recorder : MultipartHandler {
  std::vector<std::string> events;
  void on_part_begin(const PartHeaders& h) override {
    events.push_back("begin name=" + h.field_name + " file=" + (h.filename ? "[" + *h.filename + "]" : "-") +
                     " type=" + h.content_type);
  }
  void on_part_data(std::span<const std::uint8_t> b) override {
    CHECK(!b.empty());
    std::string s(reinterpret_cast<const char*>(b.data()), b.size());
    if (!events.empty() && events.back().rfind("data:", 0) == 0) events.back() += s;
    else events.push_back("data:" + s);
  }
  void on_part_end() override { events.push_back("end"); }
};

std::span<const std::uint8_t> bytes(const std::string& s, std::size_t from = 0, std::size_t n = std::string::npos) {
  n = std::min(n, s.size() - from);
  return {reinterpret_cast<const std::uint8_t*>(s.data()) + from, n};
}

struct Parsed {
  Status status;
  std::vector<std::string> events;
  std::string error;
};

Parsed parse_pieces(const std::string& boundary, const std::string& body, const std::vector<std::size_t>& cuts) {
  MultipartParser p(boundary);
  Recorder r;
  Status s = Status::need_more;
  std::size_t at = 0;
  for (std::size_t cut : cuts) {
    s = p.feed(bytes(body, at, cut - at), r);
    at = cut;
  }
  s = p.feed(bytes(body, at), r);
  if (s == Status::need_more) s = p.finish();
  return {s, r.events, p.error()};
}

Parsed parse_whole(const std::string& boundary, const std::string& body) { return parse_pieces(boundary, body, {}); }

const std::string kBoundary = "----huepoolBoundary7MA4YWxk";

// Part data full of near-delimiters: CRLF, "\r\n--", a boundary prefix, the
// boundary without its dashes, and a lone CR at the very end.
std::string tricky_data() {
  std::string d = "PNG\r\n\x1a\n\0\r\n--\r\n-";
  d += std::string("\r\n--") + kBoundary.substr(0, 10) + "x";
  d += "\r" + kBoundary + "\r\n" + "-" + kBoundary + "\r";  // one dash short of a delimiter
  d.push_back('\0');
  d += "tail\r";
  return d;
}

std::string sample_body() {
  std::string b = "preamble to ignore\r\n";
  b += "--" + kBoundary + "\r\n";
  b += "Content-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n";
  b += "Content-Type: image/png\r\n";
  b += "Content-Length: 3\r\n\r\n";  // a lie, and ignored
  b += tricky_data();
  b += "\r\n--" + kBoundary + "  \t\r\n";  // transport padding
  b += "content-disposition: form-data; name=note\r\n\r\n";
  b += "just a field";
  b += "\r\n--" + kBoundary + "\r\n";
  b += "Content-Disposition: form-data; name=\"f\"; filename=\"quo\\\"te.jpg\"\r\n\r\n";
  b += "";  // an empty part
  b += "\r\n--" + kBoundary + "\r\n";
  b += "Content-Disposition: form-data; name=\"g\"; filename*=UTF-8''na%C3%AFve.png\r\n\r\n";
  b += "xyz";
  b += "\r\n--" + kBoundary + "--\r\nepilogue, ignored \r\n--" + kBoundary + "\r\n";
  return b;
}

const std::vector<std::string> kSampleEvents = {
    "begin name=image file=[a.png] type=image/png",
    "data:" + tricky_data(),
    "end",
    "begin name=note file=- type=",
    "data:just a field",
    "end",
    "begin name=f file=[quo\"te.jpg] type=",
    "end",
    "begin name=g file=[na\xC3\xAFve.png] type=",
    "data:xyz",
    "end",
};

}  // namespace

TEST_CASE("multipart: a whole body gives the expected parts") {
  const auto r = parse_whole(kBoundary, sample_body());
  CHECK(r.status == Status::complete);
  CHECK(r.events == kSampleEvents);
}

TEST_CASE("multipart: every split point into two pieces gives the same events") {
  const std::string body = sample_body();
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    const auto r = parse_pieces(kBoundary, body, {cut});
    INFO("cut at " << cut);
    REQUIRE(r.status == Status::complete);
    REQUIRE(r.events == kSampleEvents);
  }
}

TEST_CASE("multipart: every pair of split points (three pieces) gives the same events") {
  const std::string body = sample_body();
  for (std::size_t a = 0; a <= body.size(); a += 3)
    for (std::size_t b = a; b <= body.size(); b += 2) {
      const auto r = parse_pieces(kBoundary, body, {a, b});
      INFO("cuts at " << a << "," << b);
      REQUIRE(r.status == Status::complete);
      REQUIRE(r.events == kSampleEvents);
    }
}

TEST_CASE("multipart: one byte at a time gives the same events") {
  const std::string body = sample_body();
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < body.size(); ++i) cuts.push_back(i);
  const auto r = parse_pieces(kBoundary, body, cuts);
  CHECK(r.status == Status::complete);
  CHECK(r.events == kSampleEvents);
}

TEST_CASE("multipart: random splits of random binary parts round-trip") {
  std::mt19937 rng(20261128);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> parts;
    std::string body;
    const int n = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) {
      std::string data(rng() % 300, '\0');
      for (auto& c : data) {
        // Bias towards the delimiter's own bytes to provoke false starts.
        const char alphabet[] = {'\r', '\n', '-', '-', 'h', 'x', '\0', static_cast<char>(0xff)};
        c = alphabet[rng() % sizeof alphabet];
      }
      parts.push_back(data);
      body += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"p\"; filename=\"f\"\r\n\r\n";
      body += data + "\r\n";
    }
    body += "--" + kBoundary + "--";
    std::vector<std::size_t> cuts;
    for (std::size_t at = 0; at < body.size();) {
      at += 1 + rng() % 97;
      if (at < body.size()) cuts.push_back(at);
    }
    const auto r = parse_pieces(kBoundary, body, cuts);
    REQUIRE(r.status == Status::complete);
    std::vector<std::string> expected;
    for (const auto& d : parts) {
      expected.push_back("begin name=p file=[f] type=");
      if (!d.empty()) expected.push_back("data:" + d);
      expected.push_back("end");
    }
    REQUIRE(r.events == expected);
  }
}

TEST_CASE("multipart: the first delimiter may open the body; epilogue ignored") {
  const std::string body = "--" + kBoundary + "\r\n\r\nabc\r\n--" + kBoundary + "--";
  const auto r = parse_whole(kBoundary, body);
  CHECK(r.status == Status::complete);
  CHECK(r.events == std::vector<std::string>{"begin name= file=- type=", "data:abc", "end"});
  // Bytes fed after completion are the epilogue: still complete.
  MultipartParser p(kBoundary);
  Recorder rec;
  CHECK(p.feed(bytes(body), rec) == Status::complete);
  CHECK(p.feed(bytes(std::string("junk")), rec) == Status::complete);
  CHECK(p.finish() == Status::complete);
}

TEST_CASE("multipart: need_more until the closing delimiter, malformed if the body ends first") {
  const std::string body = sample_body();
  const std::string truncated = body.substr(0, body.find("--" + kBoundary + "--") + 5);
  MultipartParser p(kBoundary);
  Recorder r;
  CHECK(p.feed(bytes(truncated), r) == Status::need_more);
  CHECK(p.finish() == Status::malformed);
  CHECK(p.error().find("before the closing boundary") != std::string::npos);

  MultipartParser empty(kBoundary);
  CHECK(empty.finish() == Status::malformed);
}

TEST_CASE("multipart: malformed inputs are reported, never skipped") {
  struct Case {
    const char* what;
    std::string body;
  };
  const std::string d = "--" + kBoundary;
  const std::vector<Case> cases = {
      {"junk after a delimiter", d + "xyz\r\n\r\ndata\r\n" + d + "--"},
      {"single dash after a delimiter", d + "-x"},
      {"CR without LF", d + "\rX"},
      {"header line without colon", d + "\r\nContent-Disposition form-data\r\n\r\nx\r\n" + d + "--"},
      {"header block over the cap",
       d + "\r\nX-Big: " + std::string(huepool::http::kMaxPartHeaderBytes + 10, 'a') + "\r\n\r\n"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    // Malformed however the body is cut.
    for (std::size_t cut = 0; cut <= c.body.size(); cut += 7) {
      const auto r = parse_pieces(kBoundary, c.body, {cut});
      REQUIRE(r.status == Status::malformed);
      REQUIRE(!r.error.empty());
    }
  }
}

TEST_CASE("multipart: a malformed parser stays malformed") {
  MultipartParser p(kBoundary);
  Recorder r;
  const std::string bad = "--" + kBoundary + "xx";
  CHECK(p.feed(bytes(bad), r) == Status::malformed);
  const std::string good = "\r\n\r\nabc\r\n--" + kBoundary + "--";
  CHECK(p.feed(bytes(good), r) == Status::malformed);
  CHECK(r.events.empty());
}

TEST_CASE("multipart: boundary parameter parsing and validation") {
  using huepool::http::MultipartParser;
  CHECK(MultipartParser::boundary_from_content_type("multipart/form-data; boundary=abc") == "abc");
  CHECK(MultipartParser::boundary_from_content_type("Multipart/Form-Data;boundary=\"a b:c\"") == "a b:c");
  CHECK(MultipartParser::boundary_from_content_type("multipart/form-data; charset=utf-8; boundary=x-1") == "x-1");
  CHECK(!MultipartParser::boundary_from_content_type("multipart/form-data"));
  CHECK(!MultipartParser::boundary_from_content_type("multipart/form-data; boundary="));
  CHECK(!MultipartParser::boundary_from_content_type("multipart/mixed; boundary=abc"));
  CHECK(!MultipartParser::boundary_from_content_type("multipart/form-data; boundary=\"a\r\nb\""));
  CHECK(!MultipartParser::boundary_from_content_type("multipart/form-data; boundary=\"trailing \""));
  CHECK(!MultipartParser::boundary_from_content_type("multipart/form-data; boundary=" + std::string(71, 'a')));
  CHECK(MultipartParser::boundary_from_content_type("multipart/form-data; boundary=" + std::string(70, 'a')));
}

TEST_CASE("multipart: file names as browsers, curl and RFC 8187 senders write them, at every split") {
  struct Case {
    std::string disposition;  // the Content-Disposition value as sent
    std::string filename;     // what the parser must report
  };
  std::vector<Case> cases;
  // Each special character at the start, middle and end of a name, written
  // the WHATWG HTML way (browsers, curl >= 7.81): '"' CR LF as %22 %0D %0A,
  // the rest as they are.
  const std::vector<std::pair<std::string, std::string>> specials = {
      {"\"", "%22"}, {"\r", "%0D"}, {"\n", "%0A"}, {"\\", "\\"}, {"%", "%"}, {";", ";"}, {"'", "'"},
      {"\xC3\xBC", "\xC3\xBC"}, {"\xFF", "\xFF"} /* invalid UTF-8: passed on as bytes */, {"%41", "%41"}};
  for (const auto& [raw, sent] : specials) {
    cases.push_back({"form-data; name=\"image\"; filename=\"" + sent + "x.png\"", raw + "x.png"});
    cases.push_back({"form-data; name=\"image\"; filename=\"x" + sent + "y.png\"", "x" + raw + "y.png"});
    cases.push_back({"form-data; filename=\"x.png" + sent + "\"; name=\"image\"", "x.png" + raw});
  }
  // RFC 8187 filename*, in both orders with a plain filename.
  cases.push_back({"form-data; name=\"image\"; filename*=UTF-8''%E2%82%AC%20rates.png", "\xE2\x82\xAC rates.png"});
  cases.push_back({"form-data; name=\"image\"; filename*=iso-8859-1''%A3%20rates.png", "\xC2\xA3 rates.png"});
  cases.push_back({"form-data; name=\"image\"; filename*=utf-8'en'%C3%BC.png; filename=\"u.png\"", "\xC3\xBC.png"});
  cases.push_back({"form-data; name=\"image\"; filename=\"u.png\"; filename*=ISO-8859-1'de'%FC.png", "\xC3\xBC.png"});
  cases.push_back({"form-data; name=\"image\"; filename=\"u.png\"; filename*=UTF-8''%E2%82", "u.png"});
  cases.push_back({"form-data; name=\"image\"; filename*=x-mac''%80.png", "x-mac''%80.png"});
  // A legacy quoted-pair sender (curl < 7.81, Go).
  cases.push_back({"form-data; name=\"image\"; filename=\"say \\\"hi\\\".png\"", "say \"hi\".png"});

  for (const auto& c : cases) {
    const std::string body = "--" + kBoundary + "\r\nContent-Disposition: " + c.disposition +
                             "\r\nContent-Type: image/png\r\n\r\nPNG\r\n--" + kBoundary + "--\r\n";
    const std::vector<std::string> want = {"begin name=image file=[" + c.filename + "] type=image/png", "data:PNG",
                                           "end"};
    INFO("Content-Disposition: " << c.disposition);
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
      const auto r = parse_pieces(kBoundary, body, {cut});
      REQUIRE(r.status == Status::complete);
      REQUIRE(r.events == want);
    }
  }
}
