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
//   - near_detection_limit (贴近检出限): a 24-h window (≥ 20 values of hourly data) in which at
//     least 90 % of the values lie at or below 2 × the factor's lower detection limit — a series
//     parked just above "not detected". Detection limits are ASSUMED, not quoted from a standard
//     (the reference sheets hold none): PM2.5 2, PM10 2, NO2 2, O3 4 µg/m3 — set each analyser's.
//     Off for SO2 and CO: honest clean-air SO2 sits at 2–4 µg/m3 all day (18 Sichuan stations
//     never exceed 3 µg/m3 in a whole day), so at their published resolution the rule cannot tell
//     an honest clean day from a parked one. With these limits it is silent on the whole Sichuan
//     release.
//   - small_jitter (小幅抖动): a 12-h window (≥ 10 values of hourly data) holding ≥ 2 distinct
//     values that all lie within ±1 % of the window's median — a fixed value with a little noise
//     added (a generator's output), which `constant` misses. Silent on the Sichuan release even at
//     ±3 % (at 1 µg/m3 resolution an honest series cannot stay within ±1 % of its median unless
//     it is one value, which is `constant`'s).
//   - clock_drift (时钟漂移): the delay between a value's period end (time + interval) and its
//     receive time, as the median of each 24-h window over the values received "on time" (delay
//     within ±3 h: a backlog sent after an outage says nothing about the clock); a window whose
//     median has moved more than 10 min from the series' first window fires (the device's clock
//     runs fast or slow). Needs receive times (Sample::received_ms, 0 = unknown, ignored) and at
//     least 6 on-time values per window. A clock off by more than 3 h is beyond this rule
//     (future_time catches a fast one). No real receive times exist in ../shared/data: the silent
//     case is an honest crafted series (constant delay + jitter + a few late re-sends).
// Cross-series and range rules (their own functions, below):
//   - sum_gt_total (加和不符): a total below the weighted sum of its parts beyond max(tolerance,
//     fraction × total), at each time where the total and at least one part were sent. Defaults:
//     NOx a21002 ≥ NO a21003 × 46/30 + NO2 a21004 (NOx reported as NO2 by mass, as the national
//     air method states NOx — ASSUMED units µg/m3 for all three; with ppb set NO's weight to 1),
//     tolerance 5 µg/m3 or 10 %; TN w21001 ≥ NH3-N w21003 (ammonia nitrogen is part of total
//     nitrogen), tolerance 0.05 mg/L or 10 %. Real data: in the national water snapshot of
//     2026-02-04 one section of 982 (罗带铁路桥: NH3-N 1.061 > TN 0.67 mg/L) fires; London
//     Marylebone 1998–2005 (../shared/data, ppb, checked by a one-off script) fires only on
//     2004-12-29/30 (NOx 0 while NO2 26–84 ppb: an analyser fault).
//   - missing_without_reason (无故缺失): runs of ≥ 1 expected interval in [from, to) with no value
//   of
//     the factor and no device status reason covering it (a value of the device flagged other
//     than N at that time — maintenance, calibration, fault, stopped — passed in as reason
//     ranges). A device that says nothing is no reason.
//   - hour_mismatch (小时值不符, issue §1): a device's own hourly value (CN 2061) differs from the
//     platform's mean of the device's valid minute values (CN 2051, flag N) of that hour by more
//     than max(the factor's hour_tolerance, 10 % of the platform mean); hours with fewer than 45
//     valid minutes are not compared (GB 3095-2012 表4: an hour needs 45 minutes). Tolerances per
//     factor: PM2.5, PM10, SO2, NO2, O3 2 µg/m3, CO 0.2 mg/m3 — ASSUMED: the rounding of the
//     published hour (1 µg/m3, 0.1 mg/m3) twice over.
// Rules that depend on a factor's physics (negative, out_of_range, constant, low_variation, jump,
// flag_cover, near_detection_limit, small_jitter) run only for factors in
// `ScreeningConfig::factors`; others get future_time and clock_drift only.
// Pure; thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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
  kNearDetectionLimit,
  kSmallJitter,
  kClockDrift,
  kSumGtTotal,
  kMissingWithoutReason,
  kHourMismatch,
};
// "negative", "out_of_range", "constant", "low_variation", "jump", "pm25_gt_pm10",
// "identical_series", "future_time", "flag_cover", "near_detection_limit", "small_jitter",
// "clock_drift", "sum_gt_total", "missing_without_reason", "hour_mismatch".
std::string_view rule_name(Rule r);
// nullopt for an unknown name.
std::optional<Rule> rule_from_name(std::string_view name);
// 负值, 超量程, 恒值, 低变异, 跳变, 倒挂, 数据雷同, 未来时间, 标记掩盖, 贴近检出限, 小幅抖动,
// 时钟漂移, 加和不符, 无故缺失, 小时值不符.
std::string_view rule_name_zh(Rule r);

enum class Severity { kInfo, kWarning, kCritical };
std::string_view severity_name(Severity s);  // "info", "warning", "critical"

struct Sample {
  std::int64_t time_ms = 0;  // measured time (UTC instant)
  double value = 0;
  std::string flag;              // device flag; "" or "N" is valid
  std::int64_t received_ms = 0;  // when the platform received it; 0 = unknown (clock_drift)
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
  bool concentration = true;              // negative values are impossible
  std::optional<double> detection_limit;  // lower detection limit; unset: no near_detection_limit
  std::optional<double> hour_tolerance;   // hour_mismatch's absolute tolerance; unset: not compared
};

// sum_gt_total: `total` must not be below Σ weight × part (parts absent at a time are left out).
struct SumRule {
  std::string total;                                  // factor code
  std::vector<std::pair<std::string, double>> parts;  // factor code, weight
  double tolerance = 0;                               // absolute, in the total's unit
  double tolerance_fraction = 0.10;                   // of the total
};
// NOx ≥ NO × 46/30 + NO2 (µg/m3) and TN ≥ NH3-N (mg/L), as documented above.
std::vector<SumRule> default_sum_rules();

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
  double detection_limit_multiple = 2;  // near_detection_limit band: [.., multiple × limit]
  double detection_limit_share = 0.9;   // share of a window's values in the band that fires
  std::int64_t jitter_window_s = 12 * 3600;
  double jitter_min_coverage = 10.0 / 12.0;
  double jitter_fraction = 0.01;  // ± of the window's median
  std::int64_t clock_drift_window_s = 86400;
  std::int64_t clock_drift_max_ms = 600'000;
  std::int64_t clock_drift_on_time_ms = 3 * 3'600'000;
  int clock_drift_min_values = 6;
  std::vector<SumRule> sums = default_sum_rules();
  int missing_min_intervals = 1;
  int hour_min_minutes = 45;
  double hour_tolerance_fraction = 0.10;
  // Rules switched off by configuration ([screening] disabled = [...]): never reported.
  std::vector<Rule> disabled;
  bool enabled(Rule r) const;
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
// sum_gt_total for one rule: `parts` in the order of rule.parts (a missing part: empty series).
std::vector<Finding> screen_sum(const SumRule& rule, const Series& total,
                                const std::vector<Series>& parts, const ScreeningConfig& config);
// A range [from_ms, to_ms) — a device status that explains missing data.
struct Span {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
};
// missing_without_reason over the expected times of `series` (multiples of its interval from
// from_ms) in [from_ms, to_ms). A present sample of any flag is not missing.
std::vector<Finding> screen_missing(const Series& series, std::int64_t from_ms, std::int64_t to_ms,
                                    const std::vector<Span>& reasons,
                                    const ScreeningConfig& config);
// hour_mismatch: a device's hourly values (interval 3600) against its minute values (interval 60).
// The hour_mismatch test of one hour: the device's hour against the platform's mean of
// `valid_minutes` valid minutes differs by more than max(the factor's hour_tolerance,
// hour_tolerance_fraction × |platform mean|). False when the rule is off, the factor has no
// tolerance, or fewer than hour_min_minutes minutes are valid. screen_hour_vs_minutes() and the
// stored hours (derive/aggregates.h, `mismatch`) both judge with it.
bool hour_mismatch(const ScreeningConfig& c, const std::string& factor, double device_hour,
                   double platform_mean, int valid_minutes);

std::vector<Finding> screen_hour_vs_minutes(const Series& hours, const Series& minutes,
                                            const ScreeningConfig& config);

}  // namespace ecomon::analytics::screening
