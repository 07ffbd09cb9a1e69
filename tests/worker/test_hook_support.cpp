#include "tests/worker/test_hook_support.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace huepool::hooktest {

namespace {

void put_u32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

std::string marker(std::string_view action) {
  return std::string(worker::test_hooks::kMarker) + std::string(action);
}

}  // namespace

std::string hooks_bin() {
  const char* bin = std::getenv("HUEPOOL_TEST_HOOKS_BIN");
  if (bin == nullptr) throw std::runtime_error("HUEPOOL_TEST_HOOKS_BIN is not set (run through ctest)");
  return bin;
}

Bytes png_with_hook(const Bytes& png, std::string_view action) {
  constexpr std::size_t kAfterIhdr = 8 + 4 + 4 + 13 + 4;  // signature, then IHDR's length, type, data, CRC
  if (png.size() < kAfterIhdr) throw std::invalid_argument("not a PNG");
  const std::string text = marker(action);
  Bytes chunk;
  put_u32(chunk, static_cast<std::uint32_t>(text.size()));
  chunk.insert(chunk.end(), {'h', 'u', 'E', 'k'});
  chunk.insert(chunk.end(), text.begin(), text.end());
  const uLong crc = ::crc32(0, chunk.data() + 4, static_cast<uInt>(chunk.size() - 4));
  put_u32(chunk, static_cast<std::uint32_t>(crc));
  // Sized once and copied into (GCC 12 misreads vector::insert here: -Warray-bounds).
  Bytes out(png.size() + chunk.size());
  auto at = std::copy(png.begin(), png.begin() + kAfterIhdr, out.begin());
  at = std::copy(chunk.begin(), chunk.end(), at);
  std::copy(png.begin() + kAfterIhdr, png.end(), at);
  return out;
}

Bytes hook_only(std::string_view action) {
  const std::string text = marker(action);
  return Bytes(text.begin(), text.end());
}

HookPage::HookPage() {
  char name[] = "/tmp/huepool-test-hook-XXXXXX";
  const int fd = ::mkstemp(name);
  if (fd < 0) throw std::runtime_error("mkstemp");
  path_ = name;
  void* p = MAP_FAILED;
  if (::ftruncate(fd, 4096) == 0) p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) throw std::runtime_error("map the hook page");
  page_ = static_cast<worker::test_hooks::TestHookPage*>(p);
  ::setenv(worker::test_hooks::kPageEnv, path_.c_str(), 1);
}

HookPage::~HookPage() {
  ::unsetenv(worker::test_hooks::kPageEnv);
  ::munmap(page_, 4096);
  ::unlink(path_.c_str());
}

ScopedEnv::ScopedEnv(const char* name, const std::string& value) : name_(name) {
  if (const char* old = std::getenv(name)) {
    old_ = old;
    had_old_ = true;
  }
  ::setenv(name, value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() {
  if (had_old_)
    ::setenv(name_.c_str(), old_.c_str(), 1);
  else
    ::unsetenv(name_.c_str());
}

}  // namespace huepool::hooktest
