#pragma once
// What every connection shares: configuration, the pool, the metrics, and the
// registry of open sessions (for draining and the connection limit). Owned by
// Server; used only on the io thread.

#include <functional>
#include <memory>
#include <unordered_map>

#include "server/config.hpp"
#include "server/http/metrics.hpp"
#include "server/pool/worker_pool.hpp"

namespace huepool::http {

class Session;

class SessionRegistry {
 public:
  void add(Session* s, std::weak_ptr<Session> w) { sessions_.emplace(s, std::move(w)); }
  void remove(Session* s) {
    if (sessions_.erase(s) && on_remove) on_remove();
  }
  std::size_t size() const { return sessions_.size(); }
  template <class F>
  void for_each(F f) {
    std::vector<std::shared_ptr<Session>> live;
    for (auto& [p, w] : sessions_)
      if (auto s = w.lock()) live.push_back(std::move(s));
    for (auto& s : live) f(*s);
  }
  std::function<void()> on_remove;

 private:
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
};

struct ServerContext {
  const Config& config;
  pool::WorkerPool& pool;
  Metrics& metrics;
  std::shared_ptr<SessionRegistry> registry;
  // The one record of "shutting down": set by Server on the first signal,
  // read by sessions, admission and /readyz.
  bool draining = false;
};

}  // namespace huepool::http
