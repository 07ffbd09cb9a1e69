#include "server/pool/batch.hpp"

#include <boost/asio/post.hpp>
#include <deque>
#include <optional>
#include <queue>
#include <variant>
#include <vector>

namespace huepool::pool {

class Batch::Impl {
 public:
  Impl(WorkerPool& pool, Ordering ordering, unsigned processes, Emit emit, Done done)
      : pool_(pool),
        ordering_(ordering),
        processes_(processes != 0 ? processes : std::max(1u, pool.config().workers)),
        emit_(std::move(emit)),
        done_(std::move(done)) {}

  std::weak_ptr<Batch> self;

  std::size_t add(std::string name, proto::ImagePayload image, AnalyzeOptions options,
                  std::optional<std::uint64_t> pixels) {
    const std::size_t i = entries_.size();
    const std::uint64_t weight = pool_.config().largest_first ? pixels.value_or(image.size()) : 0;
    Entry e;
    e.name = std::move(name);
    e.payload = std::move(image);
    e.options = options;
    entries_.push_back(std::move(e));
    if (cancelled_) return i;
    waiting_.push_back({weight, i});
    submit_more();
    return i;
  }

  std::size_t add_failed(std::string name, ImageError error) {
    const std::size_t i = entries_.size();
    Entry e;
    e.name = std::move(name);
    e.result = JobResult{std::move(error)};
    entries_.push_back(std::move(e));
    mark_complete(i);
    post_emit();
    return i;
  }

  void close() {
    closed_ = true;
    post_emit();
  }

  void cancel() {
    if (cancelled_) return;
    auto keep = self.lock();  // a dropped completion may hold the last other reference
    cancelled_ = true;
    waiting_.clear();
    eligible_ = {};
    completed_.clear();
    for (auto& e : entries_) {
      if (e.job != 0) pool_.cancel(e.job);
      e.payload = proto::ImagePayload();
    }
  }

  std::size_t added() const { return entries_.size(); }
  std::size_t failed() const { return failed_; }

 private:
  struct Entry {
    std::string name;
    proto::ImagePayload payload;  // until submitted
    AnalyzeOptions options;
    WorkerPool::JobId job = 0;        // while in the pool
    std::optional<JobResult> result;  // from completion until emitted
  };

  // A waiting image may start once it is inside the reorder window (input
  // order); of those, the heaviest starts first.
  struct Waiting {
    std::uint64_t weight = 0;
    std::size_t index = 0;
  };
  struct StartsLater {  // priority_queue: the top is the one that starts first
    bool operator()(const Waiting& a, const Waiting& b) const {
      return a.weight != b.weight ? a.weight < b.weight : a.index > b.index;
    }
  };

  void admit_to_window() {
    while (!waiting_.empty() &&
           (ordering_ == Ordering::completion || waiting_.front().index - next_emit_ < kMaxReorderWindow)) {
      eligible_.push(waiting_.front());
      waiting_.pop_front();
    }
  }

  void submit_more() {
    admit_to_window();
    while (!cancelled_ && !eligible_.empty() && in_flight_ < processes_) {
      const std::size_t i = eligible_.top().index;
      // submit() consumes the payload even when it refuses, so ask first.
      if (pool_.stats().queued >= pool_.config().max_queued_jobs) {
        if (in_flight_ > 0) return;  // retried when one of ours completes
        eligible_.pop();
        fail(i, "the pool's queue is full");
        continue;
      }
      eligible_.pop();
      Entry& e = entries_[i];
      const WorkerPool::JobId id =
          pool_.submit(std::move(e.payload), e.options, [keep = self.lock(), i](JobResult r) {
            keep->impl_->on_result(i, std::move(r));
          });
      if (id == 0) {
        fail(i, "the pool is shutting down");
        continue;
      }
      e.job = id;
      ++in_flight_;
    }
  }

  void fail(std::size_t i, const char* why) {
    entries_[i].result = JobResult{ImageError{ErrorCode::internal, why}};
    mark_complete(i);
    post_emit();
  }

  void on_result(std::size_t i, JobResult r) {
    --in_flight_;
    entries_[i].job = 0;  // no longer in the pool
    if (cancelled_) return;
    entries_[i].result = std::move(r);
    mark_complete(i);
    submit_more();
    emit_ready();
  }

  void mark_complete(std::size_t i) {
    if (ordering_ == Ordering::completion) completed_.push_back(i);
  }

  void post_emit() {
    if (emit_posted_) return;
    emit_posted_ = true;
    boost::asio::post(pool_.io_context(), [keep = self.lock()] {
      keep->impl_->emit_posted_ = false;
      keep->impl_->emit_ready();
    });
  }

  std::optional<std::size_t> next_ready() {
    if (ordering_ == Ordering::completion) {
      if (completed_.empty()) return std::nullopt;
      const std::size_t i = completed_.front();
      completed_.pop_front();
      return i;
    }
    if (next_emit_ < entries_.size() && entries_[next_emit_].result) return next_emit_++;
    return std::nullopt;
  }

  void emit_ready() {
    if (emitting_) return;  // called again from inside an emit: the outer loop goes on
    emitting_ = true;
    auto keep = self.lock();
    while (!cancelled_) {
      const auto i = next_ready();
      if (!i) break;
      Entry& e = entries_[*i];
      BatchItem item{*i, std::move(e.name), std::move(*e.result)};
      e.result.reset();
      ++emitted_;
      if (std::holds_alternative<ImageError>(item.result.outcome)) ++failed_;
      emit_(std::move(item));  // may add (entries_ may reallocate), close or cancel
      submit_more();           // in input order, emitting widens the window
    }
    emitting_ = false;
    if (!cancelled_ && closed_ && !finished_ && emitted_ == entries_.size()) {
      finished_ = true;
      if (done_) done_();
    }
  }

  WorkerPool& pool_;
  Ordering ordering_;
  unsigned processes_;
  Emit emit_;
  Done done_;
  std::vector<Entry> entries_;
  std::deque<Waiting> waiting_;        // added, not yet inside the reorder window, in input order
  std::priority_queue<Waiting, std::vector<Waiting>, StartsLater> eligible_;  // may start: heaviest first
  std::deque<std::size_t> completed_;  // completion order only: done, not yet emitted
  std::size_t in_flight_ = 0;
  std::size_t next_emit_ = 0;          // input order only
  std::size_t emitted_ = 0;
  std::size_t failed_ = 0;
  bool closed_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
  bool emitting_ = false;
  bool emit_posted_ = false;
};

std::shared_ptr<Batch> Batch::create(WorkerPool& pool, Ordering ordering, unsigned processes, Emit emit,
                                     Done done) {
  std::shared_ptr<Batch> b(new Batch());
  b->impl_ = std::make_unique<Impl>(pool, ordering, processes, std::move(emit), std::move(done));
  b->impl_->self = b;
  return b;
}

std::size_t Batch::add(std::string name, proto::ImagePayload image, AnalyzeOptions options,
                       std::optional<std::uint64_t> pixels) {
  return impl_->add(std::move(name), std::move(image), options, pixels);
}
std::size_t Batch::add_failed(std::string name, ImageError error) {
  return impl_->add_failed(std::move(name), std::move(error));
}
void Batch::close() { impl_->close(); }
void Batch::cancel() { impl_->cancel(); }
std::size_t Batch::added() const { return impl_->added(); }
std::size_t Batch::failed() const { return impl_->failed(); }
Batch::~Batch() = default;

}  // namespace huepool::pool
