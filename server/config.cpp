#include "server/config.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <limits>
#include <sstream>

namespace huepool {

namespace {

using std::chrono::milliseconds;

// One row of the option table. `set` validates and stores, returning an error
// text; `show` renders the value the way a user would type it; `json` gives it
// in machine units for /v1/info.
struct Option {
  std::string_view flag;  // without the leading "--"
  std::string_view env;
  std::string_view meaning;
  bool limit;  // reported under "limits" in /v1/info
  std::function<std::optional<std::string>(Config&, std::string_view)> set;
  std::function<std::string(const Config&)> show;
  std::function<nlohmann::json(const Config&)> json;
};

std::string show_size(std::uint64_t v) {
  static constexpr std::pair<std::uint64_t, const char*> kUnits[] = {
      {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
  for (const auto& [unit, name] : kUnits)
    if (v != 0 && v % unit == 0) return std::to_string(v / unit) + name;
  return std::to_string(v);
}

std::string show_duration(milliseconds d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

template <class Int>
std::optional<Int> parse_int(std::string_view text) {
  Int v{};
  const auto* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || text.empty()) return std::nullopt;
  return v;
}

std::string range_error(std::string_view what, std::uint64_t lo, std::uint64_t hi) {
  return "must be " + std::string(what) + " from " + std::to_string(lo) + " to " + std::to_string(hi);
}

template <class T>
Option count_option(std::string_view flag, std::string_view env, std::string_view meaning, bool limit,
                    T Config::*member, std::uint64_t lo, std::uint64_t hi) {
  return Option{flag, env, meaning, limit,
                [=](Config& c, std::string_view text) -> std::optional<std::string> {
                  auto v = parse_int<std::uint64_t>(text);
                  if (!v || *v < lo || *v > hi) return range_error("an integer", lo, hi);
                  c.*member = static_cast<T>(*v);
                  return std::nullopt;
                },
                [=](const Config& c) { return std::to_string(c.*member); },
                [=](const Config& c) { return nlohmann::json(c.*member); }};
}

template <class T>
Option size_option(std::string_view flag, std::string_view env, std::string_view meaning, bool limit,
                   T Config::*member, std::uint64_t lo, std::uint64_t hi) {
  return Option{flag, env, meaning, limit,
                [=](Config& c, std::string_view text) -> std::optional<std::string> {
                  auto v = parse_size(text);
                  if (!v || *v < lo || *v > hi)
                    return "must be a size (e.g. 65536, 64KiB, 64MiB) from " + show_size(lo) + " to " +
                           show_size(hi);
                  c.*member = static_cast<T>(*v);
                  return std::nullopt;
                },
                [=](const Config& c) { return show_size(c.*member); },
                [=](const Config& c) { return nlohmann::json(c.*member); }};
}

Option duration_option(std::string_view flag, std::string_view env, std::string_view meaning,
                       milliseconds Config::*member, milliseconds lo, milliseconds hi) {
  return Option{flag, env, meaning, true,
                [=](Config& c, std::string_view text) -> std::optional<std::string> {
                  auto v = parse_duration(text);
                  if (!v || *v < lo || *v > hi)
                    return "must be a duration (e.g. 500ms, 10s, 2m) from " + show_duration(lo) + " to " +
                           show_duration(hi);
                  c.*member = *v;
                  return std::nullopt;
                },
                [=](const Config& c) { return show_duration(c.*member); },
                [=](const Config& c) { return nlohmann::json((c.*member).count()); }};
}

Option bool_option(std::string_view flag, std::string_view env, std::string_view meaning, bool Config::*member) {
  return Option{flag, env, meaning, false,
                [=](Config& c, std::string_view text) -> std::optional<std::string> {
                  if (text == "true" || text == "1" || text == "on" || text == "yes") c.*member = true;
                  else if (text == "false" || text == "0" || text == "off" || text == "no") c.*member = false;
                  else return "must be true or false";
                  return std::nullopt;
                },
                [=](const Config& c) { return std::string(c.*member ? "true" : "false"); },
                [=](const Config& c) { return nlohmann::json(c.*member); }};
}

constexpr std::uint64_t kGiB = 1ull << 30;

const std::vector<Option>& options() {
  static const std::vector<Option> table = [] {
    std::vector<Option> t;
    t.push_back(Option{
        "host", "HUEPOOL_HOST", "address to listen on (IPv4 or IPv6 literal)", false,
        [](Config& c, std::string_view text) -> std::optional<std::string> {
          if (text.empty()) return "must not be empty";
          c.host = std::string(text);
          return std::nullopt;
        },
        [](const Config& c) { return c.host; }, [](const Config& c) { return nlohmann::json(c.host); }});
    t.push_back(count_option("port", "HUEPOOL_PORT", "TCP port; 0 picks a free one (printed on stdout)", false,
                             &Config::port, 0, 65535));
    t.push_back(count_option("workers", "HUEPOOL_WORKERS", "worker processes; 0 means one per CPU", false,
                             &Config::workers, 0, pool::kMaxWorkers));
    t.push_back(duration_option("image-timeout", "HUEPOOL_IMAGE_TIMEOUT",
                                "per-image deadline; a worker past it is killed and replaced",
                                &Config::image_timeout, milliseconds(10), milliseconds(3'600'000)));
    t.push_back(count_option("max-queued-jobs", "HUEPOOL_MAX_QUEUED_JOBS",
                             "images waiting for a worker; a request beyond it gets 503 + Retry-After", true,
                             &Config::max_queued_jobs, 1, 1'000'000));
    t.push_back(count_option("max-jobs-per-worker", "HUEPOOL_MAX_JOBS_PER_WORKER",
                             "recycle a worker after this many images; 0 means never", true,
                             &Config::max_jobs_per_worker, 0, 1'000'000'000));
    t.push_back(size_option("worker-memory", "HUEPOOL_WORKER_MEMORY", "address-space limit of each worker",
                            true, &Config::worker_memory_bytes, 64ull << 20, 1024 * kGiB));
    t.push_back(size_option("max-body-bytes", "HUEPOOL_MAX_BODY_BYTES", "largest request body (413 beyond)",
                            true, &Config::max_body_bytes, 1, 64 * kGiB));
    t.push_back(count_option("max-images", "HUEPOOL_MAX_IMAGES", "most images in one request (413 beyond)",
                             true, &Config::max_images, 1, 1'000'000));
    t.push_back(count_option("max-pixels", "HUEPOOL_MAX_PIXELS",
                             "most pixels per image, checked from the header before decoding (too_large)",
                             true, &Config::max_pixels, 1, 1ull << 32));
    t.push_back(size_option("max-header-bytes", "HUEPOOL_MAX_HEADER_BYTES",
                            "largest request header block (431 beyond)", true, &Config::max_header_bytes,
                            1024, 1ull << 20));
    t.push_back(size_option("inline-max-bytes", "HUEPOOL_INLINE_MAX_BYTES",
                            "images up to this size go to workers inline; larger ones as a memfd", true,
                            &Config::inline_max_bytes, 0, proto::kInlinePayloadMax));
    t.push_back(count_option("max-connections", "HUEPOOL_MAX_CONNECTIONS",
                             "open client connections; further ones wait in the kernel backlog", true,
                             &Config::max_connections, 1, 1'000'000));
    t.push_back(count_option("max-connections-per-client", "HUEPOOL_MAX_CONNECTIONS_PER_CLIENT",
                             "open connections from one client IP address; more are answered 429 and closed; "
                             "0 means no limit (use it, or a larger value, behind a reverse proxy)",
                             true, &Config::max_connections_per_client, 0, 1'000'000));
    t.push_back(duration_option("header-timeout", "HUEPOOL_HEADER_TIMEOUT",
                                "time allowed for a request's header once its first byte arrived",
                                &Config::header_timeout, milliseconds(1), milliseconds(3'600'000)));
    t.push_back(duration_option("body-timeout", "HUEPOOL_BODY_TIMEOUT",
                                "longest silence while a request body is being received",
                                &Config::body_timeout, milliseconds(1), milliseconds(3'600'000)));
    t.push_back(size_option("min-upload-rate", "HUEPOOL_MIN_UPLOAD_RATE",
                            "slowest average upload in bytes per second, after a first --body-timeout of grace "
                            "(408 upload_too_slow below it); 0 means no minimum",
                            true, &Config::min_upload_rate, 0, 1ull << 30));
    t.push_back(duration_option("idle-timeout", "HUEPOOL_IDLE_TIMEOUT",
                                "how long a keep-alive connection may wait for its next request",
                                &Config::idle_timeout, milliseconds(1), milliseconds(3'600'000)));
    t.push_back(duration_option("write-timeout", "HUEPOOL_WRITE_TIMEOUT",
                                "longest a client may leave a response write unread",
                                &Config::write_timeout, milliseconds(1), milliseconds(3'600'000)));
    t.push_back(duration_option("drain-timeout", "HUEPOOL_DRAIN_TIMEOUT",
                                "on SIGTERM/SIGINT, how long requests in flight may take to finish",
                                &Config::drain_timeout, milliseconds(0), milliseconds(3'600'000)));
    t.push_back(bool_option("access-log", "HUEPOOL_ACCESS_LOG", "one JSON line per request on stderr (true/false)",
                            &Config::access_log));
    t.push_back(bool_option("respond-after-upload", "HUEPOOL_RESPOND_AFTER_UPLOAD",
                            "imap/imap_unordered answer only once the upload is complete (true behind nginx, which "
                            "stops forwarding an upload once the answer has begun)",
                            &Config::respond_after_upload));
    t.push_back(bool_option("largest-first", "HUEPOOL_LARGEST_FIRST",
                            "a request's waiting images start largest first, by the pixels their headers state "
                            "(false: in upload order); results keep their mode's order either way",
                            &Config::largest_first));
    return t;
  }();
  return table;
}

const Option* find_flag(std::string_view flag) {
  for (const auto& o : options())
    if (o.flag == flag) return &o;
  return nullptr;
}

std::optional<std::string> getenv_lookup(const char* name, void*) {
  if (const char* v = std::getenv(name)) return std::string(v);
  return std::nullopt;
}

ConfigParse fail(std::string message) {
  ConfigParse r;
  r.action = ConfigParse::Action::error;
  r.error = std::move(message);
  return r;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  auto number = parse_int<std::uint64_t>(text.substr(0, digits));
  if (!number) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  std::uint64_t scale = 1;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "K" || unit == "KiB" || unit == "k") scale = 1ull << 10;
  else if (unit == "M" || unit == "MiB") scale = 1ull << 20;
  else if (unit == "G" || unit == "GiB") scale = 1ull << 30;
  else return std::nullopt;
  if (*number > std::numeric_limits<std::uint64_t>::max() / scale) return std::nullopt;
  return *number * scale;
}

std::optional<milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  auto number = parse_int<std::uint64_t>(text.substr(0, digits));
  if (!number) return std::nullopt;
  const std::string_view unit = text.substr(digits);
  std::uint64_t scale = 0;
  if (unit == "ms") scale = 1;
  else if (unit.empty() || unit == "s") scale = 1000;
  else if (unit == "m") scale = 60'000;
  else return std::nullopt;
  constexpr std::uint64_t kMax = 365ull * 24 * 3600 * 1000;
  if (*number > kMax / scale) return std::nullopt;
  return milliseconds(static_cast<milliseconds::rep>(*number * scale));
}

pool::PoolConfig Config::pool_config() const {
  pool::PoolConfig p;
  p.workers = workers;
  p.job_timeout = image_timeout;
  p.max_jobs_per_worker = max_jobs_per_worker;
  p.max_queued_jobs = max_queued_jobs;
  p.worker_memory_limit = worker_memory_bytes;
  p.largest_first = largest_first;
  p.decode_limits.max_pixels = max_pixels;
  p.decode_limits.max_buffer_bytes = max_buffer_bytes();
  return p;
}

std::uint64_t Config::max_buffer_bytes() const {
  const std::uint64_t reserved = kWorkerReservedBytes + max_body_bytes;
  // A worker limit smaller than twice the reserve still decodes small images.
  return worker_memory_bytes > 2 * reserved ? worker_memory_bytes - reserved : worker_memory_bytes / 2;
}

ConfigParse parse_config(int argc, char** argv, EnvLookup env, void* env_ctx) {
  ConfigParse result;
  for (const auto& o : options()) {
    if (auto value = env(std::string(o.env).c_str(), env_ctx)) {
      if (auto err = o.set(result.config, *value))
        return fail(std::string(o.env) + "='" + *value + "': " + *err);
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      result.action = ConfigParse::Action::help;
      return result;
    }
    if (arg == "--help-markdown") {
      result.action = ConfigParse::Action::help_markdown;
      return result;
    }
    if (arg.substr(0, 2) != "--") return fail("unexpected argument '" + std::string(arg) + "'");
    arg.remove_prefix(2);
    std::string_view value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const Option* o = find_flag(arg);
    if (!o) return fail("unknown option '--" + std::string(arg) + "' (see --help)");
    if (!has_value) {
      if (i + 1 >= argc) return fail("option '--" + std::string(arg) + "' needs a value");
      value = argv[++i];
    }
    if (auto err = o->set(result.config, value))
      return fail("--" + std::string(arg) + "='" + std::string(value) + "': " + *err);
  }
  return result;
}

ConfigParse parse_config_from_process(int argc, char** argv) {
  return parse_config(argc, argv, getenv_lookup, nullptr);
}

std::string config_help_text() {
  const Config defaults;
  std::ostringstream out;
  out << "usage: huepool serve [options]\n\n"
         "Serves POST /v1/analyze (see README) with a pool of worker processes.\n"
         "Every option can also be set by its environment variable; flags win.\n"
         "Sizes take KiB/MiB/GiB, durations ms/s/m (a bare number is seconds).\n\n";
  for (const auto& o : options()) {
    out << "  --" << o.flag << "=VALUE";
    const std::size_t width = o.flag.size() + 10;
    out << std::string(width < 32 ? 32 - width : 1, ' ') << o.meaning << "\n"
        << std::string(34, ' ') << "default " << o.show(defaults) << ", env " << o.env << "\n";
  }
  out << "  --help                          this text\n"
         "  --help-markdown                 the options as a Markdown table\n";
  return out.str();
}

std::string config_help_markdown() {
  const Config defaults;
  std::ostringstream out;
  out << "| flag | environment | default | meaning |\n|---|---|---|---|\n";
  for (const auto& o : options())
    out << "| `--" << o.flag << "` | `" << o.env << "` | `" << o.show(defaults) << "` | " << o.meaning << " |\n";
  return out.str();
}

nlohmann::json config_limits_json(const Config& config) {
  nlohmann::json limits = nlohmann::json::object();
  for (const auto& o : options()) {
    if (!o.limit) continue;
    std::string key(o.flag);
    for (auto& ch : key)
      if (ch == '-') ch = '_';
    const bool is_duration = key.size() > 8 && key.ends_with("_timeout");
    limits[is_duration ? key + "_ms" : key] = o.json(config);
  }
  limits["max_buffer_bytes"] = config.max_buffer_bytes();  // derived from worker_memory and max_body_bytes
  return limits;
}

}  // namespace huepool
