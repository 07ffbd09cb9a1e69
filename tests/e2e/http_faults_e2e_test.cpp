// End-to-end: a worker killed from outside mid-stream costs its image a retry,
// not a result. The server runs as huepool_test_hooks, whose workers block on
// a marked image until killed (worker/test_hooks.hpp), so the test knows the
// worker holds that image when it sends SIGKILL: no timing involved.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <thread>

#include "e2e_support.hpp"
#include "tests/worker/test_hook_support.hpp"

using namespace huepool::e2e;
using nlohmann::json;
using std::chrono::milliseconds;

TEST_CASE("NDJSON stream: a worker SIGKILLed while it holds an image; that image is retried and every line arrives") {
  huepool::hooktest::HookPage page;  // named in the environment the server and its workers inherit
  const huepool::hooktest::ScopedEnv bin("HUEPOOL_BIN", huepool::hooktest::hooks_bin());
  ServerProcess s({}, 2);

  constexpr int kImages = 7;
  constexpr int kTarget = 2;
  Multipart m;
  for (int i = 0; i < kImages; ++i) {
    const auto name = "image" + std::to_string(i) + ".png";
    if (i == kTarget)
      m.file("image", name, huepool::hooktest::png_with_hook(two_color_png(16, 16, 200, 100, 50), "block"), "image/png");
    else
      m.file("image", name, two_color_png(8 + i, 8, static_cast<std::uint8_t>(10 * i), 2, 3), "image/png");
  }
  const std::string body = m.body();
  Connection c(s.port());
  c.send("POST /v1/analyze?mode=imap HTTP/1.1\r\nHost: x\r\nContent-Type: " + m.content_type() +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  REQUIRE(c.read_head().status == 200);

  // The worker that took the marked image says so on the shared page.
  for (int i = 0; i < 10'000 && page.blocked_pid() == 0; ++i) std::this_thread::sleep_for(milliseconds(2));
  const pid_t victim = page.blocked_pid();
  REQUIRE(victim != 0);
  const auto workers = s.worker_pids();
  REQUIRE(std::find(workers.begin(), workers.end(), victim) != workers.end());
  REQUIRE(::kill(victim, SIGKILL) == 0);

  std::vector<json> lines;
  while (auto l = c.read_line()) lines.push_back(json::parse(*l));
  REQUIRE(lines.size() == kImages + 1);
  for (int i = 0; i < kImages; ++i) {
    CHECK(lines[i]["index"] == i);
    CHECK_FALSE(lines[i].contains("error"));
  }
  CHECK(lines[kTarget]["hex"] == "#c86432");
  CHECK(lines[kImages]["done"] == true);
  CHECK(lines[kImages]["failed"] == 0);
  CHECK(page.attempts() == 2);

  const json info = get(s.port(), "/v1/info").json();
  CHECK(info["pool"]["retries"] == 1);
  const std::string metrics = get(s.port(), "/metrics").body;
  CHECK(metrics.find("huepool_pool_job_retries_total 1\n") != std::string::npos);
  CHECK(metrics.find("result=\"worker_crashed\"") == std::string::npos);
  const auto now = s.worker_pids();
  CHECK(std::find(now.begin(), now.end(), victim) == now.end());
}
