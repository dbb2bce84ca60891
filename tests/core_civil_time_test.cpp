#include <gtest/gtest.h>

#include "core/civil_time.h"

namespace ecomon::core {
namespace {

TEST(CivilTime, DaysFromCivilKnownDates) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(2026, 3, 1), 20513);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
}

TEST(CivilTime, ChinaLocalToUtc) {
  // 2016-08-24 00:38:17 in Beijing is 2016-08-23 16:38:17 UTC = 1471970297 s.
  CivilTime t{2016, 8, 24, 0, 38, 17, 0};
  EXPECT_EQ(to_unix_ms(t, kChinaUtcOffsetSeconds), 1471970297000);
  t.millisecond = 123;
  EXPECT_EQ(to_unix_ms(t, kChinaUtcOffsetSeconds), 1471970297123);
}

TEST(CivilTime, Validity) {
  EXPECT_TRUE(is_valid({2024, 2, 29, 23, 59, 59, 999}));
  EXPECT_FALSE(is_valid({2023, 2, 29, 0, 0, 0, 0}));
  EXPECT_FALSE(is_valid({1900, 2, 29, 0, 0, 0, 0}));
  EXPECT_TRUE(is_valid({2000, 2, 29, 0, 0, 0, 0}));
  EXPECT_FALSE(is_valid({2024, 13, 1, 0, 0, 0, 0}));
  EXPECT_FALSE(is_valid({2024, 4, 31, 0, 0, 0, 0}));
  EXPECT_FALSE(is_valid({2024, 4, 30, 24, 0, 0, 0}));
  EXPECT_FALSE(is_valid({2024, 4, 30, 0, 60, 0, 0}));
}

TEST(CivilTime, Iso8601) {
  EXPECT_EQ(format_iso8601({2019, 9, 24, 22, 0, 0, 0}, kChinaUtcOffsetSeconds),
            "2019-09-24T22:00:00+08:00");
  EXPECT_EQ(format_iso8601({2016, 8, 24, 0, 38, 17, 5}, kChinaUtcOffsetSeconds),
            "2016-08-24T00:38:17.005+08:00");
  EXPECT_EQ(format_iso8601({2016, 8, 24, 0, 38, 17, 0}, -5 * 3600 - 1800),
            "2016-08-24T00:38:17-05:30");
}

}  // namespace
}  // namespace ecomon::core

namespace ecomon::core {
namespace {

TEST(CivilTime, RoundTripThroughUnixMs) {
  for (std::int64_t ms : {0LL, 1471970297123LL, -1LL, 1772294400000LL, 4102444800000LL}) {
    const CivilTime t = civil_from_unix_ms(ms, kChinaUtcOffsetSeconds);
    EXPECT_EQ(to_unix_ms(t, kChinaUtcOffsetSeconds), ms);
  }
  // 2026-02-28T16:00:00Z is 2026-03-01 00:00 in Beijing.
  EXPECT_EQ(civil_from_unix_ms(to_unix_ms({2026, 2, 28, 16, 0, 0, 0}, 0), kChinaUtcOffsetSeconds),
            (CivilTime{2026, 3, 1, 0, 0, 0, 0}));
}

TEST(CivilTime, ParsesIso8601) {
  auto a = parse_iso8601("2020-03-26T18:00:00+08:00");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->civil, (CivilTime{2020, 3, 26, 18, 0, 0, 0}));
  EXPECT_EQ(a->offset_seconds, 8 * 3600);
  auto z = parse_iso8601("2026-02-28T16:00Z");
  ASSERT_TRUE(z);
  EXPECT_EQ(z->offset_seconds, 0);
  auto d = parse_iso8601("2026-03-01");
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->offset_seconds);
  auto end = parse_iso8601("2026-02-28T24:00+08:00");
  ASSERT_TRUE(end);
  EXPECT_EQ(end->civil, (CivilTime{2026, 3, 1, 0, 0, 0, 0}));
  auto frac = parse_iso8601("2026-03-01 08:30:15.250-05:30");
  ASSERT_TRUE(frac);
  EXPECT_EQ(frac->civil.millisecond, 250);
  EXPECT_EQ(frac->offset_seconds, -(5 * 3600 + 1800));
  EXPECT_FALSE(parse_iso8601("2026-02-30"));
  EXPECT_FALSE(parse_iso8601("2026-03-01T25:00"));
  EXPECT_FALSE(parse_iso8601("2026/03/01"));
  EXPECT_FALSE(parse_iso8601("2026-03-01T08:00+0800x"));
}

}  // namespace
}  // namespace ecomon::core

TEST(CivilTime, FormatBeijingShowsTheInstantInUtcPlus8) {
  // 2026-11-30T01:00:00Z is 09:00 in Beijing.
  EXPECT_EQ(ecomon::core::format_beijing(1'796'000'400'000), "2026-11-30T09:00:00+08:00");
  EXPECT_EQ(ecomon::core::format_beijing(1'796'000'400'123), "2026-11-30T09:00:00.123+08:00");
}
