#include "server/http/session.hpp"

#include <cstring>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include "server/http/router.hpp"

namespace huepool::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

Session::Session(net::ip::tcp::socket socket, ServerContext& ctx)
    : socket_(std::move(socket)),
      ctx_(ctx),
      registry_(ctx.registry),
      read_timer_(socket_.get_executor()),
      write_timer_(socket_.get_executor()) {
  beast::error_code ec;
  const auto ep = socket_.remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(net::ip::tcp::no_delay(true), ec);  // NDJSON lines must not wait for Nagle
}

Session::~Session() = default;

void Session::start() {
  registry_->add(this, weak_from_this());
  ctx_.metrics.connection_opened();
  if (ctx_.draining) draining_ = true;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(ctx_.config.max_header_bytes));
  parser_->body_limit(ctx_.config.max_body_bytes);
  process();
}

// ---- reading -------------------------------------------------------------

void Session::process() {
  while (!closed_ && !responded_) {
    switch (phase_) {
      case Phase::idle:
        if (buffer_.size() == 0) {
          if (draining_) {
            close_now();
            return;
          }
          set_read_deadline(first_request_ ? ctx_.config.header_timeout : ctx_.config.idle_timeout);
          do_read();
          return;
        }
        phase_ = Phase::header;
        request_start_ = clock::now();
        request_open_ = true;
        record_ = AccessRecord{};
        record_.remote = remote_;
        set_read_deadline(ctx_.config.header_timeout);
        [[fallthrough]];
      case Phase::header: {
        beast::error_code ec;
        const std::size_t used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        record_.bytes_in += used;
        if (ec == bhttp::error::need_more) {
          do_read();
          return;
        }
        if (ec) {
          on_header_error(ec);
          return;
        }
        on_header();
        break;
      }
      case Phase::body: {
        if (parser_->is_done()) {
          body_complete();
          break;
        }
        if (buffer_.size() == 0) {
          if (unsent_ > kHighWaterBytes) {
            read_paused_ = true;  // resumed by on_write
            clear_read_deadline();
            return;
          }
          set_read_deadline(ctx_.config.body_timeout);
          do_read();
          return;
        }
        beast::error_code ec;
        const std::size_t used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        record_.bytes_in += used;
        if (exchange_ && exchange_->failed()) {
          // The exchange has answered (or will end its stream); the rest of
          // the body is not read.
          phase_ = Phase::waiting;
          clear_read_deadline();
          return;
        }
        if (!ec && used == 0 && !parser_->is_done()) ec = bhttp::error::need_more;  // never spin
        if (ec == bhttp::error::need_more) {
          if (used > 0) continue;
          // The buffered bytes are an incomplete piece of framing (say, half
          // a chunk-size line): wait for more instead of re-parsing them.
          if (unsent_ > kHighWaterBytes) {
            read_paused_ = true;
            clear_read_deadline();
            return;
          }
          set_read_deadline(ctx_.config.body_timeout);
          do_read();
          return;
        }
        if (ec == bhttp::error::body_limit) {
          exchange_->fail(Problem{413, "body_too_large",
                                  "the body is larger than " + std::to_string(ctx_.config.max_body_bytes) + " bytes",
                                  {{"limit", ctx_.config.max_body_bytes}}, 0});
          phase_ = Phase::waiting;
          return;
        }
        if (ec) {
          exchange_->fail(Problem{400, "malformed_body", "bad body framing: " + ec.message(), {}, 0});
          phase_ = Phase::waiting;
          return;
        }
        break;
      }
      case Phase::waiting:
        // The response is being computed. Keep one bounded read open so a
        // client that resets the connection is noticed (its jobs get
        // cancelled); bytes read are kept for the next pipelined request.
        clear_read_deadline();
        if (!peer_eof_ && buffer_.size() < ctx_.config.max_header_bytes) do_read();
        return;
      case Phase::closing:
        return;
    }
  }
}

void Session::do_read() {
  if (reading_ || closed_) return;
  reading_ = true;
  // Reads land in read_buf_, never in buffer_: buffer_ is parsed and consumed
  // while a read is pending, which would invalidate a prepared region.
  socket_.async_read_some(net::buffer(read_buf_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void Session::on_read(beast::error_code ec, std::size_t n) {
  reading_ = false;
  if (closed_) return;
  if (ec) {
    on_read_error(ec);
    return;
  }
  if (phase_ == Phase::closing) {
    linger_bytes_ += n;
    if (linger_bytes_ > kMaxLingerBytes) close_now();
    else do_read();
    return;
  }
  const auto room = buffer_.prepare(n);
  std::memcpy(room.data(), read_buf_.data(), n);
  buffer_.commit(n);
  process();
}

void Session::on_read_error(beast::error_code ec) {
  if (ec == net::error::eof) {
    peer_eof_ = true;
    switch (phase_) {
      case Phase::waiting:
        return;  // a half-close after a complete request: answer, then close
      case Phase::body:
        if (exchange_) exchange_->abort();
        log_request(0, "client_gone");
        close_now();
        return;
      case Phase::header:
        log_request(0, "incomplete_header");
        break;
      default:
        break;
    }
    if (writing_ || !queue_.empty()) {  // an earlier response is still going out
      phase_ = Phase::closing;
      close_after_write_ = true;
      return;
    }
  }
  if (exchange_) exchange_->abort();
  close_now();
}

void Session::on_header_error(beast::error_code ec) {
  phase_ = Phase::waiting;
  clear_read_deadline();
  const std::string target = parser_->is_header_done() ? std::string(parser_->get().target()) : std::string();
  Problem p;
  if (ec == bhttp::error::header_limit) {
    p = Problem{431, "header_too_large",
                "the request header is larger than " + std::to_string(ctx_.config.max_header_bytes) + " bytes",
                {{"limit", ctx_.config.max_header_bytes}}, 0};
  } else if (ec == bhttp::error::body_limit) {
    p = Problem{413, "body_too_large",
                "the body is larger than " + std::to_string(ctx_.config.max_body_bytes) + " bytes",
                {{"limit", ctx_.config.max_body_bytes}}, 0};
  } else {
    p = Problem{400, "bad_request", "malformed HTTP request: " + ec.message(), {}, 0};
  }
  if (parser_->is_header_done()) {
    record_.method = std::string(parser_->get().method_string());
    record_.target = target;
  }
  respond_whole(serialize_problem(p, target, false), p.status, false, p.code);
}

void Session::on_header() {
  auto& req = parser_->get();
  const std::string_view target = req.target();
  record_.method = std::string(req.method_string());
  record_.target = std::string(target);
  const auto qpos = target.find('?');
  const std::string_view path = target.substr(0, qpos);
  const std::string_view query = qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
  const bool head_only = req.method() == bhttp::verb::head;
  const bool has_body = parser_->chunked() || parser_->content_length().value_or(0) > 0;
  bool keep = req.keep_alive() && !draining_;
  const Routed routed = route_request(req.method(), path);

  if (routed.route != Route::analyze) {
    keep = keep && !has_body;  // an unexpected body is not read: close after answering
    unsigned status = 0;
    std::string out = respond_operation(routed, OperationsView{ctx_.config, ctx_.pool, ctx_.metrics, ctx_.draining},
                                        target, keep, head_only, status);
    phase_ = Phase::waiting;
    clear_read_deadline();
    respond_whole(std::move(out), status, keep, status >= 400 ? (status == 404 ? "not_found" : "method_not_allowed") : "");
    return;
  }
  if (draining_) {
    Problem p{503, "shutting_down", "the server is shutting down", {}, 1};
    phase_ = Phase::waiting;
    respond_whole(serialize_problem(p, target, false), 503, false, p.code);
    return;
  }
  RequestHead head;
  head.target = std::string(target);
  head.query = std::string(query);
  head.content_type = std::string(req[bhttp::field::content_type]);
  if (const auto length = parser_->content_length()) head.content_length = *length;
  head.http11 = req.version() >= 11;
  head.keep_alive = keep;
  auto started = AnalyzeExchange::start(ExchangeContext{ctx_.pool, ctx_.config, ctx_.metrics}, *this,
                                        socket_.get_executor(), std::move(head));
  if (auto* problem = std::get_if<Problem>(&started)) {
    keep = keep && !has_body;
    phase_ = Phase::waiting;
    clear_read_deadline();
    respond_whole(serialize_problem(*problem, target, keep), problem->status, keep, problem->code);
    return;
  }
  exchange_ = std::get<std::shared_ptr<AnalyzeExchange>>(std::move(started));
  hold_ = shared_from_this();
  req.body().sink = exchange_.get();
  if (req.version() >= 11 && iequals(req[bhttp::field::expect], "100-continue")) send(std::string(kContinue));
  phase_ = Phase::body;
}

void Session::body_complete() {
  phase_ = Phase::waiting;
  clear_read_deadline();
  if (exchange_) exchange_->on_body_end();
}

// ---- responses -----------------------------------------------------------

void Session::respond_whole(std::string bytes, unsigned status, bool keep_alive, std::string error) {
  send(std::move(bytes));
  record_.error = std::move(error);
  response_done(status, keep_alive);
}

void Session::response_done(unsigned status, bool keep_alive) {
  if (closed_) return;
  responded_ = true;
  // The next request may be read only if this one's body was consumed.
  const bool body_consumed = parser_ && parser_->is_done();
  if (!keep_alive || !body_consumed || draining_ || peer_eof_) close_after_write_ = true;
  if (exchange_) {
    record_.mode = std::string(mode_name(exchange_->mode()));
    record_.images = exchange_->images();
    record_.failed = exchange_->results_failed();
    if (record_.error.empty()) record_.error = exchange_->problem_code();
  }
  log_request(status, record_.error);
  // Continue outside the caller's stack (it may be the exchange or process()).
  net::post(socket_.get_executor(), [self = shared_from_this()] { self->after_response(); });
}

void Session::after_response() {
  if (closed_) return;
  exchange_.reset();
  hold_.reset();
  responded_ = false;
  if (close_after_write_) {
    phase_ = Phase::closing;
    clear_read_deadline();
    if (!writing_ && queue_.empty()) start_linger();
    return;
  }
  first_request_ = false;
  phase_ = Phase::idle;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(ctx_.config.max_header_bytes));
  parser_->body_limit(ctx_.config.max_body_bytes);
  process();
}

void Session::log_request(unsigned status, std::string error) {
  if (!request_open_) return;
  request_open_ = false;
  if (status) ctx_.metrics.request_finished(status);
  if (!ctx_.config.access_log) return;
  record_.status = status;
  record_.error = std::move(error);
  record_.duration_ms = std::chrono::duration<double, std::milli>(clock::now() - request_start_).count();
  write_access_log(record_);
}

// ---- writing -------------------------------------------------------------

void Session::send(std::string bytes) {
  if (closed_ || bytes.empty()) return;
  unsent_ += bytes.size();
  record_.bytes_out += bytes.size();
  queue_.push_back(std::move(bytes));
  if (!writing_) do_write();
}

void Session::do_write() {
  inflight_.clear();
  buffers_.clear();
  while (!queue_.empty()) {
    inflight_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  for (const auto& s : inflight_) buffers_.emplace_back(net::buffer(s));
  writing_ = true;
  write_timer_.expires_after(ctx_.config.write_timeout);  // cancels the previous write's wait
  write_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    auto self = weak.lock();
    if (self && ec != net::error::operation_aborted) self->on_write_timer();
  });
  net::async_write(socket_, buffers_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
}

void Session::on_write_timer() {
  if (closed_ || !writing_) return;
  // The client has not taken our bytes for write_timeout: it is gone or
  // hostile. Nothing more can be delivered.
  if (exchange_) exchange_->abort();
  log_request(0, "write_timeout");
  close_now();
}

void Session::on_write(beast::error_code ec) {
  writing_ = false;
  std::size_t written = 0;
  for (const auto& s : inflight_) written += s.size();
  unsent_ -= written;
  inflight_.clear();
  buffers_.clear();
  if (closed_) return;
  write_timer_.cancel();
  if (ec) {
    if (exchange_) exchange_->abort();
    log_request(0, "client_gone");
    close_now();
    return;
  }
  if (!queue_.empty()) {
    do_write();
    return;
  }
  if (phase_ == Phase::closing && close_after_write_) {
    start_linger();
    return;
  }
  if (read_paused_ && unsent_ <= kLowWaterBytes) {
    read_paused_ = false;
    process();
  }
}

// ---- closing -------------------------------------------------------------

void Session::start_linger() {
  // Half-close, then read and drop what the client still sends for a short
  // while, so our response is not destroyed by a reset (lingering close).
  beast::error_code ec;
  socket_.shutdown(net::ip::tcp::socket::shutdown_send, ec);
  if (ec) {
    close_now();
    return;
  }
  buffer_.consume(buffer_.size());
  set_read_deadline(kLingerTimeout);
  do_read();
}

void Session::drain() {
  draining_ = true;
  if (phase_ == Phase::idle && buffer_.size() == 0 && !writing_ && queue_.empty()) close_now();
}

void Session::force_close() {
  draining_ = true;
  if (exchange_ && !exchange_->finished()) {
    exchange_->drain_expired();
    return;  // closes after the final bytes are written (bounded by write_timeout)
  }
  if (phase_ != Phase::waiting || !writing_) close_now();
}

void Session::close_now() {
  if (closed_) return;
  closed_ = true;
  if (exchange_ && !exchange_->finished()) exchange_->abort();
  log_request(0, phase_ == Phase::header ? "header_aborted" : "connection_closed");
  beast::error_code ec;
  socket_.shutdown(net::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  read_timer_.cancel();
  write_timer_.cancel();
  exchange_.reset();
  ctx_.metrics.connection_closed();
  registry_->remove(this);
  hold_.reset();  // may destroy this session: last statement
}

// ---- timers --------------------------------------------------------------

void Session::set_read_deadline(clock::duration d) {
  read_deadline_ = clock::now() + d;
  arm_read_timer();
}

void Session::arm_read_timer() {
  if (read_timer_armed_ && read_timer_.expiry() <= read_deadline_) return;  // fires early enough; rechecks then
  read_timer_armed_ = true;
  read_timer_.expires_at(read_deadline_);  // cancels an armed wait that would fire too late
  read_timer_.async_wait([weak = weak_from_this(), at = read_deadline_](beast::error_code ec) {
    auto self = weak.lock();
    if (!self || ec == net::error::operation_aborted) return;
    if (self->read_timer_.expiry() != at) return;  // superseded by a re-arm
    self->read_timer_armed_ = false;
    self->on_read_timer();
  });
}

void Session::on_read_timer() {
  if (closed_ || read_deadline_ == clock::time_point::max()) return;
  if (clock::now() < read_deadline_) {
    arm_read_timer();  // the deadline moved later while we waited
    return;
  }
  on_read_timeout();
}

void Session::on_read_timeout() {
  clear_read_deadline();
  switch (phase_) {
    case Phase::idle:
      close_now();  // an idle keep-alive connection, or one that never sent a byte
      return;
    case Phase::header: {
      phase_ = Phase::waiting;
      Problem p{408, "header_timeout", "the request header did not arrive in time", {}, 0};
      respond_whole(serialize_problem(p, "", false), 408, false, p.code);
      return;
    }
    case Phase::body:
      phase_ = Phase::waiting;
      if (exchange_)
        exchange_->fail(Problem{408, "body_timeout", "the request body stalled for longer than the body timeout",
                                {}, 0});
      return;
    case Phase::waiting:
      return;
    case Phase::closing:
      close_now();
      return;
  }
}

}  // namespace huepool::http
