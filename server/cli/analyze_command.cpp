// `huepool analyze [options] FILE...`: analyze image files in this process and
// print one JSON result per line (DESIGN.md §2 result objects, from
// common/result_json). Exit status: 0 all succeeded, 1 some failed, 2 bad usage.
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/analyzer.hpp"
#include "common/result_json.hpp"
#include "server/cli/analyze_pool.hpp"
#include "server/cli/commands.hpp"

namespace huepool::cli {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitSomeFailed = 1;
constexpr int kExitUsage = 2;

constexpr const char* kUsage =
    "usage: huepool analyze [--top K] [--palette K] [--alpha ignore|keep] [--max-pixels N]\n"
    "                       [--workers N [--mode map|imap|imap_unordered]\n"
    "                        [--processes P] [--timeout-ms T]] FILE...\n"
    "\n"
    "Decodes each PNG/JPEG/WebP/GIF file in this process and prints one JSON result per\n"
    "line: its most popular exact RGB color, count and percentage.\n"
    "\n"
    "  --top K          also list the K most common colors (1..256) as \"colors\"\n"
    "  --palette K      also list K perceptual dominant colors (1..16), clusters\n"
    "                   of the exact histogram in CIELAB, as \"palette\"\n"
    "  --alpha MODE     keep (default): every pixel counts; ignore: pixels with\n"
    "                   alpha 0 are not counted\n"
    "  --max-pixels N   reject images over N pixels (default 100000000); there\n"
    "                   is no cap per side, but an image whose rows would need\n"
    "                   more than 1 GiB of buffers to decode is too_large\n"

    "  --workers N      run the images through a pool of N worker processes\n"
    "                   (0: one per CPU); without it, all run in this process\n"
    "  --mode MODE      with --workers: map (default) prints every line at the\n"
    "                   end in input order; imap prints each in input order as\n"
    "                   soon as it can; imap_unordered prints each when done\n"
    "  --processes P    with --workers: at most P images at once (default: N)\n"
    "  --timeout-ms T   with --workers: per-image deadline (default 10000); a\n"
    "                   worker past it is replaced and the image gets \"timeout\"\n"
    "\n"
    "Exit status: 0 every image succeeded, 1 some failed, 2 bad usage.\n";
// The usage text spells out these defaults.
static_assert(pool::kDefaultJobTimeout == std::chrono::milliseconds(10000));
static_assert(pool::kMaxWorkers == 1024);
static_assert(kMaxTop == 256 && kMaxPalette == 16);

template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "huepool analyze: %s\n\n%s", message.c_str(), kUsage);
  return kExitUsage;
}

std::optional<std::vector<std::uint8_t>> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return bytes;
}

}  // namespace

int run_analyze(int argc, char** argv) {
  AnalyzeOptions options;
  DecodeLimits limits;
  std::vector<std::string> files;
  std::optional<PoolAnalyzeArgs> pool_args;  // --workers given: run through the pool
  std::optional<pool::Mode> mode;
  unsigned processes = 0;
  std::chrono::milliseconds timeout = pool::kDefaultJobTimeout;
  // Hidden, for tests and benchmarks (tests/common/mutation_differential_test.py):
  // which PNG decoder an in-process run uses; both answer every file the same.
  PngPath png_path = PngPath::fast;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (options_done || arg.empty() || arg[0] != '-' || arg == "-") {
      files.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    }
    if (i + 1 >= argc) return usage_error("option " + std::string(arg) + " needs a value");
    const std::string_view value = argv[++i];
    if (arg == "--top") {
      const auto k = parse_number<unsigned>(value);
      if (!k || *k < 1 || *k > kMaxTop) return usage_error("--top must be 1..256");
      options.top = *k;
    } else if (arg == "--palette") {
      const auto k = parse_number<unsigned>(value);
      if (!k || *k < 1 || *k > kMaxPalette) return usage_error("--palette must be 1..16");
      options.palette = *k;
    } else if (arg == "--alpha") {
      if (value == "ignore") options.alpha = AlphaMode::ignore;
      else if (value == "keep") options.alpha = AlphaMode::keep;
      else return usage_error("--alpha must be ignore or keep");
    } else if (arg == "--max-pixels") {
      const auto n = parse_number<std::uint64_t>(value);
      if (!n || *n == 0) return usage_error("--max-pixels must be a positive integer");
      limits.max_pixels = *n;
    } else if (arg == "--workers") {
      const auto n = parse_number<unsigned>(value);
      if (!n || *n > pool::kMaxWorkers)
        return usage_error("--workers must be 0.." + std::to_string(pool::kMaxWorkers));
      pool_args.emplace().workers = *n;
    } else if (arg == "--mode") {
      mode = pool::parse_mode(value);
      if (!mode) return usage_error("--mode must be " + std::string(pool::kModeChoices));
    } else if (arg == "--processes") {
      const auto n = parse_number<unsigned>(value);
      if (!n || *n == 0) return usage_error("--processes must be a positive integer");
      processes = *n;
    } else if (arg == "--png-decoder") {
      if (value == "fast") png_path = PngPath::fast;
      else if (value == "libpng") png_path = PngPath::libpng;
      else return usage_error("--png-decoder must be fast or libpng");
    } else if (arg == "--timeout-ms") {
      const auto n = parse_number<unsigned>(value);
      if (!n || *n == 0) return usage_error("--timeout-ms must be a positive integer");
      timeout = std::chrono::milliseconds(*n);
    } else {
      return usage_error("unknown option " + std::string(arg));
    }
  }
  if (files.empty()) return usage_error("no input files");
  if (pool_args && png_path != PngPath::fast)
    return usage_error("--png-decoder works in-process only (not with --workers)");
  if (pool_args) {
    pool_args->mode = mode.value_or(pool::Mode::map);
    pool_args->processes = processes;
    pool_args->timeout = timeout;
    pool_args->options = options;
    pool_args->limits = limits;
    pool_args->files = std::move(files);
    return analyze_with_pool(*pool_args);
  }
  if (mode || processes != 0) return usage_error("--mode and --processes need --workers");

  Analyzer analyzer(limits, png_path);
  const int pid = static_cast<int>(::getpid());
  bool any_failed = false;
  for (std::size_t index = 0; index < files.size(); ++index) {
    const auto start = std::chrono::steady_clock::now();
    AnalysisOutcome outcome;
    if (auto bytes = read_file(files[index])) {
      outcome = analyzer.analyze(*bytes, options);
    } else {
      // Not an image problem but the file's: reported per image, like a decode failure.
      outcome = ImageError{ErrorCode::decode_failed, "cannot read file " + files[index]};
    }
    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    any_failed = any_failed || std::holds_alternative<ImageError>(outcome);
    const ResultContext context{index, files[index], elapsed_ms, pid};
    const std::string line = result_text(result_to_json(context, outcome, options)) + "\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  std::fflush(stdout);
  return any_failed ? kExitSomeFailed : kExitOk;
}

}  // namespace huepool::cli
