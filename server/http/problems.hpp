#pragma once
// The catalogue of request-level failures: one constructor per stable `code`
// of DESIGN §2 and server/http/README.md, so a status, a wording and a limit
// member are written once whichever room notices the failure (admission, the
// intake, the connection, the router, shutdown). Pure functions.
//
// Problem (responses.hpp) is the wing's one error value: a function that can
// only fail returns std::optional<Problem>, one that yields a value or fails
// returns std::variant<Value, Problem>.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/http/responses.hpp"

namespace huepool::http::problems {

inline constexpr unsigned kQueueFullRetryAfterS = 1;
inline constexpr unsigned kConnectionLimitRetryAfterS = 1;

Problem invalid_option(std::string_view option, std::string_view message);
Problem missing_boundary();
Problem malformed_multipart(std::string_view why);
Problem unsupported_media_type(std::string_view content_type);
Problem body_too_large(std::uint64_t limit);
Problem queue_full(std::size_t queued);
Problem too_many_images(std::size_t limit);
Problem no_image();
Problem buffer_failed(std::string_view why);  // 500 internal: our own resource ran out
Problem header_too_large(std::size_t limit);
Problem header_timeout();
Problem bad_request(std::string_view why);
Problem malformed_body(std::string_view why);
Problem body_timeout();
Problem upload_too_slow(std::uint64_t min_rate);
Problem too_many_connections(std::size_t limit);
Problem not_found();
Problem method_not_allowed(std::string_view allow);
Problem shutting_down();
Problem drain_expired();

}  // namespace huepool::http::problems
