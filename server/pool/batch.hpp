#pragma once
// Batch: one Pool.map / imap / imap_unordered call over a WorkerPool.
// Images are added one by one (an HTTP upload adds each part as soon as it is
// complete), get index = order of addition, and at most `processes` of them
// are in the pool at once (Pool(processes=N)). Results are emitted in input
// order (map, imap) or completion order (imap_unordered); the reorder buffer is
// bounded by the number of images added, and in input order also by
// kMaxReorderWindow: image i is not started before image i - kMaxReorderWindow
// has been emitted, so one slow image cannot make results pile up without end.
// Dispatch order (PoolConfig::largest_first): of the images that wait for one
// of the batch's `processes` places, the one with the most pixels goes first
// (ties and unknown sizes: see add), so a large image late in an upload does
// not start last and bound the whole request. Output order is unaffected.
// Same threading rules as WorkerPool. Emit and Done are never called from
// inside add/add_failed/close; an Emit may call add, close or cancel.
// The batch keeps itself alive while it has jobs in the pool or emits pending.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/pool/mode.hpp"
#include "server/pool/worker_pool.hpp"

namespace huepool::pool {

inline constexpr std::size_t kMaxReorderWindow = 256;

struct BatchItem {
  std::size_t index = 0;
  std::string name;
  JobResult result;
};

class Batch : public std::enable_shared_from_this<Batch> {
 public:
  using Emit = std::function<void(BatchItem)>;  // one call per image, in the chosen order
  using Done = std::function<void()>;           // once, after the last emit of a closed batch

  // processes == 0: up to the pool's size.
  static std::shared_ptr<Batch> create(WorkerPool& pool, Ordering ordering, unsigned processes,
                                       Emit emit, Done done);

  // Returns the image's index. `pixels`: what the image's header states
  // (common/image_size_probe.hpp); its dispatch weight. Without it the weight
  // is the byte size, one byte counted as one pixel (between a JPEG's ~0.2 and
  // a photo PNG's ~2 bytes per pixel; a file whose header cannot be read is
  // usually one that fails at once). Equal weights go in input order.
  std::size_t add(std::string name, proto::ImagePayload image, AnalyzeOptions options,
                  std::optional<std::uint64_t> pixels = std::nullopt);
  // An image rejected before the pool (e.g. over a byte limit) still takes its
  // place in the order and is emitted as an error result.
  std::size_t add_failed(std::string name, ImageError error);
  void close();   // no more images; Done follows the last emit
  void cancel();  // client went away: queued jobs are dropped, no further emits, Done not called

  std::size_t added() const;
  std::size_t failed() const;  // emitted results that carry an error

  ~Batch();
 private:
  Batch() = default;
  class Impl;
  std::unique_ptr<Impl> impl_;
  friend class Impl;
};

}  // namespace huepool::pool
