// GB 3095 ambient air quality limits [环境空气质量标准 浓度限值] by edition and phase, and the
// compliance [达标] of a statistic against them, including HJ 663's annual attainment rule.
//
// Editions and phases (the "stage" of the limits), selected by the civil date (Beijing time) of
// the data:
//   GB 3095-2012                 2012-02-29 (published) .. 2026-02-28
//   GB 3095-2026 transition      2026-03-01 .. 2030-12-31  [过渡阶段浓度限值, §4.4]
//   GB 3095-2026 final           from 2031-01-01            [浓度限值]
// Dates before 2012-02-29 (GB 3095-1996) have no limits here: lookups fail with "no_edition".
// GB 3095-2012 was published 2012-02-29 and applied nationwide from 2016-01-01 (pilot cities from
// 2012/2013); ecomon applies it from publication so that pilot-era data is judged by it.
//
// Units: every limit is µg/m³ except CO, which is mg/m³ (Limit::unit says which). Gas limits are at
// 298.15 K / 1013.25 hPa, particulate limits at actual conditions (2018 amendment; GB 3095-2026
// §4.3); converting data to that state is the caller's job.
//
// Each table row names its clause and how sure the transcription is (Confidence): the GB 3095-2026
// SO2/NO2/CO/O3 rows come from two agreeing transcriptions of the official text, not the PDF; its
// Table 2 from one. See ../shared/reference/standards/GB3095-2012-air.md.
//
// Pure: no I/O, no clock; the tables are constants. Thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "core/result.h"
#include "standards/edition.h"

namespace ecomon::standards::air {

// Pollutant items [污染物项目] of GB 3095 Table 1 (basic) and Table 2 (other).
enum class Pollutant { kSo2, kNo2, kCo, kO3, kPm10, kPm25, kTsp, kNox, kPb, kBap };

// "SO2", "NO2", "CO", "O3", "PM10", "PM2.5", "TSP", "NOx", "Pb", "BaP".
std::string_view pollutant_name(Pollutant p);

// Averaging times [平均时间] of the limit tables. k8HourDailyMax is O3's 日最大8小时平均.
enum class Averaging { kAnnual, kQuarterly, k24Hour, k8HourDailyMax, k1Hour };

std::string_view averaging_name(Averaging a);

// Functional zone class [一类区 / 二类区]; selects the class-1 or class-2 limit column.
enum class AreaClass { kClass1, kClass2 };

enum class Unit { kMicrogramPerM3, kMilligramPerM3 };

// Which set of limits applies.
enum class Gb3095Stage { k2012, k2026Transition, k2026Final };

struct StageInfo {
  Gb3095Stage stage;
  std::string_view name;  // "GB 3095-2012", "GB 3095-2026 过渡阶段", "GB 3095-2026"
  Validity validity;      // civil dates of the data it applies to
};

const StageInfo& stage_info(Gb3095Stage stage);

// The stage in force on `date`; "no_edition" before 2012-02-29.
core::Result<Gb3095Stage> stage_on(const Date& date);

// The one stage in force over a whole period [first, last]; "period_spans_stages" when the period
// crosses 2026-03-01 or 2031-01-01 (e.g. the calendar year 2026): which limits judge such a period
// is not settled by the sheet, so the caller must choose a stage explicitly.
core::Result<Gb3095Stage> stage_for_period(const Date& first, const Date& last);

// How well a limit row is established (see the header comment).
enum class Confidence {
  kConfirmed,    // official text or official news, and agreeing implementations
  kTranscribed,  // two independent agreeing transcriptions of the official text; verify vs PDF
  kUnconfirmed,  // a single transcription
};

// One row of a limit table.
struct LimitRow {
  Gb3095Stage stage;
  Pollutant pollutant;
  Averaging averaging;
  double class1;
  double class2;
  Unit unit;
  std::string_view clause;  // e.g. "GB 3095-2026 表1, 过渡阶段浓度限值"
  Confidence confidence;

  double value(AreaClass c) const { return c == AreaClass::kClass1 ? class1 : class2; }
};

// Every row of every stage, in table order.
std::span<const LimitRow> limit_table();

// The row for (stage, pollutant, averaging); "no_limit" when the standard sets none (CO annual).
core::Result<LimitRow> find_limit(Gb3095Stage stage, Pollutant pollutant, Averaging averaging);

// One limit as applied.
struct Limit {
  double value;
  Unit unit;
  Gb3095Stage stage;
  std::string_view clause;
  Confidence confidence;
};

core::Result<Limit> limit(Gb3095Stage stage, Pollutant pollutant, Averaging averaging,
                          AreaClass area);
// The limit in force on the data's date: "no_edition" or "no_limit".
core::Result<Limit> limit_on(const Date& date, Pollutant pollutant, Averaging averaging,
                             AreaClass area);

// True when `value` exceeds `limit` [超标]. A value equal to the limit attains it; the comparison
// allows a relative 1e-9 so that floating-point noise in a computed mean (35.000000000000007)
// does not turn an exact limit into an exceedance. No GB/T 8170 rounding is applied here: round
// with round_gbt8170() (air_statistics.h) first if the statistic is to be judged as reported.
bool exceeds(double value, double limit);

// The compliance of one statistic. For a percentile of daily values pass the averaging time of
// the limit it is compared with (k24Hour for the SO2/NO2 98th and PM/CO 95th percentiles,
// k8HourDailyMax for the O3 90th percentile).
struct Compliance {
  Limit limit;
  double value = 0;
  bool attains = true;             // value <= limit [达标]
  double exceedance_multiple = 0;  // (value - limit) / limit when exceeding, else 0 [超标倍数]
};

core::Result<Compliance> compliance(Gb3095Stage stage, Pollutant pollutant, Averaging averaging,
                                    AreaClass area, double value);
core::Result<Compliance> compliance_on(const Date& date, Pollutant pollutant, Averaging averaging,
                                       AreaClass area, double value);

// HJ 663 annual evaluation items [年评价项目]: the annual mean (where the pollutant has one) and a
// percentile of the daily values, compared with the named limit.
struct AnnualItem {
  Pollutant pollutant;
  bool has_annual_mean;        // SO2, NO2, PM10, PM2.5
  int percentile;              // 98 (SO2, NO2), 95 (PM10, PM2.5, CO), 90 (O3)
  Averaging percentile_limit;  // k24Hour; k8HourDailyMax for O3 (of the daily max 8-h values)
  std::string_view clause;
};

std::span<const AnnualItem> annual_items();
// "no_annual_item" for a pollutant outside the six basic items.
core::Result<AnnualItem> annual_item(Pollutant pollutant);

// A pollutant attains the standard over a year only if its annual mean (when it has one) AND its
// percentile statistic attain. Errors: "no_annual_item"; "missing_statistic" when a needed
// statistic is absent (not valid) — absence is never treated as attainment.
struct AnnualAttainment {
  std::optional<Compliance> mean;  // absent for CO and O3
  Compliance percentile;
  bool attains = false;
};

core::Result<AnnualAttainment> annual_attainment(Gb3095Stage stage, Pollutant pollutant,
                                                 AreaClass area, std::optional<double> annual_mean,
                                                 std::optional<double> percentile_value);

}  // namespace ecomon::standards::air
