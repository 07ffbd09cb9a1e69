// PayloadReader: a job's memfd read whole into the kept buffer, or mapped
// when larger than it, and a short or unreadable fd an error.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "proto/unique_fd.hpp"
#include "worker/payload_reader.hpp"

using namespace huepool;
using huepool::worker::Payload;
using huepool::worker::PayloadReader;

namespace {

proto::UniqueFd memfd_with(const std::vector<std::uint8_t>& bytes) {
  proto::UniqueFd fd(::memfd_create("payload_reader_test", 0));
  REQUIRE(fd);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    REQUIRE(n > 0);
    done += static_cast<std::size_t>(n);
  }
  return fd;
}

std::vector<std::uint8_t> pattern(std::size_t n, unsigned seed) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 131 + seed + (i >> 12));
  return v;
}

// The bytes read, and whether they came through a mapping of their own.
std::pair<std::vector<std::uint8_t>, bool> read_all(PayloadReader& reader, int fd, std::uint64_t size) {
  auto r = reader.read(fd, size);
  REQUIRE(std::holds_alternative<Payload>(r));
  const Payload& payload = std::get<Payload>(r);
  const auto bytes = payload.bytes();
  return {{bytes.begin(), bytes.end()}, payload.mapped()};
}

}  // namespace

TEST_CASE("payload reader: exact bytes, copied into the kept buffer up to its size, mapped beyond") {
  PayloadReader reader;
  CHECK_FALSE(reader.reserved());
  reader.reserve();
  CHECK(reader.reserved());
  const auto small = pattern(466'706, 1);
  const auto smaller = pattern(1000, 2);
  const auto whole = pattern(PayloadReader::kCopiedPayloadBytes, 3);
  const auto large = pattern(PayloadReader::kCopiedPayloadBytes + 12345, 4);
  const auto small_fd = memfd_with(small);
  const auto smaller_fd = memfd_with(smaller);
  const auto whole_fd = memfd_with(whole);
  const auto large_fd = memfd_with(large);

  CHECK(read_all(reader, small_fd.get(), small.size()) == std::pair{small, false});
  CHECK(read_all(reader, smaller_fd.get(), smaller.size()) == std::pair{smaller, false});
  CHECK(read_all(reader, whole_fd.get(), whole.size()) == std::pair{whole, false});
  CHECK(read_all(reader, large_fd.get(), large.size()) == std::pair{large, true});
  CHECK(read_all(reader, smaller_fd.get(), smaller.size()) == std::pair{smaller, false});
  // A prefix of a larger memfd is what was announced; an empty payload is empty.
  CHECK(read_all(reader, small_fd.get(), 77) ==
        std::pair{std::vector<std::uint8_t>(small.begin(), small.begin() + 77), false});
  CHECK(read_all(reader, small_fd.get(), 0).first.empty());
}

TEST_CASE("payload reader: the first read reserves the buffer when reserve() was not called") {
  PayloadReader reader;
  const auto bytes = pattern(70'000, 5);
  const auto fd = memfd_with(bytes);
  CHECK(read_all(reader, fd.get(), bytes.size()) == std::pair{bytes, false});
  CHECK(reader.reserved());
}

TEST_CASE("payload reader: a memfd shorter than announced, or not readable, is an error") {
  PayloadReader reader;
  const auto fd = memfd_with(pattern(10, 4));
  auto r = reader.read(fd.get(), 1000);
  REQUIRE(std::holds_alternative<ImageError>(r));
  CHECK(std::get<ImageError>(r).code == ErrorCode::internal);
  CHECK(std::get<ImageError>(r).message == "image fd is shorter than announced");
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const proto::UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  const auto from_pipe = reader.read(read_end.get(), 1);
  REQUIRE(std::holds_alternative<ImageError>(from_pipe));
  CHECK(std::get<ImageError>(from_pipe).code == ErrorCode::internal);
}
