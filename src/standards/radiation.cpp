#include "standards/radiation.h"

#include <cmath>
#include <string>

namespace ecomon::standards::radiation {

namespace {

// 全国环境天然放射性水平调查 (1983–1990, 25 km grid), fact sheet radiation.md §2.
constexpr BackgroundReference kSurvey[] = {
    {Setting::kOpenField, "原野", 2.4, 340.8, 62.8, "area-weighted",
     "national natural radioactivity survey 1983–1990 (fact sheet §2)"},
    {Setting::kOpenField, "原野", 2.4, 340.8, 62.1, "population-weighted",
     "national natural radioactivity survey 1983–1990 (fact sheet §2)"},
    {Setting::kRoad, "道路", 3.0, 399.1, 61.8, "area-weighted",
     "national natural radioactivity survey 1983–1990 (fact sheet §2)"},
    {Setting::kIndoor, "室内", 11.0, 418.5, 99.1, "population-weighted",
     "national natural radioactivity survey 1983–1990 (fact sheet §2)"},
};

core::Unexpected<core::Error> error(std::string reason, std::string detail) {
  return core::fail(core::Error{std::move(reason), std::move(detail)});
}

}  // namespace

core::Result<Baseline> baseline_of(std::span<const std::optional<double>> history_ngy_h,
                                   const BaselineOptions& options) {
  if (options.min_count < 2) return error("bad_value", "a baseline needs at least 2 readings");
  Baseline b;
  double sum = 0;
  for (const auto& v : history_ngy_h) {
    if (!v) {
      ++b.missing;
    } else if (!std::isfinite(*v) || *v < 0) {
      ++b.rejected;
    } else {
      ++b.count;
      sum += *v;
    }
  }
  if (b.count < options.min_count) {
    return error("insufficient_history", std::to_string(b.count) + " valid readings, " +
                                             std::to_string(options.min_count) + " needed");
  }
  b.mean_ngy_h = sum / static_cast<double>(b.count);
  // Two passes (mean first): the one-pass Σx² − n·mean² loses every digit of σ when σ is small
  // beside a mean of ~100 nGy/h.
  double squares = 0;
  for (const auto& v : history_ngy_h) {
    if (v && std::isfinite(*v) && *v >= 0) squares += (*v - b.mean_ngy_h) * (*v - b.mean_ngy_h);
  }
  b.sd_ngy_h = std::sqrt(squares / static_cast<double>(b.count - 1));
  return b;
}

double investigation_level_ngy_h(const Baseline& baseline, double k) {
  return baseline.mean_ngy_h + k * baseline.sd_ngy_h;
}

std::string_view dose_rate_level_name(DoseRateLevel level) {
  switch (level) {
    case DoseRateLevel::kNormal:
      return "normal";
    case DoseRateLevel::kAbnormal:
      return "abnormal";
    case DoseRateLevel::kInvestigate:
      return "investigate";
    case DoseRateLevel::kEmergency:
      return "emergency";
  }
  return "?";
}

core::Result<DoseRateVerdict> assess_dose_rate(double value_ngy_h, const Baseline& baseline,
                                               const AnomalyRule& rule) {
  if (!std::isfinite(value_ngy_h) || value_ngy_h < 0) {
    return error("bad_value", "a dose rate must be a finite number ≥ 0");
  }
  if (!std::isfinite(rule.k) || rule.k < 0) return error("bad_value", "k must be ≥ 0");
  if (!(rule.investigate_factor > 1) || !(rule.emergency_factor >= rule.investigate_factor) ||
      !std::isfinite(rule.emergency_factor)) {
    return error("bad_value", "tier factors must satisfy 1 < investigate ≤ emergency");
  }
  DoseRateVerdict v;
  v.investigation_level_ngy_h = investigation_level_ngy_h(baseline, rule.k);
  if (baseline.sd_ngy_h > 0) v.z_score = (value_ngy_h - baseline.mean_ngy_h) / baseline.sd_ngy_h;
  if (value_ngy_h > rule.emergency_factor * baseline.mean_ngy_h) {
    v.level = DoseRateLevel::kEmergency;
  } else if (value_ngy_h > rule.investigate_factor * baseline.mean_ngy_h) {
    v.level = DoseRateLevel::kInvestigate;
  } else if (value_ngy_h > v.investigation_level_ngy_h &&
             (!rule.background_upper_ngy_h || value_ngy_h > *rule.background_upper_ngy_h)) {
    v.level = DoseRateLevel::kAbnormal;
  }
  return v;
}

std::span<const BackgroundReference> national_background_survey() { return kSurvey; }

}  // namespace ecomon::standards::radiation
