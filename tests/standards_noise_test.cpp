// GB 3096-2008 level arithmetic and tables (standards/noise.h): what is not row-shaped. The
// row-shaped compliance cases are testdata/standards/cases/noise_gb3096.csv.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "standards/noise.h"

namespace ecomon::standards::noise {
namespace {

TEST(NoiseLeq, H3EnergyMeanOfEqualSamplesIsNotTheArithmeticMean) {
  const std::vector<double> samples{55, 60, 65, 70};
  auto leq = leq_db(samples);
  ASSERT_TRUE(leq.ok());
  // 10·lg[(10^5.5 + 10^6 + 10^6.5 + 10^7) / 4] (test-vectors.md H3).
  EXPECT_NEAR(*leq, 65.58663741896356, 1e-9);
  EXPECT_DOUBLE_EQ(round_level_db(*leq), 65.6);
  EXPECT_GT(*leq, 62.5 + 3);  // the arithmetic mean of the decibels is far off
}

TEST(NoiseLeq, ConstantLevelIsItself) {
  const std::vector<double> samples(17, 48.3);
  EXPECT_NEAR(*leq_db(samples), 48.3, 1e-12);
}

TEST(NoiseLeq, EmptyIsNoDataNotZero) {
  auto leq = leq_db(std::span<const double>());
  ASSERT_FALSE(leq.ok());
  EXPECT_EQ(leq.error().reason, "no_data");
}

TEST(NoiseLeq, NonFiniteLevelIsBadValue) {
  const std::vector<double> samples{50, std::nan("")};
  auto leq = leq_db(samples);
  ASSERT_FALSE(leq.ok());
  EXPECT_EQ(leq.error().reason, "bad_value");
}

TEST(NoiseLeq, DoesNotOverflowOnExtremeLevels) {
  // 10^(0.1·4000) overflows a double; the energy mean must be taken relative to the loudest level.
  const std::vector<double> samples{4000, 4000};
  auto leq = leq_db(samples);
  ASSERT_TRUE(leq.ok());
  EXPECT_NEAR(*leq, 4000, 1e-9);
}

TEST(NoiseLeqTimed, WeightsByDuration) {
  // 60 dB for 3 h and 70 dB for 1 h equals four equal hourly samples 60, 60, 60, 70.
  const std::vector<TimedLevel> intervals{{60, 3 * 3600.0}, {70, 3600.0}};
  const std::vector<double> hourly{60, 60, 60, 70};
  EXPECT_NEAR(*leq_db(intervals), 65.11883360978874, 1e-9);
  EXPECT_NEAR(*leq_db(intervals), *leq_db(hourly), 1e-12);
}

TEST(NoiseLeqTimed, ZeroDurationAddsNothing) {
  const std::vector<TimedLevel> intervals{{100, 0}, {60, 10}};
  EXPECT_NEAR(*leq_db(intervals), 60, 1e-12);
}

TEST(NoiseLeqTimed, NoTimeIsNoDataAndNegativeDurationIsBadValue) {
  const std::vector<TimedLevel> none{{60, 0}};
  EXPECT_EQ(leq_db(none).error().reason, "no_data");
  const std::vector<TimedLevel> negative{{60, -1}, {60, 10}};
  EXPECT_EQ(leq_db(negative).error().reason, "bad_value");
}

TEST(NoiseLdn, H1AndH2) {
  EXPECT_NEAR(ldn_db(60, 50), 60.0, 1e-9);  // H1
  EXPECT_NEAR(ldn_db(65, 55), 65.0, 1e-9);  // H2
}

TEST(NoiseLdn, NightCarriesTenDecibelPenaltyAndSixteenEightWeights) {
  // Equal L_d and L_n: 10·lg[(16·10^5 + 8·10^6)/24] = 56.02, not 50.
  EXPECT_NEAR(ldn_db(50, 50), 56.020599913279625, 1e-9);
  EXPECT_NEAR(ldn_db(60, 55), 62.3572010523944, 1e-9);
}

TEST(NoiseDayNight, HourlyValuesSplitAtSixAndTwentyTwo) {
  std::array<std::optional<double>, 24> hourly;
  for (int h = 0; h < 24; ++h) hourly[h] = (h >= 6 && h < 22) ? 60.0 : 50.0;
  auto dn = day_night_levels_from_hourly(hourly);
  ASSERT_TRUE(dn.ok());
  EXPECT_NEAR(*dn->ld_db, 60, 1e-9);
  EXPECT_NEAR(*dn->ln_db, 50, 1e-9);
  EXPECT_DOUBLE_EQ(dn->day_s, 16 * 3600.0);
  EXPECT_DOUBLE_EQ(dn->night_s, 8 * 3600.0);

  // The hour starting 06:00 is day; the hour starting 05:00 is night.
  auto louder_at = [&](int hour) {
    auto h = hourly;
    h[hour] = 80.0;
    return *day_night_levels_from_hourly(h);
  };
  const DayNightLevels six = louder_at(6);
  EXPECT_NEAR(*six.ld_db, 68.56577857697687, 1e-9);
  EXPECT_NEAR(*six.ln_db, 50, 1e-9);
  const DayNightLevels five = louder_at(5);
  EXPECT_NEAR(*five.ld_db, 60, 1e-9);
  EXPECT_NEAR(*five.ln_db, 70.99939483561674, 1e-9);
  const DayNightLevels twenty_two = louder_at(22);
  EXPECT_NEAR(*twenty_two.ld_db, 60, 1e-9);
  EXPECT_GT(*twenty_two.ln_db, 70);
}

TEST(NoiseDayNight, MissingHoursAreSkippedNotZero) {
  std::array<std::optional<double>, 24> hourly;
  hourly[12] = 62.0;
  auto dn = day_night_levels_from_hourly(hourly);
  ASSERT_TRUE(dn.ok());
  EXPECT_NEAR(*dn->ld_db, 62, 1e-9);  // one hour of 62, not (62 + 15 silent hours) averaged
  EXPECT_FALSE(dn->ln_db.has_value());
  EXPECT_DOUBLE_EQ(dn->day_s, 3600);
  EXPECT_DOUBLE_EQ(dn->night_s, 0);

  const std::array<std::optional<double>, 24> none{};
  auto empty = day_night_levels_from_hourly(none);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->ld_db.has_value());
  EXPECT_FALSE(empty->ln_db.has_value());
}

TEST(NoiseDayNight, IntervalCrossingABoundaryIsSplitByTime) {
  // 21:30 for one hour: half day, half night.
  const std::vector<ClockedLevel> one{{21 * 3600 + 1800, 3600, 70}};
  auto dn = day_night_levels(one);
  ASSERT_TRUE(dn.ok());
  EXPECT_DOUBLE_EQ(dn->day_s, 1800);
  EXPECT_DOUBLE_EQ(dn->night_s, 1800);
  EXPECT_NEAR(*dn->ld_db, 70, 1e-9);
  EXPECT_NEAR(*dn->ln_db, 70, 1e-9);

  // 23:00 for 8 h runs past midnight to 07:00: 7 h night, 1 h day.
  const std::vector<ClockedLevel> overnight{{23 * 3600, 8 * 3600.0, 55}};
  dn = day_night_levels(overnight);
  EXPECT_DOUBLE_EQ(dn->night_s, 7 * 3600.0);
  EXPECT_DOUBLE_EQ(dn->day_s, 3600);

  // Whole days: two days from midnight.
  const std::vector<ClockedLevel> two_days{{0, 2 * 86400.0, 55}};
  dn = day_night_levels(two_days);
  EXPECT_DOUBLE_EQ(dn->day_s, 2 * 16 * 3600.0);
  EXPECT_DOUBLE_EQ(dn->night_s, 2 * 8 * 3600.0);
}

TEST(NoiseDayNight, EnergyNotTimeDecidesWithinAPeriod) {
  // Day: 1 h at 80 and 15 h at 50 → dominated by the loud hour.
  std::vector<ClockedLevel> day{{6 * 3600, 3600, 80}, {7 * 3600, 15 * 3600.0, 50}};
  auto dn = day_night_levels(day);
  EXPECT_NEAR(*dn->ld_db, 10 * std::log10((1e8 + 15 * 1e5) / 16), 1e-9);
}

TEST(NoiseDayNight, LocalHoursCanBeMoved) {
  std::array<std::optional<double>, 24> hourly;
  hourly[6] = 70.0;
  const DayNightHours seven_to_22{7 * 3600, 22 * 3600};
  auto dn = day_night_levels_from_hourly(hourly, seven_to_22);
  EXPECT_FALSE(dn->ld_db.has_value());
  EXPECT_NEAR(*dn->ln_db, 70, 1e-9);
}

TEST(NoiseDayNight, BadHoursAndStartsAreBadValue) {
  const std::vector<ClockedLevel> one{{0, 60, 50}};
  EXPECT_EQ(day_night_levels(one, DayNightHours{22 * 3600, 6 * 3600}).error().reason, "bad_value");
  const std::vector<ClockedLevel> late{{86400, 60, 50}};
  EXPECT_EQ(day_night_levels(late).error().reason, "bad_value");
  const std::vector<ClockedLevel> negative{{0, -60, 50}};
  EXPECT_EQ(day_night_levels(negative).error().reason, "bad_value");
}

TEST(NoisePercentile, TwoHundredSamplesGiveTwentiethHundredthAndHundredEightiethLoudest) {
  // HJ 640: 200 samples per 10 min; values 1..200 shuffled.
  std::vector<double> samples;
  for (int i = 1; i <= 200; ++i) samples.push_back(i);
  std::mt19937 rng(7);
  std::shuffle(samples.begin(), samples.end(), rng);
  EXPECT_DOUBLE_EQ(*percentile_level_db(samples, 10), 181);  // 20th loudest
  EXPECT_DOUBLE_EQ(*percentile_level_db(samples, 50), 101);  // 100th loudest
  EXPECT_DOUBLE_EQ(*percentile_level_db(samples, 90), 21);   // 180th loudest
}

TEST(NoisePercentile, RankIsRoundedUpAndAtLeastOne) {
  const std::vector<double> ten{50, 51, 52, 53, 54, 55, 56, 57, 58, 59};
  EXPECT_DOUBLE_EQ(*percentile_level_db(ten, 10), 59);  // rank 1: the loudest
  EXPECT_DOUBLE_EQ(*percentile_level_db(ten, 90), 51);  // rank 9
  EXPECT_DOUBLE_EQ(*percentile_level_db(ten, 5), 59);   // rank ⌈0.5⌉ = 1
  EXPECT_DOUBLE_EQ(*percentile_level_db(ten, 15), 58);  // rank ⌈1.5⌉ = 2
  const std::vector<double> one{42};
  EXPECT_DOUBLE_EQ(*percentile_level_db(one, 90), 42);
}

TEST(NoisePercentile, PercentOutsideOpenIntervalAndEmptyAreErrors) {
  const std::vector<double> ten(10, 50);
  EXPECT_EQ(percentile_level_db(ten, 0).error().reason, "bad_value");
  EXPECT_EQ(percentile_level_db(ten, 100).error().reason, "bad_value");
  EXPECT_EQ(percentile_level_db(std::span<const double>(), 50).error().reason, "no_data");
}

TEST(NoiseStatistics, SampleStandardDeviationAndLeq) {
  const std::vector<double> samples{50, 52, 54};
  auto s = statistical_levels(samples);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->count, 3u);
  EXPECT_NEAR(*s->sd_db, 2.0, 1e-12);  // sqrt((4 + 0 + 4) / (3 − 1))
  EXPECT_NEAR(s->leq_db, *leq_db(samples), 1e-12);
  EXPECT_DOUBLE_EQ(s->l10_db, 54);
  EXPECT_DOUBLE_EQ(s->l50_db, 52);
  EXPECT_DOUBLE_EQ(s->l90_db, 50);
  const std::vector<double> one{50};
  EXPECT_FALSE(statistical_levels(one)->sd_db.has_value());
}

TEST(NoiseJudge, RoundsToTenthThenComparesAndReportsExceedance) {
  EXPECT_TRUE(judge_level(50.04, 50).compliant);
  EXPECT_TRUE(judge_level(50.05, 50).compliant);  // GB/T 8170: 50.05 → 50.0
  const LevelVerdict above = judge_level(50.06, 50);
  EXPECT_FALSE(above.compliant);
  EXPECT_DOUBLE_EQ(above.level_db, 50.1);
  EXPECT_DOUBLE_EQ(above.exceed_db, 0.1);
  EXPECT_DOUBLE_EQ(judge_level(52.3, 50).exceed_db, 2.3);   // not 2.2999999999999972
  EXPECT_DOUBLE_EQ(judge_level(50.15, 50).exceed_db, 0.2);  // tie → even (binary 50.1499…)
  EXPECT_DOUBLE_EQ(judge_level(50.25, 50).exceed_db, 0.2);  // exact tie → even, not up to 50.3
  EXPECT_DOUBLE_EQ(judge_level(45, 50).exceed_db, 0);
}

TEST(NoiseAssess, ComplianceIsUnknownUntilDayAndNightAreBothKnown) {
  const NoiseEdition& e = latest_noise_edition();
  NoiseInput in;
  in.zone = ZoneClass::k1;
  in.ld_db = 50;
  auto a = assess(e, in);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->compliant.has_value());
  EXPECT_FALSE(a->ldn_db.has_value());
  in.ld_db = 56;
  EXPECT_EQ(assess(e, in)->compliant, std::optional<bool>(false));
  in.ld_db = 50;
  in.ln_db = 40;
  EXPECT_EQ(assess(e, in)->compliant, std::optional<bool>(true));
  in.lmax_night_db = 61;  // sudden: 45 + 15 = 60
  EXPECT_EQ(assess(e, in)->compliant, std::optional<bool>(false));
}

TEST(NoiseAssess, H4NightAndFrequentLmax) {
  NoiseInput in;
  in.zone = ZoneClass::k2;
  in.ln_db = 52;
  in.lmax_night_db = 62;
  in.night_event = NightEvent::kFrequent;
  auto a = assess(latest_noise_edition(), in);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->night->compliant);
  EXPECT_DOUBLE_EQ(a->night->exceed_db, 2);
  EXPECT_DOUBLE_EQ(a->night_max->limit_db, 60);
  EXPECT_FALSE(a->night_max->compliant);
  in.night_event = NightEvent::kSporadic;  // 50 + 15 = 65
  EXPECT_TRUE(assess(latest_noise_edition(), in)->night_max->compliant);
}

TEST(NoiseTables, EveryZoneClassHasARowCitingItsEditionAndTheKnownLimits) {
  struct Want {
    ZoneClass zone;
    double day, night;
  };
  const Want want[] = {{ZoneClass::k0, 50, 40}, {ZoneClass::k1, 55, 45},  {ZoneClass::k2, 60, 50},
                       {ZoneClass::k3, 65, 55}, {ZoneClass::k4a, 70, 55}, {ZoneClass::k4b, 70, 60}};
  for (const NoiseEdition& e : noise_editions()) {
    for (const ZoneLimit& row : e.zone_limits) {
      EXPECT_EQ(row.clause.rfind(e.standard, 0), 0u) << row.clause;
    }
    for (NightEvent ev : {NightEvent::kSudden, NightEvent::kFrequent, NightEvent::kSporadic}) {
      EXPECT_NE(night_max_margin(e, ev), nullptr);
    }
  }
  const NoiseEdition& e = latest_noise_edition();
  for (const Want& w : want) {
    const ZoneLimit* row = zone_limit(e, w.zone);
    ASSERT_NE(row, nullptr);
    EXPECT_EQ(row->day_db, w.day);
    EXPECT_EQ(row->night_db, w.night);
  }
  EXPECT_EQ(night_max_margin(e, NightEvent::kFrequent)->margin_db, 10);
  EXPECT_EQ(night_max_margin(e, NightEvent::kSporadic)->margin_db, 15);
  EXPECT_EQ(night_max_margin(e, NightEvent::kSudden)->margin_db, 15);
  EXPECT_NE(night_max_margin(e, NightEvent::kSudden)->clause.find("5.4"), std::string_view::npos);
}

TEST(NoiseTables, EditionSelectedByDate) {
  EXPECT_EQ(noise_edition_for(Date{2008, 9, 30}), nullptr);
  ASSERT_NE(noise_edition_for(Date{2008, 10, 1}), nullptr);
  EXPECT_EQ(noise_edition_for(Date{2008, 10, 1})->standard, "GB 3096-2008");
  EXPECT_EQ(noise_edition_for(Date{2030, 1, 1}), &latest_noise_edition());
  EXPECT_FALSE(latest_noise_edition().validity.until.has_value());
}

TEST(NoiseParse, ZoneClassesAndEvents) {
  EXPECT_EQ(parse_zone_class("4A"), ZoneClass::k4a);
  EXPECT_EQ(parse_zone_class("4b类"), ZoneClass::k4b);
  EXPECT_EQ(parse_zone_class("0"), ZoneClass::k0);
  EXPECT_FALSE(parse_zone_class("4").has_value());
  EXPECT_FALSE(parse_zone_class("").has_value());
  EXPECT_FALSE(parse_zone_class("类").has_value());
  EXPECT_EQ(parse_night_event("频发"), NightEvent::kFrequent);
  EXPECT_EQ(parse_night_event("Sporadic"), NightEvent::kSporadic);
  EXPECT_FALSE(parse_night_event("often").has_value());
}

TEST(NoiseHj640, RegionalAndRoadGradesAreFlaggedUnconfirmedAndEdgeInclusive) {
  const AcousticGradeTable& regional = regional_grade_table();
  EXPECT_FALSE(regional.confirmed);
  EXPECT_EQ(acoustic_grade(regional, Period::kDay, 50.0), AcousticGrade::k1);
  EXPECT_EQ(acoustic_grade(regional, Period::kDay, 50.04), AcousticGrade::k1);
  EXPECT_EQ(acoustic_grade(regional, Period::kDay, 50.1), AcousticGrade::k2);
  EXPECT_EQ(acoustic_grade(regional, Period::kDay, 65.0), AcousticGrade::k4);
  EXPECT_EQ(acoustic_grade(regional, Period::kDay, 65.1), AcousticGrade::k5);
  EXPECT_EQ(acoustic_grade(regional, Period::kNight, 55.0), AcousticGrade::k4);
  EXPECT_EQ(acoustic_grade(regional, Period::kNight, 40.1), AcousticGrade::k2);
  const AcousticGradeTable& road = road_traffic_grade_table();
  EXPECT_FALSE(road.confirmed);
  EXPECT_EQ(acoustic_grade(road, Period::kDay, 68.0), AcousticGrade::k1);
  EXPECT_EQ(acoustic_grade(road, Period::kDay, 74.1), AcousticGrade::k5);
  EXPECT_EQ(acoustic_grade(road, Period::kNight, 60.0), AcousticGrade::k2);
  EXPECT_EQ(acoustic_grade_name(AcousticGrade::k1), "一级");
  EXPECT_EQ(acoustic_grade_label(AcousticGrade::k5), "差");
}

TEST(NoiseHj640, SpatialMeansAreArithmeticAndLengthWeighted) {
  const std::vector<double> points{50, 60};
  EXPECT_DOUBLE_EQ(*regional_mean_db(points), 55);  // not the energy mean 57.4
  const std::vector<RoadSection> roads{{70, 1000}, {60, 3000}};
  EXPECT_DOUBLE_EQ(*road_traffic_mean_db(roads), 62.5);
  EXPECT_EQ(regional_mean_db(std::span<const double>()).error().reason, "no_data");
  const std::vector<RoadSection> no_length{{70, 0}};
  EXPECT_EQ(road_traffic_mean_db(no_length).error().reason, "no_data");
}

}  // namespace
}  // namespace ecomon::standards::noise
