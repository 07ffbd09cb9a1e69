#pragma once
// End-to-end test support: start the real `huepool serve` ($HUEPOOL_BIN) on an
// ephemeral port, talk raw HTTP/1.1 to it over blocking sockets (so tests can
// stop mid-header, mid-body, pipeline, or read a stream line by line while
// still uploading), build multipart bodies, and make test images.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace huepool::e2e {

using Bytes = std::vector<std::uint8_t>;
using std::chrono::milliseconds;

class ServerProcess {
 public:
  // `huepool serve --host 127.0.0.1 --port 0 --workers 2 <extra...>`; returns
  // once the server printed its port. The access log goes to a temp file.
  explicit ServerProcess(std::vector<std::string> extra = {}, unsigned workers = 2);
  ~ServerProcess();  // SIGKILL if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // Waits for the process to exit (up to `limit`); its exit status, or -1 on
  // timeout, or 128+signal when killed by a signal.
  int wait_exit(milliseconds limit);
  std::string log() const;             // what it wrote on stderr so far
  std::vector<pid_t> worker_pids() const;  // descendants that are `huepool worker`

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
  bool exited_ = false;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // de-chunked
  std::string header(const std::string& name) const;
  nlohmann::json json() const;                 // the body parsed
};

// One blocking TCP connection to 127.0.0.1 with a receive timeout (a test that
// hangs fails instead).
class Connection {
 public:
  explicit Connection(int port, milliseconds recv_timeout = milliseconds(60'000));
  // From a chosen loopback source address (e.g. "127.0.0.2": all of 127/8 is
  // local on Linux), so a test can be two different clients.
  Connection(int port, const std::string& source_address, milliseconds recv_timeout = milliseconds(60'000));
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send(const std::string& bytes);
  void send(const Bytes& bytes);
  void shutdown_write();

  Response read_response();  // a whole response (Content-Length, chunked or until close)
  Response read_head();      // status line and headers only
  // Streamed NDJSON body (after read_head): the next line, or nullopt at the
  // end of the body (last chunk, or close for unchunked streams).
  std::optional<std::string> read_line();
  // True if the server closes the connection (EOF or reset) before `limit`;
  // bytes that arrive meanwhile are kept and returned in *got.
  bool wait_closed(milliseconds limit, std::string* got = nullptr);

 private:
  bool fill();  // false on EOF; throws on timeout or error
  std::string take_line_crlf();
  std::string take(std::size_t n);
  std::optional<std::string> next_chunk();

  int fd_ = -1;
  std::string buf_;
  bool chunked_ = false;
  bool body_done_ = false;
  std::optional<std::uint64_t> remaining_;  // Content-Length bodies
  std::string pending_;  // body text not yet returned as lines
};

Response http_request(int port, const std::string& method, const std::string& target,
                      const std::map<std::string, std::string>& headers = {}, const std::string& body = "");
Response get(int port, const std::string& target);
// Polls GET /v1/info until pred(info) holds and returns that info; each poll is
// one round trip, so this waits on the server's state, not on a clock. Throws
// (failing the test) with the last info if it never holds within ~minutes.
nlohmann::json wait_info(int port, const std::function<bool(const nlohmann::json&)>& pred);

// NDJSON body -> one JSON value per line (checks every line parses).
std::vector<nlohmann::json> ndjson_lines(const std::string& body);

class Multipart {
 public:
  explicit Multipart(std::string boundary = "e2e-boundary-3f9a1c");
  Multipart& file(const std::string& field, const std::string& filename, const Bytes& data,
                  const std::string& type = "application/octet-stream");
  Multipart& field(const std::string& name, const std::string& value);
  std::string body(bool closed = true) const;  // closed=false: without the closing delimiter
  std::string content_type() const { return "multipart/form-data; boundary=" + boundary_; }
  const std::string& boundary() const { return boundary_; }

 private:
  std::string boundary_;
  std::string parts_;
};

std::string as_string(const Bytes& b);

// A PNG where `major` covers 3 of every 4 pixels (so the answer is known),
// the rest `minor`.
Bytes two_color_png(std::uint32_t w, std::uint32_t h, std::uint8_t major_r, std::uint8_t major_g,
                    std::uint8_t major_b);
// Smooth gradients plus noise, like a small photo: many distinct colors.
Bytes photo_png(std::uint32_t w, std::uint32_t h, std::uint32_t seed);
// A large (8000x8000) PNG of about 200 KB that takes a worker around a second:
// slow enough to be caught mid-flight. Built once, row by row.
const Bytes& slow_png();

std::string env_or(const char* name, const std::string& fallback);
std::optional<Bytes> read_file(const std::string& path);

}  // namespace huepool::e2e
