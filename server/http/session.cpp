#include "server/http/session.hpp"

#include <cstring>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include "server/http/analyze_admission.hpp"
#include "server/http/analyze_exchange.hpp"
#include "server/http/request_failure.hpp"
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
  if (!ec) {
    client_ = ep.address().to_string();
    remote_ = client_ + ":" + std::to_string(ep.port());
  }
  socket_.set_option(net::ip::tcp::no_delay(true), ec);  // NDJSON lines must not wait for Nagle
}

Session::~Session() = default;

void Session::start() {
  registry_->add(this, weak_from_this(), client_);
  ctx_.metrics.connection_opened();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(ctx_.config.max_header_bytes));
  parser_->body_limit(ctx_.config.max_body_bytes);
  const std::size_t per_client = ctx_.config.max_connections_per_client;
  if (per_client != 0 && registry_->count_for(client_) > per_client) {
    // Refused before reading anything: answer, then close (lingering, so
    // the answer is not lost to a reset from the unread request).
    phase_ = Phase::waiting;
    request_start_ = clock::now();
    record_.emplace().remote = remote_;
    respond_whole(failure_response(RequestFailure::connection_limit, ctx_.config, {}, ""));
    return;
  }
  process();
}

// ---- reading -------------------------------------------------------------

void Session::process() {
  while (!closed() && !responded_) {
    switch (phase_) {
      case Phase::idle:
        if (buffer_.size() == 0) {
          if (ctx_.draining) {
            close_now();
            return;
          }
          set_read_deadline(first_request_ ? ctx_.config.header_timeout : ctx_.config.idle_timeout);
          do_read();
          return;
        }
        phase_ = Phase::header;
        request_start_ = clock::now();
        record_.emplace().remote = remote_;
        set_read_deadline(ctx_.config.header_timeout);
        [[fallthrough]];
      case Phase::header: {
        beast::error_code ec;
        const std::size_t used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        count_in(used);
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
          read_body();
          return;
        }
        beast::error_code ec;
        const std::size_t used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        count_in(used);
        if (ec == net::error::operation_aborted) {
          // The upload refused more: it has answered, or will end its stream;
          // the rest of the body is not read.
          phase_ = Phase::waiting;
          clear_read_deadline();
          return;
        }
        if (!ec && used == 0 && !parser_->is_done()) ec = bhttp::error::need_more;  // never spin
        if (ec == bhttp::error::need_more) {
          if (used > 0) continue;
          // The buffered bytes are an incomplete piece of framing (say, half
          // a chunk-size line): wait for more instead of re-parsing them.
          read_body();
          return;
        }
        if (ec) {
          upload_->on_failure(
              ec == bhttp::error::body_limit ? RequestFailure::body_too_large : RequestFailure::body_malformed,
              ec.message());
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

void Session::read_body() {
  if (unsent_ > kHighWaterBytes) {
    read_paused_ = true;  // resumed by on_write
    body_paused_at_ = clock::now();
    clear_read_deadline();
    return;
  }
  set_body_read_deadline();
  do_read();
}

void Session::do_read() {
  if (reading_ || closed()) return;
  reading_ = true;
  // Reads land in read_buf_, never in buffer_: buffer_ is parsed and consumed
  // while a read is pending, which would invalidate a prepared region.
  socket_.async_read_some(net::buffer(read_buf_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->on_read(ec, n); });
}

void Session::on_read(beast::error_code ec, std::size_t n) {
  reading_ = false;
  if (closed()) return;
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
        if (upload_) upload_->on_failure(RequestFailure::client_gone, {});
        log_request(0, "client_gone");
        close_now();
        return;
      case Phase::header:
        log_request(0, "incomplete_header");
        break;
      default:
        break;
    }
    if (writing() || !queue_.empty()) {  // an earlier response is still going out
      phase_ = Phase::closing;
      close_after_write_ = true;
      return;
    }
  }
  if (upload_) upload_->on_failure(RequestFailure::client_gone, {});
  close_now();
}

void Session::on_header_error(beast::error_code ec) {
  phase_ = Phase::waiting;
  clear_read_deadline();
  std::string target;
  if (parser_->is_header_done()) {
    target = std::string(parser_->get().target());
    record_->method = std::string(parser_->get().method_string());
    record_->target = target;
  }
  const RequestFailure failure = ec == bhttp::error::header_limit ? RequestFailure::header_too_large
                                 : ec == bhttp::error::body_limit ? RequestFailure::body_too_large
                                                                  : RequestFailure::header_malformed;
  respond_whole(failure_response(failure, ctx_.config, ec.message(), target));
}

void Session::on_header() {
  auto& req = parser_->get();
  const std::string_view target = req.target();
  record_->method = std::string(req.method_string());
  record_->target = std::string(target);
  const auto qpos = target.find('?');
  const std::string_view path = target.substr(0, qpos);
  const bool has_body = parser_->chunked() || parser_->content_length().value_or(0) > 0;
  const bool keep = req.keep_alive() && !ctx_.draining;
  // An unexpected or refused body is not read: close after answering.
  const bool keep_unless_body = keep && !has_body;
  const Routed routed = route_request(req.method(), path);
  const auto stats = ctx_.pool.stats();

  if (routed.route != Route::analyze) {
    phase_ = Phase::waiting;
    clear_read_deadline();
    const OperationsView view{ctx_.config, stats, ctx_.pool.ready(), ctx_.metrics, ctx_.draining};
    respond_whole(respond_operation(routed, view, target, keep_unless_body, req.method() == bhttp::verb::head));
    return;
  }
  RequestHead head;
  head.target = std::string(target);
  head.query = std::string(qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1));
  head.content_type = std::string(req[bhttp::field::content_type]);
  head.content_length = parser_->content_length() ? std::optional(*parser_->content_length()) : std::nullopt;
  head.http11 = req.version() >= 11;
  head.keep_alive = keep;
  auto admitted = admit_analyze(head, ctx_.config, ServiceState{stats.queued, stats.workers, ctx_.draining});
  if (auto* problem = std::get_if<Problem>(&admitted)) {
    phase_ = Phase::waiting;
    clear_read_deadline();
    respond_whole(problem_response(*problem, target, keep_unless_body));
    return;
  }
  upload_ = AnalyzeExchange::start(ExchangeContext{ctx_.pool, ctx_.config, ctx_.metrics}, *this, head,
                                   std::get<AnalyzePlan>(std::move(admitted)));
  hold_ = shared_from_this();
  req.body().sink = upload_.get();
  body_clock_start_ = clock::now();
  if (req.version() >= 11 && iequals(req[bhttp::field::expect], "100-continue")) send(std::string(kContinue));
  phase_ = Phase::body;
}

void Session::body_complete() {
  phase_ = Phase::waiting;
  clear_read_deadline();
  if (upload_) upload_->on_body_end();
}

// ---- responses -----------------------------------------------------------

void Session::respond_whole(WholeResponse response) {
  send(std::move(response.bytes));
  response_done(std::move(response.summary));
}

void Session::response_done(ResponseSummary summary) {
  if (closed()) return;
  responded_ = true;
  // The next request may be read only if this one's body was consumed.
  const bool body_consumed = parser_ && parser_->is_done();
  if (!summary.keep_alive || !body_consumed || ctx_.draining || peer_eof_) close_after_write_ = true;
  log_request(summary.status, std::move(summary.error), std::move(summary.upload));
  // Continue outside the caller's stack (it may be the exchange or process()).
  net::post(socket_.get_executor(), [self = shared_from_this()] { self->after_response(); });
}

void Session::after_response() {
  if (closed()) return;
  upload_.reset();
  hold_.reset();
  responded_ = false;
  if (close_after_write_) {
    phase_ = Phase::closing;
    clear_read_deadline();
    if (!writing() && queue_.empty()) start_linger();
    return;
  }
  first_request_ = false;
  phase_ = Phase::idle;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(ctx_.config.max_header_bytes));
  parser_->body_limit(ctx_.config.max_body_bytes);
  process();
}

void Session::log_request(unsigned status, std::string error, std::optional<UploadSummary> upload) {
  if (!record_) return;
  AccessRecord record = *std::exchange(record_, std::nullopt);
  if (status) ctx_.metrics.request_finished(status);
  if (!ctx_.config.access_log) return;
  record.status = status;
  record.error = std::move(error);
  if (upload) {
    record.mode = std::move(upload->mode);
    record.images = upload->images;
    record.failed = upload->failed;
  }
  record.duration_ms = std::chrono::duration<double, std::milli>(clock::now() - request_start_).count();
  write_access_log(record);
}

// ---- writing -------------------------------------------------------------

void Session::send(std::string bytes) {
  if (closed() || bytes.empty()) return;
  unsent_ += bytes.size();
  if (record_) record_->bytes_out += bytes.size();
  queue_.push_back(std::move(bytes));
  if (!writing()) do_write();
}

void Session::do_write() {
  inflight_.clear();
  buffers_.clear();
  while (!queue_.empty()) {
    inflight_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  for (const auto& s : inflight_) buffers_.emplace_back(net::buffer(s));
  write_timer_.expires_after(ctx_.config.write_timeout);  // cancels the previous write's wait
  write_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    auto self = weak.lock();
    if (self && ec != net::error::operation_aborted) self->on_write_timer();
  });
  net::async_write(socket_, buffers_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
}

void Session::on_write_timer() {
  if (closed() || !writing()) return;
  // The client has not taken our bytes for write_timeout: it is gone or
  // hostile. Nothing more can be delivered.
  if (upload_) upload_->on_failure(RequestFailure::client_gone, {});
  log_request(0, "write_timeout");
  close_now();
}

void Session::on_write(beast::error_code ec) {
  std::size_t written = 0;
  for (const auto& s : inflight_) written += s.size();
  unsent_ -= written;
  inflight_.clear();
  buffers_.clear();
  if (closed()) return;
  write_timer_.cancel();
  if (ec) {
    if (upload_) upload_->on_failure(RequestFailure::client_gone, {});
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
    body_clock_start_ += clock::now() - body_paused_at_;  // our backpressure is not the client's slowness
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
  if (phase_ == Phase::idle && buffer_.size() == 0 && !writing() && queue_.empty()) close_now();
}

void Session::force_close() {
  if (upload_ && !responded_) {
    upload_->on_failure(RequestFailure::drain_expired, {});
    return;  // closes after the final bytes are written (bounded by write_timeout)
  }
  if (phase_ != Phase::waiting || !writing()) close_now();
}

void Session::close_now() {
  if (closed()) return;
  beast::error_code ec;
  socket_.shutdown(net::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  if (upload_) upload_->on_failure(RequestFailure::client_gone, {});
  log_request(0, phase_ == Phase::header ? "header_aborted" : "connection_closed");
  read_timer_.cancel();
  write_timer_.cancel();
  upload_.reset();
  ctx_.metrics.connection_closed();
  registry_->remove(this);
  hold_.reset();  // may destroy this session: last statement
}

// ---- timers --------------------------------------------------------------

void Session::set_read_deadline(clock::duration d) {
  read_deadline_ = clock::now() + d;
  arm_read_timer();
}

void Session::set_body_read_deadline() {
  const clock::time_point silence = clock::now() + ctx_.config.body_timeout;
  body_deadline_is_rate_ = false;
  read_deadline_ = silence;
  if (const std::uint64_t rate = ctx_.config.min_upload_rate; rate != 0 && parser_) {
    const std::uint64_t received = parser_->get().body().bytes;
    const auto allowance = std::chrono::duration_cast<clock::duration>(
        std::chrono::duration<double>(static_cast<double>(received) / static_cast<double>(rate)));
    const clock::time_point rate_deadline = body_clock_start_ + ctx_.config.body_timeout + allowance;
    if (rate_deadline < silence) {
      read_deadline_ = rate_deadline;
      body_deadline_is_rate_ = true;
    }
  }
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
  if (closed() || read_deadline_ == clock::time_point::max()) return;
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
    case Phase::header:
      phase_ = Phase::waiting;
      respond_whole(failure_response(RequestFailure::header_stalled, ctx_.config, {}, ""));
      return;
    case Phase::body:
      phase_ = Phase::waiting;
      if (upload_)
        upload_->on_failure(body_deadline_is_rate_ ? RequestFailure::body_too_slow : RequestFailure::body_stalled, {});
      return;
    case Phase::waiting:
      return;
    case Phase::closing:
      close_now();
      return;
  }
}

}  // namespace huepool::http
