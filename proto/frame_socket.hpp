#pragma once
// Moving frames over a connected AF_UNIX stream socket, fds included
// (PROTOCOL.md "File descriptors"). Works on blocking sockets (the worker) and
// non-blocking ones (the pool, after readiness from Asio). Not thread-safe;
// one FrameReceiver per socket.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "proto/frame_codec.hpp"
#include "proto/unique_fd.hpp"

namespace huepool::proto {

class FrameReceiver {
 public:
  enum class ReadStatus { data, would_block, closed, error };

  // One recvmsg: appends the bytes and queues any fds (MSG_CMSG_CLOEXEC).
  // error: errno is set (EPROTO for truncated ancillary data).
  ReadStatus read_some(int sock);
  // Decodes the frame at the front of what has been received.
  FrameDecode next() const { return decode_frame(pending()); }
  void consume(std::size_t n);
  // The oldest received fd not yet taken; empty when none.
  UniqueFd take_fd();
  std::size_t queued_fds() const { return fds_.size(); }
  std::span<const std::uint8_t> pending() const {
    return {buffer_.data() + start_, buffer_.size() - start_};
  }

 private:
  std::vector<std::uint8_t> buffer_;
  std::size_t start_ = 0;
  std::deque<UniqueFd> fds_;
};

// Sends as much of `bytes` as the socket accepts, with `fd` (if >= 0) attached
// to the first byte. Returns the count sent, or -1 with errno (EAGAIN when a
// non-blocking socket is full). MSG_NOSIGNAL: a dead peer is EPIPE, not SIGPIPE.
ssize_t send_some(int sock, std::span<const std::uint8_t> bytes, int fd);

// Blocking send of a whole frame (the worker's side). Returns false with errno.
bool send_all(int sock, std::span<const std::uint8_t> bytes, int fd);

}  // namespace huepool::proto
