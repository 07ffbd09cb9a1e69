#pragma once
// What a request handler may do with its connection, and nothing more: queue
// bytes in order, learn how far the client is behind, and say the response is
// over. Implemented by Session; lets AnalyzeExchange stay free of socket code.

#include <cstddef>
#include <string>

namespace huepool::http {

class Responder {
 public:
  // Queues bytes after everything queued before. Never blocks.
  virtual void send(std::string bytes) = 0;
  // Bytes queued but not yet accepted by the socket (backpressure signal).
  virtual std::size_t unsent_bytes() const = 0;
  // The response's last byte has been queued. `keep_alive`: the connection
  // may carry another request (the body was consumed and nothing failed).
  virtual void response_done(unsigned status, bool keep_alive) = 0;

 protected:
  virtual ~Responder() = default;
};

}  // namespace huepool::http
