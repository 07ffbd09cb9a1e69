#include "server/http/upload_intake.hpp"

#include <system_error>

#include "server/http/problems.hpp"

namespace huepool::http {

namespace {

Problem memfd_problem(const std::system_error& e) { return problems::buffer_failed(e.what()); }

// The image's bytes as a payload: a memfd is sealed here, which can fail
// (EBUSY while the kernel sees a page pinned); that is the request's problem.
std::optional<proto::ImagePayload> finish_payload(proto::PayloadBuilder&& bytes, std::optional<Problem>& problem) {
  try {
    return std::move(bytes).finish();
  } catch (const std::system_error& e) {
    problem = memfd_problem(e);
    return std::nullopt;
  }
}

class MultipartIntake final : public UploadIntake, private MultipartHandler {
 public:
  MultipartIntake(std::string boundary, Limits limits, ImageReady ready)
      : parser_(std::move(boundary)), limits_(limits), ready_(std::move(ready)) {}

  std::optional<Problem> feed(std::span<const std::uint8_t> bytes) override {
    if (problem_) return problem_;
    const auto status = parser_.feed(bytes, *this);
    if (!problem_ && status == MultipartParser::Status::malformed)
      problem_ = problems::malformed_multipart(parser_.error());
    return problem_;
  }

  std::optional<Problem> finish() override {
    if (problem_) return problem_;
    if (parser_.finish() == MultipartParser::Status::malformed)
      problem_ = problems::malformed_multipart(parser_.error());
    return problem_;
  }

  std::size_t images() const override { return delivered_; }

 private:
  void on_part_begin(const PartHeaders& h) override {
    current_.reset();
    if (problem_) return;
    const bool is_image = h.filename.has_value() || h.content_type.starts_with("image/");
    if (!is_image) return;  // a plain form field
    if (delivered_ >= limits_.max_images) {
      problem_ = problems::too_many_images(limits_.max_images);
      return;
    }
    std::string name = h.filename && !h.filename->empty() ? *h.filename : h.field_name;
    if (name.empty()) name = "image-" + std::to_string(delivered_);
    current_.emplace(
        Part{std::move(name), h.filename && h.filename->empty(), proto::PayloadBuilder(limits_.inline_max), {}});
  }

  void on_part_data(std::span<const std::uint8_t> bytes) override {
    if (!current_ || problem_) return;
    current_->size.feed(bytes);
    try {
      current_->bytes.append(bytes);
    } catch (const std::system_error& e) {
      problem_ = memfd_problem(e);
      current_.reset();
    }
  }

  void on_part_end() override {
    if (!current_ || problem_) return;
    Part part = std::move(*current_);
    current_.reset();
    if (part.empty_filename && part.bytes.size() == 0) return;  // an unused file input
    auto payload = finish_payload(std::move(part.bytes), problem_);
    if (!payload) return;
    ++delivered_;
    ready_(std::move(part.name), std::move(*payload), part.size.pixels());
  }

  struct Part {
    std::string name;
    bool empty_filename = false;
    proto::PayloadBuilder bytes;
    ImageSizeProbe size;
  };

  MultipartParser parser_;
  Limits limits_;
  ImageReady ready_;
  std::optional<Part> current_;
  std::optional<Problem> problem_;
  std::size_t delivered_ = 0;
};

class RawIntake final : public UploadIntake {
 public:
  RawIntake(std::string name, Limits limits, ImageReady ready)
      : name_(std::move(name)), bytes_(limits.inline_max), ready_(std::move(ready)) {}

  std::optional<Problem> feed(std::span<const std::uint8_t> bytes) override {
    if (problem_) return problem_;
    size_.feed(bytes);
    try {
      bytes_.append(bytes);
    } catch (const std::system_error& e) {
      problem_ = memfd_problem(e);
    }
    return problem_;
  }

  std::optional<Problem> finish() override {
    if (problem_ || delivered_) return problem_;
    if (bytes_.size() == 0) return std::nullopt;  // no image: the caller answers 422
    auto payload = finish_payload(std::move(bytes_), problem_);
    if (!payload) return problem_;
    delivered_ = 1;
    ready_(std::move(name_), std::move(*payload), size_.pixels());
    return std::nullopt;
  }

  std::size_t images() const override { return delivered_; }

 private:
  std::string name_;
  proto::PayloadBuilder bytes_;
  ImageSizeProbe size_;
  ImageReady ready_;
  std::optional<Problem> problem_;
  std::size_t delivered_ = 0;
};

}  // namespace

std::unique_ptr<UploadIntake> UploadIntake::multipart(std::string boundary, Limits limits, ImageReady ready) {
  return std::make_unique<MultipartIntake>(std::move(boundary), limits, std::move(ready));
}

std::unique_ptr<UploadIntake> UploadIntake::raw(std::string name, Limits limits, ImageReady ready) {
  return std::make_unique<RawIntake>(std::move(name), limits, std::move(ready));
}

}  // namespace huepool::http
