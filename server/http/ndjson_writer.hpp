#pragma once
// NdjsonWriter (mode=imap, imap_unordered): application/x-ndjson, chunked on
// HTTP/1.1 and close-delimited on HTTP/1.0. The 200 head goes out with the
// first image received (so a request without one is still a real 422), or,
// with respond_after_upload, once the upload is complete, the lines finished
// meanwhile held back until then. Once the head is out the status is fixed:
// a failure becomes the error of the last line,
// {"done":true,"count":N,"failed":F,"elapsed_ms":T,"error":{...}}.

#include <optional>
#include <string>

#include "server/http/result_writer.hpp"

namespace huepool::http {

inline constexpr std::string_view kNdjsonType = "application/x-ndjson";

class NdjsonWriter final : public ResultWriter {
 public:
  NdjsonWriter(WriterSettings settings, Responder& responder, Metrics& metrics)
      : ResultWriter(std::move(settings), responder, metrics) {}

  void image_added() override;
  void upload_accepted() override;
  void finish() override;
  bool fail(Problem problem) override;
  void end_now(Problem problem) override;

 private:
  void add(ResultJson result) override;
  void start();
  std::string framed(std::string line) const;
  std::string done_line(const Problem* problem) const;

  bool started_ = false;
  std::string held_;               // lines finished before a held head
  std::optional<Problem> error_;   // ends the stream once the batch is done
};

}  // namespace huepool::http
