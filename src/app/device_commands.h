// Commands from the platform to devices that the API asks for (issue #6 §5, emergency
// monitoring): the real-time reporting interval (HJ 212 CN 1062, RtdInterval) of many devices at
// once. Each device answers 9011 (QnRtn) then 9012 (ExeRtn) on its open connection.
#pragma once

#include <cstdint>
#include <functional>
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

// Asks device `mn` for its history (HJ 212 CN 2051 minute, 2061 hour, 2031 day) with BeginTime
// = begin_ms and EndTime = end_ms in Beijing time, for the automatic backfill
// (derive/backfill.h). Does not wait: `done` gets the outcome (executed, refused, failed,
// timeout, offline, stopped, not_found) once, on the gateway's loop or at once on this thread.
void send_history_request(const DeviceCommandContext& c, const std::string& mn, int cn,
                          std::int64_t begin_ms, std::int64_t end_ms, std::int64_t timeout_ms,
                          std::function<void(std::string outcome)> done);

}  // namespace ecomon::app
