#include <gtest/gtest.h>

#include "standards/aqi.h"

namespace ecomon::standards {
namespace {

Decimal dec(const char* s) { return *Decimal::parse(s); }

TEST(StandardsDecimal, ParsesExactlyAndRejectsNonDecimals) {
  EXPECT_EQ(dec("35.010").units, 3501);
  EXPECT_EQ(dec("35.010").scale, 2);
  EXPECT_EQ(dec("-0.5").units, -5);
  EXPECT_EQ(dec("+3").units, 3);
  EXPECT_FALSE(Decimal::parse(""));
  EXPECT_FALSE(Decimal::parse("."));
  EXPECT_FALSE(Decimal::parse("1e3"));
  EXPECT_FALSE(Decimal::parse("1.2.3"));
  EXPECT_FALSE(Decimal::parse(" 1"));
  EXPECT_EQ(dec("35"), dec("35.000"));
  EXPECT_LT(dec("35"), dec("35.01"));
  EXPECT_EQ(dec("0.7").to_string(), "0.7");
  EXPECT_EQ(dec("-12.05").to_string(), "-12.05");
}

TEST(StandardsDecimal, RoundHalfEvenIsGbT8170) {
  // GB/T 8170 "四舍六入五成双".
  EXPECT_EQ(dec("60.5").round_half_even(0), dec("60"));
  EXPECT_EQ(dec("61.5").round_half_even(0), dec("62"));
  EXPECT_EQ(dec("60.51").round_half_even(0), dec("61"));
  EXPECT_EQ(dec("60.49").round_half_even(0), dec("60"));
  EXPECT_EQ(dec("0.25").round_half_even(1), dec("0.2"));
  EXPECT_EQ(dec("0.35").round_half_even(1), dec("0.4"));
  EXPECT_EQ(dec("-2.5").round_half_even(0), dec("-2"));
  EXPECT_EQ(dec("35.49").truncate(1), dec("35.4"));
}

TEST(StandardsDecimal, InterpolationIsExactAtBreakpoints) {
  // PM2.5 35 on the 0–35 segment is exactly 50, never 51 (SUMMARY.md point 2).
  EXPECT_EQ(interpolate_ceil(dec("35"), dec("0"), dec("35"), 0, 50), 50);
  EXPECT_EQ(interpolate_ceil(dec("35.0001"), dec("35"), dec("75"), 50, 100), 51);
  EXPECT_EQ(interpolate_ceil(dec("77"), dec("75"), dec("115"), 100, 150), 103);  // 102.5 → 103
  EXPECT_EQ(interpolate_round_half_up(dec("100.0"), dec("55.5"), dec("125.4"), 151, 200), 182);
  EXPECT_EQ(interpolate_round_half_up(dec("1.5"), dec("1"), dec("2"), 0, 1), 1);  // half up
}

TEST(StandardsAqi, EditionByDate) {
  EXPECT_EQ(aqi::china_standard_for({2026, 2, 28}), aqi::Standard::kHj633_2012);
  EXPECT_EQ(aqi::china_standard_for({2026, 3, 1}), aqi::Standard::kHj633_2026);
  EXPECT_EQ(aqi::china_standard_for({2016, 1, 1}), aqi::Standard::kHj633_2012);
  EXPECT_EQ(aqi::china_standard_for({2040, 1, 1}), aqi::Standard::kHj633_2026);
  EXPECT_EQ(aqi::parse_standard("US-EPA-2024"), aqi::Standard::kUsEpa2024);
  EXPECT_FALSE(aqi::parse_standard("HJ633"));
}

TEST(StandardsAqi, LevelsColoursAndAdvice) {
  using aqi::Standard;
  EXPECT_EQ(aqi::level_of(50, Standard::kHj633_2026).category, "优");
  EXPECT_EQ(aqi::level_of(51, Standard::kHj633_2026).colour, "#FFFF00");
  EXPECT_EQ(aqi::level_of(300, Standard::kHj633_2026).roman, "V");
  EXPECT_EQ(aqi::level_of(300, Standard::kHj633_2026).colour, "#99004C");
  EXPECT_EQ(aqi::level_of(301, Standard::kHj633_2026).category, "严重污染");
  EXPECT_EQ(aqi::level_of(250, Standard::kUsEpa2024).colour, "#8F3F97");  // US purple differs
  EXPECT_FALSE(aqi::level_of(120, Standard::kHj633_2012).advice.empty());
  EXPECT_NE(aqi::sensitive_groups_2026(aqi::Pollutant::kCo).find("心血管"), std::string_view::npos);
}

TEST(StandardsAqi, CoInMicrogramsPegsAt500) {
  // test-vectors C10: CO 4.5 mg/m³ → 103; the same value entered as 4500 (µg/m³) → 500.
  aqi::Concentrations c;
  c[aqi::Pollutant::kCo] = dec("4.5");
  EXPECT_EQ(aqi::evaluate(c, aqi::Report::kDaily, aqi::Standard::kHj633_2026)
                .iaqi_of(aqi::Pollutant::kCo),
            103);
  c[aqi::Pollutant::kCo] = dec("4500");
  EXPECT_EQ(aqi::evaluate(c, aqi::Report::kDaily, aqi::Standard::kHj633_2026)
                .iaqi_of(aqi::Pollutant::kCo),
            500);
}

TEST(StandardsAqi, Hourly2012SulphurAbove800WithoutA24hMeanIsNotComputed) {
  aqi::Concentrations c;
  c[aqi::Pollutant::kSo2] = dec("900");
  const auto r = aqi::evaluate(c, aqi::Report::kHourly, aqi::Standard::kHj633_2012);
  EXPECT_FALSE(r.iaqi_of(aqi::Pollutant::kSo2));  // never a made-up value
  EXPECT_FALSE(r.aqi);
}

TEST(StandardsAqi, UsOzoneAndGasesAreConvertedToPpb) {
  aqi::Concentrations c;
  // 100 µg/m³ NO2 = 53.18 ppb (25 °C, 1 atm), truncated to 53: the top of the 0–53 band.
  c[aqi::Pollutant::kNo2] = dec("100");
  auto r = aqi::evaluate(c, aqi::Report::kDaily, aqi::Standard::kUsEpa2024);
  EXPECT_EQ(r.iaqi_of(aqi::Pollutant::kNo2), 50);  // 53.18 ppb truncated to 53 → 50
  // O3 8-h 140 µg/m³ = 0.0714 ppm → 0.071 → 101.
  aqi::Concentrations o;
  o[aqi::Pollutant::kO3_8h] = dec("140");
  r = aqi::evaluate(o, aqi::Report::kDaily, aqi::Standard::kUsEpa2024);
  EXPECT_EQ(r.iaqi_of(aqi::Pollutant::kO3_8h), 101);
  EXPECT_EQ(r.primary, std::vector<aqi::Pollutant>{aqi::Pollutant::kO3_8h});
}

TEST(StandardsAqi, NowCastVector) {
  // US-EPA-AQI.md §5: 20, 18, 15, 12, 10, 9, 9, 8, 8, 7, 7, 6 → w* 0.3 → w 0.5 → 17.71.
  const std::vector<std::optional<double>> h = {20, 18, 15, 12, 10, 9, 9, 8, 8, 7, 7, 6};
  const auto n = aqi::nowcast_pm(h);
  ASSERT_TRUE(n);
  EXPECT_NEAR(*n, 17.71, 0.005);
  // Two of the three latest hours are needed.
  const std::vector<std::optional<double>> gap = {20, std::nullopt, std::nullopt, 12, 10};
  EXPECT_FALSE(aqi::nowcast_pm(gap));
  const std::vector<std::optional<double>> one_gap = {20, std::nullopt, 15, 12};
  EXPECT_TRUE(aqi::nowcast_pm(one_gap));
  // Ozone: no 0.5 floor. 0.060, 0.030 → w = 0.5 exactly; 0.060, 0.015 → w = 0.25.
  const std::vector<std::optional<double>> o3 = {0.060, 0.015};
  EXPECT_NEAR(*aqi::nowcast_o3(o3), (0.060 + 0.25 * 0.015) / 1.25, 1e-12);
}

}  // namespace
}  // namespace ecomon::standards
