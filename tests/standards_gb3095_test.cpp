// GB 3095 limits by edition and phase, and compliance. The expected table below is typed again
// from ../shared/reference/standards/GB3095-2012-air.md §2 and §3, independently of
// src/standards/gb3095_tables.cpp, so a changed cell in either fails
// Gb3095Table.EveryRowOfTheSheet.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "standards/gb3095.h"

namespace ecomon::standards::air {
namespace {

using enum Pollutant;
using enum Averaging;

struct ExpectedRow {
  Gb3095Stage stage;
  Pollutant pollutant;
  Averaging averaging;
  double class1;
  double class2;
};

constexpr Gb3095Stage k12 = Gb3095Stage::k2012;
constexpr Gb3095Stage kTr = Gb3095Stage::k2026Transition;
constexpr Gb3095Stage kFi = Gb3095Stage::k2026Final;

const std::vector<ExpectedRow>& sheet() {
  static const std::vector<ExpectedRow> rows = {
      // §2 GB 3095-2012 Table 1.
      {k12, kSo2, kAnnual, 20, 60},
      {k12, kSo2, k24Hour, 50, 150},
      {k12, kSo2, k1Hour, 150, 500},
      {k12, kNo2, kAnnual, 40, 40},
      {k12, kNo2, k24Hour, 80, 80},
      {k12, kNo2, k1Hour, 200, 200},
      {k12, kCo, k24Hour, 4, 4},
      {k12, kCo, k1Hour, 10, 10},
      {k12, kO3, k8HourDailyMax, 100, 160},
      {k12, kO3, k1Hour, 160, 200},
      {k12, kPm10, kAnnual, 40, 70},
      {k12, kPm10, k24Hour, 50, 150},
      {k12, kPm25, kAnnual, 15, 35},
      {k12, kPm25, k24Hour, 35, 75},
      // §2 GB 3095-2012 Table 2.
      {k12, kTsp, kAnnual, 80, 200},
      {k12, kTsp, k24Hour, 120, 300},
      {k12, kNox, kAnnual, 50, 50},
      {k12, kNox, k24Hour, 100, 100},
      {k12, kNox, k1Hour, 250, 250},
      {k12, kPb, kAnnual, 0.5, 0.5},
      {k12, kPb, kQuarterly, 1, 1},
      {k12, kBap, kAnnual, 0.001, 0.001},
      {k12, kBap, k24Hour, 0.0025, 0.0025},
      // §3 GB 3095-2026 Table 1, transition (2026-03-01..2030-12-31).
      {kTr, kSo2, kAnnual, 20, 60},
      {kTr, kSo2, k24Hour, 50, 150},
      {kTr, kSo2, k1Hour, 150, 500},
      {kTr, kNo2, kAnnual, 40, 40},
      {kTr, kNo2, k24Hour, 80, 80},
      {kTr, kNo2, k1Hour, 200, 200},
      {kTr, kCo, k24Hour, 4, 4},
      {kTr, kCo, k1Hour, 10, 10},
      {kTr, kO3, k8HourDailyMax, 100, 160},
      {kTr, kO3, k1Hour, 160, 200},
      {kTr, kPm10, kAnnual, 40, 60},
      {kTr, kPm10, k24Hour, 50, 120},
      {kTr, kPm25, kAnnual, 15, 30},
      {kTr, kPm25, k24Hour, 35, 60},
      // §3 GB 3095-2026 Table 2, transition.
      {kTr, kTsp, kAnnual, 80, 200},
      {kTr, kTsp, k24Hour, 120, 300},
      {kTr, kNox, kAnnual, 50, 50},
      {kTr, kNox, k24Hour, 100, 100},
      {kTr, kNox, k1Hour, 250, 250},
      {kTr, kPb, kAnnual, 0.5, 0.5},
      {kTr, kPb, kQuarterly, 1.0, 1.0},
      {kTr, kBap, kAnnual, 0.001, 0.001},
      {kTr, kBap, k24Hour, 0.0025, 0.0025},
      // §3 GB 3095-2026 Table 1, final (from 2031-01-01).
      {kFi, kSo2, kAnnual, 20, 20},
      {kFi, kSo2, k24Hour, 50, 50},
      {kFi, kSo2, k1Hour, 150, 150},
      {kFi, kNo2, kAnnual, 30, 30},
      {kFi, kNo2, k24Hour, 50, 50},
      {kFi, kNo2, k1Hour, 200, 200},
      {kFi, kCo, k24Hour, 4, 4},
      {kFi, kCo, k1Hour, 10, 10},
      {kFi, kO3, k8HourDailyMax, 100, 160},
      {kFi, kO3, k1Hour, 160, 200},
      {kFi, kPm10, kAnnual, 20, 50},
      {kFi, kPm10, k24Hour, 50, 100},
      {kFi, kPm25, kAnnual, 10, 25},
      {kFi, kPm25, k24Hour, 25, 50},
      // §3 GB 3095-2026 Table 2, final.
      {kFi, kTsp, kAnnual, 80, 200},
      {kFi, kTsp, k24Hour, 120, 300},
      {kFi, kNox, kAnnual, 40, 40},
      {kFi, kNox, k24Hour, 70, 70},
      {kFi, kNox, k1Hour, 250, 250},
      {kFi, kPb, kAnnual, 0.5, 0.5},
      {kFi, kPb, kQuarterly, 1.0, 1.0},
      {kFi, kBap, kAnnual, 0.001, 0.001},
      {kFi, kBap, k24Hour, 0.0025, 0.0025},
  };
  return rows;
}

std::string describe(Gb3095Stage s, Pollutant p, Averaging a) {
  return std::string(stage_info(s).name) + " " + std::string(pollutant_name(p)) + " " +
         std::string(averaging_name(a));
}

TEST(Gb3095Table, EveryRowOfTheSheet) {
  for (const ExpectedRow& e : sheet()) {
    SCOPED_TRACE(describe(e.stage, e.pollutant, e.averaging));
    auto row = find_limit(e.stage, e.pollutant, e.averaging);
    ASSERT_TRUE(row.ok()) << row.error().detail;
    EXPECT_EQ(row->class1, e.class1);
    EXPECT_EQ(row->class2, e.class2);
  }
  // Nothing in the table that the sheet does not have.
  EXPECT_EQ(limit_table().size(), sheet().size());
}

TEST(Gb3095Table, NoDuplicateRowsAndEveryStageHasTheSameItems) {
  std::set<std::tuple<Gb3095Stage, Pollutant, Averaging>> seen;
  std::set<std::pair<Pollutant, Averaging>> items[3];
  for (const LimitRow& row : limit_table()) {
    EXPECT_TRUE(seen.insert({row.stage, row.pollutant, row.averaging}).second)
        << describe(row.stage, row.pollutant, row.averaging);
    items[static_cast<int>(row.stage)].insert({row.pollutant, row.averaging});
    // Class 1 zones are never allowed more than class 2 zones.
    EXPECT_LE(row.class1, row.class2) << describe(row.stage, row.pollutant, row.averaging);
    EXPECT_GT(row.class1, 0);
  }
  EXPECT_EQ(items[0], items[1]);
  EXPECT_EQ(items[1], items[2]);
}

TEST(Gb3095Table, CoIsInMilligramsEverythingElseInMicrograms) {
  for (const LimitRow& row : limit_table()) {
    const Unit expected = row.pollutant == kCo ? Unit::kMilligramPerM3 : Unit::kMicrogramPerM3;
    EXPECT_EQ(row.unit, expected) << describe(row.stage, row.pollutant, row.averaging);
  }
}

TEST(Gb3095Table, EveryRowCitesItsClause) {
  for (const LimitRow& row : limit_table()) {
    const std::string clause(row.clause);
    SCOPED_TRACE(describe(row.stage, row.pollutant, row.averaging) + ": " + clause);
    const bool table1 = row.pollutant == kSo2 || row.pollutant == kNo2 || row.pollutant == kCo ||
                        row.pollutant == kO3 || row.pollutant == kPm10 || row.pollutant == kPm25;
    switch (row.stage) {
      case Gb3095Stage::k2012:
        EXPECT_EQ(clause, table1 ? "GB 3095-2012 表1" : "GB 3095-2012 表2");
        break;
      case Gb3095Stage::k2026Transition:
        EXPECT_EQ(clause.rfind(table1 ? "GB 3095-2026 表1" : "GB 3095-2026 表2", 0), 0u);
        EXPECT_NE(clause.find("过渡阶段"), std::string::npos);
        break;
      case Gb3095Stage::k2026Final:
        EXPECT_EQ(clause.rfind(table1 ? "GB 3095-2026 表1" : "GB 3095-2026 表2", 0), 0u);
        EXPECT_NE(clause.find("2031-01-01"), std::string::npos);
        EXPECT_EQ(clause.find("过渡"), std::string::npos);
        break;
    }
  }
}

std::optional<Confidence> confidence_of(Gb3095Stage s, Pollutant p, Averaging a) {
  auto row = find_limit(s, p, a);
  if (!row) return std::nullopt;
  return row->confidence;
}

TEST(Gb3095Table, ConfidenceFollowsTheSheet) {
  // PM rows of 2026 are confirmed by official news; the gas rows are two transcriptions; Table 2
  // of 2026 is a single transcription.
  EXPECT_EQ(confidence_of(kTr, kPm25, k24Hour), Confidence::kConfirmed);
  EXPECT_EQ(confidence_of(kFi, kPm10, kAnnual), Confidence::kConfirmed);
  EXPECT_EQ(confidence_of(kFi, kSo2, kAnnual), Confidence::kTranscribed);
  EXPECT_EQ(confidence_of(kFi, kNo2, k24Hour), Confidence::kTranscribed);
  EXPECT_EQ(confidence_of(kFi, kNox, kAnnual), Confidence::kUnconfirmed);
  EXPECT_EQ(confidence_of(k12, kSo2, kAnnual), Confidence::kConfirmed);
}

TEST(Gb3095Table, ItemsWithoutALimitFail) {
  for (auto [p, a] : {std::pair{kCo, kAnnual},
                      {kO3, k24Hour},
                      {kO3, kAnnual},
                      {kPm25, k1Hour},
                      {kPb, k24Hour},
                      {kTsp, k1Hour}}) {
    auto row = find_limit(Gb3095Stage::k2012, p, a);
    ASSERT_FALSE(row.ok()) << describe(Gb3095Stage::k2012, p, a);
    EXPECT_EQ(row.error().reason, "no_limit");
  }
}

// The stage on a date, or nullopt when the lookup fails (so a failure is a test failure, not a
// crash on value()).
std::optional<Gb3095Stage> stage(const Date& d) {
  auto s = stage_on(d);
  if (!s) return std::nullopt;
  return *s;
}

TEST(Gb3095Stages, SelectedByTheDataDate) {
  EXPECT_EQ(stage({2012, 2, 29}), Gb3095Stage::k2012);
  EXPECT_EQ(stage({2020, 6, 1}), Gb3095Stage::k2012);
  EXPECT_EQ(stage({2026, 2, 28}), Gb3095Stage::k2012);
  EXPECT_EQ(stage({2026, 3, 1}), Gb3095Stage::k2026Transition);
  EXPECT_EQ(stage({2030, 12, 31}), Gb3095Stage::k2026Transition);
  EXPECT_EQ(stage({2031, 1, 1}), Gb3095Stage::k2026Final);
  EXPECT_EQ(stage({2060, 1, 1}), Gb3095Stage::k2026Final);
}

TEST(Gb3095Stages, DatesBefore2012EditionHaveNoLimits) {
  auto s = stage_on({2012, 2, 28});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().reason, "no_edition");
  auto l = limit_on({2011, 7, 1}, kPm25, k24Hour, AreaClass::kClass2);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error().reason, "no_edition");
}

TEST(Gb3095Stages, StageValiditiesAreTheSwitchDatesWithoutGapOrOverlap) {
  const Validity& v2012 = stage_info(k12).validity;
  const Validity& trans = stage_info(kTr).validity;
  const Validity& final = stage_info(kFi).validity;
  EXPECT_EQ(v2012.from, (Date{2012, 2, 29}));
  EXPECT_EQ(v2012.until, (Date{2026, 3, 1}));
  EXPECT_EQ(trans.from, (Date{2026, 3, 1}));
  EXPECT_EQ(trans.until, (Date{2031, 1, 1}));
  EXPECT_EQ(final.from, (Date{2031, 1, 1}));
  EXPECT_FALSE(final.until.has_value());
  EXPECT_TRUE(trans.covers({2030, 12, 31}));
  EXPECT_FALSE(trans.covers({2031, 1, 1}));
}

TEST(Gb3095Stages, APeriodAcrossASwitchDateNeedsAnExplicitStage) {
  auto y2026 = stage_for_period({2026, 1, 1}, {2026, 12, 31});
  ASSERT_FALSE(y2026.ok());
  EXPECT_EQ(y2026.error().reason, "period_spans_stages");
  auto y2030 = stage_for_period({2030, 1, 1}, {2031, 1, 1});
  ASSERT_FALSE(y2030.ok());
  auto y2027 = stage_for_period({2027, 1, 1}, {2027, 12, 31});
  ASSERT_TRUE(y2027.ok());
  EXPECT_EQ(*y2027, Gb3095Stage::k2026Transition);
  auto march = stage_for_period({2026, 3, 1}, {2026, 3, 31});
  ASSERT_TRUE(march.ok());
  EXPECT_EQ(*march, Gb3095Stage::k2026Transition);
  auto february = stage_for_period({2026, 2, 1}, {2026, 2, 28});
  ASSERT_TRUE(february.ok());
  EXPECT_EQ(*february, Gb3095Stage::k2012);
}

struct DatedLimit {
  Date date;
  double class1;
  double class2;
};

void expect_limits(Pollutant p, Averaging a, const std::vector<DatedLimit>& cases) {
  for (const DatedLimit& c : cases) {
    SCOPED_TRACE(std::string(pollutant_name(p)) + " " + std::string(averaging_name(a)) + " on " +
                 std::to_string(c.date.year) + "-" + std::to_string(c.date.month) + "-" +
                 std::to_string(c.date.day));
    auto l1 = limit_on(c.date, p, a, AreaClass::kClass1);
    auto l2 = limit_on(c.date, p, a, AreaClass::kClass2);
    ASSERT_TRUE(l1.ok() && l2.ok());
    EXPECT_EQ(l1->value, c.class1);
    EXPECT_EQ(l2->value, c.class2);
  }
}

TEST(Gb3095Limits, Pm25OnBothSidesOfTheSwitchDates) {
  expect_limits(kPm25, kAnnual,
                {{{2026, 2, 28}, 15, 35},
                 {{2026, 3, 1}, 15, 30},
                 {{2030, 12, 31}, 15, 30},
                 {{2031, 1, 1}, 10, 25}});
  expect_limits(kPm25, k24Hour,
                {{{2026, 2, 28}, 35, 75},
                 {{2026, 3, 1}, 35, 60},
                 {{2030, 12, 31}, 35, 60},
                 {{2031, 1, 1}, 25, 50}});
}

TEST(Gb3095Limits, Pm10OnBothSidesOfTheSwitchDates) {
  expect_limits(kPm10, kAnnual,
                {{{2026, 2, 28}, 40, 70}, {{2026, 3, 1}, 40, 60}, {{2031, 1, 1}, 20, 50}});
  expect_limits(kPm10, k24Hour,
                {{{2026, 2, 28}, 50, 150}, {{2026, 3, 1}, 50, 120}, {{2031, 1, 1}, 50, 100}});
}

TEST(Gb3095Limits, So2AndNo2TightenOnlyFrom2031) {
  expect_limits(kSo2, kAnnual,
                {{{2026, 3, 1}, 20, 60}, {{2030, 12, 31}, 20, 60}, {{2031, 1, 1}, 20, 20}});
  expect_limits(kSo2, k24Hour, {{{2030, 12, 31}, 50, 150}, {{2031, 1, 1}, 50, 50}});
  expect_limits(kNo2, kAnnual, {{{2030, 12, 31}, 40, 40}, {{2031, 1, 1}, 30, 30}});
  expect_limits(kNo2, k24Hour, {{{2030, 12, 31}, 80, 80}, {{2031, 1, 1}, 50, 50}});
  expect_limits(kNox, k24Hour, {{{2030, 12, 31}, 100, 100}, {{2031, 1, 1}, 70, 70}});
}

TEST(Gb3095Limits, LimitCarriesStageUnitAndClause) {
  auto l = limit_on({2026, 3, 1}, kPm25, k24Hour, AreaClass::kClass2);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->stage, Gb3095Stage::k2026Transition);
  EXPECT_EQ(l->unit, Unit::kMicrogramPerM3);
  EXPECT_NE(std::string(l->clause).find("GB 3095-2026 表1"), std::string::npos);
  auto co = limit_on({2026, 3, 1}, kCo, k24Hour, AreaClass::kClass2);
  ASSERT_TRUE(co.ok());
  EXPECT_EQ(co->value, 4);
  EXPECT_EQ(co->unit, Unit::kMilligramPerM3);
}

TEST(Gb3095Compliance, SameDailyValueAttainsIn2012AndExceedsIn2026) {
  auto before = compliance_on({2026, 2, 28}, kPm25, k24Hour, AreaClass::kClass2, 70);
  auto after = compliance_on({2026, 3, 1}, kPm25, k24Hour, AreaClass::kClass2, 70);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_TRUE(before->attains);
  EXPECT_EQ(before->exceedance_multiple, 0);
  EXPECT_FALSE(after->attains);
  EXPECT_NEAR(after->exceedance_multiple, (70.0 - 60.0) / 60.0, 1e-12);
  EXPECT_EQ(after->limit.value, 60);
}

TEST(Gb3095Compliance, AtTheLimitAttainsAboveItExceeds) {
  auto at = compliance(kFi, kPm25, k24Hour, AreaClass::kClass2, 50);
  auto noise = compliance(kFi, kPm25, k24Hour, AreaClass::kClass2, 50.000000000000007);
  auto above = compliance(kFi, kPm25, k24Hour, AreaClass::kClass2, 50.01);
  ASSERT_TRUE(at.ok() && noise.ok() && above.ok());
  EXPECT_TRUE(at->attains);
  EXPECT_TRUE(noise->attains);
  EXPECT_FALSE(above->attains);
  EXPECT_TRUE(exceeds(0.0026, 0.0025));
  EXPECT_FALSE(exceeds(0.0025, 0.0025));
}

TEST(Gb3095Compliance, AreaClassSelectsTheColumn) {
  auto c1 = compliance(k12, kO3, k8HourDailyMax, AreaClass::kClass1, 120);
  auto c2 = compliance(k12, kO3, k8HourDailyMax, AreaClass::kClass2, 120);
  ASSERT_TRUE(c1.ok() && c2.ok());
  EXPECT_FALSE(c1->attains);
  EXPECT_TRUE(c2->attains);
  EXPECT_NEAR(c1->exceedance_multiple, 0.2, 1e-12);
}

TEST(Gb3095Compliance, RejectsNonFiniteValuesAndMissingLimits) {
  auto nan = compliance(k12, kPm25, k24Hour, AreaClass::kClass2, std::nan(""));
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.error().reason, "bad_value");
  auto none = compliance(k12, kCo, kAnnual, AreaClass::kClass2, 1);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().reason, "no_limit");
}

TEST(Gb3095AnnualItems, Hj663Percentiles) {
  struct Expected {
    Pollutant pollutant;
    bool has_annual_mean;
    int percentile;
    Averaging against;
  };
  const std::vector<Expected> expected = {
      {kSo2, true, 98, k24Hour},  {kNo2, true, 98, k24Hour}, {kPm10, true, 95, k24Hour},
      {kPm25, true, 95, k24Hour}, {kCo, false, 95, k24Hour}, {kO3, false, 90, k8HourDailyMax},
  };
  for (const Expected& e : expected) {
    SCOPED_TRACE(std::string(pollutant_name(e.pollutant)));
    auto item = annual_item(e.pollutant);
    ASSERT_TRUE(item.ok());
    EXPECT_EQ(item->has_annual_mean, e.has_annual_mean);
    EXPECT_EQ(item->percentile, e.percentile);
    EXPECT_EQ(item->percentile_limit, e.against);
  }
  EXPECT_EQ(annual_items().size(), expected.size());
  auto tsp = annual_item(kTsp);
  ASSERT_FALSE(tsp.ok());
  EXPECT_EQ(tsp.error().reason, "no_annual_item");
}

TEST(Gb3095AnnualAttainment, NeedsBothTheMeanAndThePercentile) {
  const auto c2 = AreaClass::kClass2;
  auto both = annual_attainment(k12, kPm25, c2, 35, 75);
  auto pct_fails = annual_attainment(k12, kPm25, c2, 34, 76);
  auto mean_fails = annual_attainment(k12, kPm25, c2, 36, 70);
  ASSERT_TRUE(both.ok() && pct_fails.ok() && mean_fails.ok());
  EXPECT_TRUE(both->attains);
  EXPECT_FALSE(pct_fails->attains);
  EXPECT_TRUE(pct_fails->mean->attains);
  EXPECT_FALSE(mean_fails->attains);
  EXPECT_TRUE(mean_fails->percentile.attains);
  // The percentile is judged against the 24-h limit, the mean against the annual one.
  EXPECT_EQ(both->percentile.limit.value, 75);
  EXPECT_EQ(both->mean->limit.value, 35);
  // Under the 2026 transition limits the same statistics fail (30 / 60).
  auto later = annual_attainment(kTr, kPm25, c2, 35, 75);
  ASSERT_TRUE(later.ok());
  EXPECT_FALSE(later->attains);
}

TEST(Gb3095AnnualAttainment, CoAndO3HaveOnlyAPercentile) {
  auto co = annual_attainment(k12, kCo, AreaClass::kClass2, std::nullopt, 4.0);
  ASSERT_TRUE(co.ok());
  EXPECT_TRUE(co->attains);
  EXPECT_FALSE(co->mean.has_value());
  auto o3 = annual_attainment(k12, kO3, AreaClass::kClass2, std::nullopt, 161);
  ASSERT_TRUE(o3.ok());
  EXPECT_FALSE(o3->attains);
  EXPECT_EQ(o3->percentile.limit.value, 160);
}

TEST(Gb3095AnnualAttainment, MissingStatisticIsAnErrorNotAttainment) {
  auto no_mean = annual_attainment(k12, kSo2, AreaClass::kClass2, std::nullopt, 20);
  ASSERT_FALSE(no_mean.ok());
  EXPECT_EQ(no_mean.error().reason, "missing_statistic");
  auto no_pct = annual_attainment(k12, kSo2, AreaClass::kClass2, 10, std::nullopt);
  ASSERT_FALSE(no_pct.ok());
  EXPECT_EQ(no_pct.error().reason, "missing_statistic");
}

}  // namespace
}  // namespace ecomon::standards::air
