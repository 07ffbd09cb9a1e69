#pragma once
// Session: one client connection. It only moves bytes: reads requests with a
// Beast parser (header first, then the body piece by piece straight into the
// request's UploadSink), queues response bytes, and enforces the
// connection's timeouts and limits. It decides nothing about a request:
// router.hpp answers the operations endpoints, analyze_admission.hpp admits
// uploads, AnalyzeExchange runs them, request_failure.hpp says what a
// failure the connection sees means; every response's summary for the access
// log comes back through Responder::response_done.
//
// Lifetime: enable_shared_from_this; every pending socket operation holds the
// session, timers hold only a weak_ptr, and while an upload's results are
// being computed (no I/O pending) `hold_` keeps it. close_now() ends it all;
// the session is closed exactly when its socket is.
// Draining is the server's (ServerContext::draining), read where needed.
// Threading: all handlers run on the connection's strand (the socket's
// executor) on the server's single io thread.
//
// Timeouts: a new connection must deliver a header within header_timeout; a
// keep-alive connection may idle for idle_timeout, then header_timeout runs
// from the request's first byte; a body may be silent for at most
// body_timeout, and with min_upload_rate must average that many bytes per
// second after a first body_timeout of grace (the allowance grows by one
// second per min_upload_rate bytes, as Apache's mod_reqtimeout MinRate; time
// spent paused by our own backpressure does not count); a write may wait for
// the client for at most write_timeout.
// Connection limits: the listener pauses at max_connections; a connection
// from an address that already has max_connections_per_client open is
// answered 429 without reading its request, then closed (lingering).
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
  void drain();        // ServerContext::draining is set: close now if idle
  void force_close();  // the drain deadline passed: end the response now, close after it
  void close_now();

 private:
  using clock = std::chrono::steady_clock;
  enum class Phase { idle, header, body, waiting, closing };

  void process();
  void read_body();  // unless the client is too far behind on our response
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t n);
  void on_read_error(boost::beast::error_code ec);
  void on_header();
  void on_header_error(boost::beast::error_code ec);
  void body_complete();
  void respond_whole(WholeResponse response);
  void after_response();
  void start_linger();

  // Responder
  void send(std::string bytes) override;
  void response_done(ResponseSummary summary) override;

  void do_write();
  void on_write(boost::beast::error_code ec);

  void set_read_deadline(clock::duration d);
  void set_body_read_deadline();  // body_timeout of silence, or the upload rate's allowance
  void clear_read_deadline() { read_deadline_ = clock::time_point::max(); }
  void arm_read_timer();
  void on_read_timer();
  void on_read_timeout();
  void on_write_timer();

  bool closed() const { return !socket_.is_open(); }
  bool writing() const { return !inflight_.empty(); }  // an async_write is pending
  // A response may end the record while its request's bytes are parsed.
  void count_in(std::size_t n) {
    if (record_) record_->bytes_in += n;
  }
  // Ends the access record of the request in progress, if one is open.
  void log_request(unsigned status, std::string error, std::optional<UploadSummary> upload = std::nullopt);

  boost::asio::ip::tcp::socket socket_;
  ServerContext& ctx_;
  std::shared_ptr<SessionRegistry> registry_;
  std::string remote_;  // address:port, for the access log
  std::string client_;  // the address alone, for the per-client connection limit
  std::array<char, kReadChunkBytes> read_buf_;
  boost::beast::flat_buffer buffer_;  // received, not yet parsed
  std::optional<boost::beast::http::request_parser<UploadBody>> parser_;
  Phase phase_ = Phase::idle;
  bool first_request_ = true;
  bool reading_ = false;
  bool read_paused_ = false;
  bool responded_ = false;         // the current response is fully queued
  bool close_after_write_ = false;
  bool peer_eof_ = false;

  std::deque<std::string> queue_;
  std::vector<std::string> inflight_;
  std::vector<boost::asio::const_buffer> buffers_;
  std::size_t unsent_ = 0;

  boost::asio::steady_timer read_timer_;
  boost::asio::steady_timer write_timer_;
  clock::time_point read_deadline_ = clock::time_point::max();
  bool read_timer_armed_ = false;
  std::uint64_t linger_bytes_ = 0;

  std::shared_ptr<UploadSink> upload_;  // the body's destination, while an upload runs
  std::shared_ptr<Session> hold_;
  std::optional<AccessRecord> record_;  // a request has started and is not yet logged
  clock::time_point request_start_;
  clock::time_point body_clock_start_;  // when the body began, moved later by backpressure pauses
  clock::time_point body_paused_at_;
  bool body_deadline_is_rate_ = false;  // the armed body deadline is the rate's, not silence's
};

}  // namespace huepool::http
