// `huepool analyze --workers N --mode ...` end to end: the real binary, real
// files, output lines parsed as JSON. Checks the three orders, that
// imap_unordered lines are flushed while the big image is still running,
// per-image failures, and usage errors.
#include <doctest/doctest.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/server/pool/pool_test_support.hpp"
#include "tests/worker/test_hook_support.hpp"

using namespace huepool;
using namespace huepool::pooltest;
using nlohmann::json;

namespace {

struct Files {
  std::filesystem::path dir;
  std::vector<std::string> paths;  // big first, then three small ones
  Files() {
    char tmpl[] = "/tmp/huepool-pool-cli-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    write("big.png", big_png());
    for (int i = 1; i <= 3; ++i)
      write("small" + std::to_string(i) + ".png", solid_png(4, 4, {static_cast<std::uint8_t>(i), 0, 0}));
  }
  ~Files() { std::filesystem::remove_all(dir); }
  void write(const std::string& name, const Bytes& b) {
    const auto p = dir / name;
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    paths.push_back(p.string());
  }
};

// Runs the binary with a pipe on stdout; lines are read as they come.
struct Child {
  pid_t pid = 0;
  FILE* out = nullptr;
  // `binary`: huepool (default) or the test-hooks build of it.
  explicit Child(std::vector<std::string> args, const std::string& binary = huepool_bin()) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    args.insert(args.begin(), binary);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::dup2(p[1], 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(p[1]);
    out = ::fdopen(p[0], "r");
  }
  std::optional<json> next_line() {
    char* line = nullptr;
    size_t cap = 0;
    const ssize_t n = ::getline(&line, &cap, out);
    std::optional<json> j;
    if (n > 0) j = json::parse(std::string(line, static_cast<std::size_t>(n)));
    std::free(line);
    return j;
  }
  bool still_running() { return ::waitpid(pid, nullptr, WNOHANG) == 0; }
  int finish() {
    std::fclose(out);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

std::vector<std::string> args(const Files& f, std::vector<std::string> opts) {
  std::vector<std::string> a{"analyze"};
  a.insert(a.end(), opts.begin(), opts.end());
  a.insert(a.end(), f.paths.begin(), f.paths.end());
  return a;
}

}  // namespace

TEST_CASE("analyze --workers: imap_unordered prints small images first, each as soon as it is done") {
  Files f;
  Child c(args(f, {"--workers", "2", "--mode", "imap_unordered", "--timeout-ms", "120000"}));
  auto first = c.next_line();
  REQUIRE(first);
  CHECK((*first)["name"].get<std::string>().find("small") != std::string::npos);
  // Flushed while the big image is still being counted by the other worker.
  CHECK(c.still_running());
  std::vector<int> order{(*first)["index"].get<int>()};
  while (auto line = c.next_line()) order.push_back((*line)["index"].get<int>());
  CHECK(c.finish() == 0);
  REQUIRE(order.size() == 4);
  CHECK(order.back() == 0);
}

TEST_CASE("analyze --workers: map and imap print in input order with the engine's answers") {
  Files f;
  for (const char* mode : {"map", "imap"}) {
    CAPTURE(mode);
    Child c(args(f, {"--workers", "2", "--mode", mode, "--top", "2", "--timeout-ms", "120000"}));
    std::vector<json> lines;
    while (auto line = c.next_line()) lines.push_back(*line);
    CHECK(c.finish() == 0);
    REQUIRE(lines.size() == 4);
    for (int i = 0; i < 4; ++i) CHECK(lines[i]["index"] == i);
    CHECK(lines[0]["hex"] == "#0a141e");
    CHECK(lines[0]["pixels"] == 90000000);
    CHECK(lines[1]["hex"] == "#010000");
    CHECK(lines[1]["count"] == 16);
    CHECK(lines[1]["colors"].size() == 1);
    CHECK(lines[0]["worker"].get<int>() != static_cast<int>(c.pid));
  }
}

TEST_CASE("analyze --workers: failures are per image; processes=1 and a deadline apply") {
  Files f;
  f.paths.push_back((f.dir / "missing.png").string());
  {
    // The first image never finishes (the test-hooks build's `block`: its
    // worker waits until killed), so only the deadline ends it, however fast
    // the machine; the others are a few pixels each.
    hooktest::HookPage page;
    f.write("blocked.png", hooktest::png_with_hook(solid_png(8, 8, {9, 9, 9}), "block"));
    // The blocked image in the big one's place: blocked, small1-3, missing.
    std::vector<std::string> a{"analyze", "--workers", "2", "--processes", "1", "--timeout-ms", "300",
                               f.paths.back()};
    a.insert(a.end(), f.paths.begin() + 1, f.paths.end() - 1);
    Child c(a, hooktest::hooks_bin());
    std::vector<json> lines;
    while (auto line = c.next_line()) lines.push_back(*line);
    CHECK(c.finish() == 1);
    REQUIRE(lines.size() == 5);
    CHECK(lines[0]["error"]["code"] == "timeout");
    for (int i = 1; i <= 3; ++i) CHECK(lines[i].contains("hex"));
    CHECK(lines[4]["error"]["code"] == "decode_failed");
    CHECK(page.attempts() == 1);  // a deadline is not retried
  }
  {
    Child c({"analyze", "--mode", "imap", f.paths[1]});
    CHECK_FALSE(c.next_line());
    CHECK(c.finish() == 2);
  }
  {
    Child c({"analyze", "--workers", "2", "--mode", "sideways", f.paths[1]});
    CHECK_FALSE(c.next_line());
    CHECK(c.finish() == 2);
  }
}
