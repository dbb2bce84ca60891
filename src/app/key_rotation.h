// SM4 key rotation of an HJ 212-2025 device (issue #7 §3; HJ 212-2025 §6.4.3: keys rotate every
// 90 days, never fixed or patterned): a fresh random key is sent in a 1014 command encrypted with
// the current key; once the device answers 9011 (QnRtn=1) and 9012 (ExeRtn=1) the registry
// switches to the new key and saves it (sealed). Until then, and on refusal or timeout, the old
// key stays: the device has not switched.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "gateway/gateway.h"
#include "registry/holder.h"

namespace ecomon::app {

struct KeyRotationContext {
  gateway::Gateway* gateway = nullptr;
  registry::RegistryHolder* registry = nullptr;
  const core::Clock* clock = nullptr;
  std::function<core::Result<void>(const registry::Registry&)> save;
  std::int64_t timeout_ms = 30000;
};

// Blocks until the device answered or the timeout passed: call it off the gateway's loop (the
// API's worker threads). Returns the new key's SKCreateTime. Errors: not_found, not_encrypted,
// offline, refused, failed, timeout, save_failed.
core::Result<std::string> rotate_sm4_key(const KeyRotationContext& c, const std::string& mn);

}  // namespace ecomon::app
