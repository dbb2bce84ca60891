// Groundwater (standards/groundwater.h): the table itself, the comprehensive evaluation and the
// rules that case rows cannot show on their own (class order with IV/V, empty results).
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "app/assess.h"
#include "standards/groundwater.h"

namespace ecomon::standards::groundwater {
namespace {

TEST(GroundwaterTable, ThirtyNineRoutineItemsEachCitingItsClauseWithTheirDates) {
  const LimitTable& t = table1();
  ASSERT_EQ(t.rows.size(), kItemCount);
  std::set<std::string_view> codes;
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const LimitRow& r = t.rows[i];
    EXPECT_EQ(static_cast<std::size_t>(r.item), i);
    EXPECT_EQ(r.clause, "GB/T 14848-2017 表1 第" + std::to_string(i + 1) + "项");
    EXPECT_TRUE(codes.insert(r.code).second) << r.code;
    EXPECT_EQ(item_by_code(r.code), r.item);
    if (r.bound == Bound::kAtMost) {
      for (std::size_t k = 1; k < 4; ++k) EXPECT_LE(r.limit[k - 1], r.limit[k]) << r.code;
    }
  }
  EXPECT_EQ(t.validity.from, (Date{2018, 5, 1}));
  EXPECT_FALSE(t.validity.until.has_value());
  EXPECT_EQ(table1_for({2018, 4, 30}), nullptr);
  EXPECT_EQ(table1_for({2018, 5, 1}), &t);
}

TEST(GroundwaterTable, OrganicsAreMicrogramsPerLitre) {
  EXPECT_EQ(row(Item::kChloroform).unit, "µg/L");
  EXPECT_EQ(row(Item::kBenzene).limit[2], 10.0);
  EXPECT_EQ(row(Item::kNitrate).unit, "mg/L");
}

Sample f1() {
  Sample s;
  s[Item::kNitrate] = Reading::measured(22);
  s[Item::kTotalHardness] = Reading::measured(480);
  s[Item::kF] = Reading::measured(1.0);
  s[Item::kNh3n] = Reading::measured(0.30);
  return s;
}

TEST(GroundwaterEvaluation, F1OverallIsTheWorstIndicatorAndNamesIt) {
  auto r = evaluate(f1());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->overall, Class::kIV);
  EXPECT_EQ(r->worst_items, (std::vector<Item>{Item::kTotalHardness, Item::kNitrate}));
  EXPECT_EQ(r->item_class[static_cast<std::size_t>(Item::kF)], Class::kI);
  EXPECT_EQ(r->item_class[static_cast<std::size_t>(Item::kNh3n)], Class::kIII);
  EXPECT_FALSE(r->item_class[static_cast<std::size_t>(Item::kPh)].has_value());
}

TEST(GroundwaterEvaluation, NothingPresentGivesNoClass) {
  auto r = evaluate(Sample{});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->overall.has_value());
  EXPECT_TRUE(r->worst_items.empty());
}

TEST(GroundwaterEvaluation, GrossAlphaAboveIIIRanksBetweenIVAndV) {
  EXPECT_LT(Class::kIV, Class::kIVorV);
  EXPECT_LT(Class::kIVorV, Class::kV);
  EXPECT_EQ(*item_class(Item::kGrossAlpha, Reading::measured(5)), Class::kIVorV);
  EXPECT_EQ(class_name(Class::kIVorV), "IV/V");
}

TEST(GroundwaterEvaluation, NonDetectsAreClassIButOnlyANonDetectIsClassIForLas) {
  EXPECT_EQ(*item_class(Item::kHg, Reading::below_detection(0.00004)), Class::kI);
  EXPECT_EQ(*item_class(Item::kLas, Reading::below_detection(0.05)), Class::kI);
  EXPECT_EQ(*item_class(Item::kLas, Reading::measured(0)), Class::kII);
  EXPECT_EQ(*item_class(Item::kLas, Reading::measured(0.05)), Class::kII);
}

TEST(GroundwaterEvaluation, InvalidReadingsAreErrorsNamingTheItem) {
  auto negative = item_class(Item::kNa, Reading::measured(-1));
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.error().reason, "bad_value");
  EXPECT_EQ(negative.error().detail.rfind("na:", 0), 0u);
  EXPECT_FALSE(item_class(Item::kPh, Reading::measured(14.5)).ok());
  EXPECT_FALSE(item_class(Item::kPh, Reading::below_detection()).ok());
  EXPECT_FALSE(item_class(Item::kOdor, Reading::measured(0.5)).ok());
  Sample s = f1();
  s[Item::kCd] = Reading::measured(-0.001);
  EXPECT_FALSE(evaluate(s).ok());
}

TEST(GroundwaterAssessCli, EmptyCellsStayMissingAndRowsAreIndependent) {
  auto assessor = app::make_assessor("groundwater", {});
  ASSERT_TRUE(assessor.ok());
  std::istringstream in("well,no3n,f\nA,,\nB,x,1\nC,22,1.0\n");
  std::ostringstream out, err;
  ASSERT_EQ(app::run_assess(**assessor, in, out, err), 0);
  EXPECT_EQ(out.str(),
            "well,no3n,f,class,worst_items,class_no3n,class_f,error\n"
            "A,,,,,,,\n"
            "B,x,1,,,,,column no3n: 'x' is not a number\n"
            "C,22,1.0,IV,no3n,IV,I,\n");
  EXPECT_FALSE(app::make_assessor("groundwater", {{"waterbody", "river"}}).ok());
}

}  // namespace
}  // namespace ecomon::standards::groundwater
