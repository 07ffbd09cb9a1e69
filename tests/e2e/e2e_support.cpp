#include "e2e_support.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <png.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace huepool::e2e {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::optional<Bytes> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string as_string(const Bytes& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// ---- ServerProcess ---------------------------------------------------------

ServerProcess::ServerProcess(std::vector<std::string> extra, unsigned workers) {
  const std::string bin = env_or("HUEPOOL_BIN", "huepool");
  char log_template[] = "/tmp/huepool-e2e-log-XXXXXX";
  const int log_fd = ::mkstemp(log_template);
  if (log_fd < 0) fail("mkstemp");
  log_path_ = log_template;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) fail("pipe");
  std::vector<std::string> args = {bin, "serve", "--host", "127.0.0.1", "--port", "0",
                                   "--workers", std::to_string(workers)};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) fail("fork");
  if (pid_ == 0) {
    // If the test process dies (a crash, a ctest timeout), so does its server.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(log_fd);
  // Read stdout until the "listening on http://host:PORT" line.
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (text.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{out[0], POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[256];
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  const auto colon = text.rfind(':');
  if (text.find("listening on") == std::string::npos || colon == std::string::npos) {
    ::kill(pid_, SIGKILL);
    wait_exit(milliseconds(5000));
    throw std::runtime_error("huepool serve did not start; stdout: " + text + " stderr: " + log());
  }
  port_ = std::atoi(text.c_str() + colon + 1);
}

ServerProcess::~ServerProcess() {
  if (!exited_ && pid_ > 0) {
    // SIGTERM first, so a sanitizer build gets to report leaks at exit.
    ::kill(pid_, SIGTERM);
    if (wait_exit(milliseconds(30'000)) < 0) {
      ::kill(pid_, SIGKILL);
      wait_exit(milliseconds(10'000));
    }
  }
  // A sanitizer report from the server process itself (not from a worker)
  // is shown, whatever the test checked.
  const std::string text = log();
  const std::string mark = "==" + std::to_string(pid_) + "==ERROR:";
  if (text.find(mark) != std::string::npos || text.find("runtime error:") != std::string::npos)
    std::fprintf(stderr, "=== sanitizer report in the log of huepool serve (pid %d) ===\n%s\n", pid_, text.c_str());
  if (!log_path_.empty()) ::unlink(log_path_.c_str());
}

void ServerProcess::signal(int sig) const { ::kill(pid_, sig); }

int ServerProcess::wait_exit(milliseconds limit) {
  // pidfd: poll() says when the child exits, no sleeping loop.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(limit.count()));
    ::close(pidfd);
  }
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, pidfd >= 0 ? WNOHANG : 0);
  if (r != pid_) return -1;
  exited_ = true;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string ServerProcess::log() const {
  auto b = read_file(log_path_);
  return b ? as_string(*b) : std::string();
}

std::vector<pid_t> ServerProcess::worker_pids() const {
  std::map<pid_t, pid_t> parent;
  std::map<pid_t, std::string> cmd;
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      const pid_t p = static_cast<pid_t>(std::atoi(e->d_name));
      if (p <= 0) continue;
      std::ifstream stat("/proc/" + std::to_string(p) + "/stat");
      std::string line;
      std::getline(stat, line);
      const auto close = line.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(line.substr(close + 2));
      char state;
      pid_t ppid;
      rest >> state >> ppid;
      parent[p] = ppid;
      std::ifstream c("/proc/" + std::to_string(p) + "/cmdline");
      std::string args((std::istreambuf_iterator<char>(c)), std::istreambuf_iterator<char>());
      cmd[p] = args;
    }
    ::closedir(d);
  }
  std::vector<pid_t> out;
  for (const auto& [p, pp] : parent) {
    bool descendant = false;
    for (pid_t a = pp; a > 1 && !descendant; a = parent.count(a) ? parent[a] : 0) descendant = a == pid_;
    const std::string& args = cmd[p];
    if (descendant && args.find(std::string("worker") + '\0') != std::string::npos) out.push_back(p);
  }
  return out;
}

// ---- Connection ------------------------------------------------------------

Connection::Connection(int port, milliseconds recv_timeout) : Connection(port, "127.0.0.1", recv_timeout) {}

Connection::Connection(int port, const std::string& source_address, milliseconds recv_timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) fail("socket");
  sockaddr_in source{};
  source.sin_family = AF_INET;
  if (::inet_pton(AF_INET, source_address.c_str(), &source.sin_addr) != 1)
    throw std::invalid_argument("not an IPv4 address: " + source_address);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) fail("bind");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) fail("connect");
  timeval tv{static_cast<time_t>(recv_timeout.count() / 1000),
             static_cast<suseconds_t>((recv_timeout.count() % 1000) * 1000)};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

void Connection::send(const std::string& bytes) {
  std::size_t at = 0;
  while (at < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
    if (n <= 0) fail("send");
    at += static_cast<std::size_t>(n);
  }
}

void Connection::send(const Bytes& bytes) { send(as_string(bytes)); }

void Connection::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

bool Connection::fill() {
  char tmp[65536];
  const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) throw std::runtime_error("timed out waiting for the server");
    if (errno == ECONNRESET) return false;
    fail("recv");
  }
  if (n == 0) return false;
  buf_.append(tmp, static_cast<std::size_t>(n));
  return true;
}

std::string Connection::take_line_crlf() {
  std::size_t pos;
  while ((pos = buf_.find("\r\n")) == std::string::npos)
    if (!fill()) throw std::runtime_error("connection closed inside a line");
  std::string line = buf_.substr(0, pos);
  buf_.erase(0, pos + 2);
  return line;
}

std::string Connection::take(std::size_t n) {
  while (buf_.size() < n)
    if (!fill()) throw std::runtime_error("connection closed inside a body");
  std::string out = buf_.substr(0, n);
  buf_.erase(0, n);
  return out;
}

Response Connection::read_head() {
  Response r;
  std::string status_line;
  do {
    status_line = take_line_crlf();
    const auto sp = status_line.find(' ');
    if (sp == std::string::npos) throw std::runtime_error("bad status line: " + status_line);
    r.status = std::atoi(status_line.c_str() + sp + 1);
    r.headers.clear();
    for (std::string line = take_line_crlf(); !line.empty(); line = take_line_crlf()) {
      const auto colon = line.find(':');
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[lower(line.substr(0, colon))] = value;
    }
  } while (r.status == 100);  // interim responses
  chunked_ = lower(r.header("transfer-encoding")) == "chunked";
  remaining_.reset();
  if (!r.header("content-length").empty()) remaining_ = std::stoull(r.header("content-length"));
  body_done_ = false;
  pending_.clear();
  return r;
}

std::optional<std::string> Connection::next_chunk() {
  if (body_done_) return std::nullopt;
  if (chunked_) {
    const std::size_t size = std::stoul(take_line_crlf(), nullptr, 16);
    if (size == 0) {
      while (!take_line_crlf().empty()) {
      }
      body_done_ = true;
      return std::nullopt;
    }
    std::string data = take(size);
    if (take_line_crlf() != "") throw std::runtime_error("bad chunk framing");
    return data;
  }
  if (remaining_) {
    std::string data = take(*remaining_);
    body_done_ = true;
    return data;
  }
  if (buf_.empty() && !fill()) {
    body_done_ = true;
    return std::nullopt;
  }
  std::string data = std::move(buf_);
  buf_.clear();
  return data;
}

Response Connection::read_response() {
  Response r = read_head();
  if (r.status == 204 || r.status == 304) return r;
  while (auto c = next_chunk()) r.body += *c;
  return r;
}

std::optional<std::string> Connection::read_line() {
  for (;;) {
    const auto nl = pending_.find('\n');
    if (nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return line;
    }
    auto c = next_chunk();
    if (!c) {
      if (pending_.empty()) return std::nullopt;
      std::string rest = std::move(pending_);
      pending_.clear();
      return rest;  // a last line without newline: the caller's check fails on it
    }
    pending_ += *c;
  }
}

bool Connection::wait_closed(milliseconds limit, std::string* got) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char tmp[4096];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      if (got) *got += buf_;
      return true;
    }
    if (n > 0) buf_.append(tmp, static_cast<std::size_t>(n));
  }
}

std::string Response::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

nlohmann::json Response::json() const { return nlohmann::json::parse(body); }

Response http_request(int port, const std::string& method, const std::string& target,
                      const std::map<std::string, std::string>& headers, const std::string& body) {
  Connection c(port);
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  c.send(req + body);
  return method == "HEAD" ? c.read_head() : c.read_response();
}

Response get(int port, const std::string& target) { return http_request(port, "GET", target); }

nlohmann::json wait_info(int port, const std::function<bool(const nlohmann::json&)>& pred) {
  nlohmann::json info;
  for (int i = 0; i < 60'000; ++i) {
    info = get(port, "/v1/info").json();
    if (pred(info)) return info;
    if (i >= 100) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // poll gently once it takes a while
  }
  throw std::runtime_error("condition on /v1/info never became true: " + info.dump());
}

std::vector<nlohmann::json> ndjson_lines(const std::string& body) {
  std::vector<nlohmann::json> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  if (!body.empty() && body.back() != '\n') throw std::runtime_error("NDJSON body does not end with a newline");
  return out;
}

// ---- Multipart and images --------------------------------------------------

Multipart::Multipart(std::string boundary) : boundary_(std::move(boundary)) {}

Multipart& Multipart::file(const std::string& field, const std::string& filename, const Bytes& data,
                           const std::string& type) {
  parts_ += "--" + boundary_ + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" + filename +
            "\"\r\nContent-Type: " + type + "\r\n\r\n" + as_string(data) + "\r\n";
  return *this;
}

Multipart& Multipart::field(const std::string& name, const std::string& value) {
  parts_ += "--" + boundary_ + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  return *this;
}

std::string Multipart::body(bool closed) const { return closed ? parts_ + "--" + boundary_ + "--\r\n" : parts_; }

namespace {

struct PngWriter {
  Bytes out;
  static void write(png_structp png, png_bytep data, png_size_t n) {
    auto* self = static_cast<PngWriter*>(png_get_io_ptr(png));
    self->out.insert(self->out.end(), data, data + n);
  }
  static void flush(png_structp) {}
};

template <class RowFn>
Bytes write_png(std::uint32_t w, std::uint32_t h, int level, RowFn row_fn) {
  PngWriter sink;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("libpng write failed");
  }
  png_set_write_fn(png, &sink, PngWriter::write, PngWriter::flush);
  png_set_compression_level(png, level);
  png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  std::vector<png_byte> row(static_cast<std::size_t>(w) * 3);
  for (std::uint32_t y = 0; y < h; ++y) {
    row_fn(y, row.data());
    png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return std::move(sink.out);
}

}  // namespace

Bytes two_color_png(std::uint32_t w, std::uint32_t h, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return write_png(w, h, 6, [&](std::uint32_t y, png_byte* row) {
    for (std::uint32_t x = 0; x < w; ++x) {
      const bool major = (y * w + x) % 4 != 0;
      row[3 * x] = major ? r : static_cast<png_byte>(255 - r);
      row[3 * x + 1] = major ? g : static_cast<png_byte>(255 - g);
      row[3 * x + 2] = major ? b : static_cast<png_byte>(b ^ 0x55);
    }
  });
}

Bytes photo_png(std::uint32_t w, std::uint32_t h, std::uint32_t seed) {
  std::uint32_t state = seed * 2654435761u + 1;
  return write_png(w, h, 6, [&](std::uint32_t y, png_byte* row) {
    for (std::uint32_t x = 0; x < w; ++x) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      const int noise = static_cast<int>(state % 9) - 4;
      row[3 * x] = static_cast<png_byte>(std::clamp(static_cast<int>(x * 255 / w) + noise, 0, 255));
      row[3 * x + 1] = static_cast<png_byte>(std::clamp(static_cast<int>(y * 255 / h) + noise, 0, 255));
      row[3 * x + 2] = static_cast<png_byte>(std::clamp(128 + static_cast<int>((x + y) % 64) + noise, 0, 255));
    }
  });
}

const Bytes& slow_png() {
  static const Bytes png = write_png(8000, 8000, 6, [](std::uint32_t y, png_byte* row) {
    for (std::uint32_t x = 0; x < 8000; ++x) {
      row[3 * x] = static_cast<png_byte>((x / 64) % 256);
      row[3 * x + 1] = static_cast<png_byte>(y % 256);
      row[3 * x + 2] = 7;
    }
  });
  return png;
}

}  // namespace huepool::e2e
