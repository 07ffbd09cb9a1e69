#include <doctest/doctest.h>

#include <sys/mman.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "common/anonymous_mapping.hpp"

using huepool::AnonymousMapping;

namespace {

// How many of the 4 KiB pages in [data, data + size) are resident (mincore).
std::size_t resident_pages(const std::uint8_t* data, std::size_t size) {
  std::vector<unsigned char> in_core(size / 4096);
  REQUIRE(::mincore(const_cast<std::uint8_t*>(data), size, in_core.data()) == 0);
  std::size_t resident = 0;
  for (const unsigned char page : in_core) resident += page & 1;
  return resident;
}

}  // namespace

TEST_CASE("anonymous mapping: empty by default, sizes rounded up to huge pages") {
  const AnonymousMapping none;
  CHECK_FALSE(none);
  CHECK(none.data() == nullptr);
  CHECK(none.size() == 0);

  const AnonymousMapping one_byte(1, false);
  REQUIRE(one_byte);
  CHECK(one_byte.size() == AnonymousMapping::kHugePageBytes);
  const AnonymousMapping over(3 * AnonymousMapping::kHugePageBytes + 5, false);
  CHECK(over.size() == 4 * AnonymousMapping::kHugePageBytes);
}

TEST_CASE("anonymous mapping: huge_pages aligns the block to 2 MiB; pages read zero and are writable") {
  for (const bool huge : {false, true}) {
    CAPTURE(huge);
    AnonymousMapping m(3 << 20, huge);
    REQUIRE(m);
    if (huge) CHECK(reinterpret_cast<std::uintptr_t>(m.data()) % AnonymousMapping::kHugePageBytes == 0);
    CHECK(m.data()[0] == 0);
    CHECK(m.data()[m.size() - 1] == 0);
    m.data()[0] = 7;
    m.data()[m.size() - 1] = 9;
    CHECK(m.data()[0] + m.data()[m.size() - 1] == 16);
  }
}

TEST_CASE("anonymous mapping: populate() commits every page, still zero") {
  AnonymousMapping m(8 << 20, false);
  REQUIRE(m);
  CHECK(resident_pages(m.data(), m.size()) == 0);
  m.populate();
  CHECK(resident_pages(m.data(), m.size()) == m.size() / 4096);
  bool zero = true;
  for (std::size_t i = 0; i < m.size(); i += 4096) zero = zero && m.data()[i] == 0;
  CHECK(zero);
}

TEST_CASE("anonymous mapping: moving hands the pages over; the moved-from one is empty") {
  AnonymousMapping a(1 << 20, true);
  a.data()[5] = 42;
  std::uint8_t* const data = a.data();
  AnonymousMapping b(std::move(a));
  CHECK_FALSE(a);
  CHECK(b.data() == data);
  CHECK(b.data()[5] == 42);

  AnonymousMapping c(1 << 20, false);
  c = std::move(b);  // c's own mapping is unmapped
  CHECK_FALSE(b);
  CHECK(c.data() == data);
  CHECK(c.data()[5] == 42);
}
