#include "server/http/problems.hpp"

namespace huepool::http::problems {

namespace {

Problem make(unsigned status, std::string code, std::string detail, nlohmann::json extra = nlohmann::json::object(),
             unsigned retry_after_s = 0) {
  return Problem{status, std::move(code), std::move(detail), std::move(extra), retry_after_s};
}

}  // namespace

Problem invalid_option(std::string_view option, std::string_view message) {
  return make(400, "invalid_option", "option '" + std::string(option) + "' " + std::string(message),
              {{"option", std::string(option)}});
}

Problem missing_boundary() {
  return make(400, "malformed_multipart", "multipart/form-data needs a valid boundary parameter");
}

Problem malformed_multipart(std::string_view why) { return make(400, "malformed_multipart", std::string(why)); }

Problem unsupported_media_type(std::string_view content_type) {
  return make(415, "unsupported_media_type",
              content_type.empty()
                  ? std::string("no Content-Type: send multipart/form-data, an image/* or an "
                                "application/octet-stream body")
                  : "Content-Type '" + std::string(content_type) +
                        "' is neither multipart/form-data, image/* nor application/octet-stream");
}

Problem body_too_large(std::uint64_t limit) {
  return make(413, "body_too_large", "the body is larger than " + std::to_string(limit) + " bytes",
              {{"limit", limit}});
}

Problem queue_full(std::size_t queued) {
  return make(503, "queue_full", "the image queue is full; retry shortly", {{"queued", queued}},
              kQueueFullRetryAfterS);
}

Problem too_many_images(std::size_t limit) {
  return make(413, "too_many_images", "more than " + std::to_string(limit) + " images in one request",
              {{"limit", limit}});
}

Problem no_image() { return make(422, "no_image", "the request holds no image"); }

Problem buffer_failed(std::string_view why) {
  return make(500, "internal", "could not buffer the image: " + std::string(why));
}

Problem header_too_large(std::size_t limit) {
  return make(431, "header_too_large", "the request header is larger than " + std::to_string(limit) + " bytes",
              {{"limit", limit}});
}

Problem header_timeout() { return make(408, "header_timeout", "the request header did not arrive in time"); }

Problem bad_request(std::string_view why) {
  return make(400, "bad_request", "malformed HTTP request: " + std::string(why));
}

Problem malformed_body(std::string_view why) {
  return make(400, "malformed_body", "bad body framing: " + std::string(why));
}

Problem body_timeout() {
  return make(408, "body_timeout", "the request body stalled for longer than the body timeout");
}

Problem upload_too_slow(std::uint64_t min_rate) {
  return make(408, "upload_too_slow",
              "the request body arrived slower than " + std::to_string(min_rate) +
                  " bytes per second on average (the server's minimum upload rate)",
              {{"min_rate", min_rate}});
}

Problem too_many_connections(std::size_t limit) {
  return make(429, "too_many_connections",
              "this client address already has " + std::to_string(limit) + " open connections; close one first",
              {{"limit", limit}}, kConnectionLimitRetryAfterS);
}

Problem not_found() { return make(404, "not_found", "no such resource"); }

Problem method_not_allowed(std::string_view allow) {
  return make(405, "method_not_allowed", "this path allows " + std::string(allow), {{"allow", std::string(allow)}});
}

Problem shutting_down() { return make(503, "shutting_down", "the server is shutting down", {}, 1); }

Problem drain_expired() {
  return make(503, "shutting_down", "the server is shutting down and its drain timeout has passed");
}

}  // namespace huepool::http::problems
