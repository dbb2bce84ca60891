#include "derive/feed_worker.h"

#include <chrono>
#include <cstdio>

namespace ecomon::derive {

FeedWorker::FeedWorker(std::string name, std::int64_t poll_ms, const core::Clock& clock, Work work)
    : name_(std::move(name)), poll_ms_(poll_ms), clock_(clock), work_(std::move(work)) {}

FeedWorker::~FeedWorker() { stop(); }

void FeedWorker::start() {
  std::lock_guard lock(mu_);
  if (running_) return;
  running_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void FeedWorker::stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  running_ = false;
}

void FeedWorker::notify() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_one();
}

void FeedWorker::loop() {
  std::int64_t last_error_log = 0;
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(poll_ms_), [&] { return stopping_ || wake_; });
      if (stopping_) return;
      wake_ = false;
    }
    auto r = work_();
    if (r && *r > 0) {
      // A bounded run made progress: run again at once (a backlog drains run by run, and stop()
      // never waits for more than one run).
      std::lock_guard lock(mu_);
      wake_ = true;
    }
    if (!r) {
      const std::int64_t t = clock_.now_ms();
      if (t - last_error_log >= 10000) {  // one line per 10 s at most
        last_error_log = t;
        std::fprintf(stderr, "ecomon %s: %s: %s\n", name_.c_str(), r.error().reason.c_str(),
                     r.error().detail.c_str());
      }
    }
  }
}

}  // namespace ecomon::derive
