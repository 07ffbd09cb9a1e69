#pragma once
// Listener: the accepting socket. Each accepted connection gets its own strand
// and a Session. Stops accepting while max_connections sessions are open
// (further clients wait in the kernel backlog) and resumes as they close.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/http/server_context.hpp"

namespace huepool::http {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(boost::asio::io_context& io, ServerContext& ctx);
  // Opens, binds and listens; an error text on failure.
  std::optional<std::string> bind(const std::string& host, std::uint16_t port);
  std::uint16_t port() const;
  void start();
  void resume();  // a session closed: accept again if we had paused
  void stop();    // closes the acceptor for good

 private:
  void do_accept();

  boost::asio::io_context& io_;
  ServerContext& ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  bool accepting_ = false;
  bool stopped_ = false;
};

}  // namespace huepool::http
