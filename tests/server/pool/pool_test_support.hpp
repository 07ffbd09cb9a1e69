#pragma once
// Helpers for the pool and batch tests: PNGs streamed row by row through
// libpng (so a 60-megapixel image needs no 180 MB sample array), process and
// fd accounting from /proc, and an event loop runner that waits for a
// condition (never a sleep) with a generous upper bound.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/analysis.hpp"
#include "server/pool/worker_pool.hpp"

namespace huepool::pooltest {

using Bytes = std::vector<std::uint8_t>;

// An RGB PNG whose pixel (x, y) is pixel(x, y); zlib level 1.
Bytes make_png(std::uint32_t width, std::uint32_t height, const std::function<Rgb(std::uint32_t, std::uint32_t)>& pixel);
// The same, a row at a time: row(y, rgb) fills width*3 bytes.
Bytes make_png_rows(std::uint32_t width, std::uint32_t height,
                    const std::function<void(std::uint32_t, std::uint8_t*)>& row);
// width x height of one color.
Bytes solid_png(std::uint32_t width, std::uint32_t height, Rgb color);
// A big image that takes a worker about a second on this machine (10000 x 9000,
// 90 MP, 10000 distinct colors that are each other's neighbours in no cache
// line), yet compresses to ~3 MB because every row is the same. Every color
// has the same count, so the tie goes to the first pixel: kBigColor.
const Bytes& big_png();
inline constexpr Rgb kBigColor{10, 20, 30};

// The worker executable under test (env HUEPOOL_BIN).
std::string huepool_bin();
// A PoolConfig running HUEPOOL_BIN with `workers` workers and a 120 s deadline.
pool::PoolConfig test_config(unsigned workers);

int open_fd_count();
// Our child processes from /proc: all of them, and those that are zombies.
struct Children {
  int total = 0;
  int zombies = 0;
  std::vector<int> live;  // pids of the children that are not zombies
};
Children children();

// Runs `io` until `done()` holds; false if `limit` passes first (a hang, not a timing check).
bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
               std::chrono::seconds limit = std::chrono::seconds(120));

}  // namespace huepool::pooltest
