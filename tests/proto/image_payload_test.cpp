// ImagePayload and MemfdWriter: inline vs memfd by threshold, sealing, fd
// ownership (no leak, no double close).
#include <doctest/doctest.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <system_error>
#include <vector>

#include "proto/image_payload.hpp"
#include "tests/proto/memfd_pin.hpp"

using namespace huepool::proto;
using Bytes = std::vector<std::uint8_t>;

namespace {
int fd_count() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}
Bytes read_fd(int fd, std::size_t n) {
  Bytes b(n);
  REQUIRE(::pread(fd, b.data(), n, 0) == static_cast<ssize_t>(n));
  return b;
}
}  // namespace

TEST_CASE("payload: from_span picks inline up to the threshold, a memfd above it") {
  const int before = fd_count();
  {
    const Bytes small(100, 1), big(101, 2);
    ImagePayload a = ImagePayload::from_span(small, 100);
    CHECK_FALSE(a.is_fd());
    CHECK(a.fd() == -1);
    CHECK(a.size() == 100);
    CHECK(Bytes(a.inline_bytes().begin(), a.inline_bytes().end()) == small);
    ImagePayload b = ImagePayload::from_span(big, 100);
    CHECK(b.is_fd());
    CHECK(b.size() == 101);
    CHECK(b.inline_bytes().empty());
    CHECK(read_fd(b.fd(), 101) == big);
    CHECK((::fcntl(b.fd(), F_GETFD) & FD_CLOEXEC) != 0);
    const int seals = ::fcntl(b.fd(), F_GET_SEALS);
    CHECK((seals & F_SEAL_WRITE) != 0);
    CHECK((seals & F_SEAL_SHRINK) != 0);
    CHECK((seals & F_SEAL_GROW) != 0);
    CHECK(::ftruncate(b.fd(), 0) != 0);
    CHECK(fd_count() == before + 1);

    ImagePayload moved = std::move(b);
    CHECK(moved.is_fd());
    CHECK(b.fd() == -1);  // NOLINT: moved-from is empty by contract
    ImagePayload assigned;
    assigned = std::move(moved);
    CHECK(fd_count() == before + 1);
    assigned = ImagePayload::from_bytes({1, 2});
    CHECK(fd_count() == before);
  }
  CHECK(fd_count() == before);
}

TEST_CASE("payload: MemfdWriter appends in pieces, finish seals; unfinished writers close their fd") {
  const int before = fd_count();
  {
    MemfdWriter w;
    w.append(Bytes{1, 2, 3});
    w.append(Bytes(70000, 9));
    CHECK(w.size() == 70003);
    ImagePayload p = std::move(w).finish();
    CHECK(p.is_fd());
    CHECK(p.size() == 70003);
    const Bytes got = read_fd(p.fd(), 70003);
    CHECK(got[0] == 1);
    CHECK(got[70002] == 9);
    CHECK(::write(p.fd(), "x", 1) < 0);
  }
  {
    MemfdWriter w;
    w.append(Bytes{1});
    CHECK(fd_count() == before + 1);
  }
  CHECK(fd_count() == before);
}

TEST_CASE("payload: a memfd that cannot be sealed throws from finish() and closes its fd") {
  const int before = fd_count();
  {
    PayloadBuilder b(16);
    b.append(Bytes(70000, 7));
    const huepool::testing::WritableMemfdMapping pin("huepool-image");
    REQUIRE(pin.mapped());
    try {
      (void)std::move(b).finish();
      FAIL("finish() sealed a memfd that is mapped writable");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == EBUSY);
      CHECK(std::string(e.what()).find("seal memfd") != std::string::npos);
    }
  }
  CHECK(fd_count() == before);
}
