// Hourly and daily means with their validity and coverage (issue #5 §1, first part), per Beijing
// civil hour and day.
//
// Time: a sample is counted in the interval its measured time starts (HJ 212 stamps minute and
// hour values with the START of their period). Buckets carry their start; callers label hours by
// their END when they publish them (national release convention, see air_statistics.h).
//
// Validity (GB 3095-2012 表4 [污染物浓度数据有效性的最低要求], kept by HJ 663):
//   - an hour from sub-hourly data (minute or real-time values) needs at least 45 minutes with a
//     valid sample ("每小时至少有45分钟的采样时间");
//   - a day from hourly values needs at least 20 valid hours ("每日至少有20个小时平均浓度值");
//   - an hourly or daily value received as such (HJ 212 CN 2061 / 2031) is one sample: valid when
//     its own flag is;
//   - a month from daily values needs at least 27 valid days, February 25, and a year 324 valid
//     days and every month of it valid (the table's annual row: "每年至少有324个日平均浓度值，每月
//     至少有27个日平均浓度值（二月至少有25个日平均浓度值）", for SO2, NO2, PM10, PM2.5, NOx;
//     ../shared/reference/standards/GB3095-2012-air.md §4; air_statistics.h applies the same counts
//     to CO and O3). Used here for every factor, which the table does not say for non-air factors.
// Which samples are valid is the caller's decision (device flag N, not quarantined, …); an invalid
// sample is counted as received but not used in the mean.
// Every bucket reports expected / received / valid counts; an invalid bucket keeps the mean of the
// valid samples it has (or none), and says valid = false.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace ecomon::standards::aggregation {

struct Sample {
  std::int64_t time_ms = 0;  // measured time (UTC instant), the start of the sample's period
  double value = 0;
  bool valid = true;
};

struct Bucket {
  std::int64_t start_ms = 0;   // the Beijing hour's or day's start
  int expected = 0;            // minutes (60), hours (24) or 1 for a value received as such
  int received = 0;            // samples (sub-hourly: minutes with any sample) received
  int valid = 0;               // of them valid
  std::optional<double> mean;  // of the valid samples (sub-hourly: of every valid sample)
  bool is_valid = false;
};

inline constexpr int kMinMinutesPerHour = 45;   // GB 3095-2012 表4, 1-h
inline constexpr int kMinHoursPerDay = 20;      // GB 3095-2012 表4, 24-h
inline constexpr int kMinDaysPerMonth = 27;     // GB 3095-2012 表4, annual row, per month
inline constexpr int kMinDaysPerFebruary = 25;  // GB 3095-2012 表4, annual row, February
inline constexpr int kMinDaysPerYear = 324;     // GB 3095-2012 表4, annual row

// Hours from minute or real-time samples (any order). Minutes are counted once however many
// samples they hold; a minute is valid when it holds a valid sample.
std::vector<Bucket> hours_from_subhourly(std::span<const Sample> samples,
                                         int min_minutes = kMinMinutesPerHour);
// Hours or days from values received as such: one bucket per sample's period (`period_ms`
// 3,600,000 or 86,400,000), expected 1. A period sent twice keeps the last valid sample.
std::vector<Bucket> periods_as_received(std::span<const Sample> samples, std::int64_t period_ms);
// Days from hourly buckets (from either function above): valid with `min_hours` valid hours; the
// mean of the valid hours' means.
std::vector<Bucket> days_from_hours(std::span<const Bucket> hours, int min_hours = kMinHoursPerDay);

// Beijing calendar months from daily buckets: expected = the days of the month, received = days
// with a bucket, valid = valid days; the mean of the valid days' means; valid with ≥ 27 valid
// days (February ≥ 25).
std::vector<Bucket> months_from_days(std::span<const Bucket> days);
// Beijing calendar years from daily buckets: valid with ≥ 324 valid days and every month valid
// (GB 3095-2012 表4 as it reads; a year with a month short of 27 days is not valid).
std::vector<Bucket> years_from_days(std::span<const Bucket> days);
// The start of the Beijing month or year of an instant.
std::int64_t beijing_month_start(std::int64_t ms);
std::int64_t beijing_year_start(std::int64_t ms);

// The start of the Beijing (UTC+8) hour or day of an instant.
std::int64_t beijing_period_start(std::int64_t ms, std::int64_t period_ms);

}  // namespace ecomon::standards::aggregation
