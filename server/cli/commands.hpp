#pragma once
// Entry points of the huepool subcommands, all in server/cli/ so the rooms
// they start (worker/, server/http/, server/pool/) never include this one.
// Each takes the arguments after the subcommand name (argv[0] is the
// subcommand) and returns the exit status. main.cpp only wires them together.

namespace huepool::cli {

int run_analyze(int argc, char** argv);      // analyze_command.cpp
int run_worker(int argc, char** argv);       // worker_command.cpp
int run_serve(int argc, char** argv);        // serve_command.cpp
int run_healthcheck(int argc, char** argv);  // healthcheck_command.cpp

}  // namespace huepool::cli
