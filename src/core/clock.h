// Time as the platform sees it, passed in so tests can use a fake clock (STYLE.md practice 8).
#pragma once

#include <chrono>
#include <cstdint>

namespace ecomon::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (UTC).
  virtual std::int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace ecomon::core
