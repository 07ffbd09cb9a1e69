#pragma once
// Entry points of the huepool subcommands. Each takes the arguments after the
// subcommand name (argv[0] is the subcommand) and returns the exit status.
// main.cpp only wires them together.

namespace huepool::cli {

int run_analyze(int argc, char** argv);      // server/cli/analyze_command.cpp
int run_worker(int argc, char** argv);       // worker/worker_command.cpp
int run_serve(int argc, char** argv);        // server/http/serve_command.cpp
int run_healthcheck(int argc, char** argv);  // server/http/healthcheck_command.cpp

}  // namespace huepool::cli
