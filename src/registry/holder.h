// The current registry snapshot, shared by the gateway, ingest and the API, and replaced whole when
// an operator edits the network. Thread-safe.
#pragma once

#include <functional>
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

  // Read-modify-write, one at a time: `change` gets the current snapshot and returns the next
  // one (or an error, which leaves the registry as it was). Concurrent edits (API threads, the
  // gateway commissioning a device) therefore never lose one another.
  core::Result<std::shared_ptr<const Registry>> update(
      const std::function<core::Result<Registry>(const Registry&)>& change) {
    std::lock_guard edit(edit_mutex_);
    auto next = change(*get());
    if (!next) return core::fail(next.error());
    auto p = std::make_shared<const Registry>(std::move(*next));
    std::lock_guard lock(mutex_);
    current_ = p;
    return p;
  }

 private:
  std::mutex edit_mutex_;  // serialises update()
  mutable std::mutex mutex_;
  std::shared_ptr<const Registry> current_;
};

}  // namespace ecomon::registry
