// WorkerPool: the supervisor. A table of worker slots with explicit states,
// one FIFO job queue, a SIGCHLD-driven reaper, per-slot timers for the
// handshake, the job deadline, recycling and respawn back-off.
//
// Slot life (one process at a time per slot):
//   empty --spawn--> starting --ready--> idle <--> busy
//   starting|idle|busy --(EOF, crash, deadline, recycle, shutdown)--> stopping
//   stopping --reaped--> respawn (starting) | empty (shutdown or back-off) | disabled
// A slot's job ends exactly once: with `timeout` when the deadline kills its
// worker; when the process is reaped holding it, the job goes back to the head
// of the queue for one more attempt on a fresh worker (an external kill or the
// OOM killer costs latency, not a result), and a second death fails it with
// `worker_crashed` (an image that kills workers is reported, not retried on).
#include "server/pool/worker_pool.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <system_error>
#include <thread>
#include <variant>

#include "proto/frame_socket.hpp"
#include "proto/messages.hpp"
#include "server/pool/worker_spawner.hpp"
#include "worker/worker_loop.hpp"

namespace huepool::pool {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::milliseconds kHandshakeTimeout{5000};
constexpr std::chrono::milliseconds kRecycleGrace{2000};  // recycled worker: EOF, then SIGKILL
constexpr std::chrono::milliseconds kStopGrace{2000};     // shutdown: EOF, then SIGTERM
constexpr std::chrono::milliseconds kKillGrace{1000};     // shutdown: SIGTERM, then SIGKILL
constexpr unsigned kMaxStartFailures = 5;                 // in a row, then the slot is disabled
constexpr std::chrono::milliseconds kBackoffBase{100};
constexpr std::chrono::milliseconds kBackoffMax{5000};
constexpr unsigned kMaxAttempts = 2;                      // a job whose worker died runs once more

enum class SlotState { empty, starting, idle, busy, stopping, disabled };

struct Job {
  WorkerPool::JobId id = 0;
  proto::ImagePayload payload;
  AnalyzeOptions options;
  WorkerPool::Completion done;
  Clock::time_point dispatched{};
  bool discard = false;  // cancelled while running: finish, deliver nothing
  unsigned attempts = 0;      // workers it was sent to
  std::string first_failure;  // how the first of them died, when it did
};

struct Slot {
  Slot(asio::io_context& io, unsigned i) : index(i), timer(io) {}
  unsigned index;
  SlotState state = SlotState::empty;
  pid_t pid = 0;                // non-zero from spawn until reaped
  std::uint64_t generation = 0; // bumped per spawn; handlers of an older process compare it
  std::uint64_t timer_seq = 0;  // bumped per arm/cancel; a queued stale expiry compares it
  std::unique_ptr<asio::posix::stream_descriptor> socket;
  proto::FrameReceiver rx;
  std::vector<std::uint8_t> out;
  std::size_t out_sent = 0;
  bool fd_pending = false;      // the job's memfd still has to ride on the next send
  bool reading = false;
  bool writing = false;
  std::optional<Job> job;
  bool ever_ready = false;      // this process finished its handshake
  unsigned jobs_sent = 0;       // by this process
  unsigned jobs_done = 0;       // answered by this process
  unsigned start_failures = 0;  // in a row: reset by a worker's first answer
  asio::steady_timer timer;
};

bool exited_with(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = ::sigabbrev_np(sig);
    return "worker killed by signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
  }
  if (exited_with(status, worker::kExitSetupFailed)) return "worker could not set itself up (arguments or sandbox)";
  if (exited_with(status, worker::kExitProtocolError)) return "worker saw a protocol error or lost its socket";
  if (WIFEXITED(status)) return "worker exited with status " + std::to_string(WEXITSTATUS(status));
  return "worker ended";
}

}  // namespace

class WorkerPool::Impl {
 public:
  Impl(asio::io_context& io, PoolConfig config) : io_(io), config_(std::move(config)), sigchld_(io, SIGCHLD), stop_timer_(io) {
    if (config_.workers == 0) config_.workers = std::max(1u, std::thread::hardware_concurrency());
    if (config_.worker_executable.empty()) config_.worker_executable = "/proc/self/exe";
    wait_sigchld();
    slots_.reserve(config_.workers);
    for (unsigned i = 0; i < config_.workers; ++i) slots_.push_back(std::make_unique<Slot>(io_, i));
    for (auto& s : slots_) spawn(*s);
  }

  ~Impl() {
    alive_.reset();  // from here on no pending handler touches this object
    for (auto& s : slots_)
      if (s->pid > 0) ::kill(s->pid, SIGKILL);
    // Bounded: every remaining worker was just sent SIGKILL.
    for (auto& s : slots_)
      if (s->pid > 0)
        while (::waitpid(s->pid, nullptr, 0) < 0 && errno == EINTR) {
        }
  }

  JobId submit(proto::ImagePayload image, AnalyzeOptions options, Completion done) {
    if (shutting_down_ || queue_.size() >= config_.max_queued_jobs) return 0;
    Job job;
    job.id = next_id_++;
    job.options = options;
    job.done = std::move(done);
    const JobId id = job.id;
    if (!image.is_fd() && image.size() > proto::kInlinePayloadMax) {
      // Too big for a frame: one copy into a memfd, then it crosses as an fd.
      try {
        image = proto::ImagePayload::from_span(image.inline_bytes(), proto::kInlinePayloadMax);
      } catch (const std::system_error& e) {
        deliver(std::move(job), {ImageError{ErrorCode::internal, e.what()}}, 0);
        return id;
      }
    }
    job.payload = std::move(image);
    if (all_disabled()) {
      deliver(std::move(job), {ImageError{ErrorCode::internal, "no worker could be started"}}, 0);
      return id;
    }
    queue_.push_back(std::move(job));
    dispatch();
    return id;
  }

  bool cancel(JobId id) {
    auto it = std::find_if(queue_.begin(), queue_.end(), [id](const Job& j) { return j.id == id; });
    if (it != queue_.end()) {
      queue_.erase(it);
      maybe_stop_workers();
      return true;
    }
    for (auto& s : slots_)
      if (s->job && s->job->id == id) {
        s->job->discard = true;
        return true;
      }
    return false;
  }

  bool ready() const {
    return std::all_of(slots_.begin(), slots_.end(), [](const auto& s) {
      return s->state == SlotState::idle || s->state == SlotState::busy;
    });
  }

  PoolStats stats() const {
    PoolStats st;
    st.workers = config_.workers;
    for (const auto& s : slots_) {
      if (s->state == SlotState::idle || s->state == SlotState::busy) ++st.live;
      if (s->state == SlotState::busy) ++st.busy;
    }
    st.queued = queue_.size();
    st.restarts = restarts_;
    st.retries = retries_;
    st.completed = completed_;
    return st;
  }

  std::vector<int> worker_pids() const {
    std::vector<int> pids;
    for (const auto& s : slots_)
      if (s->state == SlotState::idle || s->state == SlotState::busy) pids.push_back(s->pid);
    return pids;
  }

  int worker_of(JobId id) const {
    for (const auto& s : slots_)
      if (s->job && s->job->id == id) return s->pid;
    return 0;
  }

  void shutdown(std::function<void()> stopped) {
    if (shutting_down_) return;
    shutting_down_ = true;
    stopped_ = std::move(stopped);
    maybe_stop_workers();
  }

  const PoolConfig& config() const { return config_; }
  asio::io_context& io() const { return io_; }

 private:
  // Wraps a handler so it does nothing once the pool is gone.
  template <class F>
  auto guarded(F f) {
    return [alive = std::weak_ptr<int>(alive_), f = std::move(f)](auto&&... args) mutable {
      if (alive.expired()) return;
      f(std::forward<decltype(args)>(args)...);
    };
  }

  template <class F>
  void arm_timer(Slot& s, Clock::duration d, F on_expiry) {
    const std::uint64_t seq = ++s.timer_seq;
    s.timer.expires_after(d);
    s.timer.async_wait(guarded([this, &s, seq, on_expiry](const boost::system::error_code& ec) mutable {
      if (ec || s.timer_seq != seq) return;
      on_expiry();
    }));
  }

  void cancel_timer(Slot& s) {
    ++s.timer_seq;
    s.timer.cancel();
  }

  bool all_disabled() const {
    return std::all_of(slots_.begin(), slots_.end(),
                       [](const auto& s) { return s->state == SlotState::disabled; });
  }

  // ---- spawning and handshake ----

  void spawn(Slot& s) {
    auto spawned = spawn_worker({config_.worker_executable, config_.worker_memory_limit, cpu_seconds_per_job()});
    if (auto* err = std::get_if<std::string>(&spawned)) {
      std::fprintf(stderr, "huepool pool: slot %u: %s\n", s.index, err->c_str());
      on_start_failure(s);
      return;
    }
    auto& w = std::get<SpawnedWorker>(spawned);
    s.pid = w.pid;
    ++s.generation;
    s.socket = std::make_unique<asio::posix::stream_descriptor>(io_, w.socket.release());
    s.rx = proto::FrameReceiver();
    s.state = SlotState::starting;
    s.ever_ready = false;
    s.jobs_sent = 0;
    s.jobs_done = 0;
    start_read(s);
    arm_timer(s, kHandshakeTimeout, [this, &s] {
      std::fprintf(stderr, "huepool pool: slot %u: worker %d sent no ready in time\n", s.index, s.pid);
      kill_worker(s);
    });
  }

  // A backstop for the deadline, never ahead of it: a single-threaded worker
  // cannot use more CPU than wall-clock time, so this only fires (SIGXCPU) if
  // the deadline timer itself failed to.
  unsigned cpu_seconds_per_job() const {
    return static_cast<unsigned>(std::chrono::ceil<std::chrono::seconds>(config_.job_timeout).count()) + 1;
  }

  void on_start_failure(Slot& s) {
    s.state = SlotState::empty;
    if (stopping_workers_) return;
    if (++s.start_failures >= kMaxStartFailures) {
      std::fprintf(stderr, "huepool pool: slot %u: %u start-up failures in a row, giving up\n", s.index,
                   s.start_failures);
      disable(s);
      return;
    }
    const auto backoff = std::min<Clock::duration>(kBackoffBase * (1u << (s.start_failures - 1)), kBackoffMax);
    arm_timer(s, backoff, [this, &s] {
      ++restarts_;
      spawn(s);
    });
  }

  void disable(Slot& s) {
    s.state = SlotState::disabled;
    if (all_disabled()) fail_queue("no worker could be started");
  }

  void on_ready(Slot& s, std::span<const std::uint8_t> body) {
    proto::ReadyMessage m;
    if (auto err = proto::parse_ready(body, m)) return protocol_violation(s, *err);
    if (static_cast<pid_t>(m.pid) != s.pid) return protocol_violation(s, "ready from another pid");
    cancel_timer(s);
    s.state = SlotState::idle;
    s.ever_ready = true;
    dispatch();
  }

  // ---- dispatch and I/O ----

  void dispatch() {
    while (!queue_.empty()) {
      auto it = std::find_if(slots_.begin(), slots_.end(),
                             [](const auto& s) { return s->state == SlotState::idle; });
      if (it == slots_.end()) return;
      Job job = std::move(queue_.front());
      queue_.pop_front();
      send_job(**it, std::move(job));
    }
  }

  void send_job(Slot& s, Job job) {
    proto::JobMessage m;
    m.job_id = job.id;
    m.options = job.options;
    m.limits = config_.decode_limits;
    m.payload_size = job.payload.size();
    if (job.payload.is_fd()) {
      m.payload_kind = proto::PayloadKind::fd;
    } else {
      m.payload_kind = proto::PayloadKind::inline_bytes;
      m.inline_bytes = job.payload.inline_bytes();
    }
    s.out.clear();
    s.out_sent = 0;
    proto::encode_job(s.out, m);
    s.fd_pending = job.payload.is_fd();
    if (job.attempts == 0) job.dispatched = Clock::now();  // a retry's latency counts from the first
    s.job = std::move(job);
    s.state = SlotState::busy;
    ++s.job->attempts;
    ++s.jobs_sent;
    arm_timer(s, config_.job_timeout, [this, &s] { on_deadline(s); });
    flush(s);
  }

  void flush(Slot& s) {
    if (s.writing || !s.socket) return;
    while (s.out_sent < s.out.size()) {
      const int fd = s.fd_pending && s.job ? s.job->payload.fd() : -1;
      const ssize_t n = proto::send_some(s.socket->native_handle(),
                                         std::span(s.out).subspan(s.out_sent), fd);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          s.writing = true;
          s.socket->async_wait(asio::posix::stream_descriptor::wait_write,
                               guarded([this, &s, gen = s.generation](const boost::system::error_code& ec) {
                                 if (s.generation != gen) return;
                                 s.writing = false;
                                 if (!ec) flush(s);
                               }));
          return;
        }
        return worker_lost(s, "send failed");
      }
      s.fd_pending = false;
      s.out_sent += static_cast<std::size_t>(n);
    }
    // The payload stays with the job until it is answered: a retry sends it again.
  }

  void start_read(Slot& s) {
    if (s.reading || !s.socket) return;
    s.reading = true;
    s.socket->async_wait(asio::posix::stream_descriptor::wait_read,
                         guarded([this, &s, gen = s.generation](const boost::system::error_code& ec) {
                           if (s.generation != gen) return;
                           s.reading = false;
                           if (!ec) on_readable(s);
                         }));
  }

  void on_readable(Slot& s) {
    const std::uint64_t gen = s.generation;
    for (;;) {
      if (!s.socket || s.generation != gen) return;
      const auto st = s.rx.read_some(s.socket->native_handle());
      if (st == proto::FrameReceiver::ReadStatus::would_block) break;
      if (st != proto::FrameReceiver::ReadStatus::data) return worker_lost(s, "socket closed");
      if (s.rx.queued_fds() != 0) return protocol_violation(s, "worker sent a file descriptor");
      for (;;) {
        const proto::FrameDecode f = s.rx.next();
        if (f.status == proto::DecodeStatus::need_more) break;
        if (f.status == proto::DecodeStatus::malformed) return protocol_violation(s, f.error);
        handle_frame(s, f);
        if (!s.socket || s.generation != gen) return;
        s.rx.consume(f.consumed);
      }
    }
    start_read(s);
  }

  void handle_frame(Slot& s, const proto::FrameDecode& f) {
    if (s.state == SlotState::starting) {
      if (f.type != proto::MessageType::ready) return protocol_violation(s, "expected ready");
      return on_ready(s, f.body);
    }
    if (s.state != SlotState::busy || !s.job) return protocol_violation(s, "message while idle");
    if (f.type == proto::MessageType::result) {
      proto::ResultMessage m;
      if (auto err = proto::parse_result(f.body, m)) return protocol_violation(s, *err);
      if (m.job_id != s.job->id) return protocol_violation(s, "result for another job");
      return on_answer(s, std::move(m.analysis), m.worker_us / 1000.0);
    }
    if (f.type == proto::MessageType::error) {
      proto::ErrorMessage m;
      if (auto err = proto::parse_error(f.body, m)) return protocol_violation(s, *err);
      if (m.job_id != s.job->id) return protocol_violation(s, "error for another job");
      return on_answer(s, std::move(m.error));
    }
    protocol_violation(s, "unexpected message type");
  }

  void on_answer(Slot& s, AnalysisOutcome outcome, double worker_ms = 0.0) {
    finish_job(s, std::move(outcome), worker_ms);
    ++completed_;
    ++s.jobs_done;
    s.start_failures = 0;
    if (config_.max_jobs_per_worker != 0 && s.jobs_done >= config_.max_jobs_per_worker) {
      retire(s);
    } else {
      s.state = SlotState::idle;
      dispatch();
    }
    maybe_stop_workers();
  }

  // ---- ending workers ----

  void finish_job(Slot& s, AnalysisOutcome outcome, double worker_ms = 0.0) {
    cancel_timer(s);
    Job job = std::move(*s.job);
    s.job.reset();
    JobResult r{std::move(outcome), s.pid, 0.0, job.dispatched, Clock::now(), worker_ms};
    r.elapsed_ms = std::chrono::duration<double, std::milli>(r.finished - r.dispatched).count();
    deliver(std::move(job), std::move(r), s.pid);
  }

  // Completions are posted, never called from inside pool code, so a callback
  // may submit, cancel or even destroy the pool.
  void deliver(Job job, JobResult result, int pid) {
    result.worker_pid = pid;
    if (job.discard || !job.done) return;
    asio::post(io_, guarded([done = std::move(job.done), r = std::move(result)]() mutable { done(std::move(r)); }));
  }

  void on_deadline(Slot& s) {
    if (s.state != SlotState::busy || !s.job) return;
    finish_job(s, ImageError{ErrorCode::timeout, "image took longer than " +
                                                    std::to_string(config_.job_timeout.count()) + " ms"});
    kill_worker(s);
    maybe_stop_workers();
  }

  void protocol_violation(Slot& s, const std::string& why) {
    std::fprintf(stderr, "huepool pool: slot %u: worker %d: protocol error: %s\n", s.index, s.pid, why.c_str());
    kill_worker(s);
  }

  // The worker's socket failed: the job (if any) fails when the process is reaped.
  void worker_lost(Slot& s, const char* why) {
    std::fprintf(stderr, "huepool pool: slot %u: worker %d lost: %s\n", s.index, s.pid, why);
    kill_worker(s);
  }

  void kill_worker(Slot& s) {
    // Safe from pid reuse: until we reap it, the pid stays ours (a zombie at worst).
    if (s.pid > 0) ::kill(s.pid, SIGKILL);
    close_socket(s);
    s.state = SlotState::stopping;
  }

  // Recycling: close our end, the worker sees EOF and exits; SIGKILL if it dawdles.
  void retire(Slot& s) {
    close_socket(s);
    s.state = SlotState::stopping;
    arm_timer(s, kRecycleGrace, [&s] {
      if (s.pid > 0) ::kill(s.pid, SIGKILL);
    });
  }

  void close_socket(Slot& s) {
    s.socket.reset();  // closes the fd and aborts its pending waits
    s.reading = s.writing = false;
    s.rx = proto::FrameReceiver();
    s.out.clear();
    s.out_sent = 0;
  }

  void wait_sigchld() {
    sigchld_.async_wait(guarded([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      reap();
      wait_sigchld();
    }));
  }

  // Only our own pids: other children of the process are not ours to reap.
  void reap() {
    for (auto& s : slots_) {
      if (s->pid <= 0) continue;
      int status = 0;
      const pid_t r = ::waitpid(s->pid, &status, WNOHANG);
      if (r == s->pid || (r < 0 && errno == ECHILD)) on_reaped(*s, status);
    }
  }

  void on_reaped(Slot& s, int status) {
    close_socket(s);
    cancel_timer(s);
    if (s.job) retry_or_fail(s, describe_exit(status));
    s.pid = 0;
    if (stopping_workers_) {
      s.state = SlotState::empty;
      check_all_stopped();
      return;
    }
    // A worker that cannot set itself up fails the same way every time:
    // respawning it would only loop.
    if (exited_with(status, worker::kExitSetupFailed)) {
      std::fprintf(stderr, "huepool pool: slot %u: %s; not respawning it\n", s.index, describe_exit(status).c_str());
      disable(s);
      maybe_stop_workers();
      return;
    }
    // Dying before the handshake, or idle before its first job, is the worker's
    // own fault (binary, environment, limits), not an image's: back off.
    if (!s.ever_ready || s.jobs_sent == 0) {
      std::fprintf(stderr, "huepool pool: slot %u: worker failed at start-up: %s\n", s.index,
                   describe_exit(status).c_str());
      on_start_failure(s);
    } else {
      ++restarts_;
      spawn(s);
    }
    maybe_stop_workers();
  }

  // The worker died holding the job (a timeout never gets here: the deadline
  // ends the job before it kills). Whatever killed it, the image gets one more
  // worker; only a second death is reported, naming both.
  void retry_or_fail(Slot& s, std::string death) {
    if (s.job->attempts >= kMaxAttempts || s.job->discard) {
      std::string message = std::move(death);
      if (!s.job->first_failure.empty())
        message += message == s.job->first_failure ? ", on both attempts"
                                                    : " (first attempt: " + s.job->first_failure + ")";
      finish_job(s, ImageError{ErrorCode::worker_crashed, std::move(message)});
      return;
    }
    Job job = std::move(*s.job);
    s.job.reset();
    job.first_failure = std::move(death);
    ++retries_;
    // Ahead of everything queued: it was dispatched before any of them.
    queue_.push_front(std::move(job));
    dispatch();
  }

  void fail_queue(const char* why) {
    while (!queue_.empty()) {
      Job job = std::move(queue_.front());
      queue_.pop_front();
      deliver(std::move(job), {ImageError{ErrorCode::internal, why}}, 0);
    }
    maybe_stop_workers();
  }

  // ---- shutdown ----

  void maybe_stop_workers() {
    if (!shutting_down_ || stopping_workers_) return;
    if (!queue_.empty()) return;
    if (std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->job.has_value(); })) return;
    stopping_workers_ = true;
    for (auto& s : slots_) {
      cancel_timer(*s);
      if (s->pid > 0) {
        close_socket(*s);  // the polite ask: EOF
        s->state = SlotState::stopping;
      } else if (s->state != SlotState::disabled) {
        s->state = SlotState::empty;
      }
    }
    stop_timer_.expires_after(kStopGrace);
    stop_timer_.async_wait(guarded([this](const boost::system::error_code& ec) {
      if (ec) return;
      signal_all(SIGTERM);
      stop_timer_.expires_after(kKillGrace);
      stop_timer_.async_wait(guarded([this](const boost::system::error_code& ec2) {
        if (!ec2) signal_all(SIGKILL);
      }));
    }));
    check_all_stopped();
  }

  void signal_all(int sig) {
    for (auto& s : slots_)
      if (s->pid > 0) ::kill(s->pid, sig);
  }

  void check_all_stopped() {
    if (!stopping_workers_ || stop_reported_) return;
    if (std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->pid > 0; })) return;
    stop_reported_ = true;
    stop_timer_.cancel();
    if (stopped_) asio::post(io_, guarded([this] { if (stopped_) stopped_(); }));
  }

  asio::io_context& io_;
  PoolConfig config_;
  asio::signal_set sigchld_;
  asio::steady_timer stop_timer_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::deque<Job> queue_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  JobId next_id_ = 1;
  std::uint64_t restarts_ = 0;
  std::uint64_t retries_ = 0;
  std::uint64_t completed_ = 0;
  bool shutting_down_ = false;
  bool stopping_workers_ = false;
  bool stop_reported_ = false;
  std::function<void()> stopped_;
};

WorkerPool::WorkerPool(asio::io_context& io, PoolConfig config)
    : impl_(std::make_unique<Impl>(io, std::move(config))) {}
WorkerPool::~WorkerPool() = default;

WorkerPool::JobId WorkerPool::submit(proto::ImagePayload image, AnalyzeOptions options, Completion done) {
  return impl_->submit(std::move(image), options, std::move(done));
}
bool WorkerPool::cancel(JobId id) { return impl_->cancel(id); }
bool WorkerPool::ready() const { return impl_->ready(); }
PoolStats WorkerPool::stats() const { return impl_->stats(); }
const PoolConfig& WorkerPool::config() const { return impl_->config(); }
asio::io_context& WorkerPool::io_context() const { return impl_->io(); }
std::vector<int> WorkerPool::worker_pids() const { return impl_->worker_pids(); }
int WorkerPool::worker_of(JobId id) const { return impl_->worker_of(id); }
void WorkerPool::shutdown(std::function<void()> stopped) { impl_->shutdown(std::move(stopped)); }

}  // namespace huepool::pool
