#include "ingest/ingestor.h"

#include <chrono>

namespace ecomon::ingest {

Ingestor::Ingestor(storage::Store& store, Options options)
    : store_(store), options_(options), writer_([this] { run(); }) {}

Ingestor::~Ingestor() { stop(); }

bool Ingestor::submit(storage::FrameWrite frame, CommitCallback done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.max_queue_frames) {
      ++counters_.refused_queue_full;
      return false;
    }
    queue_.push_back(Item{std::move(frame), std::move(done)});
  }
  wake_.notify_one();
  return true;
}

void Ingestor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
}

Ingestor::Counters Ingestor::counters() const {
  std::lock_guard lock(mutex_);
  Counters c = counters_;
  c.queue_depth = queue_.size();
  return c;
}

void Ingestor::run() {
  std::vector<Item> items;
  std::vector<storage::FrameWrite> batch;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      // Everything that queued while the previous commit ran goes into this one (group commit).
      const std::size_t n = std::min(queue_.size(), options_.max_batch_frames);
      items.clear();
      for (std::size_t i = 0; i < n; ++i) {
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    batch.clear();
    batch.reserve(items.size());
    for (auto& it : items) batch.push_back(std::move(it.frame));
    const auto t0 = std::chrono::steady_clock::now();
    auto result = store_.write(batch);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    {
      std::lock_guard lock(mutex_);
      ++counters_.commits;
      counters_.commit_seconds_sum += ms / 1000.0;
      for (std::size_t b = 0; b < kLatencyBoundsMs.size(); ++b) {
        if (ms < kLatencyBoundsMs[b]) {
          ++counters_.commit_latency[b];
          break;
        }
      }
      if (result) {
        counters_.frames_committed += items.size();
        counters_.values_stored += result->values_stored;
        counters_.new_versions += result->new_versions;
        counters_.duplicates += result->duplicates;
      } else {
        ++counters_.commit_failures;
      }
    }
    if (result && options_.after_commit) options_.after_commit(*result);
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!items[i].done) continue;
      if (!result) {
        items[i].done(core::fail(result.error()));
        continue;
      }
      items[i].done(Committed{result->first_frame_id + i});
    }
  }
}

}  // namespace ecomon::ingest
