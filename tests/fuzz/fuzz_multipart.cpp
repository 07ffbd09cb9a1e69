// libFuzzer target for the streaming multipart parser (issues #4, 14). The
// input is a multipart body for a fixed boundary, after a header that gives
// the split points, as a socket's reads would: byte 0's low 4 bits are a count
// k of piece-size bytes that follow (each 1 + its value, used in turn); with
// k = 0 every piece is 1 + (byte 0 >> 4) bytes. The body is parsed whole and
// again in those pieces, and the two runs must agree on the outcome and on
// every event (data compared as merged bytes): a split point must never change
// what the parser sees. ASan/UBSan catch the rest.
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

// `pieces` are the piece sizes, used in turn (each at least 1).
MultipartParser::Status run(const std::uint8_t* data, std::size_t size, const std::vector<std::size_t>& pieces,
                            Recorder& r) {
  MultipartParser p("fuzzBoundary");
  MultipartParser::Status s = MultipartParser::Status::need_more;
  std::size_t next = 0;
  for (std::size_t at = 0; at < size;) {
    const std::size_t piece = pieces[next++ % pieces.size()];
    const std::size_t n = size - at < piece ? size - at : piece;
    s = p.feed({data + at, n}, r);
    at += n;
  }
  if (s == MultipartParser::Status::need_more) s = p.finish();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t k = data[0] & 15;
  if (size < 1 + k) return 0;
  std::vector<std::size_t> sizes;
  for (std::size_t i = 0; i < k; ++i) sizes.push_back(1 + std::size_t{data[1 + i]});
  if (k == 0) sizes.push_back(1 + (data[0] >> 4));
  data += 1 + k;
  size -= 1 + k;
  Recorder whole, pieces;
  const auto a = run(data, size, {size == 0 ? 1 : size}, whole);
  const auto b = run(data, size, sizes, pieces);
  if (a != b || whole.events != pieces.events) std::abort();
  return 0;
}
