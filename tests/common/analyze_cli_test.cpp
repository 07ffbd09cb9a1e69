// `huepool analyze` end to end: the real binary, its JSON lines and exit codes.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

#include "tests/common/test_images.hpp"

using namespace huepool::test;

namespace {

struct Run {
  int status = -1;
  std::vector<std::string> lines;
};

Run run(const std::string& args) {
  const std::string command = env_or("HUEPOOL_BIN", "huepool") + " analyze " + args + " 2>/dev/null";
  Run r;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) r.lines.push_back(line);
  return r;
}

}  // namespace

TEST_CASE("one JSON line per file, in order, failures included") {
  TempDir dir;
  const std::vector<std::uint16_t> samples = {10, 20, 30, 10, 20, 30, 1, 2, 3};
  PngSpec spec;
  spec.width = 3;
  spec.height = 1;
  const std::string good = dir.write("good.png", encode_png(spec, samples));
  const std::string bad = dir.write("bad.png", Bytes{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0});
  const std::string text = dir.write("notes.txt", Bytes{'h', 'i'});

  Run r = run(good);
  CHECK(r.status == 0);
  REQUIRE(r.lines.size() == 1);
  auto j = nlohmann::json::parse(r.lines[0]);
  CHECK(j["index"] == 0);
  CHECK(j["name"] == good);
  CHECK(j["hex"] == "#0a141e");
  CHECK(j["count"] == 2);
  CHECK(j["pixels"] == 3);
  CHECK(j["format"] == "png");
  CHECK(j["worker"].get<int>() > 0);
  CHECK_FALSE(j.contains("colors"));

  r = run("--top 2 --alpha ignore " + good + " " + bad + " " + text + " " + dir.path() + "/missing.png");
  CHECK(r.status == 1);
  REQUIRE(r.lines.size() == 4);
  j = nlohmann::json::parse(r.lines[0]);
  REQUIRE(j["colors"].size() == 2);
  CHECK(j["colors"][1]["hex"] == "#010203");
  CHECK(nlohmann::json::parse(r.lines[1])["error"]["code"] == "decode_failed");
  CHECK(nlohmann::json::parse(r.lines[2])["error"]["code"] == "unsupported_format");
  CHECK(nlohmann::json::parse(r.lines[3])["index"] == 3);
  CHECK(nlohmann::json::parse(r.lines[3]).contains("error"));

  // --palette K: two clusters of the three pixels, in process and through the pool alike.
  for (const std::string pool : {"", "--workers 1 "}) {
    CAPTURE(pool);
    r = run(pool + "--palette 4 " + good);
    CHECK(r.status == 0);
    REQUIRE(r.lines.size() == 1);
    j = nlohmann::json::parse(r.lines[0]);
    REQUIRE(j["palette"].size() == 2);
    CHECK(j["palette"][0]["hex"] == "#0a141e");
    CHECK(j["palette"][0]["count"] == 2);
    CHECK(j["palette"][0]["dominant"]["count"] == 2);
    CHECK(j["palette"][1]["hex"] == "#010203");
    CHECK_FALSE(j.contains("colors"));
  }

  r = run("--max-pixels 2 " + good);
  CHECK(r.status == 1);
  REQUIRE(r.lines.size() == 1);
  CHECK(nlohmann::json::parse(r.lines[0])["error"]["code"] == "too_large");
}

TEST_CASE("a file name that is not UTF-8 still gets its result (U+FFFD in the name)") {
  TempDir dir;
  const std::vector<std::uint16_t> samples = {10, 20, 30};
  PngSpec spec;
  spec.width = 1;
  spec.height = 1;
  const std::string path = dir.write("latin1-\xE9.png", encode_png(spec, samples));
  for (const std::string options : {"", "--workers 1 "}) {
    CAPTURE(options);
    const Run r = run(options + "'" + path + "'");
    CHECK(r.status == 0);
    REQUIRE(r.lines.size() == 1);
    const auto j = nlohmann::json::parse(r.lines[0]);
    CHECK(j["hex"] == "#0a141e");
    CHECK(j["name"].get<std::string>().find("\xEF\xBF\xBD.png") != std::string::npos);
  }
}

TEST_CASE("bad usage exits 2, --help exits 0") {
  CHECK(run("").status == 2);
  CHECK(run("--top 0 x.png").status == 2);
  CHECK(run("--top 257 x.png").status == 2);
  CHECK(run("--alpha maybe x.png").status == 2);
  CHECK(run("--frobnicate x.png").status == 2);
  CHECK(run("--top").status == 2);
  CHECK(run("--palette 0 x.png").status == 2);
  CHECK(run("--palette 17 x.png").status == 2);
  const Run help = run("--help");
  CHECK(help.status == 0);
  CHECK_FALSE(help.lines.empty());
}

TEST_CASE("the corpus through the CLI matches reference.json") {
  const std::string corpus = env_or("HUEPOOL_CORPUS_DIR", "");
  std::ifstream in(corpus + "/reference.json");
  if (!in) {
    MESSAGE("corpus not found; skipped");
    return;
  }
  const auto reference = nlohmann::json::parse(in);
  std::string args = "--top 3";
  for (const auto& image : reference["images"]) args += " " + corpus + "/" + image["file"].get<std::string>();
  const Run r = run(args);
  CHECK(r.status == 0);
  REQUIRE(r.lines.size() == reference["images"].size());
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    const auto j = nlohmann::json::parse(r.lines[i]);
    const auto& e = reference["images"][i];
    CAPTURE(e["file"]);
    CHECK(j["hex"] == e["hex"]);
    CHECK(j["count"] == e["count"]);
    CHECK(j["percentage"] == e["percentage"]);
    CHECK(j["pixels"] == e["pixels"]);
    CHECK(j["width"] == e["width"]);
    CHECK(j["colors"].size() == 3);
  }
}
