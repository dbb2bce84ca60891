// Surface water (standards/water.h): what is not row-shaped — river status from section
// proportions (test-vectors E12–E14), means of few sections, TLI, CWQI, the tables themselves —
// and the empty result cells of `ecomon assess water` that case files cannot express.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <sstream>
#include <string>

#include "app/assess.h"
#include "standards/water.h"

namespace ecomon::standards::water {
namespace {

using C = Class;

Status proportion_status(std::initializer_list<Class> classes) {
  const std::vector<Class> v(classes);
  auto r = status_by_section_proportion(v);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r->status.has_value());
  return r->status.value_or(Status::kExcellent);
}

std::vector<Class> sections(std::size_t good, std::size_t iv, std::size_t worse_than_v) {
  std::vector<Class> v(good, C::kIII);
  v.insert(v.end(), iv, C::kIV);
  v.insert(v.end(), worse_than_v, C::kWorseThanV);
  return v;
}

TEST(WaterRiverStatus, E12SixSectionsTwoThirdsGoodIsLightlyPolluted) {
  const std::vector<Class> v = {C::kII, C::kII, C::kIII, C::kIII, C::kIV, C::kWorseThanV};
  auto r = status_by_section_proportion(v);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sections, 6u);
  EXPECT_NEAR(r->share_i_to_iii_percent, 66.67, 0.01);
  EXPECT_NEAR(r->share_worse_than_v_percent, 16.67, 0.01);
  EXPECT_EQ(r->status, Status::kLightlyPolluted);
}

TEST(WaterRiverStatus, E13NinetyPercentExactlyIsExcellent) {
  EXPECT_EQ(proportion_status(
                {C::kI, C::kII, C::kII, C::kIII, C::kIII, C::kIII, C::kII, C::kI, C::kIII, C::kIV}),
            Status::kExcellent);
  // 8 of 9 (88.9 %) is not.
  EXPECT_EQ(
      proportion_status({C::kI, C::kII, C::kII, C::kIII, C::kIII, C::kIII, C::kII, C::kI, C::kIV}),
      Status::kGood);
}

TEST(WaterRiverStatus, E14FortyPercentWorseThanVIsHeavilyPolluted) {
  EXPECT_EQ(proportion_status({C::kII, C::kIV, C::kV, C::kWorseThanV, C::kWorseThanV}),
            Status::kHeavilyPolluted);
}

TEST(WaterRiverStatus, EachRowOfTheProportionTableAtItsBoundaries) {
  auto status = [](const std::vector<Class>& v) {
    auto r = status_by_section_proportion(v);
    EXPECT_TRUE(r.ok());
    return r->status;
  };
  EXPECT_EQ(status(sections(15, 5, 0)), Status::kGood);                // 75 % exactly
  EXPECT_EQ(status(sections(14, 6, 0)), Status::kLightlyPolluted);     // 70 %, no 劣V
  EXPECT_EQ(status(sections(14, 3, 3)), Status::kLightlyPolluted);     // 劣V 15 %
  EXPECT_EQ(status(sections(5, 3, 2)), Status::kModeratelyPolluted);   // 劣V 20 % exactly
  EXPECT_EQ(status(sections(12, 2, 6)), Status::kModeratelyPolluted);  // 劣V 30 %
  EXPECT_EQ(status(sections(5, 1, 4)), Status::kHeavilyPolluted);      // 50 % good, 劣V 40 %
  EXPECT_EQ(status(sections(0, 0, 5)), Status::kHeavilyPolluted);
}

TEST(WaterRiverStatus, SixtyPercentGoodAndFortyPercentWorseThanVIsTheUncoveredGap) {
  auto r = status_by_section_proportion(sections(6, 0, 4));
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(r->share_i_to_iii_percent, 60);
  EXPECT_DOUBLE_EQ(r->share_worse_than_v_percent, 40);
  EXPECT_FALSE(r->status.has_value());
}

TEST(WaterRiverStatus, FewerThanFiveSectionsIsNotTheProportionMethod) {
  auto r = status_by_section_proportion(sections(4, 0, 0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "too_few_sections");
}

Sample nh3n_sample(double v) {
  Sample s;
  s[Item::kNh3n] = Reading::measured(v);
  return s;
}

TEST(WaterRiver, FewSectionsAreAveragedThenEvaluatedAsOneSection) {
  // Classes II, III, V one by one; the mean 1.1 is IV.
  const std::vector<Sample> v = {nh3n_sample(0.5), nh3n_sample(1.0), nh3n_sample(1.8)};
  auto r = evaluate_river(v, WaterBody::kRiver);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->method, RiverMethod::kMeanConcentration);
  ASSERT_TRUE(r->mean_section.has_value());
  EXPECT_EQ(r->mean_section->section_class, C::kIV);
  EXPECT_EQ(r->status, Status::kLightlyPolluted);
}

TEST(WaterRiver, FiveSectionsUseTheProportionMethod) {
  // E14's classes from concentrations: II, IV, V, 劣V, 劣V.
  const std::vector<Sample> v = {nh3n_sample(0.5), nh3n_sample(1.2), nh3n_sample(1.8),
                                 nh3n_sample(2.5), nh3n_sample(3.0)};
  auto r = evaluate_river(v, WaterBody::kRiver);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->method, RiverMethod::kSectionProportion);
  ASSERT_TRUE(r->proportion.has_value());
  EXPECT_EQ(r->status, Status::kHeavilyPolluted);
}

TEST(WaterRiver, ASectionWithoutAClassItemIsAnError) {
  Sample only_tn;
  only_tn[Item::kTn] = Reading::measured(1.0);
  const std::vector<Sample> v = {nh3n_sample(0.5), nh3n_sample(0.5), nh3n_sample(0.5),
                                 nh3n_sample(0.5), only_tn};
  auto r = evaluate_river(v, WaterBody::kRiver);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("section 5"), std::string::npos);
}

TEST(WaterRiver, MeanCountsANonDetectAsHalfItsDetectionLimitAndSkipsMissing) {
  Sample a, b, c;
  a[Item::kNh3n] = Reading::below_detection(0.05);
  b[Item::kNh3n] = Reading::measured(0.5);
  a[Item::kTp] = Reading::below_detection(0.01);
  b[Item::kTp] = Reading::below_detection(0.02);
  c[Item::kCodMn] = Reading::measured(3);  // missing in a and b: the mean is 3, not 1
  const std::vector<Sample> v = {a, b, c};
  auto m = mean_sample(v);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)[Item::kNh3n].has_value());
  EXPECT_DOUBLE_EQ((*m)[Item::kNh3n]->value, (0.025 + 0.5) / 2);
  EXPECT_FALSE((*m)[Item::kNh3n]->not_detected);
  ASSERT_TRUE((*m)[Item::kTp].has_value());
  EXPECT_TRUE((*m)[Item::kTp]->not_detected);
  EXPECT_DOUBLE_EQ((*m)[Item::kTp]->value, 0.02);
  EXPECT_DOUBLE_EQ((*m)[Item::kCodMn]->value, 3);
  EXPECT_FALSE((*m)[Item::kDo].has_value());

  Sample unknown_limit;
  unknown_limit[Item::kNh3n] = Reading::below_detection();
  const std::vector<Sample> w = {unknown_limit, b};
  EXPECT_FALSE(mean_sample(w).ok());
}

TEST(WaterTli, TestVectorIsMesotrophic48) {
  auto r = trophic_level_index({10.0, 0.05, 1.0, 1.0, 4.0});
  ASSERT_TRUE(r.ok());
  const double partial[] = {50.01, 45.71, 54.53, 51.18, 37.98};
  const double weight[] = {0.2663, 0.1879, 0.1790, 0.1834, 0.1834};
  for (std::size_t j = 0; j < kTrophicParameterCount; ++j) {
    ASSERT_TRUE(r->partial[j].has_value());
    EXPECT_NEAR(*r->partial[j], partial[j], 0.005) << j;
    EXPECT_NEAR(r->weight[j], weight[j], 0.00005) << j;
  }
  EXPECT_NEAR(r->tli, 48.0, 0.05);
  EXPECT_EQ(r->state, TrophicState::kMesotrophic);
  EXPECT_EQ(trophic_state_name(r->state), "中营养");
}

TEST(WaterTli, WeightsAreRenormalisedOverThePresentParameters) {
  auto r = trophic_level_index({10.0, 0.05, std::nullopt, std::nullopt, std::nullopt});
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->weight[0], 1 / 1.7056, 1e-9);
  EXPECT_NEAR(r->weight[1], 0.7056 / 1.7056, 1e-9);
  EXPECT_EQ(r->weight[2], 0);
  EXPECT_FALSE(r->partial[3].has_value());
  EXPECT_NEAR(r->tli, (50.006 * 1 + 45.709 * 0.7056) / 1.7056, 0.01);
}

TEST(WaterTli, GradeBoundaries) {
  EXPECT_EQ(trophic_state_of(29.99), TrophicState::kOligotrophic);
  EXPECT_EQ(trophic_state_of(30), TrophicState::kMesotrophic);
  EXPECT_EQ(trophic_state_of(50), TrophicState::kMesotrophic);
  EXPECT_EQ(trophic_state_of(50.01), TrophicState::kLightlyEutrophic);
  EXPECT_EQ(trophic_state_of(60), TrophicState::kLightlyEutrophic);
  EXPECT_EQ(trophic_state_of(60.01), TrophicState::kModeratelyEutrophic);
  EXPECT_EQ(trophic_state_of(70), TrophicState::kModeratelyEutrophic);
  EXPECT_EQ(trophic_state_of(70.01), TrophicState::kSeverelyEutrophic);
}

TEST(WaterTli, ZeroOrNoInputIsAnError) {
  auto zero = trophic_level_index({10.0, 0.0, std::nullopt, std::nullopt, std::nullopt});
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().reason, "bad_value");
  auto none = trophic_level_index({});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().reason, "no_data");
}

Sample e1_sample() {
  Sample s;
  s[Item::kPh] = Reading::measured(7.5);
  s[Item::kDo] = Reading::measured(6.5);
  s[Item::kCodMn] = Reading::measured(3.5);
  s[Item::kNh3n] = Reading::measured(0.40);
  s[Item::kTp] = Reading::measured(0.12);
  return s;
}

TEST(WaterCwqi, PartialTestVectorSumsTo2602) {
  auto r = section_cwqi(e1_sample(), WaterBody::kRiver);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items, 5u);
  EXPECT_NEAR(*r->item_index[static_cast<std::size_t>(Item::kPh)], 0.250, 1e-9);
  EXPECT_NEAR(*r->item_index[static_cast<std::size_t>(Item::kDo)], 5 / 6.5, 1e-9);
  EXPECT_NEAR(*r->item_index[static_cast<std::size_t>(Item::kCodMn)], 3.5 / 6, 1e-9);
  EXPECT_NEAR(*r->item_index[static_cast<std::size_t>(Item::kNh3n)], 0.400, 1e-9);
  EXPECT_NEAR(*r->item_index[static_cast<std::size_t>(Item::kTp)], 0.600, 1e-9);
  // The vector adds terms rounded to 3 decimals (0.250 + 0.769 + 0.583 + 0.400 + 0.600 = 2.602);
  // the unrounded sum is 2.60256.
  double rounded_terms = 0;
  for (const auto& v : r->item_index) {
    if (v) rounded_terms += std::round(*v * 1000) / 1000;
  }
  EXPECT_NEAR(rounded_terms, 2.602, 1e-9);
  EXPECT_NEAR(r->cwqi, 0.25 + 5 / 6.5 + 3.5 / 6 + 0.4 + 0.6, 1e-12);
  EXPECT_NEAR(r->cwqi, 2.60256, 0.00001);
}

TEST(WaterCwqi, LakeTpUsesTheLakeClassIIILimitAndReferenceItemsStayOut) {
  Sample s = e1_sample();
  s[Item::kTn] = Reading::measured(1.8);
  s[Item::kFecalColiform] = Reading::measured(15000);
  s[Item::kWaterTemp] = Reading::measured(20);
  auto r = section_cwqi(s, WaterBody::kLake);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items, 5u);
  EXPECT_NEAR(*r->item_index[static_cast<std::size_t>(Item::kTp)], 0.12 / 0.05, 1e-9);
  EXPECT_FALSE(r->item_index[static_cast<std::size_t>(Item::kTn)].has_value());
  EXPECT_NEAR(r->cwqi, 0.25 + 5 / 6.5 + 3.5 / 6 + 0.4 + 2.4, 1e-12);
}

TEST(WaterCwqi, AcidPhUsesTheLowerBoundAndBadInputsFail) {
  Sample s;
  s[Item::kPh] = Reading::measured(6.5);
  auto r = section_cwqi(s, WaterBody::kRiver);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->cwqi, 0.5, 1e-12);

  Sample zero_do;
  zero_do[Item::kDo] = Reading::measured(0);
  EXPECT_FALSE(section_cwqi(zero_do, WaterBody::kRiver).ok());
  Sample non_detect;
  non_detect[Item::kNh3n] = Reading::below_detection(0.025);
  EXPECT_FALSE(section_cwqi(non_detect, WaterBody::kRiver).ok());
  EXPECT_FALSE(section_cwqi(Sample{}, WaterBody::kRiver).ok());
}

TEST(WaterCwqi, RiverCwqiIsTheMeanOfItsSections) {
  const std::vector<double> v = {2.0, 3.0, 4.5};
  auto r = mean_cwqi(v);
  ASSERT_TRUE(r.ok());
  EXPECT_DOUBLE_EQ(*r, 3.1666666666666665);
  EXPECT_FALSE(mean_cwqi({}).ok());
}

TEST(WaterSection, ReferenceItemsAloneGiveNoClassAndRiverTnHasNoClass) {
  Sample s;
  s[Item::kTn] = Reading::measured(1.8);
  s[Item::kFecalColiform] = Reading::measured(15000);
  s[Item::kWaterTemp] = Reading::measured(21.5);
  auto river = evaluate_section(s, WaterBody::kRiver);
  ASSERT_TRUE(river.ok());
  EXPECT_FALSE(river->section_class.has_value());
  EXPECT_FALSE(river->status.has_value());
  EXPECT_TRUE(river->evaluated.empty());
  EXPECT_FALSE(river->item_class[static_cast<std::size_t>(Item::kTn)].has_value());
  EXPECT_FALSE(river->item_class[static_cast<std::size_t>(Item::kWaterTemp)].has_value());
  EXPECT_EQ(river->item_class[static_cast<std::size_t>(Item::kFecalColiform)], C::kIV);
  auto lake = evaluate_section(s, WaterBody::kLake);
  ASSERT_TRUE(lake.ok());
  EXPECT_EQ(lake->item_class[static_cast<std::size_t>(Item::kTn)], C::kV);
  EXPECT_FALSE(lake->section_class.has_value());
}

TEST(WaterSection, E4DissolvedOxygenHasNoMultipleAndTheTopThreeAreKept) {
  Sample s;
  s[Item::kDo] = Reading::measured(4.2);
  auto r = evaluate_section(s, WaterBody::kRiver);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exceedances.size(), 1u);
  EXPECT_EQ(r->exceedances[0].item, Item::kDo);
  EXPECT_FALSE(r->exceedances[0].multiple.has_value());

  Sample four;
  four[Item::kCodMn] = Reading::measured(9);   // 0.5
  four[Item::kCod] = Reading::measured(25);    // 0.25
  four[Item::kNh3n] = Reading::measured(2.5);  // 1.5
  four[Item::kTp] = Reading::measured(0.35);   // 0.75
  auto r4 = evaluate_section(four, WaterBody::kRiver);
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(r4->exceedances.size(), 4u);
  EXPECT_EQ(r4->main_pollutants, (std::vector<Item>{Item::kNh3n, Item::kTp, Item::kCodMn}));
  EXPECT_EQ(r4->evaluated, (std::vector<Item>{Item::kCodMn, Item::kCod, Item::kNh3n, Item::kTp}));
}

TEST(WaterTables, EveryRowCitesItsClauseAndTheTablesCarryTheirDates) {
  for (const LimitRow& row : table1().rows) {
    EXPECT_EQ(row.clause.rfind("GB 3838-2002 表1 第", 0), 0u) << row.clause;
  }
  EXPECT_EQ(table1().rows.size(), 24u);  // 22 items + lake TP + lake TN; no water temperature
  EXPECT_EQ(table1_for({2002, 5, 31}), nullptr);
  EXPECT_EQ(table1_for({2002, 6, 1}), &table1());
  EXPECT_EQ(table1_for({2026, 2, 4}), &table1());
  EXPECT_EQ(evaluation_method_2011().validity.from, (Date{2011, 3, 9}));

  std::set<std::string_view> codes;
  std::size_t class_items = 0;
  for (const ItemInfo& info : items()) {
    EXPECT_TRUE(codes.insert(info.code).second) << info.code;
    EXPECT_EQ(item_by_code(info.code), info.item);
    class_items += info.in_class;
  }
  EXPECT_EQ(class_items, 21u);
  EXPECT_FALSE(item_info(Item::kDo).has_multiple);
  EXPECT_FALSE(item_info(Item::kPh).has_multiple);
  EXPECT_FALSE(item_info(Item::kWaterTemp).has_multiple);
}

TEST(WaterTables, ClassIIILimitsAreTheExceedanceStandard) {
  EXPECT_EQ(class_iii_limit(Item::kTp, WaterBody::kRiver), 0.2);
  EXPECT_EQ(class_iii_limit(Item::kTp, WaterBody::kLake), 0.05);
  EXPECT_EQ(class_iii_limit(Item::kTn, WaterBody::kLake), 1.0);
  EXPECT_FALSE(class_iii_limit(Item::kTn, WaterBody::kRiver).has_value());
  EXPECT_FALSE(class_iii_limit(Item::kDo, WaterBody::kRiver).has_value());
  EXPECT_FALSE(class_iii_limit(Item::kPh, WaterBody::kRiver).has_value());
}

TEST(WaterDrinkingSource, Table2SupplementaryLimits) {
  ASSERT_EQ(table2().size(), 5u);
  const SupplementaryLimit* so4 = table2_item("so4");
  ASSERT_NE(so4, nullptr);
  EXPECT_EQ(so4->limit_mgl, 250);
  EXPECT_EQ(table2_item("cl")->limit_mgl, 250);
  EXPECT_EQ(table2_item("no3n")->limit_mgl, 10);
  EXPECT_EQ(table2_item("fe")->limit_mgl, 0.3);
  EXPECT_EQ(table2_item("mn")->limit_mgl, 0.1);
  EXPECT_EQ(table2_item("hg"), nullptr);
  EXPECT_TRUE(*meets_supplementary_limit(*so4, Reading::measured(250)));
  EXPECT_FALSE(*meets_supplementary_limit(*so4, Reading::measured(250.1)));
  EXPECT_TRUE(*meets_supplementary_limit(*table2_item("mn"), Reading::below_detection(0.01)));
  EXPECT_FALSE(meets_supplementary_limit(*so4, Reading::measured(-1)).ok());
}

TEST(WaterDrinkingSource, Hj212CodesOfTable2) {
  // HJ 212-2017 table B.1 codes (reference PROTOCOL.md) → GB 3838-2002 表2 rows.
  EXPECT_EQ(supplementary_by_hj212("w21038")->code, "so4");
  EXPECT_EQ(supplementary_by_hj212("w21022")->code, "cl");
  EXPECT_EQ(supplementary_by_hj212("w21007")->code, "no3n");
  EXPECT_EQ(supplementary_by_hj212("w20125")->limit_mgl, 0.3);
  EXPECT_EQ(supplementary_by_hj212("w20124")->limit_mgl, 0.1);
  EXPECT_EQ(supplementary_by_hj212("w21003"), nullptr);  // NH3-N is a 表1 item
  EXPECT_EQ(supplementary_by_hj212("w21006"), nullptr);  // nitrite: not in 表2
}

TEST(WaterReadings, NonDetectNotations) {
  EXPECT_EQ(parse_non_detect("0.01L"), Reading::below_detection(0.01));
  EXPECT_EQ(parse_non_detect("ND"), Reading::below_detection());
  EXPECT_EQ(parse_non_detect("未检出"), Reading::below_detection());
  EXPECT_EQ(parse_non_detect("<0.5"), Reading::below_detection(0.5));
  EXPECT_FALSE(parse_non_detect("1.5").has_value());
  EXPECT_FALSE(parse_non_detect("L").has_value());
  EXPECT_FALSE(parse_non_detect("abcL").has_value());
  EXPECT_FALSE(parse_non_detect("<").has_value());
  EXPECT_FALSE(parse_non_detect("-1L").has_value());
}

// The CLI cells that must stay empty — case files skip empty expectations, so they live here.
std::vector<std::string> assess_one(const std::string& csv, const std::string& column,
                                    app::AssessOptions options = {{"waterbody", "river"}}) {
  auto assessor = app::make_assessor("water", options);
  EXPECT_TRUE(assessor.ok());
  std::istringstream in(csv);
  std::ostringstream out, err;
  EXPECT_EQ(app::run_assess(**assessor, in, out, err), 0);
  std::istringstream lines(out.str());
  auto header = app::read_csv_record(lines);
  std::vector<std::string> got;
  std::size_t col = 0;
  while (col < (**header).size() && (**header)[col] != column) ++col;
  EXPECT_LT(col, (**header).size()) << column;
  while (true) {
    auto rec = app::read_csv_record(lines);
    if (!rec.ok() || !*rec) break;
    got.push_back(col < (**rec).size() ? (**rec)[col] : "?");
  }
  return got;
}

TEST(WaterAssessCli, CellsThatStayEmpty) {
  // No class item: no class, no status.
  EXPECT_EQ(assess_one("tn,fecal_coliform,water_temp\n1.8,15000,20\n", "class"),
            std::vector<std::string>{""});
  EXPECT_EQ(assess_one("tn,fecal_coliform,water_temp\n1.8,15000,20\n", "status"),
            std::vector<std::string>{""});
  // TN of a river and water temperature have no class; fecal coliform has one.
  EXPECT_EQ(assess_one("tn,ph\n1.8,7\n", "class_tn"), std::vector<std::string>{""});
  EXPECT_EQ(assess_one("water_temp,ph\n25,7\n", "class_water_temp"), std::vector<std::string>{""});
  // DO and pH exceed without a multiple (E4, E5); a good section has no main pollutant.
  EXPECT_EQ(assess_one("do,ph\n4.2,7\n7.5,9.2\n", "exceedance_multiples"),
            (std::vector<std::string>{"", ""}));
  EXPECT_EQ(assess_one("codmn\n6\n", "main_pollutants"), std::vector<std::string>{""});
  // A bad cell empties the row's results and the next row still gets its class.
  EXPECT_EQ(assess_one("tp\nx\n0.1\n", "class"), (std::vector<std::string>{"", "II"}));
}

TEST(WaterAssessCli, WaterBodyIsNeededAndOptionsAreChecked) {
  EXPECT_EQ(assess_one("tp\n0.1\n", "error", {})[0].find("no water body") != std::string::npos,
            true);
  EXPECT_EQ(assess_one("tp,waterbody\n0.04,lake\n", "class", {}), std::vector<std::string>{"III"});
  EXPECT_FALSE(app::make_assessor("water", {{"waterbody", "sea"}}).ok());
  EXPECT_FALSE(app::make_assessor("water", {{"mode", "daily"}}).ok());
}

}  // namespace
}  // namespace ecomon::standards::water
