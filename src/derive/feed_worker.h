// The thread of a service that tails the store's change feed (the derived service, the screening
// service): it runs `work` when notified (the app calls notify() after each ingest commit) and
// otherwise every poll_ms, until stopped. `work` should do a bounded amount and return how much it
// did: a run that did something is followed at once by the next, so a long backlog (the first
// start on a big store) drains run by run and stop() waits for one run only. A failed run is logged
// on stderr as "ecomon NAME: reason: detail", at most one line per 10 s, and retried on the next
// wake-up.
//
// Thread-safety: start(), stop() and notify() may be called from any thread; `work` runs on the
// worker's thread only. The owner calls stop() before anything `work` uses goes away.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/result.h"

namespace ecomon::derive {

class FeedWorker {
 public:
  using Work = std::function<core::Result<std::size_t>()>;
  FeedWorker(std::string name, std::int64_t poll_ms, const core::Clock& clock, Work work);
  ~FeedWorker();  // stop()
  FeedWorker(const FeedWorker&) = delete;
  FeedWorker& operator=(const FeedWorker&) = delete;

  void start();  // idempotent
  void stop();   // idempotent; waits for a run under way
  void notify();

 private:
  void loop();

  const std::string name_;
  const std::int64_t poll_ms_;
  const core::Clock& clock_;
  const Work work_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool running_ = false;
  bool stopping_ = false;
  bool wake_ = false;
  std::thread thread_;
};

}  // namespace ecomon::derive
