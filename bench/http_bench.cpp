// http_bench (issue #4): what the HTTP layer costs.
//  1. The corpus as ONE multipart map request to `huepool serve --workers N`
//     vs `huepool analyze --workers N` on the same files, interleaved in the
//     same run; prints medians and the throughput ratio (target >= 0.85).
//  2. Server RSS after 100 and after 10,000 requests (small raw PNGs and
//     multipart imap_unordered requests over keep-alive connections).
//  3. The round trip of a 1x1 PNG over HTTP (keep-alive), to set beside the
//     pool's own round trip (pool_bench roundtrip).
//  --small-png OUT writes the small PNG that bench/http_wrk.sh posts with wrk.
//  --bound: only this (issue 13): the corpus as ONE map upload against its
//     bound max(largest image alone, sum of single-image times / workers),
//     with largest-first dispatch on and off (two servers, same build, the
//     uploads alternated), each image's time measured in the same run as
//     that image posted alone to the first server. Also each upload against
//     the bound of its own per-image times (results' elapsed_ms, both
//     workers busy): apart from how fast the machine ran in parallel.
//
//   build/bench/http_bench [--bin build/server/huepool] [--corpus ../shared/corpus]
//                          [--workers 2] [--runs 7] [--requests 10000] [--bound]
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

std::string raw_request(const Bytes& image, const std::string& query, const std::string& type = "image/png") {
  return "POST /v1/analyze" + query + " HTTP/1.1\r\nHost: bench\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(image.size()) + "\r\n\r\n" + as_string(image);
}

// Seconds for one request on `c`; exits when it does not answer 200 with no
// failed image. `doc`, when given, receives the JSON answer.
double timed_exchange(Connection& c, const std::string& request, nlohmann::json* doc = nullptr) {
  const auto t0 = Clock::now();
  c.send(request);
  const Response resp = c.read_response();
  const double s = seconds_since(t0);
  if (resp.status != 200 || resp.json().value("failed", 0) != 0) {
    std::fprintf(stderr, "bad response %d: %s\n", resp.status, resp.body.c_str());
    std::exit(1);
  }
  if (doc) *doc = resp.json();
  return s;
}

// The bound from the upload's own per-image times (each result's elapsed_ms:
// dispatch to answer, with both workers busy), in seconds: what a perfect
// schedule of those same times would take. Wall time over it is what the
// schedule (and the images' arrival) cost, apart from how fast the machine ran.
double own_bound(const nlohmann::json& doc, unsigned workers) {
  double largest = 0, sum = 0;
  for (const auto& r : doc["results"]) {
    const double ms = r["elapsed_ms"].get<double>();
    largest = std::max(largest, ms);
    sum += ms;
  }
  return std::max(largest, sum / workers) / 1000.0;
}

// The corpus as one map upload against its bound, largest-first on and off.
int bound(const std::vector<std::string>& files, const std::string& upload, unsigned workers, int runs) {
  std::vector<std::string> singles;
  for (const auto& f : files)
    singles.push_back(raw_request(*read_file(f), "", f.ends_with(".jpg") ? "image/jpeg" : "image/png"));
  ServerProcess on({"--access-log=false"}, workers);
  ServerProcess off({"--access-log=false", "--largest-first=false"}, workers);
  Connection con(on.port()), coff(off.port());
  std::vector<double> largest, sum, bound_s, t_on, t_off, r_on, r_off, own_on, own_off;
  for (int r = 0; r < runs + 1; ++r) {  // round 0 warms caches and workers and is dropped
    double l = 0, total = 0;
    for (const auto& single : singles) {
      const double t = timed_exchange(con, single);
      l = std::max(l, t);
      total += t;
    }
    // Alternate which server goes first, so neither always meets the warmer cache.
    const bool on_first = r % 2 == 0;
    nlohmann::json doc_a, doc_b;
    const double a = timed_exchange(on_first ? con : coff, upload, &doc_a);
    const double b = timed_exchange(on_first ? coff : con, upload, &doc_b);
    if (r == 0) continue;
    const double bnd = std::max(l, total / workers);
    largest.push_back(l);
    sum.push_back(total);
    bound_s.push_back(bnd);
    t_on.push_back(on_first ? a : b);
    t_off.push_back(on_first ? b : a);
    r_on.push_back(t_on.back() / bnd);
    r_off.push_back(t_off.back() / bnd);
    own_on.push_back(t_on.back() / own_bound(on_first ? doc_a : doc_b, workers));
    own_off.push_back(t_off.back() / own_bound(on_first ? doc_b : doc_a, workers));
  }
  std::printf("bound: %zu files as one map upload, workers=%u, runs=%d (medians; singles posted alone, same run)\n",
              files.size(), workers, runs);
  std::printf("  largest image alone %.3f s, sum of singles %.3f s, bound max(largest, sum/%u) %.3f s\n",
              median(largest), median(sum), workers, median(bound_s));
  std::printf("  largest-first on : %.3f s   ratio to bound %.3f (target <= 1.15)   to its own images' bound %.3f\n",
              median(t_on), median(r_on), median(own_on));
  std::printf("  largest-first off: %.3f s   ratio to bound %.3f                  to its own images' bound %.3f\n",
              median(t_off), median(r_off), median(own_off));
  std::printf("  on/off: %.3f\n", median(t_on) / median(t_off));
  on.signal(SIGTERM);
  off.signal(SIGTERM);
  return on.wait_exit(std::chrono::milliseconds(30'000)) == 0 && off.wait_exit(std::chrono::milliseconds(30'000)) == 0
             ? 0
             : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin = env_or("HUEPOOL_BIN", HUEPOOL_BENCH_DEFAULT_BIN);
  std::string corpus = env_or("HUEPOOL_CORPUS_DIR", HUEPOOL_BENCH_DEFAULT_CORPUS);
  unsigned workers = 2;
  int runs = 7;
  int requests = 10'000;
  bool bound_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--bin") bin = next();
    else if (a == "--corpus") corpus = next();
    else if (a == "--workers") workers = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--runs") runs = std::stoi(next());
    else if (a == "--requests") requests = std::stoi(next());
    else if (a == "--bound") bound_only = true;
    else if (a == "--small-png") {
      const Bytes png = small_png();
      std::ofstream(next(), std::ios::binary).write(reinterpret_cast<const char*>(png.data()),
                                                    static_cast<std::streamsize>(png.size()));
      return 0;
    } else {
      std::fprintf(stderr, "usage: http_bench [--bin B] [--corpus D] [--workers N] [--runs R] [--requests Q] "
                           "[--bound] | --small-png OUT\n");
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
  if (bound_only) return bound(files, request, workers, runs);
  ServerProcess server({"--access-log=false"}, workers);
  std::vector<std::string> cli = {bin, "analyze", "--workers", std::to_string(workers)};
  cli.insert(cli.end(), files.begin(), files.end());
  std::vector<double> http_s, cli_s;
  {
    Connection c(server.port());
    for (int r = 0; r < runs + 1; ++r) {  // the first round warms caches and is dropped
      const double h = timed_exchange(c, request);
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
