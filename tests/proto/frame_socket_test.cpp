// Frames and fds over a real socketpair: fds ride with their frame, bytes
// arrive in pieces, a frame split across reads decodes once whole, and a
// closed peer is reported.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "proto/frame_socket.hpp"
#include "proto/image_payload.hpp"
#include "proto/messages.hpp"

using namespace huepool;
using namespace huepool::proto;
using Bytes = std::vector<std::uint8_t>;

namespace {
struct Pair {
  UniqueFd a, b;
  Pair() {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    a.reset(sv[0]);
    b.reset(sv[1]);
  }
};

// Reads until one frame is complete (blocking socket).
FrameDecode read_frame(FrameReceiver& rx, int fd) {
  for (;;) {
    FrameDecode d = rx.next();
    if (d.status != DecodeStatus::need_more) return d;
    REQUIRE(rx.read_some(fd) == FrameReceiver::ReadStatus::data);
  }
}
}  // namespace

TEST_CASE("frame_socket: a job with a memfd arrives with its fd, contents intact") {
  Pair p;
  Bytes image(200000);
  for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<std::uint8_t>(i % 251);
  ImagePayload payload = ImagePayload::from_span(image, kInlinePayloadMax);
  REQUIRE(payload.is_fd());
  JobMessage job;
  job.job_id = 5;
  job.payload_kind = PayloadKind::fd;
  job.payload_size = payload.size();
  Bytes frame;
  encode_job(frame, job);
  REQUIRE(send_all(p.a.get(), frame, payload.fd()));

  FrameReceiver rx;
  const FrameDecode d = read_frame(rx, p.b.get());
  REQUIRE(d.status == DecodeStatus::complete);
  JobMessage got;
  REQUIRE_FALSE(parse_job(d.body, got));
  CHECK(got.payload_size == image.size());
  UniqueFd fd = rx.take_fd();
  REQUIRE(fd);
  CHECK(rx.queued_fds() == 0);
  CHECK((::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
  // Sealed: the receiver cannot change the image.
  CHECK(::write(fd.get(), "x", 1) < 0);
  Bytes back(image.size());
  CHECK(::pread(fd.get(), back.data(), back.size(), 0) == static_cast<ssize_t>(back.size()));
  CHECK(back == image);
  rx.consume(d.consumed);
  CHECK(rx.pending().empty());
}

TEST_CASE("frame_socket: a frame sent in pieces decodes only when whole; EOF is reported") {
  Pair p;
  Bytes frame;
  encode_error(frame, {3, ImageError{ErrorCode::timeout, "slow"}});
  FrameReceiver rx;
  for (std::size_t i = 0; i < frame.size(); ++i) {
    REQUIRE(send_some(p.a.get(), std::span(frame).subspan(i, 1), -1) == 1);
    REQUIRE(rx.read_some(p.b.get()) == FrameReceiver::ReadStatus::data);
    CHECK(rx.next().status == (i + 1 == frame.size() ? DecodeStatus::complete : DecodeStatus::need_more));
  }
  rx.consume(rx.next().consumed);
  p.a.reset();
  CHECK(rx.read_some(p.b.get()) == FrameReceiver::ReadStatus::closed);
}

TEST_CASE("frame_socket: a non-blocking empty socket would block; a dead peer is EPIPE, not SIGPIPE") {
  Pair p;
  REQUIRE(::fcntl(p.b.get(), F_SETFL, O_NONBLOCK) == 0);
  FrameReceiver rx;
  CHECK(rx.read_some(p.b.get()) == FrameReceiver::ReadStatus::would_block);
  p.b.reset();
  const Bytes x{1};
  CHECK(send_some(p.a.get(), x, -1) < 0);
  CHECK(errno == EPIPE);
}
