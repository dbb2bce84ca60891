// Commands from the platform to devices that the API asks for (issue #6 §5, emergency
// monitoring): the real-time reporting interval (HJ 212 CN 1062, RtdInterval) of many devices at
// once. Each device answers 9011 (QnRtn) then 9012 (ExeRtn) on its open connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/http_api.h"
#include "core/clock.h"
#include "gateway/gateway.h"
#include "registry/holder.h"

namespace ecomon::app {

struct DeviceCommandContext {
  gateway::Gateway* gateway = nullptr;
  registry::RegistryHolder* registry = nullptr;
  const core::Clock* clock = nullptr;
  std::int64_t timeout_ms = 30000;
};

// Sends CN 1062 RtdInterval=`seconds` to every device of `mns` at once and waits (off the
// gateway's loop: the API's worker threads) until each answered or timed out. One outcome per
// MN, in order: executed, refused, failed, timeout, offline, stopped, or not_found (not
// registered).
std::vector<api::DeviceCommandOutcome> set_rtd_interval(const DeviceCommandContext& c,
                                                        const std::vector<std::string>& mns,
                                                        int seconds);

}  // namespace ecomon::app
