// Config: one table gives defaults, environment, flags, validation, help and
// the /v1/info limits.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "server/config.hpp"

using huepool::Config;
using huepool::ConfigParse;

namespace {

using Env = std::map<std::string, std::string>;

std::optional<std::string> lookup(const char* name, void* ctx) {
  const auto& env = *static_cast<const Env*>(ctx);
  auto it = env.find(name);
  if (it == env.end()) return std::nullopt;
  return it->second;
}

ConfigParse parse(std::vector<std::string> args, Env env = {}) {
  args.insert(args.begin(), "serve");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return huepool::parse_config(static_cast<int>(argv.size()), argv.data(), lookup, &env);
}

}  // namespace

TEST_CASE("config: defaults are the documented ones") {
  const auto r = parse({});
  REQUIRE(r.action == ConfigParse::Action::run);
  CHECK(r.config.host == "0.0.0.0");
  CHECK(r.config.port == 8080);
  CHECK(r.config.workers == 0);
  CHECK(r.config.max_body_bytes == 64ull << 20);
  CHECK(r.config.max_images == 256);
  CHECK(r.config.max_pixels == 100'000'000);
  CHECK(r.config.access_log);
  CHECK(r.config.largest_first);
  CHECK(r.config.pool_config().largest_first);
}

TEST_CASE("config: --largest-first reaches the pool; a bad value names the flag") {
  auto r = parse({"--largest-first=false"});
  REQUIRE(r.action == ConfigParse::Action::run);
  CHECK(!r.config.pool_config().largest_first);
  r = parse({}, {{"HUEPOOL_LARGEST_FIRST", "no"}});
  CHECK(!r.config.pool_config().largest_first);
  r = parse({"--largest-first=maybe"});
  CHECK(r.action == ConfigParse::Action::error);
  CHECK(r.error.find("--largest-first") != std::string::npos);
}

TEST_CASE("config: environment, then flags in both spellings; flags win") {
  const auto r = parse({"--port=9000", "--max-body-bytes", "2MiB", "--header-timeout=250ms"},
                       {{"HUEPOOL_PORT", "7000"}, {"HUEPOOL_WORKERS", "3"}, {"HUEPOOL_ACCESS_LOG", "off"}});
  REQUIRE(r.action == ConfigParse::Action::run);
  CHECK(r.config.port == 9000);
  CHECK(r.config.workers == 3);
  CHECK(!r.config.access_log);
  CHECK(r.config.max_body_bytes == 2u << 20);
  CHECK(r.config.header_timeout == std::chrono::milliseconds(250));
  const auto pc = r.config.pool_config();
  CHECK(pc.workers == 3);
  CHECK(pc.decode_limits.max_pixels == r.config.max_pixels);
}

TEST_CASE("config: errors name the flag or the variable") {
  auto r = parse({"--port=70000"});
  CHECK(r.action == ConfigParse::Action::error);
  CHECK(r.error.find("--port") != std::string::npos);
  r = parse({}, {{"HUEPOOL_MAX_IMAGES", "zero"}});
  CHECK(r.action == ConfigParse::Action::error);
  CHECK(r.error.find("HUEPOOL_MAX_IMAGES") != std::string::npos);
  r = parse({"--no-such-flag=1"});
  CHECK(r.action == ConfigParse::Action::error);
  CHECK(r.error.find("no-such-flag") != std::string::npos);
  r = parse({"--port"});
  CHECK(r.action == ConfigParse::Action::error);
  r = parse({"--max-images=0"});
  CHECK(r.action == ConfigParse::Action::error);
  r = parse({"--body-timeout=5h"});
  CHECK(r.action == ConfigParse::Action::error);
  r = parse({"stray"});
  CHECK(r.action == ConfigParse::Action::error);
}

TEST_CASE("config: sizes and durations") {
  CHECK(huepool::parse_size("1024") == 1024u);
  CHECK(huepool::parse_size("64KiB") == 64u * 1024);
  CHECK(huepool::parse_size("3M") == 3u << 20);
  CHECK(huepool::parse_size("2GiB") == 2ull << 30);
  CHECK(!huepool::parse_size(""));
  CHECK(!huepool::parse_size("12XB"));
  CHECK(!huepool::parse_size("-1"));
  CHECK(!huepool::parse_size("99999999999999999999G"));
  CHECK(huepool::parse_duration("15") == std::chrono::milliseconds(15000));
  CHECK(huepool::parse_duration("250ms") == std::chrono::milliseconds(250));
  CHECK(huepool::parse_duration("2m") == std::chrono::milliseconds(120000));
  CHECK(!huepool::parse_duration("1.5s"));
  CHECK(!huepool::parse_duration("s"));
}

TEST_CASE("config: help, markdown and /v1/info limits come from the same table") {
  CHECK(parse({"--help"}).action == ConfigParse::Action::help);
  CHECK(parse({"--help-markdown"}).action == ConfigParse::Action::help_markdown);
  const std::string help = huepool::config_help_text();
  const std::string md = huepool::config_help_markdown();
  for (const char* flag : {"--host", "--port", "--workers", "--max-body-bytes", "--max-images", "--max-pixels",
                           "--header-timeout", "--body-timeout", "--drain-timeout", "--max-queued-jobs"}) {
    INFO(flag);
    CHECK(help.find(flag) != std::string::npos);
    CHECK(md.find(std::string("`") + flag + "`") != std::string::npos);
  }
  CHECK(md.find("| `--max-body-bytes` | `HUEPOOL_MAX_BODY_BYTES` | `64MiB` |") != std::string::npos);
  Config c;
  c.max_images = 7;
  const auto limits = huepool::config_limits_json(c);
  CHECK(limits["max_images"] == 7);
  CHECK(limits["max_body_bytes"] == 64ull << 20);
  CHECK(limits["header_timeout_ms"] == 10000);
  CHECK(!limits.contains("port"));
}
