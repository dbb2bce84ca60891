#include "standards/soil.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace ecomon::standards::soil {

namespace {

core::Unexpected<core::Error> error(std::string reason, std::string detail) {
  return core::fail(core::Error{std::move(reason), std::move(detail)});
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

core::Result<void> check_concentration(std::string_view item, double value_mg_kg) {
  if (!std::isfinite(value_mg_kg) || value_mg_kg < 0) {
    return error("bad_value", std::string(item) + ": a concentration must be a finite number ≥ 0");
  }
  return {};
}

const AgriScreeningRow* find_screening(const AgriEdition& edition, std::string_view item,
                                       AgriRowUse use) {
  for (const AgriScreeningRow& row : edition.screening) {
    if (row.item == item && row.use == use) return &row;
  }
  return nullptr;
}

// The screening row of a land use: an item with one row for all uses has it; an orchard is
// "other" for every item but Cu; paddy falls back to "other" where the table has no paddy row
// (Cu: "其他" includes paddy).
const AgriScreeningRow* screening_row(const AgriEdition& edition, std::string_view item,
                                      AgriLandUse use) {
  if (const AgriScreeningRow* all = find_screening(edition, item, AgriRowUse::kAll)) return all;
  switch (use) {
    case AgriLandUse::kPaddy:
      if (const AgriScreeningRow* r = find_screening(edition, item, AgriRowUse::kPaddy)) return r;
      return find_screening(edition, item, AgriRowUse::kOther);
    case AgriLandUse::kOrchard:
      if (const AgriScreeningRow* r = find_screening(edition, item, AgriRowUse::kOrchard)) {
        return r;
      }
      return find_screening(edition, item, AgriRowUse::kOther);
    case AgriLandUse::kOther:
    case AgriLandUse::kRotation:  // resolved by the caller from the paddy and other rows
      return find_screening(edition, item, AgriRowUse::kOther);
  }
  return nullptr;
}

}  // namespace

// ---- pH ----------------------------------------------------------------------------------------

std::optional<PhBand> ph_band(double ph) {
  if (!std::isfinite(ph) || ph < 0 || ph > 14) return std::nullopt;
  if (ph <= 5.5) return PhBand::kUpTo5_5;
  if (ph <= 6.5) return PhBand::kUpTo6_5;
  if (ph <= 7.5) return PhBand::kUpTo7_5;
  return PhBand::kAbove7_5;
}

std::string_view ph_band_name(PhBand band) {
  switch (band) {
    case PhBand::kUpTo5_5:
      return "pH≤5.5";
    case PhBand::kUpTo6_5:
      return "5.5<pH≤6.5";
    case PhBand::kUpTo7_5:
      return "6.5<pH≤7.5";
    case PhBand::kAbove7_5:
      return "pH>7.5";
  }
  return "?";
}

// ---- GB 15618 ----------------------------------------------------------------------------------

std::optional<AgriLandUse> parse_agri_land_use(std::string_view text) {
  const std::string t = lower_ascii(text);
  if (t == "paddy" || t == "水田") return AgriLandUse::kPaddy;
  if (t == "other" || t == "dryland" || t == "旱地" || t == "其他") return AgriLandUse::kOther;
  if (t == "orchard" || t == "果园") return AgriLandUse::kOrchard;
  if (t == "rotation" || t == "水旱轮作") return AgriLandUse::kRotation;
  return std::nullopt;
}

std::string_view agri_land_use_name(AgriLandUse use) {
  switch (use) {
    case AgriLandUse::kPaddy:
      return "paddy";
    case AgriLandUse::kOther:
      return "other";
    case AgriLandUse::kOrchard:
      return "orchard";
    case AgriLandUse::kRotation:
      return "rotation";
  }
  return "?";
}

const AgriEdition* agri_edition_for(const Date& date) {
  for (const AgriEdition& e : agri_editions()) {
    if (e.validity.covers(date)) return &e;
  }
  return nullptr;
}

const AgriEdition& latest_agri_edition() { return agri_editions().back(); }

std::vector<std::string_view> agri_items(const AgriEdition& edition) {
  std::vector<std::string_view> items;
  for (const AgriScreeningRow& row : edition.screening) {
    if (std::find(items.begin(), items.end(), row.item) == items.end()) items.push_back(row.item);
  }
  return items;
}

std::optional<bool> agri_item_needs_ph(const AgriEdition& edition, std::string_view item) {
  for (const AgriScreeningRow& row : edition.screening) {
    if (row.item == item) return row.by_ph;
  }
  return std::nullopt;
}

core::Result<AgriLimits> agri_limits(const AgriEdition& edition, std::string_view item,
                                     AgriLandUse use, std::optional<double> ph) {
  const AgriScreeningRow* row = screening_row(edition, item, use);
  if (!row) {
    return error("unknown_item", std::string(edition.standard) + " has no screening value for '" +
                                     std::string(item) + "'");
  }
  std::size_t band = 0;  // any band: rows without pH bands hold one value in every column
  if (row->by_ph) {
    if (!ph) {
      return error("missing_ph", std::string(edition.standard) + " needs the soil pH for '" +
                                     std::string(item) + "'");
    }
    const auto b = ph_band(*ph);
    if (!b) return error("bad_value", "pH must be a number from 0 to 14");
    band = static_cast<std::size_t>(*b);
  }
  AgriLimits limits;
  limits.screening_mg_kg = row->mg_kg[band];
  limits.screening_clause = row->clause;
  if (use == AgriLandUse::kRotation) {
    // 水旱轮作: the stricter of the paddy and the other-land value (表1 注).
    const AgriScreeningRow* paddy = screening_row(edition, item, AgriLandUse::kPaddy);
    if (paddy && paddy->mg_kg[band] < limits.screening_mg_kg) {
      limits.screening_mg_kg = paddy->mg_kg[band];
      limits.screening_clause = paddy->clause;
    }
  }
  for (const AgriControlRow& control : edition.control) {
    if (control.item == item) {
      limits.control_mg_kg = control.mg_kg[band];
      limits.control_clause = control.clause;
    }
  }
  return limits;
}

std::string_view agri_category_code(AgriCategory category) {
  switch (category) {
    case AgriCategory::kPriorityProtection:
      return "priority_protection";
    case AgriCategory::kAttention:
      return "attention";
    case AgriCategory::kSafeUtilization:
      return "safe_utilization";
    case AgriCategory::kStrictControl:
      return "strict_control";
  }
  return "?";
}

std::string_view agri_category_zh(AgriCategory category) {
  switch (category) {
    case AgriCategory::kPriorityProtection:
      return "优先保护类";
    case AgriCategory::kAttention:
      return "关注";
    case AgriCategory::kSafeUtilization:
      return "安全利用类";
    case AgriCategory::kStrictControl:
      return "严格管控类";
  }
  return "?";
}

AgriCategory classify_agri(double value_mg_kg, const AgriLimits& limits) {
  if (value_mg_kg <= limits.screening_mg_kg) return AgriCategory::kPriorityProtection;
  if (!limits.control_mg_kg) return AgriCategory::kAttention;
  if (value_mg_kg <= *limits.control_mg_kg) return AgriCategory::kSafeUtilization;
  return AgriCategory::kStrictControl;
}

core::Result<AgriAssessment> assess_agri(const AgriEdition& edition, AgriLandUse use,
                                         std::optional<double> ph,
                                         std::span<const ItemValue> values) {
  AgriAssessment out;
  for (const ItemValue& v : values) {
    if (auto ok = check_concentration(v.item, v.value_mg_kg); !ok) return core::fail(ok.error());
    auto limits = agri_limits(edition, v.item, use, ph);
    if (!limits) return core::fail(limits.error());
    const AgriCategory category = classify_agri(v.value_mg_kg, *limits);
    out.items.push_back(AgriItemResult{v.item, v.value_mg_kg, *limits, category});
    out.category = std::max(out.category.value_or(category), category);
  }
  return out;
}

// ---- GB 36600 ----------------------------------------------------------------------------------

std::optional<LandClass> parse_land_class(std::string_view text) {
  const std::string t = lower_ascii(text);
  if (t == "1" || t == "第一类" || t == "第一类用地") return LandClass::kClass1;
  if (t == "2" || t == "第二类" || t == "第二类用地") return LandClass::kClass2;
  if (t == "unknown" || t == "未明确") return kLandClassOfUnknownUse;
  return std::nullopt;
}

std::string_view land_class_name(LandClass land_class) {
  return land_class == LandClass::kClass1 ? "1" : "2";
}

const ConstructionEdition* construction_edition_for(const Date& date) {
  for (const ConstructionEdition& e : construction_editions()) {
    if (e.validity.covers(date)) return &e;
  }
  return nullptr;
}

const ConstructionEdition& latest_construction_edition() { return construction_editions().back(); }

const ConstructionRow* construction_row(const ConstructionEdition& edition, std::string_view item) {
  for (const ConstructionRow& row : edition.rows) {
    if (row.item == item) return &row;
  }
  return nullptr;
}

core::Result<ConstructionLimits> construction_limits(const ConstructionEdition& edition,
                                                     std::string_view item, LandClass land_class) {
  const ConstructionRow* row = construction_row(edition, item);
  if (!row) {
    return error("unknown_item",
                 std::string(edition.standard) + " has no row for '" + std::string(item) + "'");
  }
  const std::size_t c = land_class == LandClass::kClass1 ? 0 : 1;
  return ConstructionLimits{row->screening_mg_kg[c], row->control_mg_kg[c],
                            row->background_exemption, row->clause};
}

std::string_view construction_category_code(ConstructionCategory category) {
  switch (category) {
    case ConstructionCategory::kNegligible:
      return "negligible";
    case ConstructionCategory::kWithinBackground:
      return "within_background";
    case ConstructionCategory::kInvestigate:
      return "investigate";
    case ConstructionCategory::kControlOrRemediate:
      return "control_or_remediate";
  }
  return "?";
}

std::string_view construction_category_zh(ConstructionCategory category) {
  switch (category) {
    case ConstructionCategory::kNegligible:
      return "风险可以忽略";
    case ConstructionCategory::kWithinBackground:
      return "不超过背景值";
    case ConstructionCategory::kInvestigate:
      return "详细调查和风险评估";
    case ConstructionCategory::kControlOrRemediate:
      return "风险管控或修复";
  }
  return "?";
}

ConstructionCategory classify_construction(double value_mg_kg, const ConstructionLimits& limits,
                                           std::optional<double> background_mg_kg) {
  if (value_mg_kg <= limits.screening_mg_kg) return ConstructionCategory::kNegligible;
  // 注①: above screening yet within the local background is natural, not contamination — even
  // above the control value.
  if (limits.background_exemption && background_mg_kg && value_mg_kg <= *background_mg_kg) {
    return ConstructionCategory::kWithinBackground;
  }
  if (value_mg_kg <= limits.control_mg_kg) return ConstructionCategory::kInvestigate;
  return ConstructionCategory::kControlOrRemediate;
}

core::Result<ConstructionAssessment> assess_construction(const ConstructionEdition& edition,
                                                         LandClass land_class,
                                                         std::span<const ItemValue> values) {
  ConstructionAssessment out;
  for (const ItemValue& v : values) {
    if (auto ok = check_concentration(v.item, v.value_mg_kg); !ok) return core::fail(ok.error());
    if (v.background_mg_kg) {
      if (auto ok = check_concentration(v.item, *v.background_mg_kg); !ok) {
        return core::fail(ok.error());
      }
    }
    auto limits = construction_limits(edition, v.item, land_class);
    if (!limits) return core::fail(limits.error());
    const ConstructionCategory category =
        classify_construction(v.value_mg_kg, *limits, v.background_mg_kg);
    out.items.push_back(ConstructionItemResult{v.item, v.value_mg_kg, *limits, category});
    out.category = std::max(out.category.value_or(category), category);
  }
  return out;
}

}  // namespace ecomon::standards::soil
