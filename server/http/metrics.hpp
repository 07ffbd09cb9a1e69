#pragma once
// Metrics: the server's counters and the per-image latency histogram, rendered
// in the Prometheus text exposition format (version 0.0.4) together with the
// pool's gauges. Owned by the server, updated and read on the io thread only.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "server/pool/worker_pool.hpp"

namespace huepool::http {

// Upper bounds of the per-image latency buckets, seconds.
inline constexpr std::array<double, 14> kImageLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

class Metrics {
 public:
  void request_finished(unsigned status) { ++requests_by_status_[status]; }
  // `result` is "ok" or a per-image error code; `elapsed_ms` as the pool saw
  // it (queue to answer), `worker_ms` the worker's own time on the image.
  void image_finished(std::string_view result, double elapsed_ms, double worker_ms = 0.0);
  void connection_opened() { ++connections_total_; ++connections_open_; }
  void connection_closed() { --connections_open_; }
  void stream_started() { ++streams_total_; }

  std::uint64_t requests_total() const;
  std::string prometheus_text(const pool::PoolStats& pool, bool ready) const;

 private:
  std::map<unsigned, std::uint64_t> requests_by_status_;
  std::map<std::string, std::uint64_t, std::less<>> images_by_result_;
  std::array<std::uint64_t, kImageLatencyBuckets.size()> latency_buckets_{};
  std::uint64_t latency_count_ = 0;
  double latency_sum_s_ = 0;
  double worker_sum_s_ = 0;
  std::uint64_t connections_total_ = 0;
  std::int64_t connections_open_ = 0;
  std::uint64_t streams_total_ = 0;
};

}  // namespace huepool::http
