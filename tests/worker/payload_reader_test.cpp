// PayloadReader: a job's memfd read whole, its buffer kept for small payloads
// and given back after large ones, and a short or unreadable fd an error.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include "proto/unique_fd.hpp"
#include "worker/payload_reader.hpp"

using namespace huepool;
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

std::vector<std::uint8_t> read_all(PayloadReader& reader, int fd, std::uint64_t size) {
  auto r = reader.read(fd, size);
  REQUIRE(std::holds_alternative<std::span<const std::uint8_t>>(r));
  const auto bytes = std::get<std::span<const std::uint8_t>>(r);
  return {bytes.begin(), bytes.end()};
}

}  // namespace

TEST_CASE("payload reader: exact bytes, a kept buffer for small payloads, a released one after a large") {
  PayloadReader reader;
  const auto small = pattern(466'706, 1);
  const auto smaller = pattern(1000, 2);
  const auto large = pattern(PayloadReader::kKeptPayloadBytes + 12345, 3);
  const auto small_fd = memfd_with(small);
  const auto smaller_fd = memfd_with(smaller);
  const auto large_fd = memfd_with(large);

  CHECK(read_all(reader, small_fd.get(), small.size()) == small);
  const std::size_t kept = reader.capacity();
  CHECK(kept >= small.size());
  CHECK(read_all(reader, smaller_fd.get(), smaller.size()) == smaller);
  CHECK(reader.capacity() == kept);  // reused, not reallocated
  CHECK(read_all(reader, large_fd.get(), large.size()) == large);
  CHECK(reader.capacity() >= large.size());
  CHECK(read_all(reader, smaller_fd.get(), smaller.size()) == smaller);
  CHECK(reader.capacity() <= PayloadReader::kKeptPayloadBytes);  // the large buffer was given back
  // A prefix of a larger memfd is what was announced; an empty payload is empty.
  CHECK(read_all(reader, small_fd.get(), 77) == std::vector<std::uint8_t>(small.begin(), small.begin() + 77));
  CHECK(read_all(reader, small_fd.get(), 0).empty());
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
  r = reader.read(read_end.get(), 1);
  REQUIRE(std::holds_alternative<ImageError>(r));
  CHECK(std::get<ImageError>(r).code == ErrorCode::internal);
}
