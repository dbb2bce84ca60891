// GB 15618-2018 / GB 36600-2018 tables and rules (standards/soil.h), and the soil assessor's
// options and columns. Row-shaped cases: testdata/standards/cases/soil_gb15618.csv and
// soil_gb36600.csv.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <sstream>
#include <string>

#include "app/assess.h"
#include "standards/soil.h"

namespace ecomon::standards::soil {
namespace {

TEST(SoilPh, BandEdgesBelongToTheLowerBand) {
  EXPECT_EQ(ph_band(0), PhBand::kUpTo5_5);
  EXPECT_EQ(ph_band(5.5), PhBand::kUpTo5_5);
  EXPECT_EQ(ph_band(5.500001), PhBand::kUpTo6_5);
  EXPECT_EQ(ph_band(6.5), PhBand::kUpTo6_5);
  EXPECT_EQ(ph_band(6.500001), PhBand::kUpTo7_5);
  EXPECT_EQ(ph_band(7.5), PhBand::kUpTo7_5);
  EXPECT_EQ(ph_band(7.500001), PhBand::kAbove7_5);
  EXPECT_EQ(ph_band(14), PhBand::kAbove7_5);
  EXPECT_FALSE(ph_band(-0.1).has_value());
  EXPECT_FALSE(ph_band(14.1).has_value());
  EXPECT_FALSE(ph_band(std::nan("")).has_value());
}

double screening(std::string_view item, AgriLandUse use, double ph) {
  auto l = agri_limits(latest_agri_edition(), item, use, ph);
  EXPECT_TRUE(l.ok()) << item;
  return l.ok() ? l->screening_mg_kg : -1;
}

TEST(SoilAgri, CadmiumPaddyByBand) {
  EXPECT_EQ(screening("cd", AgriLandUse::kPaddy, 5.0), 0.3);
  EXPECT_EQ(screening("cd", AgriLandUse::kPaddy, 6.0), 0.4);
  EXPECT_EQ(screening("cd", AgriLandUse::kPaddy, 7.0), 0.6);
  EXPECT_EQ(screening("cd", AgriLandUse::kPaddy, 8.0), 0.8);
  EXPECT_EQ(screening("cd", AgriLandUse::kOther, 7.0), 0.3);  // cross-checked cell
}

TEST(SoilAgri, RotationTakesTheStricterOfPaddyAndOther) {
  // Hg: paddy stricter (0.6 vs 2.4 at pH 7); Pb: other stricter (120 vs 140).
  EXPECT_EQ(screening("hg", AgriLandUse::kRotation, 7.0), 0.6);
  EXPECT_EQ(screening("pb", AgriLandUse::kRotation, 7.0), 120);
  for (std::string_view item : agri_items(latest_agri_edition())) {
    for (double ph : {5.0, 6.0, 7.0, 8.0}) {
      const double r = screening(item, AgriLandUse::kRotation, ph);
      EXPECT_LE(r, screening(item, AgriLandUse::kPaddy, ph)) << item << " pH " << ph;
      EXPECT_LE(r, screening(item, AgriLandUse::kOther, ph)) << item << " pH " << ph;
    }
  }
}

TEST(SoilAgri, CopperOrchardVersusOtherAndPaddyUsesOther) {
  EXPECT_EQ(screening("cu", AgriLandUse::kOrchard, 6.0), 150);
  EXPECT_EQ(screening("cu", AgriLandUse::kOrchard, 7.0), 200);
  EXPECT_EQ(screening("cu", AgriLandUse::kOther, 6.0), 50);
  EXPECT_EQ(screening("cu", AgriLandUse::kOther, 7.0), 100);
  EXPECT_EQ(screening("cu", AgriLandUse::kPaddy, 7.0), 100);
  // An orchard is "other" for the items without an orchard row.
  EXPECT_EQ(screening("cd", AgriLandUse::kOrchard, 7.0), screening("cd", AgriLandUse::kOther, 7.0));
}

TEST(SoilAgri, OnlyTheFiveMetalsHaveControlValues) {
  const std::set<std::string_view> with_control{"cd", "hg", "as", "pb", "cr"};
  for (std::string_view item : agri_items(latest_agri_edition())) {
    auto l = agri_limits(latest_agri_edition(), item, AgriLandUse::kOther, 6.0);
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l->control_mg_kg.has_value(), with_control.count(item) == 1) << item;
    if (l->control_mg_kg) {
      EXPECT_GT(*l->control_mg_kg, l->screening_mg_kg) << item;
    }
  }
  auto cd = agri_limits(latest_agri_edition(), "cd", AgriLandUse::kOther, 8.0);
  EXPECT_EQ(*cd->control_mg_kg, 4.0);  // cross-checked cell
}

TEST(SoilAgri, ScreeningBelowControlInEveryBandAndLandUse) {
  for (std::string_view item : {"cd", "hg", "as", "pb", "cr"}) {
    for (AgriLandUse use : {AgriLandUse::kPaddy, AgriLandUse::kOther, AgriLandUse::kRotation}) {
      for (double ph : {5.0, 6.0, 7.0, 8.0}) {
        auto l = agri_limits(latest_agri_edition(), item, use, ph);
        EXPECT_LT(l->screening_mg_kg, *l->control_mg_kg) << item << " pH " << ph;
      }
    }
  }
}

TEST(SoilAgri, PhIsNeededOnlyForBandedItems) {
  auto cd = agri_limits(latest_agri_edition(), "cd", AgriLandUse::kOther, std::nullopt);
  ASSERT_FALSE(cd.ok());
  EXPECT_EQ(cd.error().reason, "missing_ph");
  auto bap = agri_limits(latest_agri_edition(), "bap", AgriLandUse::kOther, std::nullopt);
  ASSERT_TRUE(bap.ok());
  EXPECT_EQ(bap->screening_mg_kg, 0.55);
  EXPECT_EQ(agri_limits(latest_agri_edition(), "cd", AgriLandUse::kOther, 15.0).error().reason,
            "bad_value");
  EXPECT_EQ(agri_limits(latest_agri_edition(), "u", AgriLandUse::kOther, 6.0).error().reason,
            "unknown_item");
}

TEST(SoilAgri, CategoriesAndTheWorstItem) {
  const AgriLimits cd{0.4, 2.0, "", ""};
  EXPECT_EQ(classify_agri(0.4, cd), AgriCategory::kPriorityProtection);
  EXPECT_EQ(classify_agri(0.41, cd), AgriCategory::kSafeUtilization);
  EXPECT_EQ(classify_agri(2.0, cd), AgriCategory::kSafeUtilization);
  EXPECT_EQ(classify_agri(2.01, cd), AgriCategory::kStrictControl);
  const AgriLimits cu{50, std::nullopt, "", ""};
  EXPECT_EQ(classify_agri(1e6, cu), AgriCategory::kAttention);  // never strict control

  const std::vector<ItemValue> values{{"cd", 0.5, {}}, {"cu", 60, {}}, {"zn", 10, {}}};
  auto a = assess_agri(latest_agri_edition(), AgriLandUse::kOther, 6.0, values);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->items.size(), 3u);
  EXPECT_EQ(a->items[1].category, AgriCategory::kAttention);
  EXPECT_EQ(a->category, AgriCategory::kSafeUtilization);
  auto none = assess_agri(latest_agri_edition(), AgriLandUse::kOther, 6.0, {});
  EXPECT_FALSE(none->category.has_value());  // nothing measured: no category, not "priority"
  const std::vector<ItemValue> negative{{"cd", -0.1, {}}};
  EXPECT_EQ(assess_agri(latest_agri_edition(), AgriLandUse::kOther, 6.0, negative).error().reason,
            "bad_value");
}

TEST(SoilAgri, TablesCiteTheirEditionAndDates) {
  for (const AgriEdition& e : agri_editions()) {
    for (const auto& row : e.screening) EXPECT_EQ(row.clause.rfind(e.standard, 0), 0u);
    for (const auto& row : e.control) EXPECT_EQ(row.clause.rfind(e.standard, 0), 0u);
  }
  EXPECT_EQ(agri_edition_for(Date{2018, 7, 31}), nullptr);
  EXPECT_EQ(agri_edition_for(Date{2018, 8, 1}), &latest_agri_edition());
  EXPECT_EQ(agri_item_needs_ph(latest_agri_edition(), "hch"), std::optional<bool>(false));
  EXPECT_EQ(agri_item_needs_ph(latest_agri_edition(), "zn"), std::optional<bool>(true));
}

TEST(SoilConstruction, TableInvariants) {
  const ConstructionEdition& e = latest_construction_edition();
  std::set<std::string_view> ids;
  std::size_t table1 = 0;
  for (const ConstructionRow& row : e.rows) {
    EXPECT_TRUE(ids.insert(row.item).second) << "duplicate " << row.item;
    EXPECT_EQ(row.clause.rfind(e.standard, 0), 0u) << row.clause;
    table1 += row.clause.find("表1") != std::string_view::npos;
    for (std::size_t c = 0; c < 2; ++c) {
      EXPECT_LE(row.screening_mg_kg[c], row.control_mg_kg[c]) << row.item;
    }
    EXPECT_LE(row.screening_mg_kg[0], row.screening_mg_kg[1]) << row.item;
    EXPECT_LE(row.control_mg_kg[0], row.control_mg_kg[1]) << row.item;
  }
  EXPECT_EQ(table1, 45u);
  const std::set<std::string_view> exempt{"as", "co", "v"};
  for (const ConstructionRow& row : e.rows) {
    EXPECT_EQ(row.background_exemption, exempt.count(row.item) == 1) << row.item;
  }
  EXPECT_EQ(construction_edition_for(Date{2018, 7, 31}), nullptr);
}

TEST(SoilConstruction, G4ArsenicByLandClass) {
  const ConstructionEdition& e = latest_construction_edition();
  auto c1 = construction_limits(e, "as", LandClass::kClass1);
  auto c2 = construction_limits(e, "as", LandClass::kClass2);
  EXPECT_EQ(classify_construction(25, *c1, std::nullopt), ConstructionCategory::kInvestigate);
  EXPECT_EQ(classify_construction(25, *c2, std::nullopt), ConstructionCategory::kNegligible);
  EXPECT_EQ(classify_construction(25, *c1, 30), ConstructionCategory::kWithinBackground);
  EXPECT_EQ(classify_construction(121, *c1, std::nullopt),
            ConstructionCategory::kControlOrRemediate);
  // The background excuses only items with 注①.
  auto cd = construction_limits(e, "cd", LandClass::kClass1);
  EXPECT_EQ(classify_construction(30, *cd, 100), ConstructionCategory::kInvestigate);
  EXPECT_EQ(construction_limits(e, "cr", LandClass::kClass1).error().reason, "unknown_item");
}

TEST(SoilConstruction, UnknownPlannedUseIsClassOne) {
  EXPECT_EQ(parse_land_class("unknown"), LandClass::kClass1);
  EXPECT_EQ(parse_land_class("第二类用地"), LandClass::kClass2);
  EXPECT_FALSE(parse_land_class("3").has_value());
}

// ---- the assessor ----------------------------------------------------------------------------

std::string run(const app::AssessOptions& options, const std::string& csv, std::string* err) {
  auto assessor = app::make_assessor("soil", options);
  EXPECT_TRUE(assessor.ok()) << (assessor.ok() ? "" : assessor.error().detail);
  if (!assessor.ok()) return "";
  std::istringstream in(csv);
  std::ostringstream out, e;
  EXPECT_EQ(app::run_assess(**assessor, in, out, e), 0);
  if (err) *err = e.str();
  return out.str();
}

TEST(SoilAssessor, ResultColumnsOnlyForItemsInTheInput) {
  const std::string out = run({{"standard", "GB15618"}, {"land-use", "paddy"}},
                              "site,ph,cd,cu\nA,6.0,0.5,30\n", nullptr);
  EXPECT_EQ(out,
            "site,ph,cd,cu,ph_band,category_cd,category_cu,category,exceed_items,standard,error\n"
            "A,6.0,0.5,30,5.5<pH≤6.5,safe_utilization,priority_protection,safe_utilization,cd,"
            "GB 15618-2018,\n");
}

TEST(SoilAssessor, LandUseColumnOverridesTheOption) {
  const std::string out = run({{"standard", "GB15618"}, {"land-use", "other"}},
                              "ph,land_use,cu\n7.0,orchard,120\n7.0,,120\n", nullptr);
  EXPECT_NE(out.find("7.0,orchard,120,6.5<pH≤7.5,priority_protection"), std::string::npos) << out;
  EXPECT_NE(out.find("7.0,,120,6.5<pH≤7.5,attention"), std::string::npos) << out;
}

TEST(SoilAssessor, LandClassOptionAndBadRowsDoNotStopOthers) {
  std::string err;
  const std::string out =
      run({{"standard", "GB36600"}, {"land-class", "2"}}, "as,pb\n25,\n-1,\n,900\n", &err);
  EXPECT_NE(out.find("25,,negligible,,negligible,,GB 36600-2018,\n"), std::string::npos) << out;
  EXPECT_NE(out.find("column as"), std::string::npos) << out;
  EXPECT_NE(out.find(",900,,investigate,investigate,pb,"), std::string::npos) << out;
  EXPECT_NE(err.find("1 of 3 rows had errors"), std::string::npos) << err;
}

TEST(SoilAssessor, OptionsAreChecked) {
  EXPECT_FALSE(app::make_assessor("soil", {}).ok());
  EXPECT_FALSE(app::make_assessor("soil", {{"standard", "GB9999"}}).ok());
  EXPECT_FALSE(app::make_assessor("soil", {{"standard", "GB15618"}, {"land-class", "1"}}).ok());
  EXPECT_FALSE(app::make_assessor("soil", {{"standard", "GB36600"}, {"land-use", "paddy"}}).ok());
  EXPECT_FALSE(app::make_assessor("soil", {{"standard", "GB15618"}, {"land-use", "forest"}}).ok());
  EXPECT_FALSE(app::make_assessor("soil", {{"standard", "GB15618"}, {"colour", "red"}}).ok());
  EXPECT_TRUE(
      app::make_assessor("soil", {{"standard", "GB36600-2018"}, {"land-class", "unknown"}}).ok());
}

}  // namespace
}  // namespace ecomon::standards::soil
