// Hourly and daily means with validity and coverage: GB 3095-2012 表4 (≥ 45 minutes per hour,
// ≥ 20 hours per day), Beijing civil periods, invalid samples counted but not averaged.
#include <gtest/gtest.h>

#include "core/civil_time.h"
#include "standards/aggregation.h"

namespace ecomon::standards::aggregation {
namespace {

// 2026-11-29 10:00 Beijing time, as a UTC instant.
const std::int64_t kHour10 =
    core::to_unix_ms(core::CivilTime{2026, 11, 29, 10, 0, 0, 0}, core::kChinaUtcOffsetSeconds);
constexpr std::int64_t kMin = 60'000;
constexpr std::int64_t kHourMs = 3'600'000;

std::vector<Sample> minutes(int n, double value = 10, std::int64_t from = kHour10) {
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) out.push_back(Sample{from + i * kMin, value, true});
  return out;
}

TEST(Aggregation, AnHourNeeds45ValidMinutes_Gb3095Table4) {
  auto h44 = hours_from_subhourly(minutes(44));
  ASSERT_EQ(h44.size(), 1u);
  EXPECT_FALSE(h44[0].is_valid);
  EXPECT_EQ((std::tuple{h44[0].expected, h44[0].received, h44[0].valid}), (std::tuple{60, 44, 44}));
  ASSERT_TRUE(h44[0].mean);  // the mean of what there is, marked invalid
  auto h45 = hours_from_subhourly(minutes(45));
  EXPECT_TRUE(h45[0].is_valid);
  EXPECT_EQ(h45[0].start_ms, kHour10);
}

TEST(Aggregation, AFlaggedMinuteIsReceivedButNotValidNorAveraged) {
  auto s = minutes(45, 10);
  s[7].valid = false;  // e.g. flag M (maintenance) or C (calibration)
  s[7].value = 999;
  auto h = hours_from_subhourly(s);
  EXPECT_EQ(h[0].received, 45);
  EXPECT_EQ(h[0].valid, 44);
  EXPECT_FALSE(h[0].is_valid);
  EXPECT_DOUBLE_EQ(*h[0].mean, 10);
}

TEST(Aggregation, RealTimeSamplesCountEachMinuteOnce) {
  std::vector<Sample> s;
  for (int i = 0; i < 45 * 2; ++i) s.push_back(Sample{kHour10 + i * 30'000, double(i % 2), true});
  auto h = hours_from_subhourly(s);
  EXPECT_EQ(h[0].valid, 45);
  EXPECT_TRUE(h[0].is_valid);
  EXPECT_DOUBLE_EQ(*h[0].mean, 0.5);
}

TEST(Aggregation, HoursFollowBeijingTime) {
  // 23:59 and 00:00 Beijing are different hours and different days.
  const std::int64_t midnight =
      core::to_unix_ms(core::CivilTime{2026, 11, 30, 0, 0, 0, 0}, core::kChinaUtcOffsetSeconds);
  std::vector<Sample> s{{midnight - kMin, 1, true}, {midnight, 2, true}};
  auto h = hours_from_subhourly(s);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].start_ms, midnight);
  auto d = days_from_hours(h);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[1].start_ms, midnight);
  EXPECT_EQ(beijing_period_start(midnight - 1, 86'400'000), midnight - 86'400'000);
}

TEST(Aggregation, ADayNeeds20ValidHours_Gb3095Table4) {
  const std::int64_t day =
      core::to_unix_ms(core::CivilTime{2026, 11, 29, 0, 0, 0, 0}, core::kChinaUtcOffsetSeconds);
  std::vector<Sample> hourly;
  for (int i = 0; i < 20; ++i) hourly.push_back(Sample{day + i * kHourMs, double(i), true});
  auto h20 = periods_as_received(hourly, kHourMs);
  auto d20 = days_from_hours(h20);
  ASSERT_EQ(d20.size(), 1u);
  EXPECT_TRUE(d20[0].is_valid);
  EXPECT_EQ((std::tuple{d20[0].expected, d20[0].received, d20[0].valid}), (std::tuple{24, 20, 20}));
  EXPECT_DOUBLE_EQ(*d20[0].mean, 9.5);
  hourly[3].valid = false;  // 19 valid hours
  auto d19 = days_from_hours(periods_as_received(hourly, kHourMs));
  EXPECT_FALSE(d19[0].is_valid);
  EXPECT_EQ(d19[0].received, 20);
  EXPECT_EQ(d19[0].valid, 19);
}

TEST(Aggregation, ADayFromMinutesCountsOnlyValidHours) {
  // 20 hours of 60 minutes but one of them with only 30: 19 valid hours, an invalid day.
  std::vector<Sample> s;
  for (int h = 0; h < 20; ++h) {
    auto m = minutes(h == 5 ? 30 : 60, 10, kHour10 - 10 * kHourMs + h * kHourMs);
    s.insert(s.end(), m.begin(), m.end());
  }
  auto days = days_from_hours(hours_from_subhourly(s));
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0].valid, 19);
  EXPECT_FALSE(days[0].is_valid);
}

TEST(Aggregation, AValueReceivedTwiceKeepsTheLastValidOne) {
  std::vector<Sample> s{{kHour10, 5, true}, {kHour10, 7, true}, {kHour10, 99, false}};
  auto h = periods_as_received(s, kHourMs);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_DOUBLE_EQ(*h[0].mean, 7);
  EXPECT_TRUE(h[0].is_valid);
}

// Valid daily buckets of `n` days from the Beijing date y-m-d, each `value`; `invalid_every`
// marks every k-th day invalid (0: none).
std::vector<Bucket> days_from(int y, int m, int d, int n, double value = 10) {
  const std::int64_t first = core::to_unix_ms(
      core::CivilTime{y, static_cast<std::uint8_t>(m), static_cast<std::uint8_t>(d), 0, 0, 0, 0},
      core::kChinaUtcOffsetSeconds);
  std::vector<Bucket> out;
  for (int i = 0; i < n; ++i) {
    Bucket b;
    b.start_ms = first + i * 24 * kHourMs;
    b.mean = value;
    b.is_valid = true;
    out.push_back(b);
  }
  return out;
}

TEST(Aggregation, AMonthNeeds27ValidDaysAndFebruary25_Gb3095Table4) {
  auto m26 = months_from_days(days_from(2026, 3, 1, 26));
  ASSERT_EQ(m26.size(), 1u);
  EXPECT_FALSE(m26[0].is_valid);
  EXPECT_EQ((std::tuple{m26[0].expected, m26[0].received, m26[0].valid}), (std::tuple{31, 26, 26}));
  EXPECT_EQ(m26[0].mean, 10.0);
  auto m27 = months_from_days(days_from(2026, 3, 1, 27));
  EXPECT_TRUE(m27[0].is_valid);
  EXPECT_EQ(m27[0].start_ms, beijing_month_start(days_from(2026, 3, 15, 1)[0].start_ms));
  // An invalid day is received, not counted.
  auto days = days_from(2026, 3, 1, 27);
  days[3].is_valid = false;
  days[3].mean = 1000;
  auto m = months_from_days(days);
  EXPECT_FALSE(m[0].is_valid);
  EXPECT_EQ((std::tuple{m[0].received, m[0].valid}), (std::tuple{27, 26}));
  EXPECT_EQ(m[0].mean, 10.0);
  // February (28 days in 2026): 25 valid days are enough, 24 are not.
  auto feb25 = months_from_days(days_from(2026, 2, 1, 25));
  EXPECT_TRUE(feb25[0].is_valid);
  EXPECT_EQ(feb25[0].expected, 28);
  EXPECT_FALSE(months_from_days(days_from(2026, 2, 1, 24))[0].is_valid);
}

TEST(Aggregation, AYearNeeds324ValidDaysAndEveryMonth_Gb3095Table4) {
  // 27 days of every month = 324 days: valid.
  std::vector<Bucket> year;
  for (int m = 1; m <= 12; ++m) {
    for (const auto& b : days_from(2026, m, 1, 27, m)) year.push_back(b);
  }
  auto y = years_from_days(year);
  ASSERT_EQ(y.size(), 1u);
  EXPECT_TRUE(y[0].is_valid);
  EXPECT_EQ((std::tuple{y[0].expected, y[0].valid}), (std::tuple{365, 324}));
  EXPECT_DOUBLE_EQ(*y[0].mean, 6.5);  // months weighted by their days: 27 days each
  // One day fewer: 323 days — not valid (and March short of 27 as well).
  std::vector<Bucket> short_year = year;
  short_year.erase(short_year.begin() + 27 * 2);
  EXPECT_FALSE(years_from_days(short_year)[0].is_valid);
  // 330 days but one month with 26: not valid, as the table's annual row reads.
  std::vector<Bucket> uneven;
  for (int m = 1; m <= 12; ++m) {
    for (const auto& b : days_from(2026, m, 1, m == 5 ? 26 : 28)) uneven.push_back(b);
  }
  const auto u = years_from_days(uneven);
  EXPECT_EQ(u[0].valid, 334);
  EXPECT_FALSE(u[0].is_valid);
}

}  // namespace
}  // namespace ecomon::standards::aggregation
