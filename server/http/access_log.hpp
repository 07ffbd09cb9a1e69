#pragma once
// One JSON line per request on stderr, written with a single write(2) so lines
// from one process never interleave. Called on the io thread when a response
// has been handed to the socket (or the request was abandoned).

#include <cstdint>
#include <string>

namespace huepool::http {

struct AccessRecord {
  std::string remote;   // "ip:port"
  std::string method;
  std::string target;
  unsigned status = 0;  // 0: no response (client gone, timed out before any)
  std::string mode;     // analyze requests only
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::size_t images = 0;
  std::size_t failed = 0;
  double duration_ms = 0;
  std::string error;    // request-level problem code, if any
};

void write_access_log(const AccessRecord& record);

}  // namespace huepool::http
