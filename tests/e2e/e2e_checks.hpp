#pragma once
// doctest checks shared by the e2e tests (e2e_support.* stays free of doctest).

#include <doctest/doctest.h>

#include <string>

#include "e2e_support.hpp"

namespace huepool::e2e {

// A problem+json answer (RFC 9457 members plus our stable `code`).
inline void check_problem(const Response& r, int status, const std::string& code) {
  INFO("body: " << r.body);
  CHECK(r.status == status);
  CHECK(r.header("content-type") == "application/problem+json");
  const nlohmann::json j = r.json();
  CHECK(j["status"] == status);
  CHECK(j["code"] == code);
  CHECK(j["type"].is_string());
  CHECK(!j["title"].get<std::string>().empty());
  CHECK(j["detail"].is_string());
}

}  // namespace huepool::e2e
