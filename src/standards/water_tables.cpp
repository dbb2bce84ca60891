// The reviewed constant tables of surface water evaluation. Every row cites its clause; review a
// change against ../shared/reference/standards/GB3838-2002-surface-water.md.
#include <array>

#include "standards/water.h"

namespace ecomon::standards::water {

namespace {

// 表1 items. in_class: the 2011 method (一(一)1 水质评价指标) evaluates the section class from
// the 21 items of 表1 other than 水温, 总氮 and 粪大肠菌群, which are reference items.
// has_multiple: its exceedance multiple is not computed for 水温, pH and 溶解氧.
constexpr std::array<ItemInfo, kItemCount> kItems = {{
    {Item::kWaterTemp, "water_temp", "水温", "°C", false, false, "GB 3838-2002 表1 第1项"},
    {Item::kPh, "ph", "pH值", "", true, false, "GB 3838-2002 表1 第2项"},
    {Item::kDo, "do", "溶解氧", "mg/L", true, false, "GB 3838-2002 表1 第3项"},
    {Item::kCodMn, "codmn", "高锰酸盐指数", "mg/L", true, true, "GB 3838-2002 表1 第4项"},
    {Item::kCod, "cod", "化学需氧量", "mg/L", true, true, "GB 3838-2002 表1 第5项"},
    {Item::kBod5, "bod5", "五日生化需氧量", "mg/L", true, true, "GB 3838-2002 表1 第6项"},
    {Item::kNh3n, "nh3n", "氨氮", "mg/L", true, true, "GB 3838-2002 表1 第7项"},
    {Item::kTp, "tp", "总磷", "mg/L", true, true, "GB 3838-2002 表1 第8项"},
    {Item::kTn, "tn", "总氮", "mg/L", false, true, "GB 3838-2002 表1 第9项"},
    {Item::kCu, "cu", "铜", "mg/L", true, true, "GB 3838-2002 表1 第10项"},
    {Item::kZn, "zn", "锌", "mg/L", true, true, "GB 3838-2002 表1 第11项"},
    {Item::kF, "f", "氟化物", "mg/L", true, true, "GB 3838-2002 表1 第12项"},
    {Item::kSe, "se", "硒", "mg/L", true, true, "GB 3838-2002 表1 第13项"},
    {Item::kAs, "as", "砷", "mg/L", true, true, "GB 3838-2002 表1 第14项"},
    {Item::kHg, "hg", "汞", "mg/L", true, true, "GB 3838-2002 表1 第15项"},
    {Item::kCd, "cd", "镉", "mg/L", true, true, "GB 3838-2002 表1 第16项"},
    {Item::kCr6, "cr6", "铬（六价）", "mg/L", true, true, "GB 3838-2002 表1 第17项"},
    {Item::kPb, "pb", "铅", "mg/L", true, true, "GB 3838-2002 表1 第18项"},
    {Item::kCn, "cn", "氰化物", "mg/L", true, true, "GB 3838-2002 表1 第19项"},
    {Item::kPhenol, "phenol", "挥发酚", "mg/L", true, true, "GB 3838-2002 表1 第20项"},
    {Item::kOil, "oil", "石油类", "mg/L", true, true, "GB 3838-2002 表1 第21项"},
    {Item::kLas, "las", "阴离子表面活性剂", "mg/L", true, true, "GB 3838-2002 表1 第22项"},
    {Item::kS2, "s2", "硫化物", "mg/L", true, true, "GB 3838-2002 表1 第23项"},
    {Item::kFecalColiform, "fecal_coliform", "粪大肠菌群", "个/L", false, true,
     "GB 3838-2002 表1 第24项"},
}};

constexpr bool items_in_item_order() {
  for (std::size_t i = 0; i < kItemCount; ++i) {
    if (static_cast<std::size_t>(kItems[i].item) != i) return false;
  }
  return true;
}
static_assert(items_in_item_order(), "item_info(Item) indexes kItems by Item");

constexpr std::array<double, 5> kNoLow = {0, 0, 0, 0, 0};

// GB 3838-2002 表1 基本项目标准限值, classes I..V. 水温 has no row: its limit (weekly mean
// man-made rise ≤ 1 °C, fall ≤ 2 °C) is about a change, not a concentration.
constexpr LimitRow kTable1Rows[] = {
    {Item::kPh,
     AppliesTo::kAll,
     Bound::kWithin,
     {9, 9, 9, 9, 9},
     {6, 6, 6, 6, 6},
     "GB 3838-2002 表1 第2项"},
    {Item::kDo,
     AppliesTo::kAll,
     Bound::kAtLeast,
     {7.5, 6, 5, 3, 2},
     kNoLow,
     "GB 3838-2002 表1 第3项"},
    {Item::kCodMn,
     AppliesTo::kAll,
     Bound::kAtMost,
     {2, 4, 6, 10, 15},
     kNoLow,
     "GB 3838-2002 表1 第4项"},
    {Item::kCod,
     AppliesTo::kAll,
     Bound::kAtMost,
     {15, 15, 20, 30, 40},
     kNoLow,
     "GB 3838-2002 表1 第5项"},
    {Item::kBod5,
     AppliesTo::kAll,
     Bound::kAtMost,
     {3, 3, 4, 6, 10},
     kNoLow,
     "GB 3838-2002 表1 第6项"},
    {Item::kNh3n,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.15, 0.5, 1.0, 1.5, 2.0},
     kNoLow,
     "GB 3838-2002 表1 第7项"},
    {Item::kTp,
     AppliesTo::kRiver,
     Bound::kAtMost,
     {0.02, 0.1, 0.2, 0.3, 0.4},
     kNoLow,
     "GB 3838-2002 表1 第8项"},
    {Item::kTp,
     AppliesTo::kLake,
     Bound::kAtMost,
     {0.01, 0.025, 0.05, 0.1, 0.2},
     kNoLow,
     "GB 3838-2002 表1 第8项 (湖、库)"},
    {Item::kTn,
     AppliesTo::kLake,
     Bound::kAtMost,
     {0.2, 0.5, 1.0, 1.5, 2.0},
     kNoLow,
     "GB 3838-2002 表1 第9项 (湖、库)"},
    {Item::kCu,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.01, 1.0, 1.0, 1.0, 1.0},
     kNoLow,
     "GB 3838-2002 表1 第10项"},
    {Item::kZn,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.05, 1.0, 1.0, 2.0, 2.0},
     kNoLow,
     "GB 3838-2002 表1 第11项"},
    {Item::kF,
     AppliesTo::kAll,
     Bound::kAtMost,
     {1.0, 1.0, 1.0, 1.5, 1.5},
     kNoLow,
     "GB 3838-2002 表1 第12项"},
    {Item::kSe,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.01, 0.01, 0.01, 0.02, 0.02},
     kNoLow,
     "GB 3838-2002 表1 第13项"},
    {Item::kAs,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.05, 0.05, 0.05, 0.1, 0.1},
     kNoLow,
     "GB 3838-2002 表1 第14项"},
    {Item::kHg,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.00005, 0.00005, 0.0001, 0.001, 0.001},
     kNoLow,
     "GB 3838-2002 表1 第15项"},
    {Item::kCd,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.001, 0.005, 0.005, 0.005, 0.01},
     kNoLow,
     "GB 3838-2002 表1 第16项"},
    {Item::kCr6,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.01, 0.05, 0.05, 0.05, 0.1},
     kNoLow,
     "GB 3838-2002 表1 第17项"},
    {Item::kPb,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.01, 0.01, 0.05, 0.05, 0.1},
     kNoLow,
     "GB 3838-2002 表1 第18项"},
    {Item::kCn,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.005, 0.05, 0.2, 0.2, 0.2},
     kNoLow,
     "GB 3838-2002 表1 第19项"},
    {Item::kPhenol,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.002, 0.002, 0.005, 0.01, 0.1},
     kNoLow,
     "GB 3838-2002 表1 第20项"},
    {Item::kOil,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.05, 0.05, 0.05, 0.5, 1.0},
     kNoLow,
     "GB 3838-2002 表1 第21项"},
    {Item::kLas,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.2, 0.2, 0.2, 0.3, 0.3},
     kNoLow,
     "GB 3838-2002 表1 第22项"},
    {Item::kS2,
     AppliesTo::kAll,
     Bound::kAtMost,
     {0.05, 0.1, 0.2, 0.5, 1.0},
     kNoLow,
     "GB 3838-2002 表1 第23项"},
    {Item::kFecalColiform,
     AppliesTo::kAll,
     Bound::kAtMost,
     {200, 2000, 10000, 20000, 40000},
     kNoLow,
     "GB 3838-2002 表1 第24项"},
};

// In force since 2002-06-01 (replacing GHZB1-1999); no successor found as of 2026-11.
constexpr LimitTable kTable1 = {"GB 3838-2002 表1", {{2002, 6, 1}, std::nullopt}, kTable1Rows};

constexpr SupplementaryLimit kTable2Rows[] = {
    {"so4", "硫酸盐（以SO4²⁻计）", 250, "GB 3838-2002 表2 第1项"},
    {"cl", "氯化物（以Cl⁻计）", 250, "GB 3838-2002 表2 第2项"},
    {"no3n", "硝酸盐（以N计）", 10, "GB 3838-2002 表2 第3项"},
    {"fe", "铁", 0.3, "GB 3838-2002 表2 第4项"},
    {"mn", "锰", 0.1, "GB 3838-2002 表2 第5项"},
};

// 环办〔2011〕22号 is dated 2011-03-09 (the notice's own date line).
constexpr MethodEdition kMethod2011 = {"地表水环境质量评价办法（试行）环办〔2011〕22号",
                                       {{2011, 3, 9}, std::nullopt}};
// Issued in June 2017 (news of 2017-06-16 reports it "近日印发"); the notice's exact date is not
// in the reference material, so the news date is used.
constexpr MethodEdition kCwqi2017 = {"城市地表水环境质量排名技术规定（试行）2017",
                                     {{2017, 6, 16}, std::nullopt}};

}  // namespace

std::span<const ItemInfo> items() { return kItems; }
const LimitTable& table1() { return kTable1; }
std::span<const SupplementaryLimit> table2() { return kTable2Rows; }
const MethodEdition& evaluation_method_2011() { return kMethod2011; }
const MethodEdition& cwqi_rules_2017() { return kCwqi2017; }

}  // namespace ecomon::standards::water
