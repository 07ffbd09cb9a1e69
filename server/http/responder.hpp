#pragma once
// What a request handler may do with its connection, and nothing more: queue
// bytes in order and say the response is over, with the summary the access
// log and the metrics record. Implemented by Session; lets the exchange and
// the result writers stay free of socket code (and be tested with a fake).

#include <string>

#include "server/http/responses.hpp"

namespace huepool::http {

class Responder {
 public:
  // Queues bytes after everything queued before. Never blocks.
  virtual void send(std::string bytes) = 0;
  // The response's last byte has been queued.
  virtual void response_done(ResponseSummary summary) = 0;

 protected:
  virtual ~Responder() = default;
};

}  // namespace huepool::http
