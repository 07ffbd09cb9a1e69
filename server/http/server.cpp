#include "server/http/server.hpp"

#include <csignal>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "server/http/responses.hpp"
#include "server/http/session.hpp"

namespace huepool::http {

namespace {

void log_event(const nlohmann::json& j) {
  std::string line = json_text(j) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

Server::Server(boost::asio::io_context& io, Config config)
    : io_(io),
      config_(std::move(config)),
      pool_(io, config_.pool_config()),
      ctx_{config_, pool_, metrics_, std::make_shared<SessionRegistry>(), false},
      listener_(std::make_shared<Listener>(io, ctx_)),
      signals_(io, SIGTERM, SIGINT),
      drain_timer_(io),
      grace_timer_(io) {}

int Server::run() {
  if (auto err = listener_->bind(config_.host, config_.port)) {
    std::fprintf(stderr, "huepool serve: %s\n", err->c_str());
    return 1;
  }
  ctx_.registry->on_remove = [this] {
    listener_->resume();
    if (ctx_.draining) check_drained();
  };
  const auto port = listener_->port();
  // Tests and scripts read the bound port from this line (--port 0).
  std::printf("huepool listening on http://%s:%u\n", config_.host.c_str(), static_cast<unsigned>(port));
  std::fflush(stdout);
  log_event({{"event", "listening"}, {"host", config_.host}, {"port", port}, {"workers", pool_.stats().workers}});
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) { on_signal(ec, signo); });
  listener_->start();
  io_.run();
  log_event({{"event", "stopped"}, {"requests", metrics_.requests_total()}});
  return 0;
}

void Server::on_signal(const boost::system::error_code& ec, int signo) {
  if (ec) return;
  log_event({{"event", "signal"}, {"signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"}});
  if (!ctx_.draining) {
    begin_drain();
  } else if (!forced_) {
    on_drain_deadline();  // a second signal: stop waiting
  }
  if (!pool_stopping_)
    signals_.async_wait([this](const boost::system::error_code& e, int s) { on_signal(e, s); });
}

void Server::begin_drain() {
  ctx_.draining = true;
  listener_->stop();
  log_event({{"event", "draining"}, {"connections", ctx_.registry->size()},
             {"timeout_ms", config_.drain_timeout.count()}});
  ctx_.registry->for_each([](Session& s) { s.drain(); });
  drain_timer_.expires_after(config_.drain_timeout);
  drain_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_drain_deadline();
  });
  check_drained();
}

void Server::on_drain_deadline() {
  if (forced_ || pool_stopping_) return;
  forced_ = true;
  log_event({{"event", "drain_timeout"}, {"connections", ctx_.registry->size()}});
  ctx_.registry->for_each([](Session& s) { s.force_close(); });
  grace_timer_.expires_after(kForceCloseGrace);
  grace_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    ctx_.registry->for_each([](Session& s) { s.close_now(); });
    check_drained();
  });
  check_drained();
}

void Server::check_drained() {
  if (pool_stopping_ || ctx_.registry->size() != 0) return;
  stop_pool();
}

void Server::stop_pool() {
  pool_stopping_ = true;
  drain_timer_.cancel();
  grace_timer_.cancel();
  boost::system::error_code ec;
  signals_.cancel(ec);
  pool_.shutdown([this] {
    // Everything of ours is closed; stop the loop even if the pool left a
    // cancelled operation behind.
    io_.stop();
  });
}

}  // namespace huepool::http
