#include "server/http/responses.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <boost/beast/http/status.hpp>

#include "common/result_json.hpp"

namespace huepool::http {

namespace {

// RFC 9110 Date, rendered once per second (all callers are on one thread).
std::string_view http_date() {
  static std::time_t cached_at = 0;
  static char buf[64] = {};
  const std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_at = now;
  }
  return buf;
}

void append_status_line(std::string& out, unsigned status) {
  const auto reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out.append(reason.data(), reason.size());
  out += "\r\nServer: huepool\r\nDate: ";
  out += http_date();
  out += "\r\n";
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out += ": ";
  out.append(value);
  out += "\r\n";
}

}  // namespace

std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string json_text(const nlohmann::ordered_json& j) { return result_text(j); }

nlohmann::json problem_json(const Problem& problem, std::string_view instance) {
  const auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(problem.status));
  nlohmann::json j = {{"type", "about:blank"},
                      {"title", std::string(reason.data(), reason.size())},
                      {"status", problem.status},
                      {"code", problem.code},
                      {"detail", problem.detail}};
  if (!instance.empty()) j["instance"] = std::string(instance);
  for (const auto& [k, v] : problem.extra.items()) j[k] = v;
  return j;
}

std::string serialize_response(unsigned status, std::string_view content_type, std::string_view body,
                               bool keep_alive, const HeaderList& extra, bool head_only) {
  std::string out;
  out.reserve(160 + body.size());
  append_status_line(out, status);
  if (!content_type.empty()) append_header(out, "Content-Type", content_type);
  append_header(out, "Content-Length", std::to_string(body.size()));
  for (const auto& [k, v] : extra) append_header(out, k, v);
  if (!keep_alive) append_header(out, "Connection", "close");
  out += "\r\n";
  if (!head_only) out.append(body);
  return out;
}

std::string serialize_problem(const Problem& problem, std::string_view instance, bool keep_alive,
                              bool head_only) {
  HeaderList extra;
  if (problem.retry_after_s) extra.emplace_back("Retry-After", std::to_string(problem.retry_after_s));
  if (problem.status == 405 && problem.extra.contains("allow"))
    extra.emplace_back("Allow", problem.extra["allow"].get<std::string>());
  return serialize_response(problem.status, "application/problem+json",
                            json_text(problem_json(problem, instance)) + "\n", keep_alive, extra, head_only);
}

WholeResponse problem_response(const Problem& problem, std::string_view instance, bool keep_alive,
                               bool head_only) {
  return WholeResponse{serialize_problem(problem, instance, keep_alive, head_only),
                       ResponseSummary{problem.status, keep_alive, problem.code, std::nullopt}};
}

std::string serialize_stream_head(std::string_view content_type, bool chunked, bool keep_alive) {
  std::string out;
  append_status_line(out, 200);
  append_header(out, "Content-Type", content_type);
  if (chunked) append_header(out, "Transfer-Encoding", "chunked");
  append_header(out, "Cache-Control", "no-cache");
  append_header(out, "X-Accel-Buffering", "no");  // proxies must not hold lines back
  if (!keep_alive || !chunked) append_header(out, "Connection", "close");
  out += "\r\n";
  return out;
}

void append_chunk(std::string& out, std::string_view data) {
  char size[24];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, static_cast<std::size_t>(n));
  out.append(data);
  out += "\r\n";
}

}  // namespace huepool::http
