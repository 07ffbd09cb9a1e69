#pragma once
// What every connection shares: configuration, the pool, the metrics, and the
// registry of open sessions (for draining and the connection limit). Owned by
// Server; used only on the io thread.

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "server/config.hpp"
#include "server/http/metrics.hpp"
#include "server/pool/worker_pool.hpp"

namespace huepool::http {

class Session;

class SessionRegistry {
 public:
  // `client` is the peer's IP address (no port): connections are also counted
  // per client, for --max-connections-per-client.
  void add(Session* s, std::weak_ptr<Session> w, const std::string& client) {
    if (sessions_.emplace(s, Entry{std::move(w), client}).second) ++per_client_[client];
  }
  void remove(Session* s) {
    const auto it = sessions_.find(s);
    if (it == sessions_.end()) return;
    const auto count = per_client_.find(it->second.client);
    if (--count->second == 0) per_client_.erase(count);
    sessions_.erase(it);
    if (on_remove) on_remove();
  }
  std::size_t size() const { return sessions_.size(); }
  std::size_t count_for(const std::string& client) const {
    const auto it = per_client_.find(client);
    return it == per_client_.end() ? 0 : it->second;
  }
  template <class F>
  void for_each(F f) {
    std::vector<std::shared_ptr<Session>> live;
    for (auto& [p, entry] : sessions_)
      if (auto s = entry.session.lock()) live.push_back(std::move(s));
    for (auto& s : live) f(*s);
  }
  std::function<void()> on_remove;

 private:
  struct Entry {
    std::weak_ptr<Session> session;
    std::string client;
  };
  std::unordered_map<Session*, Entry> sessions_;
  std::unordered_map<std::string, std::size_t> per_client_;
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
