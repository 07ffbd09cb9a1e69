#include "bench/bench_support.hpp"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/analyzer.hpp"

namespace huepool::bench {

std::vector<CorpusImage> load_corpus(const std::string& dir) {
  std::vector<CorpusImage> images;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto format = sniff_format(bytes);
    if (!format) continue;
    images.push_back(CorpusImage{entry.path().filename().string(), *format, std::move(bytes), 0});
  }
  std::sort(images.begin(), images.end(), [](const CorpusImage& a, const CorpusImage& b) { return a.name < b.name; });
  return images;
}

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace huepool::bench
