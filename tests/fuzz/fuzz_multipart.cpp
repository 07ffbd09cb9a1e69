// libFuzzer target for the streaming multipart parser (issue #4). The input is
// a multipart body for a fixed boundary; its first byte picks a piece size.
// The body is parsed whole and again in pieces, and the two runs must agree
// on the outcome and on every event (data compared as merged bytes): a split
// point must never change what the parser sees. ASan/UBSan catch the rest.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "server/http/multipart_parser.hpp"

namespace {

using huepool::http::MultipartParser;

struct Recorder : huepool::http::MultipartHandler {
  std::vector<std::string> events;
  void on_part_begin(const huepool::http::PartHeaders& h) override {
    events.push_back("B" + h.field_name + "\x01" + (h.filename ? *h.filename : "\x02") + "\x01" + h.content_type);
  }
  void on_part_data(std::span<const std::uint8_t> b) override {
    if (b.empty()) std::abort();  // empty pieces are never handed out
    std::string s(reinterpret_cast<const char*>(b.data()), b.size());
    if (!events.empty() && events.back()[0] == 'D') events.back() += s;
    else events.push_back("D" + s);
  }
  void on_part_end() override { events.push_back("E"); }
};

MultipartParser::Status run(const std::uint8_t* data, std::size_t size, std::size_t piece, Recorder& r) {
  MultipartParser p("fuzzBoundary");
  MultipartParser::Status s = MultipartParser::Status::need_more;
  for (std::size_t at = 0; at < size; at += piece) {
    const std::size_t n = size - at < piece ? size - at : piece;
    s = p.feed({data + at, n}, r);
  }
  if (s == MultipartParser::Status::need_more) s = p.finish();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 23;
  ++data;
  --size;
  Recorder whole, pieces;
  const auto a = run(data, size, size == 0 ? 1 : size, whole);
  const auto b = run(data, size, piece, pieces);
  if (a != b || whole.events != pieces.events) std::abort();
  return 0;
}
