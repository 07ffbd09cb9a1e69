// End-to-end on the real corpus: every seed12 image posted in one upload must
// give Pillow's answers from reference.json, through our client and curl.
#include <doctest/doctest.h>

#include <cstdio>
#include <map>

#include "e2e_support.hpp"

using namespace huepool::e2e;
using nlohmann::json;

namespace {

struct Corpus {
  std::string dir;
  json reference;                     // file name -> reference entry
  std::vector<std::string> files;     // in reference order
};

std::optional<Corpus> load_corpus() {
  Corpus c;
  c.dir = env_or("HUEPOOL_CORPUS_DIR", "");
  if (c.dir.empty()) return std::nullopt;
  auto ref = read_file(c.dir + "/reference.json");
  if (!ref) return std::nullopt;
  const json all = json::parse(as_string(*ref));
  for (const auto& img : all["images"]) {
    std::string file = img["file"];
    const std::string name = file.substr(file.rfind('/') + 1);
    c.reference[name] = img;
    c.files.push_back(file);
  }
  return c;
}

void check_against_reference(const json& result, const json& ref) {
  INFO("result: " << result.dump());
  REQUIRE(!result.contains("error"));
  CHECK(result["width"] == ref["width"]);
  CHECK(result["height"] == ref["height"]);
  CHECK(result["pixels"] == ref["pixels"]);
  CHECK(result["color"] == ref["color"]);
  CHECK(result["hex"] == ref["hex"]);
  CHECK(result["count"] == ref["count"]);
  CHECK(result["percentage"].get<double>() == doctest::Approx(ref["percentage"].get<double>()).epsilon(1e-12));
}

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  CHECK(::pclose(p) == 0);
  return out;
}

}  // namespace

TEST_CASE("corpus: one multipart map upload gives Pillow's answers") {
  const auto corpus = load_corpus();
  if (!corpus) {
    MESSAGE("HUEPOOL_CORPUS_DIR not set or without reference.json: skipped");
    return;
  }
  ServerProcess s({}, 2);
  Multipart m;
  std::vector<std::string> names;
  for (const auto& f : corpus->files) {
    auto bytes = read_file(corpus->dir + "/" + f);
    REQUIRE(bytes);
    names.push_back(f.substr(f.rfind('/') + 1));
    m.file("image", names.back(), *bytes, "application/octet-stream");
  }
  const Response r = http_request(s.port(), "POST", "/v1/analyze", {{"Content-Type", m.content_type()}}, m.body());
  REQUIRE(r.status == 200);
  const json doc = r.json();
  CHECK(doc["count"] == names.size());
  CHECK(doc["failed"] == 0);
  for (std::size_t i = 0; i < names.size(); ++i) {
    CHECK(doc["results"][i]["index"] == i);
    CHECK(doc["results"][i]["name"] == names[i]);
    check_against_reference(doc["results"][i], corpus->reference[names[i]]);
  }
}

TEST_CASE("corpus through curl: -F parts streamed as imap_unordered, and a raw --data-binary body") {
  const auto corpus = load_corpus();
  if (!corpus) {
    MESSAGE("HUEPOOL_CORPUS_DIR not set: skipped");
    return;
  }
  if (std::system("curl --version >/dev/null 2>&1") != 0) {
    MESSAGE("curl not installed: skipped");
    return;
  }
  ServerProcess s({}, 2);
  const std::string url = "http://127.0.0.1:" + std::to_string(s.port()) + "/v1/analyze";
  std::string form;
  for (const auto& f : corpus->files) form += " -F 'image=@" + corpus->dir + "/" + f + "'";
  // curl sends Expect: 100-continue for bodies this size; the server answers it.
  const auto lines = ndjson_lines(run("curl -sS -N" + form + " '" + url + "?mode=imap_unordered&top=3'"));
  REQUIRE(lines.size() == corpus->files.size() + 1);
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    const std::string name = lines[i]["name"];
    check_against_reference(lines[i], corpus->reference[name]);
    const auto& top = corpus->reference[name]["top"];
    REQUIRE(lines[i]["colors"].size() == 3);
    for (int k = 0; k < 3; ++k) {
      CHECK(lines[i]["colors"][k]["hex"] == top[k]["hex"]);
      CHECK(lines[i]["colors"][k]["count"] == top[k]["count"]);
    }
  }
  CHECK(lines.back()["done"] == true);
  CHECK(lines.back()["failed"] == 0);

  const std::string& first = corpus->files.front();
  const std::string name = first.substr(first.rfind('/') + 1);
  const json doc = json::parse(run("curl -sS --data-binary '@" + corpus->dir + "/" + first +
                                   "' -H 'Content-Type: image/png' '" + url + "?name=" + name + "'"));
  REQUIRE(doc["results"].size() == 1);
  CHECK(doc["results"][0]["name"] == name);
  check_against_reference(doc["results"][0], corpus->reference[name]);
}
