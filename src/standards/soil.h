// Soil pollution risk screening: GB 15618-2018 农用地土壤污染风险管控标准（试行） (agricultural
// land, by pH band and land use) and GB 36600-2018 建设用地土壤污染风险管控标准（试行）
// (construction land, by land class). The limits are the reviewed tables of soil_tables.cpp.
//
// Units: concentrations in mg/kg of dry soil (`_mg_kg`), total content (heavy metals and the
// metalloid As as the element); pH is the soil's water-extract pH (HJ 962), dimensionless.
// Items are named by stable lower-case ids, which are also the CSV column names of
// `ecomon assess soil`: cd hg as pb cr cu ni zn hch ddt bap (GB 15618); as cd cr6 cu pb hg ni and
// the organic ids of soil_tables.cpp (GB 36600). Note "cr" (total Cr, GB 15618) and "cr6"
// (hexavalent Cr, GB 36600) are different measurements.
// Comparison: a value equal to a limit is on the lower side ("≤ screening value"); values are
// compared as given, without rounding to the limit's digits.
// Missing vs zero: an item that was not measured is simply not passed; 0 is a measurement.
// Errors (core::Error reasons): "unknown_item", "missing_ph", "bad_value" (negative or non-finite
// concentration, pH outside 0–14).
// Pure: no I/O, no clock, constant tables only; every function is thread-safe and returned
// references and string_views point into static storage.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "standards/edition.h"

namespace ecomon::standards::soil {

// ---- pH bands (GB 15618-2018 表1/表3 columns) --------------------------------------------------

// pH ≤ 5.5 | 5.5 < pH ≤ 6.5 | 6.5 < pH ≤ 7.5 | pH > 7.5 — each upper edge belongs to its band.
enum class PhBand { kUpTo5_5, kUpTo6_5, kUpTo7_5, kAbove7_5 };
inline constexpr std::size_t kPhBandCount = 4;
// nullopt when pH is not finite or outside 0–14.
std::optional<PhBand> ph_band(double ph);
std::string_view ph_band_name(PhBand band);  // "pH≤5.5", "5.5<pH≤6.5", "6.5<pH≤7.5", "pH>7.5"

// ---- GB 15618-2018 agricultural land
// -------------------------------------------------------------

// The land use of the sample: 水田 paddy; 其他 other (dry land 旱地, vegetable land 菜地 …);
// 果园 orchard (only Cu has an orchard row; for the other items an orchard is "other");
// 水旱轮作 paddy–dryland rotation (the stricter of the paddy and other values, 表1 注).
enum class AgriLandUse { kPaddy, kOther, kOrchard, kRotation };
// "paddy"/"水田", "other"/"dryland"/"旱地"/"其他", "orchard"/"果园", "rotation"/"水旱轮作"
// (case-insensitive); nullopt otherwise.
std::optional<AgriLandUse> parse_agri_land_use(std::string_view text);
std::string_view agri_land_use_name(AgriLandUse use);  // "paddy", "other", "orchard", "rotation"

// The land-use column of a table row: kAll for items with one row for every land use.
enum class AgriRowUse { kAll, kPaddy, kOther, kOrchard };

// One row of 风险筛选值 (表1 basic items by pH band, 表2 other items for every pH).
struct AgriScreeningRow {
  std::string_view item;
  std::string_view name_zh;
  AgriRowUse use;
  bool by_ph;  // false: the same value in every band (表2), so the pH is not needed
  std::array<double, kPhBandCount> mg_kg;
  std::string_view clause;
};

// One row of 表3 风险管制值 (Cd, Hg, As, Pb, Cr only; every land use).
struct AgriControlRow {
  std::string_view item;
  std::array<double, kPhBandCount> mg_kg;
  std::string_view clause;
};

struct AgriEdition {
  std::string_view standard;  // "GB 15618-2018"
  Validity validity;
  std::span<const AgriScreeningRow> screening;
  std::span<const AgriControlRow> control;
};

std::span<const AgriEdition> agri_editions();
const AgriEdition* agri_edition_for(const Date& date);  // nullptr before 2018-08-01
const AgriEdition& latest_agri_edition();
// The item ids of an edition, in table order, each once.
std::vector<std::string_view> agri_items(const AgriEdition& edition);
// Whether the item's screening value depends on pH; nullopt for an unknown item.
std::optional<bool> agri_item_needs_ph(const AgriEdition& edition, std::string_view item);

struct AgriLimits {
  double screening_mg_kg = 0;
  std::optional<double> control_mg_kg;  // absent for Cu, Ni, Zn and the 表2 items
  std::string_view screening_clause;
  std::string_view control_clause;
};

// The limits of `item` for a land use and pH. `ph` may be absent for items without pH bands.
core::Result<AgriLimits> agri_limits(const AgriEdition& edition, std::string_view item,
                                     AgriLandUse use, std::optional<double> ph);

// Ordered from least to most concern; the category of a sample is the worst of its items.
//   kPriorityProtection 优先保护类: ≤ screening value — risk low, generally negligible.
//   kAttention          (关注): > screening value of an item without a control value (Cu, Ni,
//                       Zn, 表2) — possible risk, strengthen monitoring; such an item cannot by
//                       itself move land into safe utilization or strict control.
//   kSafeUtilization    安全利用类: > screening, ≤ control — take safe-use measures.
//   kStrictControl      严格管控类: > control value — take strict control measures.
enum class AgriCategory { kPriorityProtection, kAttention, kSafeUtilization, kStrictControl };
std::string_view agri_category_code(AgriCategory category);  // "priority_protection", …
std::string_view agri_category_zh(AgriCategory category);    // "优先保护类", …
AgriCategory classify_agri(double value_mg_kg, const AgriLimits& limits);

struct ItemValue {
  std::string_view item;
  double value_mg_kg = 0;
  // The local soil background of the item; only GB 36600 uses it (items with the 表1/表2 note
  // ①: As, Co, V). Ignored elsewhere.
  std::optional<double> background_mg_kg;
};

struct AgriItemResult {
  std::string_view item;
  double value_mg_kg = 0;
  AgriLimits limits;
  AgriCategory category = AgriCategory::kPriorityProtection;
};
struct AgriAssessment {
  std::vector<AgriItemResult> items;     // in the order given
  std::optional<AgriCategory> category;  // the worst item's; missing when no item was given
};
// `ph` is needed as soon as one item has pH bands.
core::Result<AgriAssessment> assess_agri(const AgriEdition& edition, AgriLandUse use,
                                         std::optional<double> ph,
                                         std::span<const ItemValue> values);

// ---- GB 36600-2018 construction land
// ---------------------------------------------------------------

// 第一类用地 (residential, schools, hospitals, social welfare, children's park areas) and
// 第二类用地 (industrial, logistics, commercial, roads, utilities, public administration, green
// space).
enum class LandClass { kClass1, kClass2 };
// A site whose planned use is not clear is assessed as class 1 (GB 36600-2018 §5.3.1 as the fact
// sheet cites it).
inline constexpr LandClass kLandClassOfUnknownUse = LandClass::kClass1;
// "1"/"第一类", "2"/"第二类", "unknown"/"未明确" (→ kLandClassOfUnknownUse); nullopt otherwise.
std::optional<LandClass> parse_land_class(std::string_view text);
std::string_view land_class_name(LandClass land_class);  // "1", "2"

// One row of 表1 (45 basic items) or 表2 (other items): [class 1, class 2] values in mg/kg.
struct ConstructionRow {
  std::string_view item;
  std::string_view name_zh;
  std::array<double, 2> screening_mg_kg;
  std::array<double, 2> control_mg_kg;
  // 注①: above the screening value but at or below the local soil background, the site is not
  // managed as contaminated (As, Co, V).
  bool background_exemption;
  std::string_view clause;
};

struct ConstructionEdition {
  std::string_view standard;  // "GB 36600-2018"
  Validity validity;
  std::span<const ConstructionRow> rows;
};

std::span<const ConstructionEdition> construction_editions();
const ConstructionEdition* construction_edition_for(const Date& date);  // nullptr before 2018-08-01
const ConstructionEdition& latest_construction_edition();
const ConstructionRow* construction_row(const ConstructionEdition& edition, std::string_view item);

struct ConstructionLimits {
  double screening_mg_kg = 0;
  double control_mg_kg = 0;
  bool background_exemption = false;
  std::string_view clause;
};
core::Result<ConstructionLimits> construction_limits(const ConstructionEdition& edition,
                                                     std::string_view item, LandClass land_class);

// Ordered from least to most concern.
//   kNegligible         ≤ screening value: risk generally negligible.
//   kWithinBackground   > screening value but ≤ the local background of an item with note ①:
//                       not managed as a contaminated site.
//   kInvestigate        > screening, ≤ control: detailed investigation and risk assessment.
//   kControlOrRemediate > control value: risk generally unacceptable, risk control or remediation.
enum class ConstructionCategory {
  kNegligible,
  kWithinBackground,
  kInvestigate,
  kControlOrRemediate
};
std::string_view construction_category_code(ConstructionCategory category);  // "negligible", …
std::string_view construction_category_zh(ConstructionCategory category);
ConstructionCategory classify_construction(double value_mg_kg, const ConstructionLimits& limits,
                                           std::optional<double> background_mg_kg);

struct ConstructionItemResult {
  std::string_view item;
  double value_mg_kg = 0;
  ConstructionLimits limits;
  ConstructionCategory category = ConstructionCategory::kNegligible;
};
struct ConstructionAssessment {
  std::vector<ConstructionItemResult> items;
  std::optional<ConstructionCategory> category;  // the worst item's; missing when none was given
};
core::Result<ConstructionAssessment> assess_construction(const ConstructionEdition& edition,
                                                         LandClass land_class,
                                                         std::span<const ItemValue> values);

}  // namespace ecomon::standards::soil
