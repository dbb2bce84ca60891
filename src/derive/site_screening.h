// Quality screening of one site's factor over a time range (issue #5 §4), read from the store:
// the one assembly of series that GET /api/v1/screening (api/screening_routes.cpp) and the
// screening service (derive/screening_service.h) both use, so a finding the route shows and a
// stored mark come from the same code.
//
// Each device that reported the factor at the site is screened on its own series (the latest
// version of each value, field `field`, numeric values only). Cross-series rules use what this
// reads anyway: `identical_series` between the site's devices of the factor, and `pm25_gt_pm10`
// (factor a34004 or a34002) against the site's other PM series (same device, else the site's only
// device of it). Copies between different sites are not searched here: that needs every site's
// series (the pure module does it given two series).
//
// The other rules, from what the same devices sent:
//   - sum_gt_total: when the factor is a total or a part of a configured sum rule, the rule's
//     other factors of the same device (else the site's only device of each).
//   - missing_without_reason: expected times of each device that sent the factor, from its first
//     value in the range to min(`to`, now − one interval) — or, with `tail_is_missing` false, to
//     its last value's period end (a stored mark must not grow with the clock while nothing
//     arrives; a device silent now is the offline alarm's). A value of the device (any factor)
//     flagged other than N at a time is the status reason that explains it.
//   - hour_mismatch (kind hour): the same device's minute values of the factor.
//   - clock_drift: receive times of the values, not of re-sent ones (quality bit resend).
// Reads at most 100,000 values per query; `truncated` says when a read was cut.
// Thread-safety: as the store's reads (any thread). Errors: the store's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analytics/screening.h"
#include "core/result.h"
#include "storage/store.h"

namespace ecomon::derive {

struct SiteScreening {
  std::string site;
  std::string factor;
  storage::DataKind kind = storage::DataKind::kHour;  // minute, hour or day
  std::string field = "Avg";
  std::int64_t from_ms = 0;  // measured time, inclusive
  std::int64_t to_ms = 0;    // exclusive
  std::int64_t now_ms = 0;   // future_time and the end of missing_without_reason
  bool tail_is_missing = true;
};

// One finding of one device (mn).
struct DeviceFinding {
  std::string mn;
  analytics::screening::Finding finding;
};

struct SiteScreeningResult {
  std::vector<DeviceFinding> findings;  // per device by rule then time, then the cross rules
  bool truncated = false;
};

// The period of minute, hour and day data in ms; 0 for other kinds (not screened).
std::int64_t screening_period_ms(storage::DataKind kind);

core::Result<SiteScreeningResult> screen_site(const storage::Store& store,
                                              const analytics::screening::ScreeningConfig& config,
                                              const SiteScreening& what);

}  // namespace ecomon::derive
