#pragma once
// What the malformed-input tests of every format check the same way
// (malformed_test.cpp, webp_gif_malformed_test.cpp).

#include <doctest/doctest.h>

#include <initializer_list>
#include <span>
#include <variant>

#include "common/analyzer.hpp"
#include "tests/common/test_images.hpp"

namespace huepool::test {

// The outcome is an error with one of `codes` and a message.
inline bool is_error(const AnalysisOutcome& o, std::initializer_list<ErrorCode> codes) {
  const auto* e = std::get_if<ImageError>(&o);
  if (!e) return false;
  for (const ErrorCode c : codes)
    if (e->code == c) return !e->message.empty();
  return false;
}

// `file` is answered whole, and every proper prefix of it is decode_failed
// or unsupported_format (too short to sniff).
inline void check_every_truncation_fails(Analyzer& analyzer, const Bytes& file, const AnalyzeOptions& options) {
  REQUIRE(std::holds_alternative<ImageAnalysis>(analyzer.analyze(file, options)));
  for (std::size_t len = 0; len < file.size(); ++len) {
    CAPTURE(len);
    CHECK(is_error(analyzer.analyze(std::span(file.data(), len), options),
                   {ErrorCode::decode_failed, ErrorCode::unsupported_format}));
  }
}

}  // namespace huepool::test
