// Ambient gamma dose rate (环境γ辐射空气吸收剂量率): a station's own baseline and the anomaly rule
// "value > mean + k·σ" against it, with the national natural-background survey as reference.
//
// NOT A NORMATIVE STANDARD. No Chinese standard fixes a numeric ambient alarm threshold: HJ
// 61-2021 and HJ 1009-2019 ask for comparison with the station's background fluctuation range
// (本底涨落范围) and investigation of anomalies. mean + 3σ of the station's history is widespread
// engineering practice (fact sheet radiation.md §3), so k is configurable with 3 as the default;
// the higher tiers (2 × mean, 3 × mean) are the fact sheet's suggestion, not any standard's.
// Hence these rules carry no Validity dates: they are configuration, not a dated edition.
//
// Units: air absorbed dose rate in nGy/h (`_ngy_h`). Instruments reporting nSv/h (H*(10)) must
// be converted by the caller with the instrument's own factor, never 1:1. Values include the
// cosmic-ray response unless the caller subtracted it; the baseline must be built the same way
// as the values judged against it.
// Missing vs zero: a missing reading is std::nullopt and is skipped, never 0 nGy/h.
// Precipitation: rain and snow wash radon progeny down and raise the dose rate by 10–50 % for
// hours; judge wet-period readings against a baseline built from wet-period history, or require a
// second signal (spectrometry) before alarming.
// Errors (core::Error reasons): "bad_value", "insufficient_history".
// Pure: no I/O, no clock, constant tables only; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "core/result.h"

namespace ecomon::standards::radiation {

struct Baseline {
  std::size_t count = 0;     // valid readings used
  std::size_t missing = 0;   // std::nullopt readings skipped
  std::size_t rejected = 0;  // negative or non-finite readings skipped
  double mean_ngy_h = 0;
  double sd_ngy_h = 0;  // sample standard deviation, Σ(x − mean)² / (count − 1)
};

struct BaselineOptions {
  // Fewest valid readings for a baseline. 2 is the arithmetic minimum for σ; practice uses one to
  // three years of hourly values, so callers should set a real figure (8760 for a year of hours).
  std::size_t min_count = 2;
};

// The station's baseline from its own history: mean and σ of the valid readings.
// "insufficient_history" below options.min_count; "bad_value" for min_count < 2.
core::Result<Baseline> baseline_of(std::span<const std::optional<double>> history_ngy_h,
                                   const BaselineOptions& options = {});

struct AnomalyRule {
  double k = 3.0;  // investigation level = mean + k·σ
  // Optional: the local reference background range's upper bound (e.g. a province's published
  // range); when set, a reading must also exceed it to be abnormal.
  std::optional<double> background_upper_ngy_h;
  double investigate_factor = 2.0;  // > factor × mean: investigate on site (fact sheet §3)
  double emergency_factor = 3.0;    // > factor × mean: emergency (HJ 1157's "3 × background")
};

enum class DoseRateLevel {
  kNormal,       // within the station's fluctuation
  kAbnormal,     // > mean + k·σ: abnormal, verify (异常，核实)
  kInvestigate,  // > investigate_factor × mean: investigate on site
  kEmergency,    // > emergency_factor × mean: emergency response
};
std::string_view dose_rate_level_name(DoseRateLevel level);  // "normal", "abnormal", …

struct DoseRateVerdict {
  DoseRateLevel level = DoseRateLevel::kNormal;
  double investigation_level_ngy_h = 0;  // mean + k·σ
  std::optional<double> z_score;         // (value − mean) / σ; missing when σ = 0
};

// mean + k·σ.
double investigation_level_ngy_h(const Baseline& baseline, double k);

// The highest tier the reading exceeds (strictly: a reading equal to a level is below it). A
// doubling of the dose rate is reported even where σ is so large that mean + k·σ is not exceeded.
// "bad_value" for a negative or non-finite reading or rule (k < 0, factors ≤ 1 or out of order).
core::Result<DoseRateVerdict> assess_dose_rate(double value_ngy_h, const Baseline& baseline,
                                               const AnomalyRule& rule = {});

// ---- reference: the 1983–1990 national environmental natural radioactivity survey ---------------

enum class Setting { kOpenField, kRoad, kIndoor };  // 原野, 道路, 室内

// Terrestrial gamma only (cosmic rays excluded): an automatic station's readings, which include
// ~30–35 nGy/h of cosmic response, are not directly comparable.
struct BackgroundReference {
  Setting setting;
  std::string_view name_zh;
  double min_ngy_h;
  double max_ngy_h;
  double mean_ngy_h;
  std::string_view mean_weighting;  // "area-weighted" / "population-weighted"
  std::string_view source;
};
std::span<const BackgroundReference> national_background_survey();

}  // namespace ecomon::standards::radiation
