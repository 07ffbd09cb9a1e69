#pragma once
// The worker's life after the sandbox: announce itself with `ready`, then
// answer each job with one result or error until the server closes the
// socket. One job at a time; one Analyzer kept for the whole life (it reuses
// its counting memory). Blocking I/O: a worker has nothing else to do.

namespace huepool::worker {

inline constexpr int kExitOk = 0;              // the server closed the socket
inline constexpr int kExitProtocolError = 3;   // malformed frame or lost socket
inline constexpr int kExitSetupFailed = 4;     // bad arguments or sandbox failure

// Runs until end-of-file on `sock`; returns the process exit status.
// `cpu_seconds_per_job`: arm_cpu_limit() before each job (0: none).
int run_worker_loop(int sock, unsigned cpu_seconds_per_job = 0);

}  // namespace huepool::worker
