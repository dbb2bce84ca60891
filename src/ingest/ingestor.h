// Durable writes with group commit: frames queued from the gateway's event loop are written by one
// writer thread, many frames per transaction, and each frame's callback runs after the commit
// that holds it — that is when its 9014 acknowledgement may go out (DESIGN.md decision 7).
//
// Thread-safety: submit() and counters() may be called from any thread; callbacks run on the
// writer thread and must hand work back to their own thread (the gateway posts to its loop).
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/result.h"
#include "storage/store.h"

namespace ecomon::ingest {

struct Committed {
  std::uint64_t frame_id = 0;
};
using CommitCallback = std::function<void(const core::Result<Committed>&)>;

class Ingestor {
 public:
  struct Options {
    std::size_t max_batch_frames = 4096;    // frames per transaction at most
    std::size_t max_queue_frames = 200000;  // submit() refuses beyond this (backpressure)
    // Called on the writer thread after each successful commit, before the frames' callbacks
    // (the app wakes the change-feed consumers with it, e.g. alarms). Must not block. May be empty.
    std::function<void(const storage::WriteResult&)> after_commit;
  };
  struct Counters {
    std::uint64_t frames_committed = 0;
    std::uint64_t values_stored = 0;
    std::uint64_t new_versions = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t commits = 0;
    std::uint64_t commit_failures = 0;
    std::uint64_t refused_queue_full = 0;
    std::size_t queue_depth = 0;
    // Commit latency histogram (ms): bucket i counts commits taking < kLatencyBoundsMs[i].
    std::array<std::uint64_t, 12> commit_latency{};
    double commit_seconds_sum = 0;
  };
  static constexpr std::array<double, 12> kLatencyBoundsMs = {0.5, 1,   2,   5,    10,   20,
                                                              50,  100, 250, 1000, 5000, 1e300};

  Ingestor(storage::Store& store, Options options);
  explicit Ingestor(storage::Store& store) : Ingestor(store, Options{}) {}
  ~Ingestor();  // stops after committing what is queued

  // Queues one frame; false (and no callback) when the queue is full.
  bool submit(storage::FrameWrite frame, CommitCallback done);
  // Commits what is queued and stops the writer thread; later submit() calls are refused.
  void stop();
  Counters counters() const;

 private:
  struct Item {
    storage::FrameWrite frame;
    CommitCallback done;
  };
  void run();

  storage::Store& store_;
  Options options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  Counters counters_;
  std::thread writer_;
};

}  // namespace ecomon::ingest
