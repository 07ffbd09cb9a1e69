// huepool: one binary, several subcommands. This file only wires them.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "server/cli/commands.hpp"

namespace {

struct Subcommand {
  std::string_view name;
  int (*run)(int, char**);
  std::string_view summary;
};

constexpr Subcommand kSubcommands[] = {
    {"analyze", huepool::cli::run_analyze, "analyze image files and print one JSON result per line"},
    {"serve", huepool::cli::run_serve, "run the HTTP service (POST /v1/analyze) with a worker pool"},
    {"healthcheck", huepool::cli::run_healthcheck, "exit 0 when a running server's /healthz answers 200"},
    {"worker", huepool::cli::run_worker, "internal: a pool worker process (started by the pool)"},
};

int usage(std::FILE* out) {
  std::fprintf(out, "usage: huepool <command> [options]\n\ncommands:\n");
  for (const auto& c : kSubcommands)
    std::fprintf(out, "  %-12.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                 static_cast<int>(c.summary.size()), c.summary.data());
  std::fprintf(out, "\n`huepool <command> --help` describes a command's options.\n");
  return out == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  const std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") return usage(stdout);
  if (name == "--version") {
    std::printf("huepool %s\n", HUEPOOL_VERSION);
    return 0;
  }
  for (const auto& c : kSubcommands)
    if (c.name == name) return c.run(argc - 1, argv + 1);
  std::fprintf(stderr, "huepool: unknown command '%s'\n", argv[1]);
  return usage(stderr);
}
