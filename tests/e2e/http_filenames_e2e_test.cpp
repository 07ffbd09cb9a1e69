// End-to-end: file names as real clients send them (issue 11). Files whose
// names hold every awkward character are posted by the real curl binary to
// the real server, and each result must carry the file's own name; then raw
// bodies with RFC 8187 filename* and a legacy quoted-pair sender.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "e2e_support.hpp"

using namespace huepool::e2e;
using nlohmann::json;

namespace {

// Runs argv (no shell: names with quotes and newlines stay intact) and
// returns its stdout; checks it exits 0.
std::string run_argv(const std::vector<std::string>& args) {
  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO("stdout: " << text);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  return text;
}

// curl -F reads `@"path"` with \" and \\ escapes, so ';' and ',' in a path
// are not taken as curl's own separators.
std::string curl_file_arg(const std::string& path) {
  std::string quoted;
  for (const char c : path) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return "image=@\"" + quoted + "\"";
}

// What a result shows for a name: invalid UTF-8 (here only the byte 0xFF)
// becomes U+FFFD.
std::string shown(const std::string& name) {
  std::string out;
  for (const char c : name) out += c == '\xFF' ? std::string("\xEF\xBF\xBD") : std::string(1, c);
  return out;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/huepool-names-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("curl -F: every awkward character at the start, middle and end of a file name comes back as it was") {
  if (std::system("curl --version >/dev/null 2>&1") != 0) {
    MESSAGE("curl not installed: skipped");
    return;
  }
  const std::vector<std::string> specials = {"\"", "\r", "\n", "\\", "%", ";", "'", ",", " ",
                                             "\xC3\xBC", "\xE2\x82\xAC", "\xFF", "%41", "\\\""};
  std::vector<std::string> names;
  for (const auto& s : specials)
    for (const auto& name : {s + "ab.png", "a" + s + "b.png", "ab" + s + ".png"}) names.push_back(name);

  TempDir dir;
  const Bytes png = two_color_png(4, 4, 9, 8, 7);
  std::vector<std::string> args = {"curl", "-sS", "--fail-with-body"};
  for (const auto& name : names) {
    std::ofstream(dir.path / name, std::ios::binary).write(reinterpret_cast<const char*>(png.data()),
                                                         static_cast<std::streamsize>(png.size()));
    args.push_back("-F");
    args.push_back(curl_file_arg((dir.path / name).string()));
  }
  // curl's own ;filename= override, the form from the issue.
  args.push_back("-F");
  args.push_back(curl_file_arg((dir.path / names.front()).string()) + ";filename=\"say \\\"hi\\\".png\"");

  ServerProcess s;
  args.push_back("http://127.0.0.1:" + std::to_string(s.port()) + "/v1/analyze");
  const json doc = json::parse(run_argv(args));
  REQUIRE(doc["count"] == names.size() + 1);
  CHECK(doc["failed"] == 0);
  for (std::size_t i = 0; i < names.size(); ++i) {
    INFO("file " << i << ": " << json(shown(names[i])).dump());
    CHECK(doc["results"][i]["name"] == shown(names[i]));
    CHECK(doc["results"][i]["hex"] == "#090807");
  }
  CHECK(doc["results"][names.size()]["name"] == "say \"hi\".png");
}

TEST_CASE("raw multipart: filename* wins in either order, ISO-8859-1 becomes UTF-8, legacy \\\" senders are read") {
  struct Part {
    std::string disposition;
    std::string want;
  };
  const std::vector<Part> parts = {
      {"name=\"image\"; filename*=UTF-8''%E2%82%AC%20rates.png", "\xE2\x82\xAC rates.png"},
      {"name=\"image\"; filename*=iso-8859-1''%A3%20rates.png", "\xC2\xA3 rates.png"},
      {"name=\"image\"; filename=\"EURO rates.png\"; filename*=utf-8'en'%E2%82%AC%20rates.png",
       "\xE2\x82\xAC rates.png"},
      {"name=\"image\"; filename*=ISO-8859-1'de'%FC.png; filename=\"u.png\"", "\xC3\xBC.png"},
      {"name=\"image\"; filename=\"plain.png\"; filename*=UTF-8''%FF", "plain.png"},
      {"name=\"image\"; filename=\"say \\\"hi\\\".png\"", "say \"hi\".png"},
      {"name=\"image\"; filename=\"a\\b.png\"", "a\\b.png"},
      {"name=\"image\"; filename=\"bad\xFF.png\"", "bad\xEF\xBF\xBD.png"},
  };
  const std::string boundary = "names-e2e-7c1f";
  const Bytes png = two_color_png(4, 4, 1, 2, 3);
  std::string body;
  for (const auto& p : parts)
    body += "--" + boundary + "\r\nContent-Disposition: form-data; " + p.disposition +
            "\r\nContent-Type: image/png\r\n\r\n" + as_string(png) + "\r\n";
  body += "--" + boundary + "--\r\n";

  ServerProcess s;
  for (const std::string mode : {"map", "imap"}) {
    const Response r = http_request(s.port(), "POST", "/v1/analyze?mode=" + mode,
                                    {{"Content-Type", "multipart/form-data; boundary=" + boundary}}, body);
    REQUIRE(r.status == 200);
    const std::vector<json> results = mode == "map" ? r.json()["results"].get<std::vector<json>>()
                                                    : ndjson_lines(r.body);
    REQUIRE(results.size() >= parts.size());
    for (std::size_t i = 0; i < parts.size(); ++i) {
      INFO(mode << " part " << i << ": " << parts[i].disposition);
      CHECK(results[i]["name"] == parts[i].want);
      CHECK(!results[i].contains("error"));
    }
  }
}
