#pragma once
// Session: one client connection. It only moves bytes: reads requests with a
// Beast parser (header first, then the body piece by piece straight into the
// request's handler), routes them, queues response bytes, and enforces the
// connection's timeouts and limits. Request meaning lives elsewhere
// (router.hpp for the operations endpoints, AnalyzeExchange for uploads).
//
// Lifetime: enable_shared_from_this; every pending socket operation holds the
// session, timers hold only a weak_ptr, and while an upload's results are
// being computed (no I/O pending) `hold_` keeps it. close_now() ends it all.
// Threading: all handlers run on the connection's strand (the socket's
// executor) on the server's single io thread.
//
// Timeouts: a new connection must deliver a header within header_timeout; a
// keep-alive connection may idle for idle_timeout, then header_timeout runs
// from the request's first byte; a body may be silent for at most
// body_timeout; a write may wait for the client for at most write_timeout.
// Backpressure: while more than kHighWaterBytes of response are unsent, the
// request body is not read (no new images enter the pool).
// Pipelining: requests are answered in order; the next is parsed once the
// previous response has been fully queued.

#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include "server/http/access_log.hpp"
#include "server/http/analyze_exchange.hpp"
#include "server/http/responder.hpp"
#include "server/http/server_context.hpp"
#include "server/http/upload_body.hpp"

namespace huepool::http {

inline constexpr std::size_t kReadChunkBytes = 64 * 1024;
inline constexpr std::size_t kHighWaterBytes = 1 << 20;
inline constexpr std::size_t kLowWaterBytes = 256 * 1024;
inline constexpr std::chrono::milliseconds kLingerTimeout{2000};
inline constexpr std::uint64_t kMaxLingerBytes = 64ull << 20;

class Session : public std::enable_shared_from_this<Session>, private Responder {
 public:
  Session(boost::asio::ip::tcp::socket socket, ServerContext& ctx);
  ~Session();
  void start();
  void drain();        // finish the current request, then close; close now if idle
  void force_close();  // the drain deadline passed: end the response now, close after it
  void close_now();

 private:
  using clock = std::chrono::steady_clock;
  enum class Phase { idle, header, body, waiting, closing };

  void process();
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t n);
  void on_read_error(boost::beast::error_code ec);
  void on_header();
  void on_header_error(boost::beast::error_code ec);
  void body_complete();
  void respond_whole(std::string bytes, unsigned status, bool keep_alive, std::string error = {});
  void after_response();
  void start_linger();

  // Responder
  void send(std::string bytes) override;
  std::size_t unsent_bytes() const override { return unsent_; }
  void response_done(unsigned status, bool keep_alive) override;

  void do_write();
  void on_write(boost::beast::error_code ec);

  void set_read_deadline(clock::duration d);
  void clear_read_deadline() { read_deadline_ = clock::time_point::max(); }
  void arm_read_timer();
  void on_read_timer();
  void on_read_timeout();
  void on_write_timer();

  void log_request(unsigned status, std::string error);

  boost::asio::ip::tcp::socket socket_;
  ServerContext& ctx_;
  std::shared_ptr<SessionRegistry> registry_;
  std::string remote_;
  std::array<char, kReadChunkBytes> read_buf_;
  boost::beast::flat_buffer buffer_;  // received, not yet parsed
  std::optional<boost::beast::http::request_parser<UploadBody>> parser_;
  Phase phase_ = Phase::idle;
  bool first_request_ = true;
  bool reading_ = false;
  bool writing_ = false;
  bool read_paused_ = false;
  bool responded_ = false;         // the current response is fully queued
  bool close_after_write_ = false;
  bool peer_eof_ = false;
  bool draining_ = false;
  bool closed_ = false;

  std::deque<std::string> queue_;
  std::vector<std::string> inflight_;
  std::vector<boost::asio::const_buffer> buffers_;
  std::size_t unsent_ = 0;

  boost::asio::steady_timer read_timer_;
  boost::asio::steady_timer write_timer_;
  clock::time_point read_deadline_ = clock::time_point::max();
  bool read_timer_armed_ = false;
  std::uint64_t linger_bytes_ = 0;

  std::shared_ptr<AnalyzeExchange> exchange_;
  std::shared_ptr<Session> hold_;
  AccessRecord record_;
  clock::time_point request_start_;
  bool request_open_ = false;  // a request has started and is not yet logged
};

}  // namespace huepool::http
