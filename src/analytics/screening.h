// Automatic quality screening of monitoring series (issue #5 §4, "打击数据造假"): rules that
// flag values worth a reviewer's look — values an analyser cannot produce, a stuck or copied
// series, a PM2.5 above the PM10 it is part of. A finding names the rule, the time range, how many
// values it covers and the evidence; screening never changes or drops a value.
//
// Input: one series (a site's factor at one interval) or two series for the cross-series rules.
// Samples need not be sorted (they are sorted by time here); a value's time is its measured time
// (for hourly data, the start of the hour as HJ 212 stamps it). A finding covers [from_ms, to_ms):
// from the first value's time to the last value's time + the interval. Values of one rule that are
// adjacent (the next one starts where the finding ends) or overlapping merge into one finding.
//
// Defaults (`ScreeningConfig`), checked on real data: the national station hourly release of
// Sichuan, 2020-03-26 … 04-08 (data/air_cn_sichuan_hourly_2020, 107 stations × ~169 hours):
//   - negative: any value below 0 of a configured concentration factor. Analysers may dip
//     slightly below zero at zero drift; a published concentration never does (none in the data).
//   - out_of_range: outside the analyser's range. Defaults are the full scales commonly
//     configured at national stations, not quoted from a standard — set each station's real range:
//     PM2.5 0–1000 µg/m3 and PM10 0–2000 µg/m3 (beta-attenuation / TEOM monitors); SO2, NO2, O3
//     the 0–1 ppm range and CO the 0–50 ppm range of the usual gas analysers, converted at the
//     GB 3095-2012 (2018 amendment) reference state 25 °C, 101.325 kPa: SO2 2620, NO2 1882,
//     O3 1963 µg/m3, CO 57.3 mg/m3 (62.5 at 0 °C). A negative concentration is reported as
//     `negative` only, not again as below the range.
//   - constant: the same value in at least N consecutive values. N per factor, as a duration:
//     72 h for SO2 and CO, 24 h for PM2.5, PM10, NO2, O3. At their published resolution (1 µg/m3,
//     0.1 mg/m3) honest SO2 and CO stay flat for long: up to 53 and 45 consecutive published hours
//     in the Sichuan data; PM at most 13, NO2 8, O3 5. Station 1435A 梁家巷 (Chengdu) repeats
//     one record for all its 169 hours, and the no-code station 乐山大佛景区 for 157: both are
//     flagged. Missing values neither count nor break a run (a gap does not show a change).
//   - low_variation: a 24-h window (≥ 20 values of hourly data, the GB 3095-2012 表4 day rule)
//     whose coefficient of variation is below 2 % AND whose range is below 2 % of the analyser
//     range. Honest 24-h windows in the Sichuan data have CV ≥ 2.6 % (PM2.5), ≥ 6 % (NO2, O3,
//     PM10). Off for SO2 and CO: at their resolution a whole day of one value is normal (their
//     24-h range is 0 at many honest stations), so for them only `constant` applies.
//   - jump: a change between two consecutive values (exactly one interval apart) larger than both
//     k = 10 × the series' robust spread (1.4826 × the median absolute deviation of its values,
//     at least `jump_min_spread`) and the factor's floor: PM2.5 100, PM10 150, NO2 60, O3 100,
//     SO2 50 µg/m3, CO 2 mg/m3. Severity info: real events jump too — it fires on the 2020-03-30
//     Xichang forest fire (PM2.5 23 → 260 at 2571A) and a PM10 burst at four Neijiang/Ziyang
//     stations on 03-26 21:00, and on none of the four Guangyuan stations.
//   - pm25_gt_pm10: PM2.5 above PM10 at the same time by more than max(5 µg/m3, 10 % of PM10).
//     PM2.5 is part of PM10; no row of the 17,287 in the data has PM2.5 > PM10 at all.
//   - identical_series: two devices' series equal at ≥ 24 consecutive common times holding ≥ 3
//     distinct values (a copied series; a flat equal stretch is the `constant` rule's). The longest
//     equal stretch of two stations of one city in the data is 26 hours of one CO value.
//   - future_time: measured time more than 10 min after `now` (the gateway's future_tolerance_s).
//   - flag_cover: a value with an invalid device flag (anything but N: M maintenance, C
//     calibration, D fault, F …) above the factor's limit — a flag may be hiding a real
//     exceedance. Limits: GB 3095-2012 grade II 1-h (SO2 500, NO2 200, O3 200 µg/m3, CO
//     10 mg/m3) and, as no 1-h PM limit exists, the 24-h PM limits (PM2.5 75, PM10 150).
// Rules that depend on a factor's physics (negative, out_of_range, constant, low_variation, jump,
// flag_cover) run only for factors in `ScreeningConfig::factors`; others get future_time only.
// Pure; thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecomon::analytics::screening {

enum class Rule {
  kNegative,
  kOutOfRange,
  kConstant,
  kLowVariation,
  kJump,
  kPm25GtPm10,
  kIdenticalSeries,
  kFutureTime,
  kFlagCover,
};
// "negative", "out_of_range", "constant", "low_variation", "jump", "pm25_gt_pm10",
// "identical_series", "future_time", "flag_cover".
std::string_view rule_name(Rule r);
// 负值, 超量程, 恒值, 低变异, 跳变, 倒挂, 数据雷同, 未来时间, 标记掩盖.
std::string_view rule_name_zh(Rule r);

enum class Severity { kInfo, kWarning, kCritical };
std::string_view severity_name(Severity s);  // "info", "warning", "critical"

struct Sample {
  std::int64_t time_ms = 0;  // measured time (UTC instant)
  double value = 0;
  std::string flag;  // device flag; "" or "N" is valid
};

struct Series {
  std::string site;
  std::string factor;              // HJ 212-2017 code, e.g. a34004
  std::int64_t interval_s = 3600;  // 60 minute data, 3600 hourly, 86400 daily
  std::vector<Sample> samples;
};

struct Finding {
  Rule rule = Rule::kNegative;
  std::int64_t from_ms = 0;  // first value's time
  std::int64_t to_ms = 0;    // last value's time + interval (exclusive)
  Severity severity = Severity::kWarning;
  std::string evidence;  // English, numbers in the factor's unit
  int count = 0;         // values (or, for cross-series rules, times) the finding covers
};

// A factor's thresholds. A disabled rule: constant_min_s 0, low_variation_cv 0, jump_floor
// unset, flag_cover_limit unset.
struct FactorLimits {
  double range_min = 0;  // analyser range, in the factor's unit
  double range_max = 0;
  std::int64_t constant_min_s = 0;   // duration of a run of one value that fires `constant`
  double low_variation_cv = 0;       // fires below this coefficient of variation (0.02 = 2 %)
  std::optional<double> jump_floor;  // absolute change that a jump must exceed as well
  std::optional<double> flag_cover_limit;
  bool concentration = true;  // negative values are impossible
};

// The six air quality factors of HJ 633 with the defaults above: a34004 PM2.5, a34002 PM10,
// a21026 SO2, a21004 NO2, a05024 O3 (µg/m3), a21005 CO (mg/m3).
std::map<std::string, FactorLimits> default_factor_limits();

struct ScreeningConfig {
  std::map<std::string, FactorLimits> factors = default_factor_limits();
  std::int64_t low_variation_window_s = 86400;
  double low_variation_min_coverage = 20.0 / 24.0;  // share of the window's intervals present
  double low_variation_range_fraction = 0.02;       // of range_max - range_min
  double jump_k = 10;
  double jump_min_spread = 1e-9;  // so a series of one repeated value still needs the floor
  double pm_tolerance_ugm3 = 5;
  double pm_tolerance_fraction = 0.10;
  int identical_min_intervals = 24;
  int identical_min_distinct = 3;
  std::int64_t future_tolerance_ms = 600'000;
};

// The single-series rules (all but pm25_gt_pm10 and identical_series), findings ordered by rule
// then time. `now_ms` is the caller's clock (for future_time).
std::vector<Finding> screen(const Series& series, const ScreeningConfig& config,
                            std::int64_t now_ms);
// pm25_gt_pm10 over the times both series have.
std::vector<Finding> screen_pm25_gt_pm10(const Series& pm25, const Series& pm10,
                                         const ScreeningConfig& config);
// identical_series: `a` and `b` are two devices' (or sites') series of one factor.
std::vector<Finding> screen_identical(const Series& a, const Series& b,
                                      const ScreeningConfig& config);

}  // namespace ecomon::analytics::screening
