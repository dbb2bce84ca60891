// The `[screening]` section of `ecomon serve --config` (issue #5 §4: "thresholds are
// configuration, with defaults documented"): maps TOML onto analytics::screening::ScreeningConfig,
// starting from its defaults (screening.h documents each one).
//
//   [screening]
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

namespace ecomon::app {

core::Result<void> apply_screening_section(const toml::table& screening,
                                           analytics::screening::ScreeningConfig& config);

}  // namespace ecomon::app
