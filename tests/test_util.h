// Helpers shared by the unit tests: a temporary directory per use, and unwrapping Results.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <utility>

#include "core/result.h"

namespace ecomon::test {

// A fresh directory, removed at the end.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "ecomon-test") {
    static std::atomic<int> counter{0};
    std::random_device random;
    path_ = std::filesystem::temp_directory_path() /
            (prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" +
             std::to_string(random()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string describe(const core::Error& e) { return e.reason + ": " + e.detail; }

// The value of an operation that must succeed (a failure is reported, and a default returned).
template <class T>
T ok(core::Result<T> r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : describe(r.error()));
  return r.ok() ? std::move(r).value() : T{};
}

}  // namespace ecomon::test
