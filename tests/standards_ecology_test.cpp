// HJ 192-2015 EI (standards/ecology.h): formula, caps, grades and changes beyond the row-shaped
// cases of testdata/standards/cases/ecology_hj192.csv.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "app/assess.h"
#include "standards/ecology.h"

namespace ecomon::standards::ecology {
namespace {

const SubIndices kI1{60, 70, 40, 20, 10};

// Sub-indices whose EI is x (the weights sum to 1; the stresses enter as 100 − value).
SubIndices flat(double x) { return SubIndices{x, x, x, 100 - x, 100 - x}; }

TEST(EcologyEi, VectorsI1AndI2) {
  const EcologyEdition& e = latest_ecology_edition();
  auto i1 = ecological_index(e, kI1);
  ASSERT_TRUE(i1.ok());
  EXPECT_DOUBLE_EQ(i1->ei, 65.5);
  EXPECT_EQ(i1->grade, EiGrade::kGood);
  auto i2 = ecological_index(e, kI1, Restriction::kLowerOneGrade);
  EXPECT_DOUBLE_EQ(i2->unrestricted, 65.5);
  EXPECT_DOUBLE_EQ(i2->ei, 54.9);
  EXPECT_EQ(i2->grade, EiGrade::kFair);
}

TEST(EcologyEi, WeightsSumToOneAndOnlyStressesAreInverted) {
  double sum = 0;
  for (const EiWeight& w : latest_ecology_edition().weights) {
    sum += w.weight;
    EXPECT_EQ(w.inverted, w.index == SubIndex::kLandStress || w.index == SubIndex::kPollutionLoad);
    EXPECT_EQ(w.clause.rfind("HJ 192-2015", 0), 0u);
  }
  EXPECT_NEAR(sum, 1.0, 1e-12);
}

TEST(EcologyEi, EachSubIndexMovesEiByItsWeight) {
  const EcologyEdition& e = latest_ecology_edition();
  const double base = ecological_index(e, kI1)->ei;
  auto moved = [&](double SubIndices::*field, double delta) {
    SubIndices s = kI1;
    s.*field += delta;
    return ecological_index(e, s)->ei - base;
  };
  EXPECT_NEAR(moved(&SubIndices::biological_abundance, 10), 3.5, 1e-9);
  EXPECT_NEAR(moved(&SubIndices::vegetation_cover, 10), 2.5, 1e-9);
  EXPECT_NEAR(moved(&SubIndices::water_network_density, 10), 1.5, 1e-9);
  EXPECT_NEAR(moved(&SubIndices::land_stress, 10), -1.5, 1e-9);
  EXPECT_NEAR(moved(&SubIndices::pollution_load, 10), -1.0, 1e-9);
}

TEST(EcologyEi, SubIndexAboveHundredIsCappedAndNegativeIsAnError) {
  const EcologyEdition& e = latest_ecology_edition();
  SubIndices over = kI1;
  over.biological_abundance = 150;
  SubIndices hundred = kI1;
  hundred.biological_abundance = 100;
  EXPECT_DOUBLE_EQ(ecological_index(e, over)->ei, ecological_index(e, hundred)->ei);
  SubIndices stress = kI1;
  stress.land_stress = 130;  // capped at 100: contributes 0, not −4.5
  EXPECT_DOUBLE_EQ(ecological_index(e, stress)->ei, 65.5 - 0.15 * 80);
  SubIndices negative = kI1;
  negative.pollution_load = -1;
  EXPECT_EQ(ecological_index(e, negative).error().reason, "bad_value");
  SubIndices nan = kI1;
  nan.vegetation_cover = std::nan("");
  EXPECT_EQ(ecological_index(e, nan).error().reason, "bad_value");
}

TEST(EcologyGrade, EdgesOnTheReportedValue) {
  const EcologyEdition& e = latest_ecology_edition();
  EXPECT_EQ(ei_grade(e, 75), EiGrade::kExcellent);
  EXPECT_EQ(ei_grade(e, 74.95), EiGrade::kExcellent);  // reported 75.0 (tie → even)
  EXPECT_EQ(ei_grade(e, 74.94), EiGrade::kGood);
  EXPECT_EQ(ei_grade(e, 55), EiGrade::kGood);
  EXPECT_EQ(ei_grade(e, 54.9), EiGrade::kFair);
  EXPECT_EQ(ei_grade(e, 35), EiGrade::kFair);
  EXPECT_EQ(ei_grade(e, 34.9), EiGrade::kPoor);
  EXPECT_EQ(ei_grade(e, 20), EiGrade::kPoor);
  EXPECT_EQ(ei_grade(e, 19.9), EiGrade::kVeryPoor);
  EXPECT_EQ(ei_grade(e, 0), EiGrade::kVeryPoor);
  EXPECT_EQ(ei_grade_name(EiGrade::kExcellent), "优");
  EXPECT_EQ(ei_grade_name(EiGrade::kPoor), "较差");
}

TEST(EcologyRestriction, CapsLowerTheGradeByOneOrBelowGood) {
  const EcologyEdition& e = latest_ecology_edition();
  auto ei = [&](double x, Restriction r) { return ecological_index(e, flat(x), r)->ei; };
  EXPECT_DOUBLE_EQ(ei(90, Restriction::kLowerOneGrade), 74.9);
  EXPECT_DOUBLE_EQ(ei(60, Restriction::kLowerOneGrade), 54.9);
  EXPECT_DOUBLE_EQ(ei(40, Restriction::kLowerOneGrade), 34.9);
  EXPECT_DOUBLE_EQ(ei(25, Restriction::kLowerOneGrade), 19.9);
  EXPECT_DOUBLE_EQ(ei(15, Restriction::kLowerOneGrade), 15);  // already the lowest grade
  EXPECT_DOUBLE_EQ(ei(90, Restriction::kNotExcellentOrGood), 54.9);
  EXPECT_DOUBLE_EQ(ei(40, Restriction::kNotExcellentOrGood), 34.9);
  EXPECT_DOUBLE_EQ(ei(90, Restriction::kNone), 90);
  for (double x = 0; x <= 100; x += 0.5) {
    for (Restriction r : {Restriction::kLowerOneGrade, Restriction::kNotExcellentOrGood}) {
      const auto capped = ecological_index(e, flat(x), r);
      EXPECT_LE(capped->ei, x + 1e-9);
      if (x >= 20) {
        EXPECT_GT(static_cast<int>(capped->grade), static_cast<int>(ei_grade(e, x))) << x;
      }
      if (r == Restriction::kNotExcellentOrGood) {
        EXPECT_GE(static_cast<int>(capped->grade), static_cast<int>(EiGrade::kFair)) << x;
      }
    }
  }
}

TEST(EcologyChange, I3AndEdges) {
  const EcologyEdition& e = latest_ecology_edition();
  auto change = [&](double ei, double prev) { return *ei_change(e, ei, prev); };
  EXPECT_DOUBLE_EQ(change(65.5, 62.0).delta, 3.5);
  EXPECT_EQ(change(65.5, 62.0).grade, ChangeGrade::kObviouslyBetter);  // I3
  EXPECT_EQ(change(65.5, 66.3).grade, ChangeGrade::kNoObviousChange);  // I3: −0.8
  EXPECT_EQ(change(65.5, 64.5).grade, ChangeGrade::kSlightlyBetter);
  EXPECT_EQ(change(65.5, 66.5).grade, ChangeGrade::kSlightlyWorse);
  EXPECT_EQ(change(65.5, 68.5).grade, ChangeGrade::kObviouslyWorse);
  EXPECT_EQ(change(65.5, 57.5).grade, ChangeGrade::kSignificantlyBetter);
  EXPECT_EQ(change(65.5, 73.5).grade, ChangeGrade::kSignificantlyWorse);
  // In binary 32.3 − 31.3 = 0.9999999999999964 and 24.3 − 32.3 = −7.9999999999999964; the
  // reported ΔEI is 1.0 and −8.0, so they are 略微变好 and 显著变差.
  EXPECT_DOUBLE_EQ(change(32.3, 31.3).delta, 1.0);
  EXPECT_EQ(change(32.3, 31.3).grade, ChangeGrade::kSlightlyBetter);
  EXPECT_DOUBLE_EQ(change(24.3, 32.3).delta, -8.0);
  EXPECT_EQ(change(24.3, 32.3).grade, ChangeGrade::kSignificantlyWorse);
  EXPECT_FALSE(std::signbit(change(50, 50).delta));
  EXPECT_EQ(ei_change(e, 50, std::nan("")).error().reason, "bad_value");
  EXPECT_EQ(change_grade_name(ChangeGrade::kObviouslyBetter), "明显变好");
}

TEST(EcologyEdition, SelectedByDate) {
  EXPECT_EQ(ecology_edition_for(Date{2015, 3, 12}), nullptr);
  EXPECT_EQ(ecology_edition_for(Date{2015, 3, 13}), &latest_ecology_edition());
  EXPECT_EQ(latest_ecology_edition().standard, "HJ 192-2015");
}

TEST(EcologyParse, Restrictions) {
  EXPECT_EQ(parse_restriction(""), Restriction::kNone);
  EXPECT_EQ(parse_restriction("降1级"), Restriction::kLowerOneGrade);
  EXPECT_EQ(parse_restriction("NOT_EXCELLENT_OR_GOOD"), Restriction::kNotExcellentOrGood);
  EXPECT_FALSE(parse_restriction("major").has_value());
}

TEST(EcologyAssessor, MissingSubIndexIsAnErrorNamingTheColumnNeverZero) {
  auto assessor = app::make_assessor("ecology", {});
  ASSERT_TRUE(assessor.ok());
  std::istringstream in(
      "region,biological_abundance,vegetation_cover,water_network,land_stress,pollution_load\n"
      "A,60,70,40,,10\nB,60,70,40,20,10\n");
  std::ostringstream out, err;
  ASSERT_EQ(app::run_assess(**assessor, in, out, err), 0);
  EXPECT_NE(out.str().find("A,60,70,40,,10,,,,,,column land_stress: missing"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("B,60,70,40,20,10,65.5,良,,,HJ 192-2015,\n"), std::string::npos)
      << out.str();
  EXPECT_FALSE(app::make_assessor("ecology", {{"mode", "x"}}).ok());
}

}  // namespace
}  // namespace ecomon::standards::ecology
