// `ecomon assess soil --standard GB15618|GB36600`: soil pollution risk categories
// (standards/soil.h).
//
// --standard GB15618 (农用地, agricultural land). Input columns:
//   ph          soil pH (needed when a pH-banded item is given)
//   land_use    paddy (水田), other (其他/旱地), orchard (果园), rotation (水旱轮作)
//               (or --land-use for all rows; the column wins)
//   cd hg as pb cr cu ni zn   total content, mg/kg (cr = total chromium)
//   hch ddt bap               六六六总量, 滴滴涕总量, 苯并[a]芘, mg/kg (表2, no pH band)
// Output: ph_band; category_<item> for each item column present (in table order):
// priority_protection (≤ screening), safe_utilization (> screening, ≤ control), strict_control (>
// control), attention
// (> screening of an item without control value: Cu, Ni, Zn, 表2); category = the worst item's.
//
// --standard GB36600 (建设用地, construction land). Input columns:
//   land_class  1 (第一类用地), 2 (第二类用地), unknown (→ 1, planned use not clear)
//               (or --land-class for all rows; the column wins)
//   as cd cr6 cu pb hg ni (cr6 = hexavalent chromium), the 38 organic items of 表1 named as in
//   standards/soil_tables.cpp (carbon_tetrachloride, chloroform, …, bap, …, naphthalene) and the
//   表2 items sb be co methylmercury v cyanide petroleum_hydrocarbons pcbs dioxins, mg/kg
//   background_as, background_co, background_v   local soil background (optional, 注①)
// Output: category_<item>: negligible (≤ screening), within_background (> screening, ≤ the
// given background, 注①), investigate (> screening, ≤ control), control_or_remediate (> control);
// category = the worst item's.
//
// Both: exceed_items = the items above their screening value, ";"-separated, in table order;
// standard = the edition applied. Optional `date` (YYYY-MM-DD) selects the edition in force on
// that day (none before 2018-08-01); without it the latest. Item columns are exact lower-case
// names; an empty cell is an item not measured. Other columns pass through.
#include <algorithm>
#include <cstdio>
#include <string>

#include "app/assess.h"
#include "core/civil_time.h"
#include "standards/soil.h"

namespace ecomon::app {

namespace {

namespace soil = standards::soil;

enum class SoilStandard { kGb15618, kGb36600 };

core::Unexpected<core::Error> bad(std::string detail) {
  return core::fail(core::Error{"bad_value", std::move(detail)});
}

// The items of the latest edition whose column is in the header, in table order. Editions of one
// standard are expected to share item ids; an item an older edition lacks is an error there.
std::vector<std::string> present_items(const std::vector<std::string_view>& items,
                                       const std::vector<std::string>& header) {
  std::vector<std::string> out;
  for (std::string_view item : items) {
    if (std::find(header.begin(), header.end(), item) != header.end()) out.emplace_back(item);
  }
  return out;
}

// GB 36600 注①: the items whose background may excuse an exceedance (As, Co, V).
bool has_background_note(std::string_view item) {
  const auto* row = soil::construction_row(soil::latest_construction_edition(), item);
  return row && row->background_exemption;
}

std::vector<std::string_view> table_items(SoilStandard standard) {
  if (standard == SoilStandard::kGb15618) return soil::agri_items(soil::latest_agri_edition());
  std::vector<std::string_view> items;
  for (const auto& row : soil::latest_construction_edition().rows) items.push_back(row.item);
  return items;
}

class SoilAssessor final : public Assessor {
 public:
  SoilAssessor(SoilStandard standard, std::optional<soil::AgriLandUse> land_use,
               std::optional<soil::LandClass> land_class)
      : standard_(standard), land_use_(land_use), land_class_(land_class) {}

  std::vector<std::string> columns(const std::vector<std::string>& input_header) const override {
    std::vector<std::string> out;
    if (standard_ == SoilStandard::kGb15618) out.push_back("ph_band");
    for (const std::string& item : present_items(table_items(standard_), input_header)) {
      out.push_back("category_" + item);
    }
    for (const char* c : {"category", "exceed_items", "standard"}) out.emplace_back(c);
    return out;
  }

  core::Result<std::vector<std::string>> assess(const CsvRow& row) const override {
    auto date = date_cell(row);
    if (!date) return core::fail(date.error());
    // The row's measured items, in table order, with their column names kept alive here.
    std::vector<soil::ItemValue> values;
    for (std::string_view item : table_items(standard_)) {
      auto v = number_cell(row, item);
      if (!v) return core::fail(v.error());
      if (!*v) continue;
      soil::ItemValue iv{item, **v, std::nullopt};
      if (standard_ == SoilStandard::kGb36600 && has_background_note(item)) {
        auto b = number_cell(row, "background_" + std::string(item));
        if (!b) return core::fail(b.error());
        iv.background_mg_kg = *b;
      }
      values.push_back(iv);
    }
    for (const soil::ItemValue& v : values) {
      if (v.value_mg_kg < 0)
        return bad("column " + std::string(v.item) + ": negative concentration");
      if (v.background_mg_kg && *v.background_mg_kg < 0) {
        return bad("column background_" + std::string(v.item) + ": negative concentration");
      }
    }
    return standard_ == SoilStandard::kGb15618 ? assess_agri(row, *date, values)
                                               : assess_construction(row, *date, values);
  }

 private:
  // Cells for category_<item> (present columns only), category, exceed_items, standard.
  template <class ItemResult, class CodeFn>
  std::vector<std::string> item_cells(const CsvRow& row, const std::vector<ItemResult>& results,
                                      std::string_view overall, std::string_view standard,
                                      CodeFn code) const {
    std::vector<std::string> cells;
    std::string exceed;
    for (std::string_view item : table_items(standard_)) {
      const auto it = std::find_if(results.begin(), results.end(),
                                   [&](const ItemResult& r) { return r.item == item; });
      if (row.has_column(item)) cells.emplace_back(it != results.end() ? code(it->category) : "");
      if (it != results.end() && it->value_mg_kg > it->limits.screening_mg_kg) {
        exceed += (exceed.empty() ? "" : ";") + std::string(item);
      }
    }
    cells.emplace_back(overall);
    cells.push_back(exceed);
    cells.emplace_back(standard);
    return cells;
  }

  core::Result<std::vector<std::string>> assess_agri(
      const CsvRow& row, const std::optional<standards::Date>& date,
      const std::vector<soil::ItemValue>& values) const {
    const soil::AgriEdition* edition = &soil::latest_agri_edition();
    if (date && !(edition = soil::agri_edition_for(*date))) {
      return bad("column date: " + format_date(*date) +
                 " is before GB 15618-2018 (from 2018-08-01)");
    }
    auto ph = number_cell(row, "ph");
    if (!ph) return core::fail(ph.error());
    std::string band;
    if (*ph) {
      const auto b = soil::ph_band(**ph);
      if (!b) return bad("column ph: " + format_decimal(**ph, 2) + " is outside 0–14");
      band = soil::ph_band_name(*b);
    }
    std::optional<soil::AgriLandUse> use = land_use_;
    if (const auto cell = row.get("land_use")) {
      use = soil::parse_agri_land_use(*cell);
      if (!use) {
        return bad("column land_use: '" + std::string(*cell) +
                   "' is not paddy, other, orchard or rotation");
      }
    }
    if (values.empty()) {
      std::vector<std::string> cells{band};
      auto rest = item_cells(row, std::vector<soil::AgriItemResult>{}, "", edition->standard,
                             soil::agri_category_code);
      cells.insert(cells.end(), rest.begin(), rest.end());
      return cells;
    }
    if (!use)
      return bad("column land_use: missing (paddy, other, orchard, rotation; or --land-use)");
    auto a = soil::assess_agri(*edition, *use, *ph, values);
    if (!a) {
      if (a.error().reason == "missing_ph") return bad("column ph: missing; " + a.error().detail);
      return bad(a.error().detail);
    }
    std::vector<std::string> cells{band};
    auto rest = item_cells(row, a->items, a->category ? soil::agri_category_code(*a->category) : "",
                           edition->standard, soil::agri_category_code);
    cells.insert(cells.end(), rest.begin(), rest.end());
    return cells;
  }

  core::Result<std::vector<std::string>> assess_construction(
      const CsvRow& row, const std::optional<standards::Date>& date,
      const std::vector<soil::ItemValue>& values) const {
    const soil::ConstructionEdition* edition = &soil::latest_construction_edition();
    if (date && !(edition = soil::construction_edition_for(*date))) {
      return bad("column date: " + format_date(*date) +
                 " is before GB 36600-2018 (from 2018-08-01)");
    }
    std::optional<soil::LandClass> land_class = land_class_;
    if (const auto cell = row.get("land_class")) {
      land_class = soil::parse_land_class(*cell);
      if (!land_class)
        return bad("column land_class: '" + std::string(*cell) + "' is not 1, 2 or unknown");
    }
    if (values.empty()) {
      return item_cells(row, std::vector<soil::ConstructionItemResult>{}, "", edition->standard,
                        soil::construction_category_code);
    }
    if (!land_class) return bad("column land_class: missing (1, 2, unknown; or --land-class)");
    auto a = soil::assess_construction(*edition, *land_class, values);
    if (!a) return bad(a.error().detail);
    return item_cells(row, a->items,
                      a->category ? soil::construction_category_code(*a->category) : "",
                      edition->standard, soil::construction_category_code);
  }

  SoilStandard standard_;
  std::optional<soil::AgriLandUse> land_use_;
  std::optional<soil::LandClass> land_class_;
};

}  // namespace

core::Result<std::unique_ptr<Assessor>> make_soil_assessor(const AssessOptions& options) {
  if (auto ok = check_options(options, {"standard", "land-use", "land-class"}); !ok) {
    return core::fail(ok.error());
  }
  const auto fail = [](std::string detail) {
    return core::fail(core::Error{"bad_option", std::move(detail)});
  };
  const auto standard_it = options.find("standard");
  if (standard_it == options.end()) return fail("--standard GB15618 or GB36600 is required");
  SoilStandard standard;
  const std::string& name = standard_it->second;
  if (name == "GB15618" || name == "GB15618-2018") {
    standard = SoilStandard::kGb15618;
  } else if (name == "GB36600" || name == "GB36600-2018") {
    standard = SoilStandard::kGb36600;
  } else {
    return fail("--standard '" + name + "' is not GB15618 or GB36600");
  }
  std::optional<soil::AgriLandUse> land_use;
  if (const auto it = options.find("land-use"); it != options.end()) {
    if (standard != SoilStandard::kGb15618) return fail("--land-use applies to GB15618 only");
    land_use = soil::parse_agri_land_use(it->second);
    if (!land_use) {
      return fail("--land-use '" + it->second + "' is not paddy, other, orchard or rotation");
    }
  }
  std::optional<soil::LandClass> land_class;
  if (const auto it = options.find("land-class"); it != options.end()) {
    if (standard != SoilStandard::kGb36600) return fail("--land-class applies to GB36600 only");
    land_class = soil::parse_land_class(it->second);
    if (!land_class) return fail("--land-class '" + it->second + "' is not 1, 2 or unknown");
  }
  return std::unique_ptr<Assessor>(std::make_unique<SoilAssessor>(standard, land_use, land_class));
}

}  // namespace ecomon::app
