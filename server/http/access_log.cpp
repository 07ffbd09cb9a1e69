#include "server/http/access_log.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>

#include "server/http/responses.hpp"

namespace huepool::http {

namespace {

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

}  // namespace

void write_access_log(const AccessRecord& r) {
  nlohmann::json j = {{"ts", utc_now()},       {"remote", r.remote},       {"method", r.method},
                      {"target", r.target},    {"status", r.status},       {"bytes_in", r.bytes_in},
                      {"bytes_out", r.bytes_out}, {"duration_ms", r.duration_ms}};
  if (!r.mode.empty()) {
    j["mode"] = r.mode;
    j["images"] = r.images;
    j["failed"] = r.failed;
  }
  if (!r.error.empty()) j["error"] = r.error;
  std::string line = json_text(j);
  line += '\n';
  // stderr may be a pipe: a short write is retried, an error is dropped (a log
  // line is never worth failing a request for).
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace huepool::http
