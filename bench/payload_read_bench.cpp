// payload_read_bench: what it costs a worker to get at a job's image bytes in
// a memfd another process filled, three ways, alternating in one run:
//   map     mmap(MAP_POPULATE), read once, munmap: what the worker did until
//           2026-12-01 (and still does past 4 MiB);
//   pread   pread into a buffer of ordinary pages kept between jobs (tried
//           2026-11-30, not kept: a fresh worker's first image got slower);
//   reader  worker::PayloadReader, what the worker does: pread into a buffer
//           of transparent huge pages committed before the first job.
// docs/BENCHMARKS.md "Reading the payload".
// "Read once" is zlib's crc32 over every byte, standing in for the decoder's
// first pass (the PNG chunk CRCs). With --idle MS each timed read follows MS
// milliseconds of sleep and a 64 MiB walk that evicts the caches, as a worker
// that waited for its next job would see it; without, jobs come back to back.
//
//   payload_read_bench [--runs N] [--idle MS] [FILE...]   (default: skimage-coffee.png)
//
// Prints per file the median wall time of each way and their ratio.
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "bench/bench_support.hpp"
#include "worker/payload_reader.hpp"

namespace {

constexpr std::size_t kEvictBytes = std::size_t{64} << 20;  // > the last-level cache of the dev box

template <typename F>
double micros(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}

bool pread_all(int fd, unsigned char* out, std::size_t n) {
  for (std::size_t done = 0; done < n;) {
    const ssize_t got = ::pread(fd, out + done, n - done, static_cast<off_t>(done));
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 301;
  int idle_ms = -1;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--idle") == 0 && i + 1 < argc) idle_ms = std::atoi(argv[++i]);
    else files.push_back(argv[i]);
  }
  if (files.empty()) files.push_back("../shared/corpus/seed12/skimage-coffee.png");
  std::vector<unsigned char> evict(idle_ms >= 0 ? kEvictBytes : 0);
  const auto wait_for_job = [&] {
    if (idle_ms < 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(idle_ms));
    for (std::size_t i = 0; i < evict.size(); i += 64) evict[i] = static_cast<unsigned char>(evict[i] + 1);
  };
  std::printf("%-34s %9s %9s %9s %9s %11s   (%s)\n", "file", "bytes", "map us", "pread us", "reader us", "map/reader",
              idle_ms < 0 ? "back to back" : ("after " + std::to_string(idle_ms) + " ms idle and a cache flush").c_str());
  for (const auto& name : files) {
    std::ifstream in(name, std::ios::binary);
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), {});
    if (bytes.empty()) {
      std::fprintf(stderr, "%s: empty or unreadable\n", name.c_str());
      return 1;
    }
    const int fd = ::memfd_create("payload_read_bench", 0);
    if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) return 1;
    std::unique_ptr<unsigned char[]> kept(new unsigned char[bytes.size()]);
    huepool::worker::PayloadReader reader;
    reader.reserve();
    std::vector<double> mapped, read, product;
    unsigned long sink = 0;
    for (int r = 0; r < runs; ++r) {
      wait_for_job();
      mapped.push_back(micros([&] {
        void* p = ::mmap(nullptr, bytes.size(), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        sink += crc32(0, static_cast<const unsigned char*>(p), static_cast<unsigned>(bytes.size()));
        ::munmap(p, bytes.size());
      }));
      wait_for_job();
      read.push_back(micros([&] {
        if (!pread_all(fd, kept.get(), bytes.size())) std::abort();
        sink += crc32(0, kept.get(), static_cast<unsigned>(bytes.size()));
      }));
      wait_for_job();
      product.push_back(micros([&] {
        auto got = reader.read(fd, bytes.size());
        const auto* payload = std::get_if<huepool::worker::Payload>(&got);
        if (payload == nullptr) std::abort();
        sink += crc32(0, payload->bytes().data(), static_cast<unsigned>(bytes.size()));
      }));
    }
    ::close(fd);
    const double m = huepool::bench::median(mapped), p = huepool::bench::median(read),
                 k = huepool::bench::median(product);
    std::printf("%-34s %9zu %9.1f %9.1f %9.1f %10.2fx\n", name.substr(name.rfind('/') + 1).c_str(), bytes.size(),
                m, p, k, m / k);
    if (sink == 42) std::puts("");  // keeps the checksums alive
  }
}
