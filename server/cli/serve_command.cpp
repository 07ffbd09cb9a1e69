// `huepool serve`: parse the configuration (flags over HUEPOOL_* variables
// over defaults), then run the HTTP server until SIGTERM/SIGINT.
#include <csignal>
#include <cstdio>
#include <exception>

#include <boost/asio/io_context.hpp>

#include "server/cli/commands.hpp"
#include "server/config.hpp"
#include "server/http/server.hpp"
#include "worker/sandbox.hpp"

namespace huepool::cli {

int run_serve(int argc, char** argv) {
  const ConfigParse parsed = parse_config_from_process(argc, argv);
  switch (parsed.action) {
    case ConfigParse::Action::help:
      std::fputs(config_help_text().c_str(), stdout);
      return 0;
    case ConfigParse::Action::help_markdown:
      std::fputs(config_help_markdown().c_str(), stdout);
      return 0;
    case ConfigParse::Action::error:
      std::fprintf(stderr, "huepool serve: %s\n", parsed.error.c_str());
      return 2;
    case ConfigParse::Action::run:
      break;
  }
  // A client that goes away must never kill the server through SIGPIPE
  // (stderr may be a closed pipe too).
  std::signal(SIGPIPE, SIG_IGN);
  if (!worker::kAddressSpaceLimitApplied)
    std::fprintf(stderr,
                 "huepool serve: AddressSanitizer build: workers run WITHOUT their address-space limit "
                 "(--worker-memory-bytes, RLIMIT_AS), which ASan's shadow memory cannot live under; "
                 "not for production\n");
  try {
    boost::asio::io_context io(1);  // one thread: the pool requires it, and so do we
    http::Server server(io, parsed.config);
    return server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "huepool serve: %s\n", e.what());
    return 1;
  }
}

}  // namespace huepool::cli
