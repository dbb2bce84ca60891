// The current registry snapshot, shared by the gateway, ingest and the API, and replaced whole when
// an operator edits the network. Thread-safe.
#pragma once

#include <memory>
#include <mutex>

#include "registry/registry.h"

namespace ecomon::registry {

class RegistryHolder {
 public:
  explicit RegistryHolder(Registry initial)
      : current_(std::make_shared<const Registry>(std::move(initial))) {}

  std::shared_ptr<const Registry> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void set(Registry next) {
    auto p = std::make_shared<const Registry>(std::move(next));
    std::lock_guard lock(mutex_);
    current_ = std::move(p);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Registry> current_;
};

}  // namespace ecomon::registry
