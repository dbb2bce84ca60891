// Ambient gamma dose-rate baseline and anomaly rule (standards/radiation.h) — practice, not a
// normative standard.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "standards/radiation.h"

namespace ecomon::standards::radiation {
namespace {

std::vector<std::optional<double>> readings(std::initializer_list<double> values) {
  return std::vector<std::optional<double>>(values.begin(), values.end());
}

Baseline make_baseline(double mean, double sd) {
  Baseline b;
  b.count = 100;
  b.mean_ngy_h = mean;
  b.sd_ngy_h = sd;
  return b;
}

TEST(RadiationBaseline, MeanAndSampleStandardDeviation) {
  const auto history = readings({100, 102, 98, 100, 100});
  auto b = baseline_of(history);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->count, 5u);
  EXPECT_DOUBLE_EQ(b->mean_ngy_h, 100);
  EXPECT_NEAR(b->sd_ngy_h, std::sqrt(8.0 / 4.0), 1e-12);  // n − 1
}

TEST(RadiationBaseline, MissingAndInvalidReadingsAreSkippedNotZero) {
  const std::vector<std::optional<double>> history{std::nullopt, -5.0,  std::nan(""),
                                                   100.0,        110.0, std::nullopt};
  auto b = baseline_of(history);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->count, 2u);
  EXPECT_EQ(b->missing, 2u);
  EXPECT_EQ(b->rejected, 2u);
  EXPECT_DOUBLE_EQ(b->mean_ngy_h, 105);
  EXPECT_NEAR(b->sd_ngy_h, std::sqrt(50.0), 1e-12);
}

TEST(RadiationBaseline, TooFewReadingsIsInsufficientHistory) {
  const auto history = readings({100, 101, 102});
  EXPECT_EQ(baseline_of(history, BaselineOptions{4}).error().reason, "insufficient_history");
  EXPECT_TRUE(baseline_of(history, BaselineOptions{3}).ok());
  EXPECT_EQ(baseline_of(history, BaselineOptions{1}).error().reason, "bad_value");
  const std::vector<std::optional<double>> empty;
  EXPECT_EQ(baseline_of(empty).error().reason, "insufficient_history");
}

TEST(RadiationBaseline, SmallSpreadBesideALargeMeanKeepsItsDigits) {
  // A one-pass Σx² − n·mean² loses σ = 1e-6 entirely at a mean of 100.
  const auto history = readings({100.000001, 100.000002, 100.000003});
  EXPECT_NEAR(baseline_of(history)->sd_ngy_h, 1e-6, 1e-11);
}

TEST(RadiationAnomaly, StrictlyAboveMeanPlusThreeSigmaByDefault) {
  const Baseline b = make_baseline(100, 5);  // investigation level 115
  EXPECT_DOUBLE_EQ(investigation_level_ngy_h(b, 3), 115);
  EXPECT_EQ(assess_dose_rate(115, b)->level, DoseRateLevel::kNormal);
  EXPECT_EQ(assess_dose_rate(115.1, b)->level, DoseRateLevel::kAbnormal);
  EXPECT_DOUBLE_EQ(assess_dose_rate(115.1, b)->investigation_level_ngy_h, 115);
  EXPECT_NEAR(*assess_dose_rate(115, b)->z_score, 3, 1e-12);
}

TEST(RadiationAnomaly, KIsConfigurable) {
  const Baseline b = make_baseline(100, 5);
  AnomalyRule two_sigma;
  two_sigma.k = 2;
  EXPECT_EQ(assess_dose_rate(110.1, b, two_sigma)->level, DoseRateLevel::kAbnormal);
  EXPECT_EQ(assess_dose_rate(110.1, b)->level, DoseRateLevel::kNormal);
}

TEST(RadiationAnomaly, LocalBackgroundUpperBoundMustAlsoBeExceeded) {
  const Baseline b = make_baseline(100, 5);
  AnomalyRule rule;
  rule.background_upper_ngy_h = 120;
  EXPECT_EQ(assess_dose_rate(118, b, rule)->level, DoseRateLevel::kNormal);
  EXPECT_EQ(assess_dose_rate(121, b, rule)->level, DoseRateLevel::kAbnormal);
}

TEST(RadiationAnomaly, HigherTiersByMultipleOfTheMean) {
  const Baseline b = make_baseline(100, 5);
  EXPECT_EQ(assess_dose_rate(200, b)->level, DoseRateLevel::kAbnormal);
  EXPECT_EQ(assess_dose_rate(200.1, b)->level, DoseRateLevel::kInvestigate);
  EXPECT_EQ(assess_dose_rate(300, b)->level, DoseRateLevel::kInvestigate);
  EXPECT_EQ(assess_dose_rate(300.1, b)->level, DoseRateLevel::kEmergency);
  // A noisy station (σ = 50: level 250) still reports a doubling.
  const Baseline noisy = make_baseline(100, 50);
  EXPECT_EQ(assess_dose_rate(210, noisy)->level, DoseRateLevel::kInvestigate);
}

TEST(RadiationAnomaly, FlatHistoryHasNoZScoreAndAnyRiseIsAbnormal) {
  const Baseline flat = make_baseline(80, 0);
  auto v = assess_dose_rate(80.1, flat);
  EXPECT_FALSE(v->z_score.has_value());
  EXPECT_EQ(v->level, DoseRateLevel::kAbnormal);
  EXPECT_EQ(assess_dose_rate(80, flat)->level, DoseRateLevel::kNormal);
}

TEST(RadiationAnomaly, BadReadingsAndRulesAreErrors) {
  const Baseline b = make_baseline(100, 5);
  EXPECT_EQ(assess_dose_rate(-1, b).error().reason, "bad_value");
  EXPECT_EQ(assess_dose_rate(std::nan(""), b).error().reason, "bad_value");
  AnomalyRule negative_k;
  negative_k.k = -1;
  EXPECT_EQ(assess_dose_rate(100, b, negative_k).error().reason, "bad_value");
  AnomalyRule inverted;
  inverted.investigate_factor = 3;
  inverted.emergency_factor = 2;
  EXPECT_EQ(assess_dose_rate(100, b, inverted).error().reason, "bad_value");
  EXPECT_EQ(dose_rate_level_name(DoseRateLevel::kAbnormal), "abnormal");
}

TEST(RadiationReference, NationalSurveyFigures) {
  const auto survey = national_background_survey();
  ASSERT_EQ(survey.size(), 4u);
  EXPECT_EQ(survey[0].setting, Setting::kOpenField);
  EXPECT_DOUBLE_EQ(survey[0].mean_ngy_h, 62.8);
  EXPECT_EQ(survey[0].mean_weighting, "area-weighted");
  EXPECT_DOUBLE_EQ(survey[0].min_ngy_h, 2.4);
  EXPECT_DOUBLE_EQ(survey[0].max_ngy_h, 340.8);
  EXPECT_DOUBLE_EQ(survey[2].mean_ngy_h, 61.8);
  EXPECT_EQ(survey[3].setting, Setting::kIndoor);
  EXPECT_DOUBLE_EQ(survey[3].mean_ngy_h, 99.1);
  for (const auto& row : survey) {
    EXPECT_LE(row.min_ngy_h, row.mean_ngy_h);
    EXPECT_LE(row.mean_ngy_h, row.max_ngy_h);
  }
}

}  // namespace
}  // namespace ecomon::standards::radiation
