#include "server/cli/analyze_pool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <system_error>
#include <variant>

#include "common/result_json.hpp"
#include "proto/unique_fd.hpp"
#include "proto/image_payload.hpp"
#include "server/pool/batch.hpp"
#include "server/pool/worker_pool.hpp"

namespace huepool::cli {

namespace {

// Files are read as the batch needs them, not all up front: at most this many
// images per worker are held in memory (in flight or waiting to be printed).
constexpr std::size_t kFilesAheadPerWorker = 4;
constexpr std::size_t kReadChunk = 1 << 20;

// Reads a file into a payload: small ones inline, big ones straight into a
// sealed memfd (one copy, never through the socket).
std::variant<proto::ImagePayload, std::string> load(const std::string& path) {
  proto::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "cannot read file " + path + ": " + std::strerror(errno);
  proto::PayloadBuilder payload;
  std::vector<std::uint8_t> chunk(kReadChunk);
  try {
    for (;;) {
      const ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return "cannot read file " + path + ": " + std::strerror(errno);
      if (n == 0) break;
      payload.append({chunk.data(), static_cast<std::size_t>(n)});
    }
    return std::move(payload).finish();
  } catch (const std::system_error& e) {
    return "cannot read file " + path + ": " + e.what();
  }
}

void print_line(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace

int analyze_with_pool(const PoolAnalyzeArgs& args) {
  boost::asio::io_context io;
  pool::PoolConfig config;
  config.workers = args.workers;
  config.job_timeout = args.timeout;
  config.decode_limits = args.limits;
  pool::WorkerPool workers(io, config);

  const std::size_t ahead = kFilesAheadPerWorker * std::max(1u, workers.config().workers);
  std::vector<std::string> map_lines;  // map: everything printed at the end
  std::size_t next_file = 0;
  std::size_t emitted = 0;
  bool any_failed = false;
  bool closed = false;
  bool finished = false;
  bool stopped = false;

  std::shared_ptr<pool::Batch> batch;
  auto feed = [&] {
    while (next_file < args.files.size() && batch->added() - emitted < ahead) {
      const std::string& path = args.files[next_file++];
      auto loaded = load(path);
      if (auto* p = std::get_if<proto::ImagePayload>(&loaded))
        batch->add(path, std::move(*p), args.options);
      else
        // Not the image's fault but the file's: reported per image, as without --workers.
        batch->add_failed(path, ImageError{ErrorCode::decode_failed, std::get<std::string>(loaded)});
    }
    if (next_file == args.files.size() && !closed) {
      closed = true;
      batch->close();
    }
  };
  batch = pool::Batch::create(
      workers, pool::ordering_of(args.mode), args.processes,
      [&](pool::BatchItem item) {
        ++emitted;
        any_failed = any_failed || std::holds_alternative<ImageError>(item.result.outcome);
        const ResultContext context{item.index, item.name, item.result.elapsed_ms, item.result.worker_pid};
        std::string line = result_text(result_to_json(context, item.result.outcome, args.options));
        if (!pool::streams(args.mode))
          map_lines.push_back(std::move(line));
        else
          print_line(line);
        feed();
      },
      [&] {
        finished = true;
        workers.shutdown([&] { stopped = true; });
      });
  feed();
  while (!stopped && io.run_one() != 0) {
  }
  for (const auto& line : map_lines) print_line(line);
  return !finished ? 1 : any_failed ? 1 : 0;
}

}  // namespace huepool::cli
