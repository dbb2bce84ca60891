// `ecomon assess water [--waterbody river|lake|reservoir]`: each CSV row is one section's
// concentrations, evaluated by GB 3838-2002 and the 2011 method (standards/water.h).
//
// Input columns, any of them (mg/L; ph dimensionless; fecal_coliform 个/L; water_temp °C):
//   ph do codmn cod bod5 nh3n tp tn cu zn f se as hg cd cr6 pb cn phenol oil las s2
//   fecal_coliform water_temp
// A cell is a number, empty (missing — never 0), or a non-detect: ND, 未检出, <0.01, 0.01L.
// `waterbody` (river / lake / reservoir, or 河流 / 湖泊 / 水库), when present and not empty,
// overrides --waterbody for its row; a row with neither is an error (TP and TN depend on it).
// Other columns are passed through and ignored.
//
// Output columns:
//   class                 I … V, 劣V from the class items present (not water_temp, tn,
//                         fecal_coliform); empty when none is present
//   status                优 / 良好 / 轻度污染 / 中度污染 / 重度污染
//   main_pollutants       up to three items worse than Class III, ;-joined, ranked
//   exceedance_multiples  item:multiple for every class item worse than Class III that has a
//                         multiple (not pH, DO), same order; (C − S)/S with S the Class III
//                         limit, 3 decimals (GB/T 8170 round-half-even)
//   class_<item>          per input item column: its class (tn: lakes only; fecal_coliform as a
//                         reference; water_temp always empty — its limit is a man-made change)
#include <cmath>

#include "app/assess.h"
#include "standards/water.h"

namespace ecomon::app {

namespace {

namespace water = standards::water;

// Exceedance multiples keep 3 decimals: a small real exceedance (CODMn 6.02 → 0.0033) must not
// print as 0, which 1 or 2 decimals would do. The multiple of decimal inputs carries binary noise
// ((0.227 − 0.2)/0.2 gives 0.13499999999999998), so it is snapped to 9 decimals before GB/T 8170
// round-half-even.
constexpr int kMultipleDecimals = 3;

std::string format_multiple(double multiple) {
  const double scale = std::pow(10.0, kMultipleDecimals);
  const double scaled = std::round(multiple * 1e9) / 1e9 * scale;
  double whole = std::floor(scaled);
  if (std::abs(scaled - whole - 0.5) < 1e-6) {
    if (std::fmod(whole, 2.0) != 0) whole += 1;
  } else {
    whole = std::round(scaled);
  }
  return format_decimal(whole / scale, kMultipleDecimals);
}

class WaterAssessor final : public Assessor {
 public:
  explicit WaterAssessor(std::optional<water::WaterBody> body) : body_(body) {}

  std::vector<std::string> columns(const std::vector<std::string>& input_header) const override {
    std::vector<std::string> out = {"class", "status", "main_pollutants", "exceedance_multiples"};
    for (const water::ItemInfo& info : water::items()) {
      for (const std::string& h : input_header) {
        if (h == info.code) {
          out.push_back("class_" + std::string(info.code));
          break;
        }
      }
    }
    return out;
  }

  core::Result<std::vector<std::string>> assess(const CsvRow& row) const override {
    std::optional<water::WaterBody> body = body_;
    if (const auto cell = row.get("waterbody")) {
      body = water::parse_water_body(*cell);
      if (!body) {
        return core::fail(core::Error{"bad_value", "column waterbody: '" + std::string(*cell) +
                                                       "' is not river, lake or reservoir"});
      }
    }
    if (!body) {
      return core::fail(core::Error{
          "bad_value", "no water body: give --waterbody river|lake or a waterbody column"});
    }
    water::Sample sample;
    std::vector<water::Item> present;
    for (const water::ItemInfo& info : water::items()) {
      if (!row.has_column(info.code)) continue;
      present.push_back(info.item);
      auto reading = reading_cell(row, info.code);
      if (!reading) return core::fail(reading.error());
      sample[info.item] = *reading;
    }
    auto result = water::evaluate_section(sample, *body);
    if (!result) {
      return core::fail(core::Error{result.error().reason, "column " + result.error().detail});
    }
    std::vector<std::string> out;
    out.push_back(result->section_class ? std::string(water::class_name(*result->section_class))
                                        : "");
    out.push_back(result->status ? std::string(water::status_name(*result->status)) : "");
    std::string pollutants, multiples;
    for (water::Item item : result->main_pollutants) {
      if (!pollutants.empty()) pollutants += ';';
      pollutants += water::item_info(item).code;
    }
    for (const water::Exceedance& e : result->exceedances) {
      if (!e.multiple) continue;
      if (!multiples.empty()) multiples += ';';
      multiples += std::string(water::item_info(e.item).code) + ":" + format_multiple(*e.multiple);
    }
    out.push_back(pollutants);
    out.push_back(multiples);
    for (water::Item item : present) {
      const auto& c = result->item_class[static_cast<std::size_t>(item)];
      out.push_back(c ? std::string(water::class_name(*c)) : "");
    }
    return out;
  }

 private:
  std::optional<water::WaterBody> body_;
};

}  // namespace

core::Result<std::unique_ptr<Assessor>> make_water_assessor(const AssessOptions& options) {
  if (auto ok = check_options(options, {"waterbody"}); !ok) return core::fail(ok.error());
  std::optional<water::WaterBody> body;
  if (const auto it = options.find("waterbody"); it != options.end()) {
    body = water::parse_water_body(it->second);
    if (!body) {
      return core::fail(core::Error{
          "bad_option", "--waterbody must be river, lake or reservoir, not '" + it->second + "'"});
    }
  }
  return std::unique_ptr<Assessor>(std::make_unique<WaterAssessor>(body));
}

}  // namespace ecomon::app
