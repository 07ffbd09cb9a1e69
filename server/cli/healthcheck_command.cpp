// `huepool healthcheck [--url http://127.0.0.1:8080/healthz] [--timeout 3s]`:
// exit 0 when the URL answers 200, 1 otherwise (Docker HEALTHCHECK). The
// default port follows HUEPOOL_PORT so a container configured by environment
// checks itself where it listens.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "server/cli/commands.hpp"
#include "server/config.hpp"

namespace huepool::cli {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

struct Url {
  std::string host, port, target;
};

std::optional<Url> parse_url(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  url.remove_prefix(kScheme.size());
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  Url out;
  out.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    out.port = authority.starts_with(":") ? std::string(authority.substr(1)) : "80";
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    out.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  }
  if (out.host.empty() || out.port.empty()) return std::nullopt;
  return out;
}

int usage() {
  std::fprintf(stderr,
               "usage: huepool healthcheck [--url http://127.0.0.1:8080/healthz] [--timeout 3s]\n"
               "exits 0 when the URL answers 200, 1 otherwise\n");
  return 2;
}

}  // namespace

int run_healthcheck(int argc, char** argv) {
  std::string port = "8080";
  if (const char* p = std::getenv("HUEPOOL_PORT"); p && *p) port = p;
  std::string url = "http://127.0.0.1:" + port + "/healthz";
  std::chrono::milliseconds timeout{3000};
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (arg == "--help" || arg == "-h") {
      usage();
      return 0;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return usage();
    }
    if (arg == "--url") {
      url = std::string(value);
    } else if (arg == "--timeout") {
      auto d = parse_duration(value);
      if (!d) return usage();
      timeout = *d;
    } else {
      return usage();
    }
  }
  const auto parsed = parse_url(url);
  if (!parsed) {
    std::fprintf(stderr, "healthcheck: not an http:// URL: %s\n", url.c_str());
    return 2;
  }
  net::io_context io;
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, parsed->target, 11};
  req.set(bhttp::field::host, parsed->host);
  req.set(bhttp::field::user_agent, "huepool-healthcheck");
  req.set(bhttp::field::connection, "close");
  bhttp::response<bhttp::string_body> res;
  std::string failure;

  net::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto endpoints = resolver.resolve(parsed->host, parsed->port, ec);
  if (ec) {
    std::fprintf(stderr, "healthcheck: resolve %s: %s\n", parsed->host.c_str(), ec.message().c_str());
    return 1;
  }
  // Async operations only to get tcp_stream's timeouts; the chain runs on this thread.
  stream.expires_after(timeout);
  stream.async_connect(endpoints, [&](beast::error_code e, const net::ip::tcp::endpoint&) {
    if (e) {
      failure = "connect: " + e.message();
      return;
    }
    bhttp::async_write(stream, req, [&](beast::error_code we, std::size_t) {
      if (we) {
        failure = "write: " + we.message();
        return;
      }
      bhttp::async_read(stream, buffer, res, [&](beast::error_code re, std::size_t) {
        if (re) failure = "read: " + re.message();
      });
    });
  });
  io.run();
  if (!failure.empty()) {
    std::fprintf(stderr, "healthcheck: %s: %s\n", url.c_str(), failure.c_str());
    return 1;
  }
  if (res.result_int() != 200) {
    std::fprintf(stderr, "healthcheck: %s answered %u\n", url.c_str(), res.result_int());
    return 1;
  }
  return 0;
}

}  // namespace huepool::cli
