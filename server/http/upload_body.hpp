#pragma once
// UploadBody: a Beast Body whose reader hands every piece of the request body
// (after chunked decoding) straight to the request's UploadSink, so an upload
// is never buffered whole. With no sink attached the bytes are counted and
// dropped. When the sink refuses more bytes (the request has failed), the
// reader stops the parser with operation_aborted: that error is how the
// session learns to stop reading.

#include <cstdint>
#include <span>
#include <string_view>

#include <boost/asio/error.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

#include "server/http/request_failure.hpp"

namespace huepool::http {

// Where an upload's body goes: implemented by AnalyzeExchange. Calls come
// from the session, on its strand.
class UploadSink {
 public:
  // Body bytes in order. false once the request has failed (its response is
  // then queued or will end the stream): read no more of the body.
  virtual bool on_body(std::span<const std::uint8_t> bytes) = 0;
  virtual void on_body_end() = 0;
  // The body cannot be read to its end (too large, bad framing, stalled, the
  // client gone), or shutdown needs the response to end now. `detail` is the
  // parser's own wording, where it has one.
  virtual void on_failure(RequestFailure failure, std::string_view detail) = 0;

 protected:
  ~UploadSink() = default;
};

struct UploadBody {
  struct value_type {
    UploadSink* sink = nullptr;
    std::uint64_t bytes = 0;
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(const boost::optional<std::uint64_t>&, boost::beast::error_code& ec) { ec = {}; }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      ec = {};
      std::size_t n = 0;
      for (const auto b : boost::beast::buffers_range_ref(buffers)) {
        const std::span<const std::uint8_t> bytes(static_cast<const std::uint8_t*>(b.data()), b.size());
        n += b.size();
        body_.bytes += b.size();
        if (body_.sink && !body_.sink->on_body(bytes)) {
          ec = boost::asio::error::operation_aborted;
          break;
        }
      }
      return n;
    }

    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

}  // namespace huepool::http
