// From a decoded HJ 212 message to the values the store keeps: series (site + device + factor +
// field + kind), measurement time as a UTC instant, the device flag, the quality bits.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "protocol/hj212/message.h"
#include "registry/registry.h"
#include "storage/store.h"

namespace ecomon::ingest {

// The kind of data an HJ 212 command carries: 2011 real-time, 2051 minute, 2061 hour, 2031 day;
// other uploads with values are kOther.
storage::DataKind kind_of_cn(int cn);

// True for the commands that carry measured values or device states the store keeps (2011, 2021,
// 2031, 2041, 2051, 2061, 2072, 3020, ...): every 2xxx upload and 3020.
bool carries_values(int cn);

struct ValueOptions {
  // A DataTime later than the receive time by more than this is stored but marked clock-suspect.
  std::int64_t future_tolerance_ms = 10 * 60 * 1000;
};

// The values of one message. `site` is the site the device served at the data time ("" if none);
// `quality` bits are added to every value (quarantined, pending). A message without DataTime uses
// the receive time. Items without a factor code keep the code as sent.
std::vector<storage::Value> values_of(const protocol::hj212::Message& m, std::string_view site,
                                      std::int64_t received_ms, std::uint32_t quality,
                                      const ValueOptions& options = {});

}  // namespace ecomon::ingest
