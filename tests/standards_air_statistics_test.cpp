// HJ 663 statistics: the hour-ending convention, the validity minimums at their edges, the
// percentile formula (test vector D4), the good-day ratio and the comprehensive index (D1, D3)
// of ../shared/reference/standards/test-vectors.md.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "standards/air_statistics.h"

namespace ecomon::standards::air {
namespace {

using Values = std::vector<std::optional<double>>;

core::CivilTime stamp(int y, int m, int d, int h) {
  core::CivilTime t;
  t.year = y;
  t.month = static_cast<std::uint8_t>(m);
  t.day = static_cast<std::uint8_t>(d);
  t.hour = static_cast<std::uint8_t>(h);
  return t;
}

// A missing result as NaN, so that comparing it fails the test instead of reading an empty
// optional.
double or_nan(const std::optional<double>& v) { return v.value_or(std::nan("")); }

HourlySeries hourly(const core::CivilTime& first_end, Values values) {
  auto s = HourlySeries::make(first_end, std::move(values));
  EXPECT_TRUE(s.ok()) << s.error().detail;
  return std::move(s).value();
}

// The day under test: 2025-07-01. Its hourly values are indexed by the stamp's offset from
// 2025-07-01 00:00: index 0 is stamped 00:00 (the previous day's last hour), index h (1..23) is
// stamped h:00, index 24 is stamped 2025-07-02 00:00 (this day's 24:00), index 25 the next day's
// 01:00.
constexpr Date kDay{2025, 7, 1};

Values day_values(double v) { return Values(26, v); }

HourlySeries day_series(Values v) { return hourly(stamp(2025, 7, 1, 0), std::move(v)); }

// --- Series ----------------------------------------------------------------------------------

TEST(AirStatisticsSeries, RejectsAStartOffTheHourAndNonFiniteValues) {
  auto half = HourlySeries::make(core::CivilTime{2025, 7, 1, 10, 30, 0, 0}, Values{1.0});
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.error().reason, "bad_time");
  auto bad_date = HourlySeries::make(stamp(2025, 2, 30, 1), Values{1.0});
  ASSERT_FALSE(bad_date.ok());
  EXPECT_EQ(bad_date.error().reason, "bad_time");
  auto nan = HourlySeries::make(stamp(2025, 7, 1, 1), Values{1.0, std::nan("")});
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.error().reason, "bad_value");
  auto daily = DailySeries::make({2025, 2, 29}, Values{1.0});
  ASSERT_FALSE(daily.ok());
  EXPECT_EQ(daily.error().reason, "bad_date");
}

TEST(AirStatisticsSeries, ValuesOutsideTheSeriesAreMissing) {
  const HourlySeries s = hourly(stamp(2025, 7, 1, 1), Values{1.0, 2.0});
  EXPECT_EQ(s.at(stamp(2025, 7, 1, 1)), 1.0);
  EXPECT_EQ(s.at(stamp(2025, 7, 1, 2)), 2.0);
  EXPECT_FALSE(s.at(stamp(2025, 7, 1, 0)).has_value());
  EXPECT_FALSE(s.at(stamp(2025, 7, 1, 3)).has_value());
}

// --- 8-h sliding means -------------------------------------------------------------------------

TEST(AirStatisticsSliding8h, SixOfEightHoursAreEnoughFiveAreNot) {
  Values v = {10, 20, 30, 40, 50, 60, 70, 80};  // stamped 01:00 … 08:00
  Statistic full = sliding_mean_8h(hourly(stamp(2025, 7, 1, 1), v), stamp(2025, 7, 1, 8));
  ASSERT_TRUE(full.value);
  EXPECT_DOUBLE_EQ(*full.value, 45);
  EXPECT_EQ(full.valid_count, 8);

  v[0] = v[1] = std::nullopt;
  Statistic six = sliding_mean_8h(hourly(stamp(2025, 7, 1, 1), v), stamp(2025, 7, 1, 8));
  ASSERT_TRUE(six.value);
  EXPECT_DOUBLE_EQ(*six.value, 55);  // mean of the present values, not of 8
  EXPECT_EQ(six.valid_count, 6);

  v[2] = std::nullopt;
  Statistic five = sliding_mean_8h(hourly(stamp(2025, 7, 1, 1), v), stamp(2025, 7, 1, 8));
  EXPECT_FALSE(five.value);
  EXPECT_EQ(five.valid_count, 5);
  EXPECT_EQ(five.required_count, 6);
}

TEST(AirStatisticsSliding8h, WindowStampedTCoversTheValuesStampedTMinus7ToT) {
  Values v(9, 10.0);  // stamped 00:00 … 08:00
  v[0] = 1000;        // stamped 00:00: inside the window stamped 07:00, outside the one at 08:00
  const HourlySeries s = hourly(stamp(2025, 7, 1, 0), v);
  EXPECT_DOUBLE_EQ(or_nan(sliding_mean_8h(s, stamp(2025, 7, 1, 8)).value), 10);
  EXPECT_DOUBLE_EQ(or_nan(sliding_mean_8h(s, stamp(2025, 7, 1, 7)).value), (1000 + 7 * 10) / 8.0);
}

TEST(AirStatisticsSliding8h, SeriesIsStampedLikeItsInput) {
  const HourlySeries s = hourly(stamp(2025, 7, 1, 1), Values(10, 8.0));
  const HourlySeries m = sliding_means_8h(s);
  EXPECT_EQ(m.first_end(), s.first_end());
  ASSERT_EQ(m.size(), 10u);
  // The first five stamps have fewer than 6 values in their window (the rest is before the
  // series, hence missing); the sixth has exactly 6.
  for (std::size_t i = 0; i < 5; ++i) EXPECT_FALSE(m.values()[i]) << i;
  EXPECT_EQ(m.values()[5], 8.0);
  EXPECT_EQ(m.values()[9], 8.0);
}

// --- O3 daily maximum 8-h mean -----------------------------------------------------------------

TEST(AirStatisticsDailyMax8h, SeventeenWindowsOfAFullDay) {
  Statistic s = daily_max_8h(day_series(day_values(50)), kDay, std::nullopt);
  ASSERT_TRUE(s.value);
  EXPECT_DOUBLE_EQ(*s.value, 50);
  EXPECT_EQ(s.valid_count, 17);
  EXPECT_EQ(s.required_count, 14);
  EXPECT_FALSE(s.valid_by_exceedance);
}

TEST(AirStatisticsDailyMax8h, FirstWindowCoversTheValuesStamped01To08) {
  Values v = day_values(50);
  v[1] = 450;  // stamped 01:00: only the window ending 08:00 contains it
  Statistic s = daily_max_8h(day_series(v), kDay, std::nullopt);
  ASSERT_TRUE(s.value);
  EXPECT_DOUBLE_EQ(*s.value, (450 + 7 * 50) / 8.0);  // 100
}

TEST(AirStatisticsDailyMax8h, TheValueStampedMidnightBelongsToThePreviousDay) {
  Values v = day_values(50);
  v[0] = 900;  // stamped 2025-07-01 00:00 = 2025-06-30 24:00
  Statistic s = daily_max_8h(day_series(v), kDay, std::nullopt);
  ASSERT_TRUE(s.value);
  EXPECT_DOUBLE_EQ(*s.value, 50);
}

TEST(AirStatisticsDailyMax8h, LastWindowEndsAt24AndTheNextHourIsTheNextDay) {
  Values v = day_values(50);
  v[24] = 450;  // stamped 2025-07-02 00:00 = this day's 24:00: in the last window
  v[25] = 900;  // stamped 2025-07-02 01:00: the next day
  Statistic s = daily_max_8h(day_series(v), kDay, std::nullopt);
  ASSERT_TRUE(s.value);
  EXPECT_DOUBLE_EQ(*s.value, (450 + 7 * 50) / 8.0);
}

// Missing the values stamped 01:00 … 0k:00 invalidates the windows ending 08:00 … (k+5):00.
Values day_missing_first_hours(int k, double v) {
  Values out = day_values(v);
  for (int h = 1; h <= k; ++h) out[static_cast<std::size_t>(h)] = std::nullopt;
  return out;
}

TEST(AirStatisticsDailyMax8h, FourteenWindowsAreEnoughThirteenAreNot) {
  Statistic fourteen = daily_max_8h(day_series(day_missing_first_hours(5, 50)), kDay, 160.0);
  EXPECT_EQ(fourteen.valid_count, 14);
  ASSERT_TRUE(fourteen.value);
  EXPECT_DOUBLE_EQ(*fourteen.value, 50);

  Statistic thirteen = daily_max_8h(day_series(day_missing_first_hours(6, 50)), kDay, 160.0);
  EXPECT_EQ(thirteen.valid_count, 13);
  EXPECT_FALSE(thirteen.value);
}

TEST(AirStatisticsDailyMax8h, FewerWindowsStillValidWhenTheMaximumExceedsTheLimit) {
  Values v = day_missing_first_hours(6, 50);  // 13 valid windows
  for (std::size_t h = 17; h <= 24; ++h) v[h] = 161;
  Statistic exceeding = daily_max_8h(day_series(v), kDay, 160.0);
  EXPECT_EQ(exceeding.valid_count, 13);
  ASSERT_TRUE(exceeding.value);
  EXPECT_DOUBLE_EQ(*exceeding.value, 161);
  EXPECT_TRUE(exceeding.valid_by_exceedance);

  // Without a limit the exception cannot apply.
  EXPECT_FALSE(daily_max_8h(day_series(v), kDay, std::nullopt).value);

  // Equal to the limit is not an exceedance.
  for (std::size_t h = 17; h <= 24; ++h) v[h] = 160;
  Statistic at_limit = daily_max_8h(day_series(v), kDay, 160.0);
  EXPECT_FALSE(at_limit.value);
  EXPECT_FALSE(at_limit.valid_by_exceedance);
}

TEST(AirStatisticsDailyMax8h, InAreaTakesTheGb3095LimitOfTheClass) {
  Values v = day_missing_first_hours(6, 50);  // 13 valid windows
  for (std::size_t h = 17; h <= 24; ++h) v[h] = 120;
  auto class1 = daily_max_8h_in_area(day_series(v), kDay, AreaClass::kClass1);  // limit 100
  auto class2 = daily_max_8h_in_area(day_series(v), kDay, AreaClass::kClass2);  // limit 160
  ASSERT_TRUE(class1.ok() && class2.ok());
  ASSERT_TRUE(class1->value);
  EXPECT_DOUBLE_EQ(*class1->value, 120);
  EXPECT_FALSE(class2->value);
}

TEST(AirStatisticsDailyMax8h, SeriesOfDays) {
  // 2025-07-01 01:00 … 2025-07-03 00:00: two full days, 10 then 20.
  Values v(48, 10.0);
  for (std::size_t i = 24; i < 48; ++i) v[i] = 20;
  const DailySeries d =
      daily_max_8h_series(hourly(stamp(2025, 7, 1, 1), v), {2025, 7, 1}, {2025, 7, 3}, 160.0);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d.values()[0], 10.0);
  EXPECT_EQ(d.values()[1], 20.0);
  EXPECT_FALSE(d.values()[2]);  // no data
}

// --- Daily and 24-h sliding means --------------------------------------------------------------

TEST(AirStatisticsDailyMean, NaturalDayIsTheValuesStamped01To24) {
  Values v = day_values(10);
  v[0] = 1000;   // previous day's 24:00
  v[25] = 1000;  // next day's 01:00
  Statistic s = daily_mean(day_series(v), kDay, Pollutant::kPm25);
  ASSERT_TRUE(s.value);
  EXPECT_DOUBLE_EQ(*s.value, 10);
  EXPECT_EQ(s.valid_count, 24);

  v[24] = 250;  // this day's 24:00
  EXPECT_DOUBLE_EQ(or_nan(daily_mean(day_series(v), kDay, Pollutant::kPm25).value),
                   (23 * 10 + 250) / 24.0);
}

TEST(AirStatisticsDailyMean, TwentyHoursAreEnoughNineteenAreNot) {
  Values v = day_values(10);
  for (std::size_t h = 1; h <= 4; ++h) v[h] = std::nullopt;  // 20 left
  Statistic twenty = daily_mean(day_series(v), kDay, Pollutant::kSo2);
  ASSERT_TRUE(twenty.value);
  EXPECT_EQ(twenty.valid_count, 20);
  EXPECT_EQ(twenty.required_count, 20);
  v[5] = std::nullopt;  // 19 left
  Statistic nineteen = daily_mean(day_series(v), kDay, Pollutant::kSo2);
  EXPECT_FALSE(nineteen.value);
  EXPECT_EQ(nineteen.valid_count, 19);
}

TEST(AirStatisticsDailyMean, ManualItemsNeedAll24Hours) {
  Values v = day_values(100);
  EXPECT_TRUE(daily_mean(day_series(v), kDay, Pollutant::kTsp).value);
  v[12] = std::nullopt;
  Statistic s = daily_mean(day_series(v), kDay, Pollutant::kTsp);
  EXPECT_FALSE(s.value);
  EXPECT_EQ(s.required_count, 24);
  EXPECT_TRUE(daily_mean(day_series(v), kDay, Pollutant::kNox).value);
}

TEST(AirStatisticsDailyMean, SeriesOfDays) {
  Values v(24, 10.0);  // stamped 2025-07-01 01:00 … 2025-07-02 00:00
  const DailySeries d =
      daily_means(hourly(stamp(2025, 7, 1, 1), v), {2025, 6, 30}, {2025, 7, 2}, Pollutant::kPm10);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_FALSE(d.values()[0]);
  EXPECT_EQ(d.values()[1], 10.0);
  EXPECT_FALSE(d.values()[2]);
  EXPECT_EQ(d.first_day(), (Date{2025, 6, 30}));
}

TEST(AirStatisticsSliding24h, TwentyHoursAreEnoughNineteenAreNot) {
  Values v(24, 30.0);  // stamped 2025-07-01 11:00 … 2025-07-02 10:00
  for (std::size_t i = 0; i < 4; ++i) v[i] = std::nullopt;
  const core::CivilTime end = stamp(2025, 7, 2, 10);
  Statistic twenty = sliding_mean_24h(hourly(stamp(2025, 7, 1, 11), v), end);
  ASSERT_TRUE(twenty.value);
  EXPECT_DOUBLE_EQ(*twenty.value, 30);
  EXPECT_EQ(twenty.valid_count, 20);
  v[4] = std::nullopt;
  Statistic nineteen = sliding_mean_24h(hourly(stamp(2025, 7, 1, 11), v), end);
  EXPECT_FALSE(nineteen.value);
  EXPECT_EQ(nineteen.required_count, 20);
  // The sliding series stamps each mean like the hour it ends.
  v.assign(24, 30.0);
  const HourlySeries m = sliding_means_24h(hourly(stamp(2025, 7, 1, 11), v));
  EXPECT_FALSE(m.values()[18]);  // 19 values so far
  EXPECT_EQ(m.values()[19], 30.0);
}

// --- Monthly, quarterly and annual means -------------------------------------------------------

// Daily values of one month, `valid` of them present (the first ones), each `value`.
DailySeries month_series(int year, int month, int days, int valid, double value = 10) {
  Values v(static_cast<std::size_t>(days), std::nullopt);
  for (int i = 0; i < valid; ++i) v[static_cast<std::size_t>(i)] = value;
  auto s = DailySeries::make({year, month, 1}, std::move(v));
  EXPECT_TRUE(s.ok());
  return std::move(s).value();
}

TEST(AirStatisticsMonthly, TwentySevenDaysAreEnoughTwentySixAreNot) {
  Statistic ok = monthly_mean(month_series(2025, 1, 31, 27), 2025, 1, Pollutant::kPm25);
  ASSERT_TRUE(ok.value);
  EXPECT_DOUBLE_EQ(*ok.value, 10);
  EXPECT_EQ(ok.required_count, 27);
  Statistic short_month = monthly_mean(month_series(2025, 1, 31, 26), 2025, 1, Pollutant::kPm25);
  EXPECT_FALSE(short_month.value);
  EXPECT_EQ(short_month.valid_count, 26);
}

TEST(AirStatisticsMonthly, FebruaryNeedsTwentyFive) {
  EXPECT_TRUE(monthly_mean(month_series(2025, 2, 28, 25), 2025, 2, Pollutant::kNo2).value);
  Statistic s = monthly_mean(month_series(2025, 2, 28, 24), 2025, 2, Pollutant::kNo2);
  EXPECT_FALSE(s.value);
  EXPECT_EQ(s.required_count, 25);
  // A leap February has 29 days and the same minimum.
  EXPECT_TRUE(monthly_mean(month_series(2024, 2, 29, 25), 2024, 2, Pollutant::kNo2).value);
  EXPECT_FALSE(monthly_mean(month_series(2024, 2, 29, 24), 2024, 2, Pollutant::kNo2).value);
}

TEST(AirStatisticsMonthly, ManualItemsNeedFive) {
  EXPECT_TRUE(monthly_mean(month_series(2025, 3, 31, 5), 2025, 3, Pollutant::kTsp).value);
  EXPECT_FALSE(monthly_mean(month_series(2025, 3, 31, 4), 2025, 3, Pollutant::kTsp).value);
}

TEST(AirStatisticsMonthly, PercentileUsesTheMonthlyMinimum) {
  EXPECT_FALSE(
      monthly_percentile(month_series(2025, 4, 30, 26), 2025, 4, 95, Pollutant::kCo).value);
  Statistic p = monthly_percentile(month_series(2025, 4, 30, 27, 0.8), 2025, 4, 95, Pollutant::kCo);
  ASSERT_TRUE(p.value);
  EXPECT_DOUBLE_EQ(*p.value, 0.8);
}

TEST(AirStatisticsQuarterly, LeadNeedsFifteenDaysAndFivePerMonth) {
  auto quarter = [](int jan, int feb, int mar) {
    Values v(90, std::nullopt);  // 2025-01-01 … 2025-03-31
    for (int i = 0; i < jan; ++i) v[static_cast<std::size_t>(i)] = 0.2;
    for (int i = 0; i < feb; ++i) v[static_cast<std::size_t>(31 + i)] = 0.2;
    for (int i = 0; i < mar; ++i) v[static_cast<std::size_t>(59 + i)] = 0.2;
    return quarterly_mean(std::move(DailySeries::make({2025, 1, 1}, v)).value(), 2025, 1);
  };
  Statistic ok = quarter(5, 5, 5);
  ASSERT_TRUE(ok.value);
  EXPECT_DOUBLE_EQ(*ok.value, 0.2);
  EXPECT_EQ(ok.required_count, 15);
  EXPECT_FALSE(quarter(5, 5, 4).value);  // 14 days
  EXPECT_FALSE(quarter(4, 6, 6).value);  // 16 days, January short
}

// A daily series of 2025 missing `missing[m-1]` days at the start of month m.
DailySeries year_series(const std::array<int, 12>& missing, double value = 10) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  Values v;
  for (int m = 0; m < 12; ++m) {
    for (int d = 0; d < kDays[m]; ++d) {
      v.push_back(d < missing[static_cast<std::size_t>(m)] ? std::nullopt
                                                           : std::optional<double>(value));
    }
  }
  auto s = DailySeries::make({2025, 1, 1}, std::move(v));
  EXPECT_TRUE(s.ok());
  return std::move(s).value();
}

TEST(AirStatisticsAnnual, ThreeHundredTwentyFourDaysAreEnoughThreeHundredTwentyThreeAreNot) {
  // 41 days missing, every month keeping ≥ 27 (February ≥ 25): 324 valid days.
  const DailySeries ok = year_series({4, 3, 4, 3, 4, 3, 4, 4, 3, 4, 3, 2});
  Statistic s = annual_mean(ok, 2025, Pollutant::kPm25);
  ASSERT_TRUE(s.value);
  EXPECT_DOUBLE_EQ(*s.value, 10);
  EXPECT_EQ(s.valid_count, 324);
  EXPECT_EQ(s.required_count, 324);

  // One more missing day in December (still 28 there): only the yearly count fails.
  const DailySeries short_year = year_series({4, 3, 4, 3, 4, 3, 4, 4, 3, 4, 3, 3});
  Statistic t = annual_mean(short_year, 2025, Pollutant::kPm25);
  EXPECT_FALSE(t.value);
  EXPECT_EQ(t.valid_count, 323);
  EXPECT_FALSE(
      annual_mean(short_year, 2025, Pollutant::kPm25, AnnualCompleteness::kYearOnly).value);
}

TEST(AirStatisticsAnnual, EveryMonthRuleOfTable4IsAppliedUnlessAskedNotTo) {
  // 335 valid days, but January has only 26.
  const DailySeries s = year_series({5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(annual_mean(s, 2025, Pollutant::kSo2).valid_count, 360);
  EXPECT_FALSE(annual_mean(s, 2025, Pollutant::kSo2).value);
  EXPECT_TRUE(annual_mean(s, 2025, Pollutant::kSo2, AnnualCompleteness::kYearOnly).value);
  // February at 24 fails it as well; at 25 it passes.
  EXPECT_FALSE(
      annual_mean(year_series({0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 2025, Pollutant::kSo2).value);
  EXPECT_TRUE(
      annual_mean(year_series({0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 2025, Pollutant::kSo2).value);
}

TEST(AirStatisticsAnnual, PercentileUnderTheAnnualMinimum) {
  EXPECT_TRUE(
      annual_percentile(year_series({4, 3, 4, 3, 4, 3, 4, 4, 3, 4, 3, 2}), 2025, 95, Pollutant::kCo)
          .value);
  EXPECT_FALSE(
      annual_percentile(year_series({4, 3, 4, 3, 4, 3, 4, 4, 3, 4, 3, 3}), 2025, 90, Pollutant::kO3)
          .value);
}

TEST(AirStatisticsAnnual, ManualItemsNeedSixtyDaysAndFivePerMonth) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  std::array<int, 12> keep_five{};
  for (std::size_t m = 0; m < 12; ++m) keep_five[m] = kDays[m] - 5;
  Statistic sixty = annual_mean(year_series(keep_five, 0.3), 2025, Pollutant::kPb);
  ASSERT_TRUE(sixty.value);
  EXPECT_EQ(sixty.valid_count, 60);
  EXPECT_EQ(sixty.required_count, 60);
  keep_five[11] += 1;  // December keeps 4
  EXPECT_FALSE(annual_mean(year_series(keep_five, 0.3), 2025, Pollutant::kPb).value);
}

// --- Percentiles (test vector D4) ---------------------------------------------------------------

TEST(AirStatisticsPercentile, VectorD4) {
  const std::vector<double> d4 = {12, 35, 48, 50, 51, 60, 75, 80, 95, 130};
  EXPECT_NEAR(or_nan(percentile(d4, 90)), 98.5, 1e-9);    // k = 9.1
  EXPECT_NEAR(or_nan(percentile(d4, 95)), 114.25, 1e-9);  // k = 9.55
  EXPECT_NEAR(or_nan(percentile(d4, 98)), 123.7, 1e-9);   // k = 9.82
  // Reported as integers after GB/T 8170: 98 / 114 / 124.
  EXPECT_EQ(round_gbt8170(or_nan(percentile(d4, 90)), 0), 98);
  EXPECT_EQ(round_gbt8170(or_nan(percentile(d4, 95)), 0), 114);
  EXPECT_EQ(round_gbt8170(or_nan(percentile(d4, 98)), 0), 124);
}

TEST(AirStatisticsPercentile, SortsItsInput) {
  const std::vector<double> shuffled = {95, 12, 130, 60, 48, 80, 35, 51, 75, 50};
  EXPECT_NEAR(or_nan(percentile(shuffled, 98)), 123.7, 1e-9);
}

TEST(AirStatisticsPercentile, Edges) {
  const std::vector<double> d4 = {12, 35, 48, 50, 51, 60, 75, 80, 95, 130};
  EXPECT_EQ(or_nan(percentile(d4, 100)), 130);  // s = n → X(n)
  EXPECT_EQ(or_nan(percentile(d4, 0)), 12);
  EXPECT_EQ(or_nan(percentile({42}, 95)), 42);
  EXPECT_FALSE(percentile({}, 95));
  // k integral: n = 21, p = 95 → k = 20 exactly → X(20), with no rounding trouble from 0.95.
  std::vector<double> one_to_21;
  for (int i = 1; i <= 21; ++i) one_to_21.push_back(i);
  EXPECT_EQ(or_nan(percentile(one_to_21, 95)), 20);
  EXPECT_EQ(or_nan(percentile(one_to_21, 50)), 11);
}

// --- Good days ---------------------------------------------------------------------------------

TEST(AirStatisticsGoodDays, RatioIsOverValidDays) {
  const std::vector<std::optional<int>> aqi = {50, 100, 101, std::nullopt, 201, 200, std::nullopt};
  const GoodDayRatio r = good_day_ratio(aqi);
  EXPECT_EQ(r.valid_days, 5);
  EXPECT_EQ(r.good_days, 2);        // 50 and 100
  EXPECT_EQ(r.exceedance_days, 3);  // 101, 201, 200
  EXPECT_EQ(r.heavy_days, 1);       // 201 only
  ASSERT_TRUE(r.ratio_percent);
  EXPECT_DOUBLE_EQ(*r.ratio_percent, 40.0);  // 2/5, not 2/7
}

TEST(AirStatisticsGoodDays, NoValidDayNoRatio) {
  const std::vector<std::optional<int>> aqi = {std::nullopt, std::nullopt};
  const GoodDayRatio r = good_day_ratio(aqi);
  EXPECT_EQ(r.valid_days, 0);
  EXPECT_FALSE(r.ratio_percent);
}

// --- Comprehensive index (test vectors D1, D3) ---------------------------------------------------

IndexInputs d1_inputs() {
  IndexInputs in;
  in.pm25_mean_ugm3 = 21;
  in.pm10_mean_ugm3 = 39;
  in.so2_mean_ugm3 = 9;
  in.no2_mean_ugm3 = 15;
  in.o3_8h_p90_ugm3 = 192;
  in.co_p95_mgm3 = 0.7;
  return in;
}

TEST(AirStatisticsComprehensiveIndex, VectorD1Official) {
  auto idx = comprehensive_index(d1_inputs(), Gb3095Stage::k2012);
  ASSERT_TRUE(idx.ok()) << idx.error().detail;
  // 0.6000 + 0.5571 + 0.1500 + 0.3750 + 1.2000 + 0.1750
  EXPECT_NEAR(idx->total, 3.0571, 5e-5);
  EXPECT_EQ(round_gbt8170(idx->total, 2), 3.06);
  EXPECT_EQ(idx->terms[0].pollutant, Pollutant::kSo2);
  EXPECT_DOUBLE_EQ(idx->terms[0].sub_index, 0.15);
  EXPECT_EQ(idx->terms[3].divisor, 35);   // PM2.5 annual class 2 (2012)
  EXPECT_EQ(idx->terms[4].divisor, 4);    // CO 24-h, mg/m³
  EXPECT_EQ(idx->terms[5].divisor, 160);  // O3 8-h
  ASSERT_EQ(idx->primary.size(), 1u);
  EXPECT_EQ(idx->primary[0], Pollutant::kO3);  // 192/160 = 1.2 is the largest
  for (const IndexTerm& t : idx->terms) EXPECT_EQ(t.weight, 1);
}

TEST(AirStatisticsComprehensiveIndex, VectorD3WeightedIsOnlyOnRequest) {
  auto idx =
      comprehensive_index(d1_inputs(), Gb3095Stage::k2012, IndexMethod::kWeightedUnconfirmed);
  ASSERT_TRUE(idx.ok());
  // 3·0.6 + 0.5571 + 0.15 + 2·0.375 + 2·1.2 + 0.175
  EXPECT_NEAR(idx->total, 5.832, 5e-4);
  EXPECT_EQ(round_gbt8170(idx->total, 3), 5.832);
  EXPECT_EQ(idx->terms[3].weight, 3);
  // The primary pollutant is judged on the unweighted sub-indices.
  EXPECT_EQ(idx->primary, std::vector<Pollutant>{Pollutant::kO3});
}

TEST(AirStatisticsComprehensiveIndex, DivisorsFollowTheChosenStage) {
  auto idx = comprehensive_index(d1_inputs(), Gb3095Stage::k2026Transition);
  ASSERT_TRUE(idx.ok());
  // SO2 9/60 + NO2 15/40 + PM10 39/60 + PM2.5 21/30 + CO 0.7/4 + O3 192/160
  EXPECT_NEAR(idx->total, 0.15 + 0.375 + 0.65 + 0.7 + 0.175 + 1.2, 1e-12);
}

TEST(AirStatisticsComprehensiveIndex, TiedPrimaryPollutantsAreAllNamed) {
  IndexInputs in = d1_inputs();
  in.pm25_mean_ugm3 = 42;  // 42/35 = 1.2 = O3's 192/160
  auto idx = comprehensive_index(in, Gb3095Stage::k2012);
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(idx->primary, (std::vector<Pollutant>{Pollutant::kPm25, Pollutant::kO3}));
}

TEST(AirStatisticsComprehensiveIndex, MissingOrBadInputIsAnError) {
  IndexInputs in = d1_inputs();
  in.co_p95_mgm3.reset();
  auto missing = comprehensive_index(in, Gb3095Stage::k2012);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason, "missing_statistic");
  EXPECT_NE(missing.error().detail.find("CO"), std::string::npos);
  in = d1_inputs();
  in.no2_mean_ugm3 = -1;
  auto negative = comprehensive_index(in, Gb3095Stage::k2012);
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().reason, "bad_value");
}

// --- Rounding ------------------------------------------------------------------------------------

TEST(AirStatisticsRounding, Gbt8170RoundsHalfToEven) {
  EXPECT_EQ(round_gbt8170(98.5, 0), 98);
  EXPECT_EQ(round_gbt8170(99.5, 0), 100);
  EXPECT_EQ(round_gbt8170(98.51, 0), 99);
  EXPECT_EQ(round_gbt8170(98.49, 0), 98);
  EXPECT_EQ(round_gbt8170(0.25, 1), 0.2);
  EXPECT_EQ(round_gbt8170(0.35, 1), 0.4);
  // 1.015 × 100 is 101.49999999999999 in binary: still a half, and 1 is odd, so up.
  EXPECT_EQ(round_gbt8170(1.015, 2), 1.02);
  EXPECT_EQ(round_gbt8170(1.035, 2), 1.04);
  EXPECT_EQ(round_gbt8170(0.2501, 1), 0.3);
  EXPECT_EQ(round_gbt8170(2.45, 1), 2.4);
  EXPECT_EQ(round_gbt8170(-2.5, 0), -2);
  EXPECT_EQ(round_gbt8170(3.0571428, 2), 3.06);
}

TEST(AirStatisticsRounding, ReportDecimals) {
  EXPECT_EQ(report_decimals(Pollutant::kCo), 1);
  EXPECT_EQ(report_decimals(Pollutant::kPm25), 0);
  EXPECT_EQ(report_decimals(Pollutant::kO3), 0);
  EXPECT_FALSE(report_decimals(Pollutant::kBap));
}

// --- Editions ------------------------------------------------------------------------------------

TEST(AirStatisticsEditions, RulesSelectedByDate) {
  EXPECT_EQ(validity_rules_on({2026, 2, 28}).edition, Hj663Edition::k2013);
  EXPECT_EQ(validity_rules_on({2026, 3, 1}).edition, Hj663Edition::k2026);
  EXPECT_EQ(validity_rules_on({2010, 1, 1}).edition, Hj663Edition::k2013);
  for (const ValidityRules& r : validity_rules_table()) {
    SCOPED_TRACE(std::string(r.name));
    EXPECT_EQ(r.min_hours_per_8h, 6);
    EXPECT_EQ(r.min_windows_per_day, 14);
    EXPECT_EQ(r.min_hours_per_day, 20);
    EXPECT_EQ(r.min_days_per_month, 27);
    EXPECT_EQ(r.min_days_per_february, 25);
    EXPECT_EQ(r.min_days_per_year, 324);
    EXPECT_FALSE(r.clause.empty());
  }
}

TEST(AirStatisticsEditions, TheHourStampedMidnightIsJudgedByThePreviousDaysRules) {
  // 2026-03-01 00:00 ends the last hour of 2026-02-28 (HJ 663-2013); 01:00 is 2026-03-01's.
  const HourlySeries s = hourly(stamp(2026, 2, 28, 18), Values(8, 1.0));
  EXPECT_EQ(sliding_mean_8h(s, stamp(2026, 3, 1, 0)).edition, Hj663Edition::k2013);
  EXPECT_EQ(sliding_mean_8h(s, stamp(2026, 3, 1, 1)).edition, Hj663Edition::k2026);
  EXPECT_EQ(daily_mean(s, {2026, 2, 28}, Pollutant::kPm25).edition, Hj663Edition::k2013);
  EXPECT_EQ(daily_mean(s, {2026, 3, 1}, Pollutant::kPm25).edition, Hj663Edition::k2026);
}

}  // namespace
}  // namespace ecomon::standards::air
