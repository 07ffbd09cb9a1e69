#pragma once
// Server: wires the pool, the listener and the sessions on one io_context, and
// runs until SIGTERM/SIGINT: then it stops accepting, lets requests in flight
// finish (bounded by drain_timeout, after which streams end with a
// shutting_down done line), stops the workers and returns 0.
//
// The WorkerPool is created in the constructor, before any thread exists (the
// server never starts one: everything runs on the caller's thread in run()).

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/config.hpp"
#include "server/http/listener.hpp"
#include "server/http/metrics.hpp"
#include "server/http/server_context.hpp"
#include "server/pool/worker_pool.hpp"

namespace huepool::http {

inline constexpr std::chrono::milliseconds kForceCloseGrace{2000};

class Server {
 public:
  Server(boost::asio::io_context& io, Config config);
  int run();  // the exit status

 private:
  void on_signal(const boost::system::error_code& ec, int signo);
  void begin_drain();
  void on_drain_deadline();
  void check_drained();
  void stop_pool();

  boost::asio::io_context& io_;
  Config config_;
  pool::WorkerPool pool_;
  Metrics metrics_;
  ServerContext ctx_;
  std::shared_ptr<Listener> listener_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer drain_timer_;
  boost::asio::steady_timer grace_timer_;
  bool forced_ = false;
  bool pool_stopping_ = false;
};

}  // namespace huepool::http
