#pragma once
// UploadIntake: turns a request body, as it streams in, into whole images.
// Two forms: multipart/form-data (each file part is an image, delivered the
// moment its closing delimiter is seen) and a raw image body (one image,
// delivered at the end). Each image is collected by a proto::PayloadBuilder:
// small ones travel inline, one that outgrows `inline_max` moves into a
// memfd, so a large part is written once and passed to a worker as an fd.
//
// A part is an image when it has a filename parameter or an image/* type;
// other form fields are ignored. A file input left empty by a browser
// (filename="" and no bytes) is skipped as well.
//
// Each image comes with the pixel count its header states (PNG IHDR, JPEG
// SOFn; common/image_size_probe.hpp), read as the bytes stream past, or
// nullopt when it cannot be read: a hint for largest-first dispatch, never a
// check.
//
// feed()/finish() return a Problem for a request-level failure (malformed
// multipart 400, too many images 413, memfd failure 500); after one, the
// intake ignores further input. Single-threaded.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/image_size_probe.hpp"
#include "proto/image_payload.hpp"
#include "server/http/multipart_parser.hpp"
#include "server/http/responses.hpp"

namespace huepool::http {

class UploadIntake {
 public:
  using ImageReady =
      std::function<void(std::string name, proto::ImagePayload payload, std::optional<std::uint64_t> pixels)>;

  struct Limits {
    std::size_t inline_max = proto::kInlinePayloadMax;
    std::size_t max_images = 256;
  };

  static std::unique_ptr<UploadIntake> multipart(std::string boundary, Limits limits, ImageReady ready);
  static std::unique_ptr<UploadIntake> raw(std::string name, Limits limits, ImageReady ready);

  virtual ~UploadIntake() = default;
  virtual std::optional<Problem> feed(std::span<const std::uint8_t> bytes) = 0;
  virtual std::optional<Problem> finish() = 0;  // the body is over
  virtual std::size_t images() const = 0;        // delivered so far
};

}  // namespace huepool::http
