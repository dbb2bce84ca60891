// Air-quality statistics of HJ 663 [环境空气质量评价技术规范] (2013 and 2026 editions) with the
// data validity minimums of GB 3095 Table 4 [污染物浓度数据有效性的最低要求]: O3 8-h sliding means
// and the daily maximum 8-h mean, 24-h sliding means, daily, monthly, quarterly and annual means,
// percentiles of daily values, the good-day ratio and the comprehensive index.
//
// Hour labelling. An hourly value is labelled by the hour it ENDS (national release convention):
// the value stamped 16:00 is the mean of 15:00–16:00, Beijing time. The natural day D therefore
// consists of the 24 values stamped D 01:00 … D+1 00:00 (the latter is D's "24:00"); the 8-h
// sliding mean stamped t averages the values stamped t−7 h … t; D's daily maximum 8-h mean takes
// the 17 windows stamped D 08:00 … D+1 00:00, the first covering the values stamped 01:00 … 08:00.
//
// Missing. A value is std::optional: std::nullopt means missing or invalid (an hour with less than
// 45 minutes of sampling, data failing QA), never 0. Hours or days outside a series are missing.
// A statistic without enough valid data has no value (Statistic::value is empty), never 0.
//
// Units. The arithmetic is unit-agnostic, but pass µg/m³ for every pollutant except CO in mg/m³,
// the units of GB 3095 (gb3095.h), so that results compare with its limits. No statistic rounds;
// round_gbt8170() rounds a result for reporting.
//
// Editions. The minimum counts are a table (ValidityRules), one row per HJ 663 edition, chosen by
// the data's date: HJ 663-2013 for data before 2026-03-01, HJ 663-2026 from then on. As far as
// the reference sheet knows, HJ 663-2026 kept every count and the percentile formula; its new
// methods (exceptional events, three-year sliding average) are not implemented here.
//
// Pure: no I/O, no clock, no globals but constant tables. Series are immutable values; every
// function is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/civil_time.h"
#include "core/result.h"
#include "standards/edition.h"
#include "standards/gb3095.h"
#include "standards/rounding.h"

namespace ecomon::standards::air {

enum class Hj663Edition { k2013, k2026 };

// The minimum numbers of valid values behind a statistic (GB 3095 Table 4 and HJ 663 §6).
// "Continuous" items are the automatically monitored SO2, NO2, CO, O3, PM10, PM2.5 and NOx;
// "manual" items are TSP, BaP and Pb (filter sampling).
struct ValidityRules {
  Hj663Edition edition;
  std::string_view name;
  Validity validity;
  int min_hours_per_8h;           // 6 of the 8 hourly values of an O3 8-h window
  int min_windows_per_day;        // 14 of the 17 8-h windows for a daily max 8-h
  int min_hours_per_day;          // 20 hourly values for a 24-h mean (continuous items)
  int min_hours_per_24h_sliding;  // 20: by analogy with the 24-h mean (unconfirmed)
  int min_hours_per_day_manual;   // 24: TSP, BaP, Pb need 24 h of sampling
  int min_days_per_year;          // 324 daily values (continuous items)
  int min_days_per_month;         // 27
  int min_days_per_february;      // 25
  int min_days_per_year_manual;   // 60 (TSP, BaP, Pb)
  int min_days_per_month_manual;  // 5
  int min_days_per_quarter_pb;    // 15 (Pb quarterly mean; also ≥ 5 per month)
  std::string_view clause;
};

std::span<const ValidityRules> validity_rules_table();
// The rules for data of `date`. Dates before HJ 663-2013 (2013-10-01) get the 2013 rules: GB
// 3095-2012 Table 4 set the same counts from 2012, and older rules are not encoded.
const ValidityRules& validity_rules_on(const Date& date);

// A statistic and the evidence behind it.
struct Statistic {
  std::optional<double> value;       // absent: not valid (too few valid values), never 0
  int valid_count = 0;               // valid inputs used: hours, 8-h windows or days
  int required_count = 0;            // the minimum the rules ask for
  bool valid_by_exceedance = false;  // daily max 8-h valid with < 14 windows because it exceeds
  Hj663Edition edition = Hj663Edition::k2013;
};

// The hour number of a civil time: hours since 1970-01-01 00:00 civil (minutes are ignored).
std::int64_t hour_number(const core::CivilTime& t);

// Hourly values of one station and pollutant; values()[i] is stamped first_end() + i hours (the
// hour it ends, see above).
class HourlySeries {
 public:
  // Errors: "bad_time" when first_end is not a valid civil time on the full hour; "bad_value"
  // when a present value is not finite (missing is nullopt, not NaN).
  static core::Result<HourlySeries> make(const core::CivilTime& first_end,
                                         std::vector<std::optional<double>> values);

  const core::CivilTime& first_end() const { return first_end_; }
  std::size_t size() const { return values_.size(); }
  const std::vector<std::optional<double>>& values() const { return values_; }
  // The value stamped with hour number `hour` (hour_number()); nullopt outside the series.
  std::optional<double> at_hour(std::int64_t hour) const;
  // The value stamped `end`, which must be on the full hour (asserted).
  std::optional<double> at(const core::CivilTime& end) const;

 private:
  HourlySeries() = default;
  core::CivilTime first_end_;
  std::int64_t first_hour_ = 0;
  std::vector<std::optional<double>> values_;
};

// Daily values of one station and pollutant (daily means, or O3 daily max 8-h means);
// values()[i] belongs to the natural day first_day() + i days.
class DailySeries {
 public:
  // Errors: "bad_date" for an invalid date; "bad_value" for a present value that is not finite.
  static core::Result<DailySeries> make(const Date& first_day,
                                        std::vector<std::optional<double>> values);

  const Date& first_day() const { return first_day_; }
  std::size_t size() const { return values_.size(); }
  const std::vector<std::optional<double>>& values() const { return values_; }
  // The value of `day`; nullopt outside the series.
  std::optional<double> at(const Date& day) const;

 private:
  DailySeries() = default;
  Date first_day_;
  std::int64_t first_day_number_ = 0;
  std::vector<std::optional<double>> values_;
};

// --- From hourly values -------------------------------------------------------------------------

// The O3 8-h sliding mean stamped `end` (on the full hour, asserted): the mean of the values
// stamped end−7 h … end, valid with ≥ 6 valid values.
Statistic sliding_mean_8h(const HourlySeries& series, const core::CivilTime& end);
// The 8-h sliding means stamped like `series`' own values (nullopt where not valid).
HourlySeries sliding_means_8h(const HourlySeries& series);

// The 24-h sliding mean stamped `end` (on the full hour, asserted): the mean of the values stamped
// end−23 h … end, valid with ≥ 20 valid values (the 24-h mean rule applied to sliding means; the
// sheet marks this unconfirmed). Used by the real-time report for PM10 and PM2.5.
Statistic sliding_mean_24h(const HourlySeries& series, const core::CivilTime& end);
HourlySeries sliding_means_24h(const HourlySeries& series);

// The 24-h mean of the natural day `day`: the values stamped day 01:00 … day+1 00:00. Valid with
// ≥ 20 values for continuous items, all 24 for TSP, BaP and Pb.
Statistic daily_mean(const HourlySeries& series, const Date& day, Pollutant pollutant);
// Daily means of the days first … last (inclusive; an empty series when last < first).
DailySeries daily_means(const HourlySeries& series, const Date& first, const Date& last,
                        Pollutant pollutant);

// The O3 daily maximum 8-h mean [日最大8小时平均] of `day` from hourly O3: the largest valid 8-h
// sliding mean among the 17 stamped day 08:00 … day+1 00:00. Valid with ≥ 14 valid windows; with
// fewer (but at least one), still valid when the maximum exceeds `exceedance_limit_ugm3` (HJ 663:
// a maximum that already exceeds the limit cannot fall below it with more data). Without a limit
// the exception is not applied. Use daily_max_8h_in_area() to take the limit from GB 3095.
Statistic daily_max_8h(const HourlySeries& o3_hourly, const Date& day,
                       std::optional<double> exceedance_limit_ugm3);
// The same with the GB 3095 O3 8-h limit of the area class in force on `day`; fails as
// limit_on() does ("no_edition").
core::Result<Statistic> daily_max_8h_in_area(const HourlySeries& o3_hourly, const Date& day,
                                             AreaClass area);
DailySeries daily_max_8h_series(const HourlySeries& o3_hourly, const Date& first, const Date& last,
                                std::optional<double> exceedance_limit_ugm3);

// --- From daily values --------------------------------------------------------------------------

// Mean of the daily values of a calendar month: valid with ≥ 27 values (February ≥ 25) for
// continuous items, ≥ 5 for TSP, BaP and Pb.
Statistic monthly_mean(const DailySeries& daily, int year, int month, Pollutant pollutant);
// A percentile of a month's daily values, under the same minimum as monthly_mean() (used by the
// monthly comprehensive index: CO P95, O3 P90).
Statistic monthly_percentile(const DailySeries& daily, int year, int month, int percent,
                             Pollutant pollutant);

// Pb quarterly mean (quarter 1..4): ≥ 15 daily values in the quarter and ≥ 5 in each month.
Statistic quarterly_mean(const DailySeries& daily, int year, int quarter);

// GB 3095 Table 4 puts two requirements in its annual row: ≥ 324 daily values in the year and
// ≥ 27 in every month (February ≥ 25) — for TSP, BaP and Pb ≥ 60 and ≥ 5. kYearAndEveryMonth
// applies both, as the table reads; kYearOnly only the yearly count, as many platforms do.
enum class AnnualCompleteness { kYearAndEveryMonth, kYearOnly };

// The annual mean of a calendar year's daily values. The rules of the year's last day apply.
Statistic annual_mean(const DailySeries& daily, int year, Pollutant pollutant,
                      AnnualCompleteness completeness = AnnualCompleteness::kYearAndEveryMonth);
// A percentile of a calendar year's daily values (SO2/NO2 98th, PM10/PM2.5/CO 95th of daily
// means, O3 90th of daily max 8-h means), under the annual minimum. CO and O3 have no annual-mean
// row in Table 4; their annual percentiles take the continuous items' counts (324/27/25).
Statistic annual_percentile(
    const DailySeries& daily, int year, int percent, Pollutant pollutant,
    AnnualCompleteness completeness = AnnualCompleteness::kYearAndEveryMonth);

// HJ 663 附录A percentile of n values: sort ascending X(1) ≤ … ≤ X(n); k = 1 + (n − 1)·p/100;
// s = ⌊k⌋; P = X(s) + (X(s+1) − X(s))·(k − s), and P = X(n) when s = n. Computed with p an integer
// percent so that k − s is exact. nullopt for no values; `percent` must be 0..100 (asserted).
std::optional<double> percentile(std::vector<double> values, int percent);

// --- Day counts and the comprehensive index
// -------------------------------------------------------

// Good days [优良天数] over VALID days: a day with an AQI counts; a day without one (nullopt) is
// left out of the denominator, not counted as bad.
struct GoodDayRatio {
  int valid_days = 0;
  int good_days = 0;                    // AQI ≤ 100 (优 + 良)
  int exceedance_days = 0;              // AQI > 100 [超标天数]
  int heavy_days = 0;                   // AQI > 200 [重污染及以上]
  std::optional<double> ratio_percent;  // good / valid × 100; absent without valid days
};

// `daily_aqi`: the published (integer, rounded-up) daily AQI of each day, nullopt when none.
GoodDayRatio good_day_ratio(std::span<const std::optional<int>> daily_aqi);

// Inputs of the comprehensive index [环境空气质量综合指数] of a period (month, year).
struct IndexInputs {
  std::optional<double> so2_mean_ugm3;
  std::optional<double> no2_mean_ugm3;
  std::optional<double> pm10_mean_ugm3;
  std::optional<double> pm25_mean_ugm3;
  std::optional<double> co_p95_mgm3;     // 95th percentile of the period's CO daily means, mg/m³
  std::optional<double> o3_8h_p90_ugm3;  // 90th percentile of the period's O3 daily max 8-h
};

enum class IndexMethod {
  // Σ C_i/S_i over the six pollutants (《城市环境空气质量排名技术规定》, the documented method).
  kOfficialUnweighted,
  // Σ w_i·C_i/S_i with w(PM2.5) = 3, w(NO2) = w(O3) = 2, others 1: found in one platform's code
  // as "HJ 663-2026 新算法" and in no official text. Only for comparison; do not publish.
  kWeightedUnconfirmed,
};

struct IndexTerm {
  Pollutant pollutant;
  double concentration;  // C_i (CO mg/m³)
  double divisor;        // S_i: the class-2 limit (annual; CO 24-h; O3 8-h)
  double weight;         // 1 for the official method
  double sub_index;      // I_i = C_i / S_i (unweighted)
};

struct ComprehensiveIndex {
  double total = 0;                  // Σ weight·I_i, unrounded (round for display: 2 decimals)
  std::array<IndexTerm, 6> terms{};  // SO2, NO2, PM10, PM2.5, CO, O3
  std::vector<Pollutant> primary;    // the largest unweighted I_i (all of them when tied)
  Gb3095Stage divisors = Gb3095Stage::k2012;
  IndexMethod method = IndexMethod::kOfficialUnweighted;
};

// `divisors` names the GB 3095 stage whose class-2 limits are the S_i. The published method uses
// GB 3095-2012 (SO2 60, NO2 40, PM10 70, PM2.5 35, CO 4, O3 160); whether rankings after
// 2026-03-01 divide by the 2026 limits is not known, so the caller chooses.
// Errors: "missing_statistic" naming an absent input; "bad_value" for a negative or non-finite one.
core::Result<ComprehensiveIndex> comprehensive_index(
    const IndexInputs& inputs, Gb3095Stage divisors,
    IndexMethod method = IndexMethod::kOfficialUnweighted);

// --- Rounding for reports -----------------------------------------------------------------------

// GB/T 8170 rounding to `decimals` places (四舍六入五成双: a discarded part of exactly one half
// rounds to the even digit; more than a half rounds up). Binary noise within 1e-9 of a half is
// taken as the half, so 1.015 → 1.02 although 1.015 × 100 is 101.49999999999999 in binary.
using ::ecomon::standards::round_gbt8170;  // standards/rounding.h

// Decimals of a reported concentration (CNEMC practice, unconfirmed as normative): 0 for SO2,
// NO2, O3, PM10, PM2.5, NOx, TSP; 1 for CO (mg/m³); nullopt for Pb and BaP (no rule known).
std::optional<int> report_decimals(Pollutant pollutant);

}  // namespace ecomon::standards::air
