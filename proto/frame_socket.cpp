#include "proto/frame_socket.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include "proto/wire_format.hpp"

namespace huepool::proto {

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;
// A well-behaved peer has at most one frame (plus a header) in flight; more
// than this buffered without a complete frame is impossible, so cap reads.
constexpr std::size_t kMaxBuffered = kHeaderLength + kMaxBodyLength + kReadChunk;
constexpr std::size_t kMaxFdsPerRead = 4;
}  // namespace

FrameReceiver::ReadStatus FrameReceiver::read_some(int sock) {
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > kReadChunk) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  const std::size_t held = buffer_.size();
  if (held - start_ >= kMaxBuffered) {
    errno = EMSGSIZE;
    return ReadStatus::error;
  }
  buffer_.resize(held + kReadChunk);
  iovec iov{buffer_.data() + held, kReadChunk};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerRead)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  buffer_.resize(held + (n > 0 ? static_cast<std::size_t>(n) : 0));
  if (n >= 0) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds_.emplace_back(fd);
      }
    }
    if (msg.msg_flags & MSG_CTRUNC) {
      errno = EPROTO;
      return ReadStatus::error;
    }
  }
  if (n > 0) return ReadStatus::data;
  if (n == 0) return ReadStatus::closed;
  if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadStatus::would_block;
  return ReadStatus::error;
}

void FrameReceiver::consume(std::size_t n) {
  start_ += n;
  if (start_ >= buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
}

UniqueFd FrameReceiver::take_fd() {
  if (fds_.empty()) return UniqueFd();
  UniqueFd fd = std::move(fds_.front());
  fds_.pop_front();
  return fd;
}

ssize_t send_some(int sock, std::span<const std::uint8_t> bytes, int fd) {
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n;
}

bool send_all(int sock, std::span<const std::uint8_t> bytes, int fd) {
  while (!bytes.empty()) {
    const ssize_t n = send_some(sock, bytes, fd);
    if (n < 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
    fd = -1;  // attached to the first byte only
  }
  return true;
}

}  // namespace huepool::proto
