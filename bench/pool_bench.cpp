// pool_bench: what the worker pool costs and gains (issue #3). Run by hand;
// figures go to docs/BENCHMARKS.md "## Pool". Every ratio is measured in one run.
//
//   pool_bench scaling  [--workers N] [--repeat R] [--runs K] [DIR]
//       DIR's images repeated R times (default: the corpus x5 = 60 images, none
//       dominates), through a pool of 1 worker and of N (default 2), and, as the
//       machine's own ceiling, N separate `huepool analyze` processes on 1/N of
//       the files each; the three interleaved, median wall time of K runs each.
//   pool_bench seed12   [--workers N] [--runs K] [DIR]
//       the 12 corpus images once, 1 vs N workers, next to the bound set by the
//       largest image's own time (no schedule can finish before it does).
//   pool_bench roundtrip [--count C]
//       one 1x1 PNG at a time through a 1-worker pool: submit to completion, us.
//   pool_bench transfer [--mb M] [--runs K]
//       M MB (default 50) from one thread to another over a Unix socket: copied
//       through the socket vs passed as a sealed memfd (SCM_RIGHTS) and mapped;
//       the receiver reads every byte either way.
// The worker binary: env HUEPOOL_BIN, else the one built beside this program.
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "proto/frame_socket.hpp"
#include "proto/image_payload.hpp"
#include "proto/wire_format.hpp"
#include "server/pool/worker_pool.hpp"
#include "tests/server/pool/pool_test_support.hpp"

extern char** environ;

using namespace huepool;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;

namespace {

struct Args {
  std::string command;
  unsigned workers = 2;
  unsigned repeat = 5;
  unsigned runs = 5;
  unsigned count = 20000;
  unsigned mb = 50;
  std::string dir;
};

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

std::string worker_bin() {
  if (const char* b = std::getenv("HUEPOOL_BIN"); b && *b) return b;
  return HUEPOOL_BENCH_DEFAULT_BIN;
}

std::vector<std::pair<std::string, Bytes>> load_dir(const std::string& dir) {
  std::vector<std::pair<std::string, Bytes>> files;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    std::fprintf(stderr, "pool_bench: cannot open %s\n", dir.c_str());
    std::exit(2);
  }
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.ends_with(".png") || name.ends_with(".jpg")) {
      std::ifstream in(dir + "/" + name, std::ios::binary);
      files.emplace_back(name, Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
    }
  }
  ::closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

// utime + stime of these processes, from /proc/<pid>/stat.
double cpu_ms(const std::vector<int>& pids) {
  double ticks = 0;
  for (int pid : pids) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 15 && rest >> field; ++i)
      if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

pool::PoolConfig config_for(unsigned workers) {
  pool::PoolConfig c;
  c.workers = workers;
  c.worker_executable = worker_bin();
  c.job_timeout = std::chrono::milliseconds(60'000);
  return c;
}

// A pool, started and warmed up (every worker has run every image once, so
// page cache and the workers' counter memory are hot).
struct Running {
  boost::asio::io_context io;
  std::unique_ptr<pool::WorkerPool> pool;
  Running(unsigned workers, const std::vector<const Bytes*>& warm) {
    pool = std::make_unique<pool::WorkerPool>(io, config_for(workers));
    if (!pooltest::run_until(io, [&] { return pool->ready(); })) {
      std::fprintf(stderr, "pool_bench: workers did not start\n");
      std::exit(1);
    }
    for (unsigned i = 0; i < workers; ++i) run(warm);
  }
  double last_cpu_ms = 0;  // CPU time the workers used in the last run
  // Wall time of the whole set through the pool; payloads are made beforehand.
  double run(const std::vector<const Bytes*>& images) {
    const auto pids = pool->worker_pids();
    const double cpu_before = cpu_ms(pids);
    std::vector<proto::ImagePayload> payloads;
    for (const Bytes* b : images) payloads.push_back(proto::ImagePayload::from_span(*b, proto::kInlinePayloadMax));
    std::size_t done = 0;
    bool failed = false;
    const auto start = Clock::now();
    for (auto& p : payloads)
      pool->submit(std::move(p), {}, [&](pool::JobResult r) {
        ++done;
        failed = failed || std::holds_alternative<ImageError>(r.outcome);
      });
    pooltest::run_until(io, [&] { return done == images.size(); }, std::chrono::seconds(600));
    const double ms = ms_since(start);
    last_cpu_ms = cpu_ms(pids) - cpu_before;
    if (failed) std::fprintf(stderr, "pool_bench: an image failed\n");
    return ms;
  }
};


// The machine's own parallel capacity, no pool involved: N `huepool analyze`
// processes, each on its share of the images, started together.
double independent_processes(const std::vector<std::string>& paths, unsigned n) {
  const auto start = Clock::now();
  std::vector<pid_t> pids;
  for (unsigned k = 0; k < n; ++k) {
    std::vector<std::string> args{worker_bin(), "analyze"};
    for (std::size_t i = k; i < paths.size(); i += n) args.push_back(paths[i]);
    std::vector<char*> argv;
    for (auto& x : args) argv.push_back(x.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) == 0) pids.push_back(pid);
    posix_spawn_file_actions_destroy(&fa);
  }
  for (pid_t pid : pids) ::waitpid(pid, nullptr, 0);
  return ms_since(start);
}

int scaling(const Args& a) {
  const auto files = load_dir(a.dir);
  std::vector<const Bytes*> images;
  std::vector<std::string> paths;
  std::size_t bytes = 0;
  for (unsigned r = 0; r < a.repeat; ++r)
    for (const auto& f : files) {
      images.push_back(&f.second);
      paths.push_back(a.dir + "/" + f.first);
      bytes += f.second.size();
    }
  std::printf("scaling: %zu images (%zu files x %u), %.1f MB, median of %u runs (the three kinds interleaved)\n",
              images.size(), files.size(), a.repeat, static_cast<double>(bytes) / 1e6, a.runs);
  Running one(1, images);
  Running many(a.workers, images);
  std::vector<double> t1, tn, ti, busy;
  for (unsigned r = 0; r < a.runs; ++r) {
    t1.push_back(one.run(images));
    tn.push_back(many.run(images));
    // How much of the wall time the N workers were on a CPU (N x 100% = no waiting).
    busy.push_back(100.0 * many.last_cpu_ms / tn.back());
    ti.push_back(independent_processes(paths, a.workers));
  }
  const double m1 = median(t1), mn = median(tn), mi = median(ti);
  const double count = static_cast<double>(images.size());
  std::printf("  pool, 1 worker        : %8.1f ms  %6.1f images/s\n", m1, 1000.0 * count / m1);
  std::printf("  pool, %u workers       : %8.1f ms  %6.1f images/s\n", a.workers, mn, 1000.0 * count / mn);
  std::printf("  %u separate processes  : %8.1f ms  (no pool: `huepool analyze` on 1/%u of the files each)\n",
              a.workers, mi, a.workers);
  std::printf("  speed-up %u vs 1 workers: %.2fx   (separate processes vs pool of 1: %.2fx; pool reaches %.0f%% of it)\n",
              a.workers, m1 / mn, m1 / mi, 100.0 * mi / mn);
  std::printf("  the %u workers were on a CPU %.0f%% of the wall time (%u00%% = never waiting for one)\n", a.workers,
              median(busy), a.workers);
  return 0;
}

int seed12(const Args& a) {
  const auto files = load_dir(a.dir);
  std::vector<const Bytes*> images;
  for (const auto& f : files) images.push_back(&f.second);
  Running one(1, images);
  Running many(a.workers, images);
  // Interleaved per run: each image alone (its own time, for the bound), the
  // set on 1 worker, the set on N workers.
  std::vector<double> largest, sum, t1, tn;
  std::vector<std::size_t> largest_at;
  for (unsigned r = 0; r < a.runs; ++r) {
    double l = 0, s = 0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
      const double t = one.run({&files[i].second});
      s += t;
      if (t > l) {
        l = t;
        at = i;
      }
    }
    largest.push_back(l);
    largest_at.push_back(at);
    sum.push_back(s);
    t1.push_back(one.run(images));
    tn.push_back(many.run(images));
  }
  const double ml = median(largest), ms = median(sum), m1 = median(t1), mn = median(tn);
  const double bound_ms = std::max(ml, ms / a.workers);
  std::printf("seed12: %zu images, median of %u interleaved runs\n", files.size(), a.runs);
  std::printf("  largest image alone: %s %.1f ms (%.0f%% of the sum of single times, %.1f ms)\n",
              files[largest_at[a.runs / 2]].first.c_str(), ml, 100.0 * ml / ms, ms);
  std::printf("  1 worker : %8.1f ms\n", m1);
  std::printf("  %u workers: %8.1f ms   bound max(largest, sum/%u) = %.1f ms\n", a.workers, mn, a.workers,
              bound_ms);
  std::printf("  speed-up %.2fx   best possible %.2fx   (the pool's time is %.0f%% of the bound's)\n", m1 / mn,
              m1 / bound_ms, 100.0 * bound_ms / mn);
  return 0;
}

int roundtrip(const Args& a) {
  const Bytes tiny = pooltest::solid_png(1, 1, {1, 2, 3});
  Running r(1, {&tiny});
  std::vector<double> us;
  us.reserve(a.count);
  for (unsigned i = 0; i < a.count + 1000; ++i) {
    bool done = false;
    const auto start = Clock::now();
    r.pool->submit(proto::ImagePayload::from_bytes(tiny), {}, [&](pool::JobResult) { done = true; });
    while (!done) r.io.run_one();
    if (i >= 1000) us.push_back(ms_since(start) * 1000.0);  // the first 1000 warm up
  }
  std::printf("roundtrip: 1x1 PNG through a 1-worker pool, %u round trips after 1000 warm-up\n", a.count);
  std::printf("  median %.1f us   p90 %.1f us   p99 %.1f us   max %.1f us\n", median(us), percentile(us, 0.90),
              percentile(us, 0.99), percentile(us, 1.0));
  return 0;
}

// Touches every byte at memory speed (8 at a time), so the read itself is cheap next to transport.
std::uint64_t sum_bytes(const std::uint8_t* p, std::size_t n) {
  std::uint64_t s = 0;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    s ^= w;
  }
  for (; i < n; ++i) s ^= p[i];
  return s;
}

int transfer(const Args& a) {
  const std::size_t n = std::size_t{a.mb} << 20;
  const Bytes data = [&] {
    Bytes d(n);
    std::uint32_t x = 1;
    for (auto& b : d) {
      x = x * 1664525u + 1013904223u;
      b = static_cast<std::uint8_t>(x >> 24);
    }
    return d;
  }();
  const std::uint64_t expect = sum_bytes(data.data(), n);
  std::vector<double> copy_ms, fd_ms, fill_ms, read_ms;
  for (unsigned run = 0; run < a.runs; ++run) {
    {  // the floor: reading bytes that are already in this process's memory
      const auto start = Clock::now();
      if (sum_bytes(data.data(), n) != expect) std::fprintf(stderr, "pool_bench: sum mismatch\n");
      read_ms.push_back(ms_since(start));
    }
    {  // bytes through the socket: two copies and a context switch per socket buffer
      int sv[2];
      ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
      std::uint64_t got = 0;
      const auto start = Clock::now();
      std::thread reader([&] {
        Bytes in(n);
        std::size_t have = 0;
        while (have < n) {
          const ssize_t k = ::read(sv[1], in.data() + have, n - have);
          if (k <= 0) break;
          have += static_cast<std::size_t>(k);
        }
        got = sum_bytes(in.data(), have);
      });
      proto::send_all(sv[0], data, -1);
      reader.join();
      copy_ms.push_back(ms_since(start));
      if (got != expect) std::fprintf(stderr, "pool_bench: copy mismatch\n");
      ::close(sv[0]);
      ::close(sv[1]);
    }
    {  // the upload's one copy into a sealed memfd (the HTTP intake does this while receiving)
      const auto start = Clock::now();
      proto::MemfdWriter w;
      w.append(data);
      proto::ImagePayload p = std::move(w).finish();
      fill_ms.push_back(ms_since(start));
      // the fd through the socket, mapped by the receiver
      int sv[2];
      ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
      std::uint64_t got = 0;
      const auto start2 = Clock::now();
      std::thread reader([&] {
        proto::FrameReceiver rx;
        while (rx.queued_fds() == 0)
          if (rx.read_some(sv[1]) != proto::FrameReceiver::ReadStatus::data) break;
        proto::UniqueFd fd = rx.take_fd();
        void* m = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
        got = sum_bytes(static_cast<const std::uint8_t*>(m), n);
        ::munmap(m, n);
      });
      const std::uint8_t one = 0;
      proto::send_all(sv[0], {&one, 1}, p.fd());
      reader.join();
      fd_ms.push_back(ms_since(start2));
      if (got != expect) std::fprintf(stderr, "pool_bench: fd mismatch\n");
      ::close(sv[0]);
      ::close(sv[1]);
    }
  }
  std::printf("transfer: %u MB to another thread over a Unix socket, receiver reads every byte, median of %u\n",
              a.mb, a.runs);
  const double floor = median(read_ms);
  std::printf("  copied through the socket : %7.2f ms   transport %.2f ms over the %.2f ms read floor\n",
              median(copy_ms), median(copy_ms) - floor, floor);
  std::printf("  memfd passed and mapped   : %7.2f ms   transport %.2f ms   (%.1fx faster end to end)\n",
              median(fd_ms), median(fd_ms) - floor, median(copy_ms) / median(fd_ms));
  std::printf("  (filling the memfd once, as the upload arrives: %.2f ms)\n", median(fill_ms));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (const char* c = std::getenv("HUEPOOL_CORPUS_DIR")) a.dir = std::string(c) + "/seed12";
  else a.dir = HUEPOOL_BENCH_DEFAULT_CORPUS "/seed12";
  if (argc < 2) {
    std::fprintf(stderr, "usage: pool_bench scaling|seed12|roundtrip|transfer [--workers N] [--repeat R] "
                         "[--runs K] [--count C] [--mb M] [DIR]\n");
    return 2;
  }
  a.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto num = [&] { return static_cast<unsigned>(std::strtoul(i + 1 < argc ? argv[++i] : "0", nullptr, 10)); };
    if (arg == "--workers") a.workers = std::max(1u, num());
    else if (arg == "--repeat") a.repeat = std::max(1u, num());
    else if (arg == "--runs") a.runs = std::max(1u, num());
    else if (arg == "--count") a.count = std::max(1u, num());
    else if (arg == "--mb") a.mb = std::max(1u, num());
    else a.dir = arg;
  }
  if (a.command == "scaling") return scaling(a);
  if (a.command == "seed12") return seed12(a);
  if (a.command == "roundtrip") return roundtrip(a);
  if (a.command == "transfer") return transfer(a);
  std::fprintf(stderr, "pool_bench: unknown command %s\n", a.command.c_str());
  return 2;
}
