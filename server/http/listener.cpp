#include "server/http/listener.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include "server/http/session.hpp"

namespace huepool::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {
constexpr std::chrono::milliseconds kAcceptRetry{100};  // after EMFILE and the like
}

Listener::Listener(net::io_context& io, ServerContext& ctx)
    : io_(io), ctx_(ctx), acceptor_(io), retry_timer_(io) {}

std::optional<std::string> Listener::bind(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  const auto address = net::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, port);
  } else {
    tcp::resolver resolver(io_);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) return "cannot resolve host '" + host + "': " + ec.message();
    endpoint = results.begin()->endpoint();
  }
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return "socket: " + ec.message();
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  acceptor_.bind(endpoint, ec);
  if (ec) return "bind " + host + ":" + std::to_string(port) + ": " + ec.message();
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return "listen: " + ec.message();
  return std::nullopt;
}

std::uint16_t Listener::port() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void Listener::start() { do_accept(); }

void Listener::resume() {
  if (!accepting_ && !stopped_) do_accept();
}

void Listener::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  retry_timer_.cancel();
}

void Listener::do_accept() {
  if (stopped_ || accepting_) return;
  if (ctx_.registry->size() >= ctx_.config.max_connections) return;  // resume() restarts us
  accepting_ = true;
  acceptor_.async_accept(net::make_strand(io_), [self = shared_from_this()](boost::system::error_code ec,
                                                                           tcp::socket socket) {
    self->accepting_ = false;
    if (self->stopped_) return;
    if (!ec) {
      std::make_shared<Session>(std::move(socket), self->ctx_)->start();
      self->do_accept();
      return;
    }
    // Out of descriptors or a connection reset before accept: try again
    // shortly instead of spinning.
    self->retry_timer_.expires_after(kAcceptRetry);
    self->retry_timer_.async_wait([self](boost::system::error_code wait_ec) {
      if (!wait_ec) self->do_accept();
    });
  });
}

}  // namespace huepool::http
