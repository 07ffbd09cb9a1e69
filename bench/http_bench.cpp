// http_bench (issue #4): what the HTTP layer costs.
//  1. The corpus as ONE multipart map request to `huepool serve --workers N`
//     vs `huepool analyze --workers N` on the same files, interleaved in the
//     same run; prints medians and the throughput ratio (target >= 0.85).
//  2. Server RSS after 100 and after 10,000 requests (small raw PNGs and
//     multipart imap_unordered requests over keep-alive connections).
//  3. The round trip of a 1x1 PNG over HTTP (keep-alive), to set beside the
//     pool's own round trip (pool_bench roundtrip).
//  --small-png OUT writes the small PNG that bench/http_wrk.sh posts with wrk.
//
//   build/bench/http_bench [--bin build/server/huepool] [--corpus ../shared/corpus]
//                          [--workers 2] [--runs 7] [--requests 10000]
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "tests/e2e/e2e_support.hpp"

extern char** environ;

using namespace huepool::e2e;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Runs argv with stdout to /dev/null; returns wall seconds, or -1 on failure.
double run_timed(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  const auto t0 = Clock::now();
  pid_t pid;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  const double s = seconds_since(t0);
  posix_spawn_file_actions_destroy(&fa);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? s : -1;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// A 160x120 photo-like PNG (gradients plus noise: thousands of distinct colors).
Bytes small_png() { return photo_png(160, 120, 7); }

std::string raw_request(const Bytes& png, const std::string& query) {
  return "POST /v1/analyze" + query + " HTTP/1.1\r\nHost: bench\r\nContent-Type: image/png\r\nContent-Length: " +
         std::to_string(png.size()) + "\r\n\r\n" + as_string(png);
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin = env_or("HUEPOOL_BIN", HUEPOOL_BENCH_DEFAULT_BIN);
  std::string corpus = env_or("HUEPOOL_CORPUS_DIR", HUEPOOL_BENCH_DEFAULT_CORPUS);
  unsigned workers = 2;
  int runs = 7;
  int requests = 10'000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--bin") bin = next();
    else if (a == "--corpus") corpus = next();
    else if (a == "--workers") workers = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--runs") runs = std::stoi(next());
    else if (a == "--requests") requests = std::stoi(next());
    else if (a == "--small-png") {
      const Bytes png = small_png();
      std::ofstream(next(), std::ios::binary).write(reinterpret_cast<const char*>(png.data()),
                                                    static_cast<std::streamsize>(png.size()));
      return 0;
    } else {
      std::fprintf(stderr, "usage: http_bench [--bin B] [--corpus D] [--workers N] [--runs R] [--requests Q] "
                           "| --small-png OUT\n");
      return 2;
    }
  }
  ::setenv("HUEPOOL_BIN", bin.c_str(), 1);

  // ---- 1. corpus: one multipart map request vs huepool analyze --------------
  std::vector<std::string> files;
  {
    auto ref = read_file(corpus + "/reference.json");
    if (!ref) {
      std::fprintf(stderr, "no %s/reference.json\n", corpus.c_str());
      return 1;
    }
    const nlohmann::json reference = nlohmann::json::parse(as_string(*ref));
    for (const auto& img : reference["images"])
      files.push_back(corpus + "/" + img["file"].get<std::string>());
  }
  Multipart m;
  std::size_t bytes = 0;
  for (const auto& f : files) {
    const auto b = read_file(f);
    bytes += b->size();
    m.file("image", f.substr(f.rfind('/') + 1), *b);
  }
  const std::string body = m.body();
  const std::string request = "POST /v1/analyze HTTP/1.1\r\nHost: bench\r\nContent-Type: " + m.content_type() +
                              "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  ServerProcess server({"--access-log=false"}, workers);
  std::vector<std::string> cli = {bin, "analyze", "--workers", std::to_string(workers)};
  cli.insert(cli.end(), files.begin(), files.end());
  std::vector<double> http_s, cli_s;
  {
    Connection c(server.port());
    for (int r = 0; r < runs + 1; ++r) {  // the first round warms caches and is dropped
      const auto t0 = Clock::now();
      c.send(request);
      const Response resp = c.read_response();
      const double h = seconds_since(t0);
      if (resp.status != 200 || resp.json()["failed"] != 0) {
        std::fprintf(stderr, "bad response %d: %s\n", resp.status, resp.body.c_str());
        return 1;
      }
      const double a = run_timed(cli);
      if (a < 0) {
        std::fprintf(stderr, "huepool analyze failed\n");
        return 1;
      }
      if (r > 0) {
        http_s.push_back(h);
        cli_s.push_back(a);
      }
    }
  }
  const double mh = median(http_s), ma = median(cli_s);
  std::printf("corpus: %zu files, %.1f MB, workers=%u, runs=%d (medians)\n", files.size(), bytes / 1e6, workers, runs);
  std::printf("  huepool analyze --workers %u : %.3f s\n", workers, ma);
  std::printf("  HTTP multipart map request   : %.3f s\n", mh);
  std::printf("  throughput ratio HTTP/CLI    : %.3f   (target >= 0.85)\n", ma / mh);

  // ---- 2. RSS after 100 vs after N requests --------------------------------
  const Bytes png = small_png();
  const std::string small_raw = raw_request(png, "?name=s.png");
  Multipart three;
  for (int i = 0; i < 3; ++i) three.file("image", "s" + std::to_string(i) + ".png", png, "image/png");
  const std::string three_body = three.body();
  const std::string small_multi = "POST /v1/analyze?mode=imap_unordered HTTP/1.1\r\nHost: bench\r\nContent-Type: " +
                                  three.content_type() + "\r\nContent-Length: " + std::to_string(three_body.size()) +
                                  "\r\n\r\n" + three_body;
  long rss_100 = 0;
  const auto t0 = Clock::now();
  {
    Connection c(server.port());
    for (int i = 1; i <= requests; ++i) {
      c.send(i % 10 == 0 ? small_multi : small_raw);
      if (c.read_response().status != 200) {
        std::fprintf(stderr, "request %d failed\n", i);
        return 1;
      }
      if (i == 100) rss_100 = rss_kib(server.pid());
    }
  }
  const double secs = seconds_since(t0);
  const long rss_n = rss_kib(server.pid());
  std::printf("server RSS: after 100 requests %ld KiB, after %d requests %ld KiB (%+.1f%%); %.0f req/s sequential\n",
              rss_100, requests, rss_n, 100.0 * (rss_n - rss_100) / rss_100, requests / secs);
  // ---- 3. HTTP round trip of a 1x1 PNG (compare: pool_bench roundtrip) -----
  {
    const Bytes tiny = photo_png(1, 1, 3);
    const std::string tiny_raw = raw_request(tiny, "");
    std::vector<double> us;
    Connection c(server.port());
    for (int i = 0; i < 1000 + requests; ++i) {
      const auto t = Clock::now();
      c.send(tiny_raw);
      if (c.read_response().status != 200) return 1;
      if (i >= 1000) us.push_back(seconds_since(t) * 1e6);
    }
    std::sort(us.begin(), us.end());
    std::printf("1x1 PNG over HTTP, one keep-alive connection, %d requests after 1000 warm-up:\n"
                "  median %.1f us   p90 %.1f us   p99 %.1f us\n",
                requests, us[us.size() / 2], us[us.size() * 9 / 10], us[us.size() * 99 / 100]);
  }
  server.signal(SIGTERM);
  return server.wait_exit(std::chrono::milliseconds(30'000)) == 0 ? 0 : 1;
}
