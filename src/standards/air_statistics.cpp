#include "standards/air_statistics.h"

#include <algorithm>
#include <cassert>
#include <cfloat>
#include <cmath>
#include <string>
#include <utility>

namespace ecomon::standards::air {
namespace {

constexpr std::array kValidityRules = {
    ValidityRules{
        Hj663Edition::k2013, "HJ 663-2013 / GB 3095-2012 表4",
        Validity{{2013, 10, 1}, Date{2026, 3, 1}},
        /*min_hours_per_8h=*/6, /*min_windows_per_day=*/14, /*min_hours_per_day=*/20,
        /*min_hours_per_24h_sliding=*/20, /*min_hours_per_day_manual=*/24,
        /*min_days_per_year=*/324, /*min_days_per_month=*/27, /*min_days_per_february=*/25,
        /*min_days_per_year_manual=*/60, /*min_days_per_month_manual=*/5,
        /*min_days_per_quarter_pb=*/15,
        "GB 3095-2012 表4 (数据有效性最低要求); HJ 663-2013 §6 (O3 日最大8小时: 8时至24时 ≥ 14 个"
        "有效8小时值, 不足但超标时仍有效); HJ 663-2013 附录A (百分位数)"},
    // The 2026 editions keep the counts as far as the transcriptions show (HJ 663-2026 6.1.2
    // keeps the O3 exception); whether GB 3095-2026 changed Table 4 is unconfirmed.
    ValidityRules{
        Hj663Edition::k2026, "HJ 663-2026 / GB 3095-2026", Validity{{2026, 3, 1}, std::nullopt},
        /*min_hours_per_8h=*/6, /*min_windows_per_day=*/14, /*min_hours_per_day=*/20,
        /*min_hours_per_24h_sliding=*/20, /*min_hours_per_day_manual=*/24,
        /*min_days_per_year=*/324, /*min_days_per_month=*/27, /*min_days_per_february=*/25,
        /*min_days_per_year_manual=*/60, /*min_days_per_month_manual=*/5,
        /*min_days_per_quarter_pb=*/15,
        "GB 3095-2026 数据有效性 (counts as 2012, unconfirmed); HJ 663-2026 6.1.2 (O3 "
        "日最大8小时)"},
};

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::int64_t day_number(const Date& d) {
  return core::days_from_civil(d.year, static_cast<unsigned>(d.month),
                               static_cast<unsigned>(d.day));
}

Date date_of_day_number(std::int64_t z) { return date_of(core::civil_from_days(z)); }

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[month - 1] + (month == 2 && is_leap(year) ? 1 : 0);
}

bool is_valid_date(const Date& d) {
  if (d.month < 1 || d.month > 12 || d.day < 1) return false;
  return d.day <= days_in_month(d.year, d.month);
}

// TSP, BaP and Pb are sampled on filters, with their own rows in GB 3095 Table 4.
bool is_manual(Pollutant p) {
  return p == Pollutant::kTsp || p == Pollutant::kBap || p == Pollutant::kPb;
}

// The rules for data of the day with this day number.
const ValidityRules& rules_of_day(std::int64_t day) {
  return validity_rules_on(date_of_day_number(day));
}

// The rules for a value stamped with this hour number. The value stamped D+1 00:00 belongs to
// day D, so the day is that of the hour's start.
const ValidityRules& rules_of_stamp(std::int64_t hour) {
  return rules_of_day(floor_div(hour - 1, 24));
}

struct Accumulator {
  double sum = 0;
  int count = 0;
  void add(const std::optional<double>& v) {
    if (v) {
      sum += *v;
      ++count;
    }
  }
};

Statistic make_statistic(const Accumulator& acc, int required, const ValidityRules& rules) {
  Statistic s;
  s.valid_count = acc.count;
  s.required_count = required;
  s.edition = rules.edition;
  if (acc.count >= required && acc.count > 0) s.value = acc.sum / acc.count;
  return s;
}

// Mean of the values stamped last−(hours−1) … last.
Statistic window_mean(const HourlySeries& series, std::int64_t last, int hours, int required,
                      const ValidityRules& rules) {
  Accumulator acc;
  for (std::int64_t h = last - hours + 1; h <= last; ++h) acc.add(series.at_hour(h));
  return make_statistic(acc, required, rules);
}

Statistic sliding_8h_at(const HourlySeries& series, std::int64_t end) {
  const ValidityRules& rules = rules_of_stamp(end);
  return window_mean(series, end, 8, rules.min_hours_per_8h, rules);
}

Statistic sliding_24h_at(const HourlySeries& series, std::int64_t end) {
  const ValidityRules& rules = rules_of_stamp(end);
  return window_mean(series, end, 24, rules.min_hours_per_24h_sliding, rules);
}

HourlySeries derived_series(const HourlySeries& series,
                            Statistic (*at)(const HourlySeries&, std::int64_t)) {
  std::vector<std::optional<double>> out(series.size());
  const std::int64_t first = hour_number(series.first_end());
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = at(series, first + static_cast<std::int64_t>(i)).value;
  }
  return std::move(HourlySeries::make(series.first_end(), std::move(out))).value();
}

Statistic daily_mean_of_day(const HourlySeries& series, std::int64_t day, Pollutant pollutant) {
  const ValidityRules& rules = rules_of_day(day);
  const int required =
      is_manual(pollutant) ? rules.min_hours_per_day_manual : rules.min_hours_per_day;
  // The hours ending 01:00 … 24:00 of the day.
  return window_mean(series, day * 24 + 24, 24, required, rules);
}

Statistic daily_max_8h_of_day(const HourlySeries& series, std::int64_t day,
                              std::optional<double> limit) {
  const ValidityRules& rules = rules_of_day(day);
  Statistic s;
  s.required_count = rules.min_windows_per_day;
  s.edition = rules.edition;
  std::optional<double> max;
  // The 17 windows stamped 08:00 … 24:00; the first averages the values stamped 01:00 … 08:00.
  for (std::int64_t end = day * 24 + 8; end <= day * 24 + 24; ++end) {
    const Statistic w = window_mean(series, end, 8, rules.min_hours_per_8h, rules);
    if (!w.value) continue;
    ++s.valid_count;
    if (!max || *w.value > *max) max = w.value;
  }
  if (!max) return s;
  if (s.valid_count >= s.required_count) {
    s.value = max;
  } else if (limit && exceeds(*max, *limit)) {
    // More windows could only raise the maximum, so the exceedance stands (HJ 663).
    s.value = max;
    s.valid_by_exceedance = true;
  }
  return s;
}

// The valid daily values of a period, and how many fell in each month.
struct DayValues {
  std::vector<double> values;
  std::array<int, 13> per_month{};  // index 1..12
};

void collect_month(const DailySeries& daily, int year, int month, DayValues& into) {
  for (int d = 1; d <= days_in_month(year, month); ++d) {
    if (auto v = daily.at(Date{year, month, d})) {
      into.values.push_back(*v);
      ++into.per_month[static_cast<std::size_t>(month)];
    }
  }
}

int month_minimum(const ValidityRules& rules, int month, Pollutant pollutant) {
  if (is_manual(pollutant)) return rules.min_days_per_month_manual;
  return month == 2 ? rules.min_days_per_february : rules.min_days_per_month;
}

Statistic from_values(const std::vector<double>& values, std::optional<double> result, bool ok,
                      int required, const ValidityRules& rules) {
  Statistic s;
  s.valid_count = static_cast<int>(values.size());
  s.required_count = required;
  s.edition = rules.edition;
  if (ok && !values.empty()) s.value = result;
  return s;
}

double mean_of(const std::vector<double>& values) {
  double sum = 0;
  for (double v : values) sum += v;
  return values.empty() ? 0 : sum / static_cast<double>(values.size());
}

// The monthly statistic: mean when percent is absent, else that percentile.
Statistic monthly_statistic(const DailySeries& daily, int year, int month,
                            std::optional<int> percent, Pollutant pollutant) {
  assert(month >= 1 && month <= 12);
  const ValidityRules& rules = validity_rules_on(Date{year, month, days_in_month(year, month)});
  DayValues days;
  collect_month(daily, year, month, days);
  const int required = month_minimum(rules, month, pollutant);
  const bool ok = static_cast<int>(days.values.size()) >= required;
  const std::optional<double> result =
      percent ? percentile(days.values, *percent) : std::optional<double>(mean_of(days.values));
  return from_values(days.values, result, ok, required, rules);
}

Statistic annual_statistic(const DailySeries& daily, int year, std::optional<int> percent,
                           Pollutant pollutant, AnnualCompleteness completeness) {
  const ValidityRules& rules = validity_rules_on(Date{year, 12, 31});
  DayValues days;
  for (int m = 1; m <= 12; ++m) collect_month(daily, year, m, days);
  const int required =
      is_manual(pollutant) ? rules.min_days_per_year_manual : rules.min_days_per_year;
  bool ok = static_cast<int>(days.values.size()) >= required;
  if (completeness == AnnualCompleteness::kYearAndEveryMonth) {
    for (int m = 1; m <= 12; ++m) {
      if (days.per_month[static_cast<std::size_t>(m)] < month_minimum(rules, m, pollutant)) {
        ok = false;
      }
    }
  }
  const std::optional<double> result =
      percent ? percentile(days.values, *percent) : std::optional<double>(mean_of(days.values));
  return from_values(days.values, result, ok, required, rules);
}

}  // namespace

std::span<const ValidityRules> validity_rules_table() { return kValidityRules; }

const ValidityRules& validity_rules_on(const Date& date) {
  for (const ValidityRules& r : kValidityRules) {
    if (r.validity.covers(date)) return r;
  }
  // Only dates before the first row remain: the 2013 counts are GB 3095-2012's from 2012 on.
  return kValidityRules.front();
}

std::int64_t hour_number(const core::CivilTime& t) {
  return core::days_from_civil(t.year, t.month, t.day) * 24 + t.hour;
}

core::Result<HourlySeries> HourlySeries::make(const core::CivilTime& first_end,
                                              std::vector<std::optional<double>> values) {
  if (!core::is_valid(first_end) || first_end.minute != 0 || first_end.second != 0 ||
      first_end.millisecond != 0) {
    return core::fail(
        core::Error{"bad_time", "an hourly series starts at a valid civil time on the full hour"});
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] && !std::isfinite(*values[i])) {
      return core::fail(core::Error{
          "bad_value", "hourly value " + std::to_string(i) + " is not finite; use nullopt"});
    }
  }
  HourlySeries s;
  s.first_end_ = first_end;
  s.first_hour_ = hour_number(first_end);
  s.values_ = std::move(values);
  return s;
}

std::optional<double> HourlySeries::at_hour(std::int64_t hour) const {
  const std::int64_t i = hour - first_hour_;
  if (i < 0 || i >= static_cast<std::int64_t>(values_.size())) return std::nullopt;
  return values_[static_cast<std::size_t>(i)];
}

std::optional<double> HourlySeries::at(const core::CivilTime& end) const {
  assert(end.minute == 0 && end.second == 0 && end.millisecond == 0);
  return at_hour(hour_number(end));
}

core::Result<DailySeries> DailySeries::make(const Date& first_day,
                                            std::vector<std::optional<double>> values) {
  if (!is_valid_date(first_day)) {
    return core::fail(core::Error{"bad_date", "a daily series starts at a valid date"});
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] && !std::isfinite(*values[i])) {
      return core::fail(core::Error{
          "bad_value", "daily value " + std::to_string(i) + " is not finite; use nullopt"});
    }
  }
  DailySeries s;
  s.first_day_ = first_day;
  s.first_day_number_ = day_number(first_day);
  s.values_ = std::move(values);
  return s;
}

std::optional<double> DailySeries::at(const Date& day) const {
  const std::int64_t i = day_number(day) - first_day_number_;
  if (i < 0 || i >= static_cast<std::int64_t>(values_.size())) return std::nullopt;
  return values_[static_cast<std::size_t>(i)];
}

Statistic sliding_mean_8h(const HourlySeries& series, const core::CivilTime& end) {
  assert(end.minute == 0 && end.second == 0 && end.millisecond == 0);
  return sliding_8h_at(series, hour_number(end));
}

HourlySeries sliding_means_8h(const HourlySeries& series) {
  return derived_series(series, &sliding_8h_at);
}

Statistic sliding_mean_24h(const HourlySeries& series, const core::CivilTime& end) {
  assert(end.minute == 0 && end.second == 0 && end.millisecond == 0);
  return sliding_24h_at(series, hour_number(end));
}

HourlySeries sliding_means_24h(const HourlySeries& series) {
  return derived_series(series, &sliding_24h_at);
}

Statistic daily_mean(const HourlySeries& series, const Date& day, Pollutant pollutant) {
  assert(is_valid_date(day));
  return daily_mean_of_day(series, day_number(day), pollutant);
}

DailySeries daily_means(const HourlySeries& series, const Date& first, const Date& last,
                        Pollutant pollutant) {
  assert(is_valid_date(first) && is_valid_date(last));
  std::vector<std::optional<double>> out;
  for (std::int64_t d = day_number(first); d <= day_number(last); ++d) {
    out.push_back(daily_mean_of_day(series, d, pollutant).value);
  }
  return std::move(DailySeries::make(first, std::move(out))).value();
}

Statistic daily_max_8h(const HourlySeries& o3_hourly, const Date& day,
                       std::optional<double> exceedance_limit_ugm3) {
  assert(is_valid_date(day));
  return daily_max_8h_of_day(o3_hourly, day_number(day), exceedance_limit_ugm3);
}

core::Result<Statistic> daily_max_8h_in_area(const HourlySeries& o3_hourly, const Date& day,
                                             AreaClass area) {
  auto lim = limit_on(day, Pollutant::kO3, Averaging::k8HourDailyMax, area);
  if (!lim) return core::fail(lim.error());
  return daily_max_8h(o3_hourly, day, lim->value);
}

DailySeries daily_max_8h_series(const HourlySeries& o3_hourly, const Date& first, const Date& last,
                                std::optional<double> exceedance_limit_ugm3) {
  assert(is_valid_date(first) && is_valid_date(last));
  std::vector<std::optional<double>> out;
  for (std::int64_t d = day_number(first); d <= day_number(last); ++d) {
    out.push_back(daily_max_8h_of_day(o3_hourly, d, exceedance_limit_ugm3).value);
  }
  return std::move(DailySeries::make(first, std::move(out))).value();
}

Statistic monthly_mean(const DailySeries& daily, int year, int month, Pollutant pollutant) {
  return monthly_statistic(daily, year, month, std::nullopt, pollutant);
}

Statistic monthly_percentile(const DailySeries& daily, int year, int month, int percent,
                             Pollutant pollutant) {
  return monthly_statistic(daily, year, month, percent, pollutant);
}

Statistic quarterly_mean(const DailySeries& daily, int year, int quarter) {
  assert(quarter >= 1 && quarter <= 4);
  const int last_month = quarter * 3;
  const ValidityRules& rules =
      validity_rules_on(Date{year, last_month, days_in_month(year, last_month)});
  DayValues days;
  bool ok = true;
  for (int m = last_month - 2; m <= last_month; ++m) {
    collect_month(daily, year, m, days);
    if (days.per_month[static_cast<std::size_t>(m)] < rules.min_days_per_month_manual) ok = false;
  }
  const int required = rules.min_days_per_quarter_pb;
  ok = ok && static_cast<int>(days.values.size()) >= required;
  return from_values(days.values, mean_of(days.values), ok, required, rules);
}

Statistic annual_mean(const DailySeries& daily, int year, Pollutant pollutant,
                      AnnualCompleteness completeness) {
  return annual_statistic(daily, year, std::nullopt, pollutant, completeness);
}

Statistic annual_percentile(const DailySeries& daily, int year, int percent, Pollutant pollutant,
                            AnnualCompleteness completeness) {
  return annual_statistic(daily, year, percent, pollutant, completeness);
}

std::optional<double> percentile(std::vector<double> values, int percent) {
  assert(percent >= 0 && percent <= 100);
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const auto n = static_cast<std::int64_t>(values.size());
  // k − 1 = (n − 1)·p/100, split into its integer and fractional parts exactly.
  const std::int64_t scaled = (n - 1) * percent;
  const std::int64_t s0 = scaled / 100;  // s − 1, a 0-based index
  const double frac = static_cast<double>(scaled % 100) / 100.0;
  const double low = values[static_cast<std::size_t>(s0)];
  if (s0 == n - 1) return low;
  const double high = values[static_cast<std::size_t>(s0 + 1)];
  return low + (high - low) * frac;
}

GoodDayRatio good_day_ratio(std::span<const std::optional<int>> daily_aqi) {
  GoodDayRatio r;
  for (const std::optional<int>& aqi : daily_aqi) {
    if (!aqi) continue;
    ++r.valid_days;
    if (*aqi <= 100) ++r.good_days;
    if (*aqi > 100) ++r.exceedance_days;
    if (*aqi > 200) ++r.heavy_days;
  }
  if (r.valid_days > 0) r.ratio_percent = 100.0 * r.good_days / r.valid_days;
  return r;
}

core::Result<ComprehensiveIndex> comprehensive_index(const IndexInputs& inputs,
                                                     Gb3095Stage divisors, IndexMethod method) {
  struct Item {
    Pollutant pollutant;
    std::optional<double> concentration;
    Averaging averaging;
    double weight;  // of the unconfirmed weighted method
  };
  const std::array<Item, 6> items = {{
      {Pollutant::kSo2, inputs.so2_mean_ugm3, Averaging::kAnnual, 1},
      {Pollutant::kNo2, inputs.no2_mean_ugm3, Averaging::kAnnual, 2},
      {Pollutant::kPm10, inputs.pm10_mean_ugm3, Averaging::kAnnual, 1},
      {Pollutant::kPm25, inputs.pm25_mean_ugm3, Averaging::kAnnual, 3},
      {Pollutant::kCo, inputs.co_p95_mgm3, Averaging::k24Hour, 1},
      {Pollutant::kO3, inputs.o3_8h_p90_ugm3, Averaging::k8HourDailyMax, 2},
  }};
  ComprehensiveIndex out;
  out.divisors = divisors;
  out.method = method;
  double max_sub = -1;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    const std::string name(pollutant_name(item.pollutant));
    if (!item.concentration) {
      return core::fail(
          core::Error{"missing_statistic",
                      "the comprehensive index needs all six pollutants; " + name + " is missing"});
    }
    if (!std::isfinite(*item.concentration) || *item.concentration < 0) {
      return core::fail(core::Error{"bad_value", name + " is negative or not finite"});
    }
    auto lim = limit(divisors, item.pollutant, item.averaging, AreaClass::kClass2);
    if (!lim) return core::fail(lim.error());
    const double weight = method == IndexMethod::kWeightedUnconfirmed ? item.weight : 1.0;
    const double sub = *item.concentration / lim->value;
    out.terms[i] = IndexTerm{item.pollutant, *item.concentration, lim->value, weight, sub};
    out.total += weight * sub;
    max_sub = std::max(max_sub, sub);
  }
  for (const IndexTerm& t : out.terms) {
    // Ties within floating-point noise are ties: the primary pollutants are all of them.
    if (t.sub_index >= max_sub - 1e-12 * std::max(1.0, max_sub)) out.primary.push_back(t.pollutant);
  }
  return out;
}

std::optional<int> report_decimals(Pollutant pollutant) {
  switch (pollutant) {
    case Pollutant::kCo:
      return 1;
    case Pollutant::kPb:
    case Pollutant::kBap:
      return std::nullopt;
    default:
      return 0;
  }
}

}  // namespace ecomon::standards::air
