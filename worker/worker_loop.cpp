#include "worker/worker_loop.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <new>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "common/analyzer.hpp"
#include "proto/frame_socket.hpp"
#include "proto/messages.hpp"
#include "worker/payload_reader.hpp"
#include "worker/sandbox.hpp"
#include "worker/syscall_filter.hpp"
#include "worker/test_hooks.hpp"

namespace huepool::worker {

namespace {

using proto::DecodeStatus;
using proto::FrameReceiver;

int protocol_error(const char* what) {
  std::fprintf(stderr, "huepool worker %d: %s\n", static_cast<int>(::getpid()), what);
  return kExitProtocolError;
}

AnalysisOutcome analyze_guarded(Analyzer& analyzer, std::span<const std::uint8_t> bytes,
                                const AnalyzeOptions& options) {
  // analyze() does not throw on bad input; this catches resource failures
  // (RLIMIT_AS makes allocation fail) so they become an error result.
  try {
    return analyzer.analyze(bytes, options);
  } catch (const std::bad_alloc&) {
    return ImageError{ErrorCode::internal, "worker out of memory"};
  } catch (const std::exception& e) {
    return ImageError{ErrorCode::internal, e.what()};
  }
}

}  // namespace

int run_worker_loop(int sock, unsigned cpu_seconds_per_job) {
  // The counter's tables and the payload buffer are committed and the
  // decode path run once before the worker reports ready, so the first image
  // after a spawn or a recycle costs what the next one does
  // (docs/BENCHMARKS.md "First request"). Under a tight RLIMIT_AS either may
  // fail; it is then allocated by the first image that needs it.
  Analyzer analyzer;
  PayloadReader payload;
  try {
    analyzer.warm_up();
  } catch (const std::bad_alloc&) {
  }
  try {
    payload.reserve();
  } catch (const std::bad_alloc&) {
  }
  // From here on the worker makes only its job loop's system calls; before
  // `ready`, so the pool never hands a job to an unfiltered worker.
  if (auto err = install_syscall_filter(sock)) {
    std::fprintf(stderr, "huepool worker %d: seccomp: %s\n", static_cast<int>(::getpid()), err->c_str());
    return kExitSetupFailed;
  }
  std::vector<std::uint8_t> out;
  proto::encode_ready(out, {static_cast<std::uint32_t>(::getpid())});
  if (!proto::send_all(sock, out, -1)) return protocol_error("cannot send ready");

  FrameReceiver rx;
  for (;;) {
    const proto::FrameDecode frame = rx.next();
    if (frame.status == DecodeStatus::need_more) {
      switch (rx.read_some(sock)) {
        case FrameReceiver::ReadStatus::data:
        case FrameReceiver::ReadStatus::would_block:
          continue;
        case FrameReceiver::ReadStatus::closed:
          return rx.pending().empty() ? kExitOk : protocol_error("socket closed inside a frame");
        case FrameReceiver::ReadStatus::error:
          return protocol_error("socket read failed");
      }
    }
    if (frame.status == DecodeStatus::malformed) return protocol_error(frame.error.c_str());
    if (frame.type != proto::MessageType::job) return protocol_error("unexpected message type");
    proto::JobMessage job;
    if (auto err = proto::parse_job(frame.body, job)) return protocol_error(err->c_str());

    if (cpu_seconds_per_job != 0 && !arm_cpu_limit(cpu_seconds_per_job))
      return protocol_error("cannot set the CPU limit");
    AnalysisOutcome outcome;
    const auto start = std::chrono::steady_clock::now();
    if (analyzer.limits() != job.limits) analyzer.set_limits(job.limits);
    if (job.payload_kind == proto::PayloadKind::fd) {
      proto::UniqueFd fd = rx.take_fd();
      if (!fd) return protocol_error("job announces an fd but none arrived");
      if (rx.queued_fds() != 0) return protocol_error("more fds than jobs");
      auto read = payload.read(fd.get(), job.payload_size);
      if (auto* p = std::get_if<Payload>(&read)) {
        test_hooks::before_job(sock, p->bytes());
        outcome = analyze_guarded(analyzer, p->bytes(), job.options);
      } else {
        outcome = std::get<ImageError>(std::move(read));
      }
    } else {
      if (rx.queued_fds() != 0) return protocol_error("fd on a job that announces none");
      test_hooks::before_job(sock, job.inline_bytes);
      outcome = analyze_guarded(analyzer, job.inline_bytes, job.options);
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();

    out.clear();
    if (auto* a = std::get_if<ImageAnalysis>(&outcome); a && !a->colors.empty() &&
                                                        a->colors.size() <= proto::kMaxColors) {
      proto::ResultMessage r;
      r.job_id = job.job_id;
      r.analysis = std::move(*a);
      r.worker_us = static_cast<std::uint32_t>(std::min<long long>(us, UINT32_MAX));
      proto::encode_result(out, r);
    } else {
      proto::ErrorMessage e;
      e.job_id = job.job_id;
      e.error = a ? ImageError{ErrorCode::internal, "analysis returned no colors"}
                  : std::get<ImageError>(std::move(outcome));
      proto::encode_error(out, e);
    }
    rx.consume(frame.consumed);  // job.inline_bytes pointed into the buffer until here
    if (!proto::send_all(sock, out, -1)) return protocol_error("cannot send reply");
  }
}

}  // namespace huepool::worker
