// Surface water quality: GB 3838-2002 《地表水环境质量标准》 (limits) evaluated by the 2011
// method 《地表水环境质量评价办法（试行）》 (环办〔2011〕22号): per-item class, section class,
// status, main pollution indicators and exceedance multiples, river/basin status from section
// proportions, lake trophic state (TLI) and the city water quality index CWQI (2017 rules).
//
// Contract:
// - Units: mg/L for every item except pH (dimensionless), fecal coliform (个/L, count per litre)
//   and water temperature (°C). TLI takes chlorophyll-a in mg/m³ (= µg/L; the CNEMC release
//   publishes it in mg/L, multiply by 1000) and transparency (SD) in m.
// - Missing vs zero: a missing value is an empty std::optional and never takes part in a class,
//   an index or a mean; 0 is a measured value. A value below the detection limit is a Reading
//   with not_detected set (class I for the item, as the reference sheet's note on "0.01L" says).
// - Errors are core::Result (reason "bad_value" with the item code in the detail) — e.g. a
//   negative concentration, a pH outside 0–14, a non-detect for pH or DO; nothing throws.
// - Pure: no I/O, no clock; the only globals are the constant tables of water_tables.cpp. All
//   functions are thread-safe.
//
// Tables carry the dates they apply to (standards::Validity); callers with dated data pick the
// table with table1_for(date) and get nullptr before GB 3838-2002 came into force.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "standards/edition.h"

namespace ecomon::standards {

// One analytical result: a measured value or a non-detect ("未检出", reported as "0.01L").
struct Reading {
  double value = 0;  // the measured value; for a non-detect the detection limit, 0 when unknown
  bool not_detected = false;

  static Reading measured(double v) { return Reading{v, false}; }
  static Reading below_detection(double detection_limit = 0) {
    return Reading{detection_limit, true};
  }
  friend bool operator==(const Reading&, const Reading&) = default;
};

// The notations of a non-detect in Chinese monitoring reports: "ND", "未检出", "<0.01" and the
// detection limit followed by L ("0.01L"). nullopt when `text` is none of them (a plain number is
// not a non-detect; parse it as a number).
std::optional<Reading> parse_non_detect(std::string_view text);

namespace water {

// GB 3838-2002 表1 basic items, in the table's order (第1项 … 第24项).
enum class Item : std::uint8_t {
  kWaterTemp,  // 水温
  kPh,
  kDo,     // 溶解氧
  kCodMn,  // 高锰酸盐指数
  kCod,    // 化学需氧量
  kBod5,   // 五日生化需氧量
  kNh3n,   // 氨氮
  kTp,     // 总磷
  kTn,     // 总氮 (lakes and reservoirs only)
  kCu,
  kZn,
  kF,  // 氟化物
  kSe,
  kAs,
  kHg,
  kCd,
  kCr6,  // 铬（六价）
  kPb,
  kCn,             // 氰化物
  kPhenol,         // 挥发酚
  kOil,            // 石油类
  kLas,            // 阴离子表面活性剂
  kS2,             // 硫化物
  kFecalColiform,  // 粪大肠菌群
};
inline constexpr std::size_t kItemCount = 24;

// 河流 or 湖、库. Reservoirs are evaluated as lakes (GB 3838 表1 第8、9项 "湖、库").
enum class WaterBody : std::uint8_t { kRiver, kLake };

// Water quality class [水质类别]; kWorseThanV is 劣V (not a legal class, used in evaluation).
enum class Class : std::uint8_t { kI = 1, kII, kIII, kIV, kV, kWorseThanV };

// Section / river status [水质状况].
enum class Status : std::uint8_t {
  kExcellent,           // 优 (I–II)
  kGood,                // 良好 (III)
  kLightlyPolluted,     // 轻度污染 (IV)
  kModeratelyPolluted,  // 中度污染 (V)
  kHeavilyPolluted,     // 重度污染 (劣V)
};

struct ItemInfo {
  Item item;
  std::string_view code;     // column name of `ecomon assess water`: "codmn"
  std::string_view name_zh;  // the standard's word: "高锰酸盐指数"
  std::string_view unit;     // "mg/L", "个/L", "°C", "" (pH)
  // Part of the section class [水质类别] (the 21 items; not water temperature, TN, fecal coliform).
  bool in_class;
  // An exceedance multiple is computed (not for water temperature, pH, DO).
  bool has_multiple;
  std::string_view clause;
};

// Bound of a limit row: kAtMost "≤ limit", kAtLeast "≥ limit" (DO), kWithin "low ≤ v ≤ limit" (pH).
enum class Bound : std::uint8_t { kAtMost, kAtLeast, kWithin };
// Which water bodies a limit row is for.
enum class AppliesTo : std::uint8_t { kAll, kRiver, kLake };

// One row of GB 3838-2002 表1: the limits of classes I..V (index 0..4).
struct LimitRow {
  Item item;
  AppliesTo applies_to;
  Bound bound;
  std::array<double, 5> limit;  // upper limit (kAtMost, kWithin) or lower limit (kAtLeast)
  std::array<double, 5> low;    // kWithin only: the lower end of the range
  std::string_view clause;      // "GB 3838-2002 表1 第7项"
};

struct LimitTable {
  std::string_view name;
  Validity validity;
  std::span<const LimitRow> rows;
};

// GB 3838-2002 表2 supplementary items of centralized drinking-water surface sources
// [集中式生活饮用水地表水源地补充项目]: one limit each, mg/L.
struct SupplementaryLimit {
  std::string_view code;  // "so4", "cl", "no3n", "fe", "mn"
  std::string_view name_zh;
  double limit_mgl;
  std::string_view clause;
};

// The rules of the 2011 evaluation method used below (status per class, section proportions,
// TLI), with the dates they apply to.
struct MethodEdition {
  std::string_view name;
  Validity validity;
};

// --- tables -------------------------------------------------------------------------------

std::span<const ItemInfo> items();  // all 24, in Item order
const ItemInfo& item_info(Item item);
std::optional<Item> item_by_code(std::string_view code);
// The item an HJ 212-2017 water factor code (table B.1) carries, for the codes automatic water
// stations send: w01001 pH, w01009 DO, w01019 CODMn, w01018 COD, w01017 BOD5, w21003 NH3-N,
// w21011 TP, w21001 TN. nullopt for any other code.
inline constexpr std::array<std::pair<std::string_view, Item>, 8> kHj212WaterItems{{
    {"w01001", Item::kPh},
    {"w01009", Item::kDo},
    {"w01019", Item::kCodMn},
    {"w01018", Item::kCod},
    {"w01017", Item::kBod5},
    {"w21003", Item::kNh3n},
    {"w21011", Item::kTp},
    {"w21001", Item::kTn},
}};
std::optional<Item> item_by_hj212(std::string_view code);

const LimitTable& table1();                      // GB 3838-2002 表1
const LimitTable* table1_for(const Date& date);  // nullptr when no edition covers `date`
std::span<const SupplementaryLimit> table2();    // GB 3838-2002 表2
const SupplementaryLimit* table2_item(std::string_view code);
// The 表2 item an HJ 212-2017 water factor code (table B.1, all in mg/L) carries: w21038 sulfate,
// w21022 chloride, w21007 nitrate, w20125 total iron, w20124 total manganese. nullptr for any other
// code. Assumed, not stated by either standard: HJ 212's w21007 nitrate is reported as N (the way
// GB 3838 表2 states it) and the total (not dissolved) iron and manganese are what 表2 limits.
// 表3 (specific items) is not tabled: the reference sheet marks its values as unconfirmed.
inline constexpr std::array<std::pair<std::string_view, std::string_view>, 5>
    kHj212SupplementaryItems{{
        {"w21038", "so4"},
        {"w21022", "cl"},
        {"w21007", "no3n"},
        {"w20125", "fe"},
        {"w20124", "mn"},
    }};
const SupplementaryLimit* supplementary_by_hj212(std::string_view code);
const MethodEdition& evaluation_method_2011();
const MethodEdition& cwqi_rules_2017();

// --- names --------------------------------------------------------------------------------

std::string_view class_name(Class c);  // "I", "II", "III", "IV", "V", "劣V"
std::string_view status_name(Status s);  // "优", "良好", "轻度污染", "中度污染", "重度污染"
Status status_of(Class c);  // I–II 优, III 良好, IV 轻度污染, V 中度污染, 劣V 重度污染
std::optional<WaterBody> parse_water_body(std::string_view text);  // river/lake/reservoir, 河流…

// --- one sample (a section's concentrations) ---------------------------------------------

struct Sample {
  std::array<std::optional<Reading>, kItemCount> readings{};  // by Item; empty = not measured

  std::optional<Reading>& operator[](Item i) { return readings[static_cast<std::size_t>(i)]; }
  const std::optional<Reading>& operator[](Item i) const {
    return readings[static_cast<std::size_t>(i)];
  }
};

// The class of one item: the best class whose limit the value meets (equal limits of several
// classes → the better class, as the table is scanned from I), 劣V beyond V; pH outside 6–9 → 劣V.
// nullopt when the item has no class for this water body: water temperature (its limit is a
// man-made change, not a concentration) and TN of a river. DO class I uses 7.5 mg/L only, not
// the alternative 90 % saturation. Errors: negative value, pH outside 0–14, non-detect of pH/DO.
core::Result<std::optional<Class>> item_class(Item item, const Reading& reading, WaterBody body,
                                              const LimitTable& table = table1());

// The Class III limit of a ≤ item for this water body (lakes: TP 0.05) — the evaluation standard
// of exceedance multiples and of CWQI; nullopt for water temperature, pH, DO, and TN of a river.
std::optional<double> class_iii_limit(Item item, WaterBody body,
                                      const LimitTable& table = table1());

struct Exceedance {
  Item item;
  Class item_class;
  std::optional<double> multiple;  // (C − S)/S, S = Class III limit; absent for pH and DO
};

struct SectionResult {
  // Per item, by Item: nullopt when missing or when the item has no class (see item_class).
  // Reference items (TN of a lake, fecal coliform) are classed here but not in section_class.
  std::array<std::optional<Class>, kItemCount> item_class{};
  std::optional<Class> section_class;  // worst of the class items present; nullopt if none
  std::optional<Status> status;        // status_of(section_class)
  std::vector<Item> evaluated;         // the class items present: a partial-item class when short
  // The class items worse than Class III, ranked: by exceedance multiple (largest first), then
  // the items without a multiple (DO, pH) by class (worst first); ties keep table order.
  std::vector<Exceedance> exceedances;
  std::vector<Item> main_pollutants;  // the first three of `exceedances` [主要污染指标]
};

// Single-factor evaluation [单因子评价法] of one section.
core::Result<SectionResult> evaluate_section(const Sample& sample, WaterBody body,
                                             const LimitTable& table = table1());

// --- rivers, basins, water systems -------------------------------------------------------

struct ProportionResult {
  std::size_t sections = 0;
  double share_i_to_iii_percent = 0;
  double share_worse_than_v_percent = 0;
  // nullopt for the one combination the method's table leaves out: exactly 60 % I–III and
  // exactly 40 % 劣V (its 重度污染 row reads "I–III < 60 % and 劣V ≥ 40 %").
  std::optional<Status> status;
};

// Section-proportion method [断面水质类别比例法] for ≥ 5 sections; error "too_few_sections"
// below 5 (use evaluate_river, which averages concentrations then).
core::Result<ProportionResult> status_by_section_proportion(std::span<const Class> section_classes);

// Per-item arithmetic mean over the samples that have the item. A non-detect counts as half its
// detection limit (the 2011 method's rule as the sheet recalls it, unconfirmed); a non-detect
// without a detection limit is an error. An item that is a non-detect in every sample stays one.
core::Result<Sample> mean_sample(std::span<const Sample> samples);

enum class RiverMethod : std::uint8_t { kSectionProportion, kMeanConcentration };

struct RiverResult {
  RiverMethod method = RiverMethod::kSectionProportion;
  std::optional<Status> status;                // see ProportionResult::status for a gap
  std::optional<ProportionResult> proportion;  // kSectionProportion
  std::optional<SectionResult> mean_section;   // kMeanConcentration: the averaged section
};

// River / basin status: ≥ 5 sections → section proportions (each section must have a class);
// fewer → the mean concentrations evaluated as one section.
core::Result<RiverResult> evaluate_river(std::span<const Sample> sections, WaterBody body,
                                         const LimitTable& table = table1());

// --- lakes and reservoirs: trophic state [营养状态] -----------------------------------------

enum class TrophicState : std::uint8_t {
  kOligotrophic,         // 贫营养, TLI < 30
  kMesotrophic,          // 中营养, 30 ≤ TLI ≤ 50
  kLightlyEutrophic,     // 轻度富营养, 50 < TLI ≤ 60
  kModeratelyEutrophic,  // 中度富营养, 60 < TLI ≤ 70
  kSeverelyEutrophic,    // 重度富营养, TLI > 70
};
std::string_view trophic_state_name(TrophicState s);
TrophicState trophic_state_of(double tli);

enum class TrophicParameter : std::uint8_t { kChla, kTp, kTn, kSd, kCodMn };
inline constexpr std::size_t kTrophicParameterCount = 5;

struct TrophicInputs {
  std::optional<double> chla_mgm3;  // chlorophyll-a, mg/m³
  std::optional<double> tp_mgl;
  std::optional<double> tn_mgl;
  std::optional<double> sd_m;  // Secchi depth [透明度]
  std::optional<double> codmn_mgl;
};

struct TliResult {
  double tli = 0;  // TLI(Σ)
  TrophicState state = TrophicState::kMesotrophic;
  std::array<std::optional<double>, kTrophicParameterCount> partial{};  // TLI(j), by parameter
  std::array<double, kTrophicParameterCount> weight{};                  // W_j (0 when absent)
};

// TLI(Σ) = Σ W_j·TLI(j), W_j = r_j² / Σ r_j² over the parameters present. Errors: no parameter
// ("no_data"), a value ≤ 0 ("bad_value": the formulas take its logarithm).
core::Result<TliResult> trophic_level_index(const TrophicInputs& in);

// --- city water quality index CWQI [城市水质指数] (2017 rules) ------------------------------

struct CwqiResult {
  double cwqi = 0;                                             // Σ CWQI_i over the items present
  std::array<std::optional<double>, kItemCount> item_index{};  // CWQI_i by Item
  std::size_t items = 0;  // items that entered the sum; a full section CWQI has 21
};

// Section CWQI over the class items present: CWQI_i = C_i / C_III (lakes: TP 0.05), DO: 5 / C,
// pH: (7 − pH)/(7 − 6) when pH ≤ 7, (pH − 7)/(9 − 7) above. Errors: a non-detect (the rules as
// read give no value for it), DO ≤ 0, invalid values as in evaluate_section, no item ("no_data").
core::Result<CwqiResult> section_cwqi(const Sample& sample, WaterBody body,
                                      const LimitTable& table = table1());

// River CWQI (mean over the river's sections) or lake CWQI (mean over its points). The city
// CWQI combining rivers and lakes is not implemented: the sheet marks its rule unconfirmed.
core::Result<double> mean_cwqi(std::span<const double> section_values);

// --- drinking-water sources ----------------------------------------------------------------

// Whether a 表2 item meets its limit (≤; a non-detect meets it). Errors: negative value.
core::Result<bool> meets_supplementary_limit(const SupplementaryLimit& row, const Reading& reading);

}  // namespace water
}  // namespace ecomon::standards
