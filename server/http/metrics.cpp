#include "server/http/metrics.hpp"

#include <charconv>

namespace huepool::http {

namespace {

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

std::string number(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

}  // namespace

void Metrics::image_finished(std::string_view result, double elapsed_ms, double worker_ms) {
  worker_sum_s_ += worker_ms / 1000.0;
  auto it = images_by_result_.find(result);
  if (it == images_by_result_.end()) it = images_by_result_.emplace(std::string(result), 0).first;
  ++it->second;
  const double s = elapsed_ms / 1000.0;
  for (std::size_t i = 0; i < kImageLatencyBuckets.size(); ++i)
    if (s <= kImageLatencyBuckets[i]) ++latency_buckets_[i];
  ++latency_count_;
  latency_sum_s_ += s;
}

std::uint64_t Metrics::requests_total() const {
  std::uint64_t n = 0;
  for (const auto& [status, count] : requests_by_status_) n += count;
  return n;
}

std::string Metrics::prometheus_text(const pool::PoolStats& pool, bool ready) const {
  std::string out;
  out.reserve(4096);
  header(out, "huepool_http_requests_total", "counter", "HTTP requests answered, by status code.");
  for (const auto& [status, count] : requests_by_status_)
    out += "huepool_http_requests_total{code=\"" + std::to_string(status) + "\"} " + std::to_string(count) + "\n";
  header(out, "huepool_http_connections_total", "counter", "Client connections accepted.");
  out += "huepool_http_connections_total " + std::to_string(connections_total_) + "\n";
  header(out, "huepool_http_connections_open", "gauge", "Client connections open now.");
  out += "huepool_http_connections_open " + std::to_string(connections_open_) + "\n";
  header(out, "huepool_http_streams_total", "counter", "NDJSON streams started (imap, imap_unordered).");
  out += "huepool_http_streams_total " + std::to_string(streams_total_) + "\n";

  header(out, "huepool_images_total", "counter", "Images analyzed, by result (ok or the error code).");
  for (const auto& [result, count] : images_by_result_)
    out += "huepool_images_total{result=\"" + result + "\"} " + std::to_string(count) + "\n";
  header(out, "huepool_image_duration_seconds", "histogram",
         "Per-image latency from dispatch to the worker's reply.");
  for (std::size_t i = 0; i < kImageLatencyBuckets.size(); ++i)
    out += "huepool_image_duration_seconds_bucket{le=\"" + number(kImageLatencyBuckets[i]) + "\"} " +
           std::to_string(latency_buckets_[i]) + "\n";
  out += "huepool_image_duration_seconds_bucket{le=\"+Inf\"} " + std::to_string(latency_count_) + "\n";
  out += "huepool_image_duration_seconds_sum " + number(latency_sum_s_) + "\n";
  out += "huepool_image_duration_seconds_count " + std::to_string(latency_count_) + "\n";
  header(out, "huepool_image_worker_seconds_total", "counter",
         "Time workers spent decoding and counting, as they report it (the rest of the latency is queue and transfer).");
  out += "huepool_image_worker_seconds_total " + number(worker_sum_s_) + "\n";

  header(out, "huepool_pool_workers", "gauge", "Configured worker processes.");
  out += "huepool_pool_workers " + std::to_string(pool.workers) + "\n";
  header(out, "huepool_pool_workers_by_state", "gauge", "Live workers, busy or idle.");
  const unsigned idle = pool.live > pool.busy ? pool.live - pool.busy : 0;
  out += "huepool_pool_workers_by_state{state=\"busy\"} " + std::to_string(pool.busy) + "\n";
  out += "huepool_pool_workers_by_state{state=\"idle\"} " + std::to_string(idle) + "\n";
  header(out, "huepool_pool_queue_depth", "gauge", "Images waiting for a worker.");
  out += "huepool_pool_queue_depth " + std::to_string(pool.queued) + "\n";
  header(out, "huepool_pool_worker_restarts_total", "counter",
         "Workers replaced after a crash, a timeout or recycling.");
  out += "huepool_pool_worker_restarts_total " + std::to_string(pool.restarts) + "\n";
  header(out, "huepool_pool_job_retries_total", "counter",
         "Images run again on a fresh worker because their worker died (signal, OOM kill) holding them.");
  out += "huepool_pool_job_retries_total " + std::to_string(pool.retries) + "\n";
  header(out, "huepool_pool_jobs_completed_total", "counter", "Images the pool has finished.");
  out += "huepool_pool_jobs_completed_total " + std::to_string(pool.completed) + "\n";
  header(out, "huepool_ready", "gauge", "1 when every worker is up.");
  out += std::string("huepool_ready ") + (ready ? "1" : "0") + "\n";
  return out;
}

}  // namespace huepool::http
