#pragma once
// Config: every option of `huepool serve`, in one struct with its defaults.
// The option table in config.cpp is the single source for the flag names, the
// HUEPOOL_* environment variables, the defaults, the meanings and the
// validation; `serve --help`, `serve --help-markdown` and the "limits" of
// GET /v1/info are all generated from it, so they cannot disagree.
//
// Precedence: defaults < HUEPOOL_* environment < command-line flags.
// Sizes accept a unit (1048576, 64KiB, 64MiB, 2GiB; K/M/G mean the same
// binary units); durations accept ms, s or m (a bare number means seconds).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "proto/wire_format.hpp"
#include "server/pool/worker_pool.hpp"

namespace huepool {

struct Config {
  // network
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;  // 0: any free port (the bound one is printed)
  // pool
  unsigned workers = 0;  // 0: one per CPU
  std::chrono::milliseconds image_timeout = pool::kDefaultJobTimeout;
  std::size_t max_queued_jobs = 1024;
  unsigned max_jobs_per_worker = 0;
  std::uint64_t worker_memory_bytes = 2ull << 30;
  // request limits
  std::uint64_t max_body_bytes = 64ull << 20;
  std::size_t max_images = 256;
  std::uint64_t max_pixels = 100'000'000;
  std::size_t max_header_bytes = 16 << 10;
  // Larger images travel to workers as memfds; never more than a job frame carries.
  std::size_t inline_max_bytes = proto::kInlinePayloadMax;
  std::size_t max_connections = 4096;
  // Open connections from one client address (0: no limit); more get 429.
  // Behind a reverse proxy every client shares its address: raise it or use 0.
  std::size_t max_connections_per_client = 256;
  // timeouts
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  // Slowest accepted upload, bytes per second on average, after a first
  // body_timeout of grace (Apache mod_reqtimeout's MinRate); 0: no minimum.
  std::uint64_t min_upload_rate = 1024;
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds drain_timeout{30'000};
  // operations
  bool access_log = true;
  // imap/imap_unordered: begin the response only once the whole upload has
  // arrived. For deployments behind nginx, whose HTTP proxy stops forwarding
  // an upload once the response has begun (see docker/nginx/nginx.conf.template).
  bool respond_after_upload = false;
  // dispatch: a request's waiting images start largest first (server/pool/batch.hpp)
  bool largest_first = true;

  pool::PoolConfig pool_config() const;
  // Row-buffer budget of one image's decode (DecodeLimits::max_buffer_bytes),
  // derived from the worker's address-space limit: what is left of it after
  // kWorkerReservedBytes and the largest upload (mapped by the worker).
  std::uint64_t max_buffer_bytes() const;
};

// Of a worker's address space, this much is taken by the program, its
// libraries, the counter's tables and heap bookkeeping (an idle worker maps
// about 100 MiB; docs/BENCHMARKS.md "Memory"), so not available to pixel rows.
inline constexpr std::uint64_t kWorkerReservedBytes = 256ull << 20;

// Outcome of reading flags and environment.
struct ConfigParse {
  enum class Action { run, help, help_markdown, error };
  Action action = Action::run;
  Config config;
  std::string error;  // for Action::error: names the flag or variable
};

// `env` looks a variable up (getenv in production, a map in tests).
using EnvLookup = std::optional<std::string> (*)(const char* name, void* ctx);
ConfigParse parse_config(int argc, char** argv, EnvLookup env, void* env_ctx);
ConfigParse parse_config_from_process(int argc, char** argv);  // uses getenv

std::string config_help_text();      // `huepool serve --help`
std::string config_help_markdown();  // the README table
// Every option marked as a limit, in machine units (bytes, ms, counts), for /v1/info.
nlohmann::json config_limits_json(const Config& config);

// Parsers for option values, exposed for tests.
std::optional<std::uint64_t> parse_size(std::string_view text);
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace huepool
