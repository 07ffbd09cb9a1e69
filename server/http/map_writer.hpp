#pragma once
// MapWriter (mode=map): results are kept in input order until the batch is
// done, then sent as one application/json document. Any failure before that
// is a problem+json with its own status: nothing has been sent yet.

#include "server/http/result_writer.hpp"

namespace huepool::http {

class MapWriter final : public ResultWriter {
 public:
  MapWriter(WriterSettings settings, Responder& responder, Metrics& metrics)
      : ResultWriter(std::move(settings), responder, metrics) {}

  void finish() override;
  bool fail(Problem problem) override;
  void end_now(Problem problem) override;

 private:
  void add(ResultJson result) override { results_.push_back(std::move(result)); }

  ResultJson results_ = ResultJson::array();
};

}  // namespace huepool::http
