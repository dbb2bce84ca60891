// Sections of `ecomon serve --config`, each refused with its line and reason when wrong.
//
// `[screening]` (issue #5 §4: "thresholds are configuration, with defaults documented"): maps
// TOML onto analytics::screening::ScreeningConfig, starting from its defaults (screening.h
// documents each one).
//
//   [screening]
//   stored = true                    # [true] store findings as marks and set the screened level
//                                    # (derive/screening_service.h); false: only the per-request
//                                    # GET /api/v1/screening
//   batch_limit = 5000               # [5000] changes the marks service screens per transaction
//   max_windows = 200                # [200] touched (series, day)s per transaction
//   disabled = ["jump"]              # rule names never reported
//   jump_k = 10                      # any ScreeningConfig number, durations in seconds (_s)
//   [screening.factors.a34004]       # per factor; a factor not in the defaults starts all off
//   range_max = 1000                 # range_min, range_max, constant_min_s, low_variation_cv,
//   detection_limit = 2              # jump_floor, flag_cover_limit, concentration,
//   jump_floor = false               # detection_limit, hour_tolerance; false switches an
//                                    # optional limit off
//   [[screening.sums]]               # replaces the default sum rules when present
//   total = "a21002"
//   parts = ["a21003", "a21004"]
//   weights = [1.5333, 1]            # default 1 each
//   tolerance = 5                    # tolerance_fraction = 0.1
//
// Anything else is refused: an unknown key, a wrong type, a value out of range, an unknown rule
// name; the error names the line and the reason (reason `bad_config`).
#pragma once

#include <toml++/toml.h>

#include "analytics/screening.h"
#include "core/result.h"
#include "derive/backfill.h"
#include "derive/screening_service.h"
#include "forward/service.h"

namespace ecomon::app {

core::Result<void> apply_screening_section(const toml::table& screening,
                                           analytics::screening::ScreeningConfig& config,
                                           derive::ScreeningOptions& service);

// `[backfill]` (derive/backfill.h, issue #5 §3), defaults in brackets:
//   enabled = true                 # [false] ask connected loggers for their missing data
//   scan_interval_s = 60           # [60]
//   lookback_s = 86400             # [86400] how far back gaps are looked for
//   repeat_after_s = 21600         # [21600] a range asked for is not asked again within this
//   max_in_flight = 4              # [4] requests waiting for an answer, all devices
//   max_per_device_per_hour = 4    # [4]
//   max_range_s = 86400            # [86400] of one request
//   settle_s = 5                   # [5] after the answer, before counting what came back
//   timeout_s = 60                 # [60] for the device's 9012
core::Result<void> apply_backfill_section(const toml::table& backfill,
                                          derive::BackfillOptions& options);

// `[[forward]]` tables (forward/service.h): one upstream platform each; none: no forwarding.
//   name = "province"              # required; letters, digits, '-' and '_' (the API's path)
//   host = "10.1.2.3"              # required
//   port = 9212                    # required
//   version = 2017                 # [2017] or 2025 (HJ 212 dialect written upstream)
//   pw = "123456"                  # [""] the access password the upstream assigned
//   kinds = ["hour", "day"]        # [all four] rtd, minute, hour, day
//   sites = ["1001A"]              # [all] with devices: a value goes when either matches
//   devices = ["MN..."]            # [all]
//   from = "now"                   # ["now"] or "beginning": where the first start begins
//   ack_timeout_s = 10             # [10] wait for the 9014 of a frame (may be fractional)
//   max_in_flight = 1              # [1] frames waiting for their 9014 (1..64)
//   retry_min_s = 1                # [1] back-off after a failure, doubling ...
//   retry_max_s = 60               # [60] ... up to this
//   ledger_keep_days = 400         # [400] acknowledged ledger rows kept; 0 keeps all
//   [forward.mn_map]               # [none] our MN = the MN the upstream assigned
//   "88888880000001" = "51010000000001"
// Two upstreams with one name are refused, like every unknown key or wrong value.
core::Result<void> apply_forward_sections(const toml::array& forward,
                                          std::vector<forward::ForwardOptions>& out);

}  // namespace ecomon::app
