#include "tests/server/pool/pool_test_support.hpp"

#include <dirent.h>
#include <png.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace huepool::pooltest {

namespace {
void append_bytes(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
void no_flush(png_structp) {}
}  // namespace

Bytes make_png(std::uint32_t width, std::uint32_t height,
               const std::function<Rgb(std::uint32_t, std::uint32_t)>& pixel) {
  return make_png_rows(width, height, [&](std::uint32_t y, std::uint8_t* rgb) {
    for (std::uint32_t x = 0; x < width; ++x) {
      const Rgb c = pixel(x, y);
      rgb[3 * x] = c.r;
      rgb[3 * x + 1] = c.g;
      rgb[3 * x + 2] = c.b;
    }
  });
}

Bytes make_png_rows(std::uint32_t width, std::uint32_t height,
                    const std::function<void(std::uint32_t, std::uint8_t*)>& fill_row) {
  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  std::vector<png_byte> row(std::size_t{width} * 3);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("libpng write failed");
  }
  png_set_write_fn(png, &out, append_bytes, no_flush);
  png_set_compression_level(png, 1);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (std::uint32_t y = 0; y < height; ++y) {
    fill_row(y, row.data());
    png_write_row(png, row.data());
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

Bytes solid_png(std::uint32_t width, std::uint32_t height, Rgb color) {
  return make_png(width, height, [color](std::uint32_t, std::uint32_t) { return color; });
}

const Bytes& big_png() {
  constexpr std::uint32_t kWidth = 10000;  // a row (30000 bytes) fits deflate's 32 KiB window
  static const Bytes bytes = [] {
    std::vector<std::uint8_t> first(kWidth * 3);
    const std::uint32_t base = (std::uint32_t{kBigColor.r} << 16) | (kBigColor.g << 8) | kBigColor.b;
    for (std::uint32_t x = 0; x < kWidth; ++x) {
      // An odd multiplier is a bijection mod 2^24: every pixel of a row differs.
      const std::uint32_t v = (x * 2654435761u + base) & 0xFFFFFF;
      first[3 * x] = static_cast<std::uint8_t>(v >> 16);
      first[3 * x + 1] = static_cast<std::uint8_t>(v >> 8);
      first[3 * x + 2] = static_cast<std::uint8_t>(v);
    }
    return make_png_rows(kWidth, 9000, [&](std::uint32_t, std::uint8_t* rgb) {
      std::copy(first.begin(), first.end(), rgb);
    });
  }();
  return bytes;
}

std::string huepool_bin() {
  const char* bin = std::getenv("HUEPOOL_BIN");
  if (bin == nullptr || *bin == '\0') throw std::runtime_error("HUEPOOL_BIN is not set");
  return bin;
}

pool::PoolConfig test_config(unsigned workers) {
  pool::PoolConfig c;
  c.workers = workers;
  c.worker_executable = huepool_bin();
  // The big image must finish even in a sanitizer build on a busy machine;
  // the deadline test sets its own.
  c.job_timeout = std::chrono::seconds(120);
  return c;
}

int open_fd_count() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1;  // the directory's own fd
}

Children children() {
  Children c;
  const pid_t self = ::getpid();
  DIR* d = ::opendir("/proc");
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // pid (comm) state ppid ...: comm may hold spaces, so parse after the last ')'.
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 1));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid != self) continue;
    ++c.total;
    if (state == 'Z') ++c.zombies;
    else c.live.push_back(std::atoi(e->d_name));
  }
  ::closedir(d);
  return c;
}

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    io.restart();
    io.run_one_for(std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace huepool::pooltest
