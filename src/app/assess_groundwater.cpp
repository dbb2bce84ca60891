// `ecomon assess groundwater`: each CSV row is one groundwater sample, evaluated by
// GB/T 14848-2017 表1 (standards/groundwater.h). No options.
//
// Input columns, any of them (units in the name where not mg/L):
//   color_pcu (铂钴色度单位)  odor (嗅和味)  turbidity_ntu  visible_matter (肉眼可见物)  ph
//   total_hardness (as CaCO3)  tds  so4  cl  fe  mn  cu  zn  al  phenol  las  codmn (耗氧量)
//   nh3n  s2  na  total_coliforms_mpn100ml  bacteria_cfuml (菌落总数)  no2n (亚硝酸盐 as N)
//   no3n (硝酸盐 as N)  cn  f  iodide  hg  as  se  cd  cr6  pb  chloroform_ugl  ccl4_ugl
//   benzene_ugl  toluene_ugl  gross_alpha_bql  gross_beta_bql
// A cell is a number, empty (missing — never 0), or a non-detect: ND, 未检出, <0.01, 0.01L
// (class I; for las the only way to class I, which reads 不得检出). odor and visible_matter take
// 无 / none / no / 0 or 有 / present / yes / 1. Other columns are passed through and ignored.
//
// Output columns:
//   class         I … V, or IV/V when gross α/β above Class III sets it (表1 does not tell IV
//                 from V there); the worst indicator; empty when no indicator is present
//   worst_items   the indicators of that class, ;-joined, in table order
//   class_<item>  per input item column
#include "app/assess.h"
#include "standards/groundwater.h"

namespace ecomon::app {

namespace {

namespace gw = standards::groundwater;

core::Result<std::optional<standards::Reading>> presence_cell(const CsvRow& row,
                                                              std::string_view column) {
  const auto cell = row.get(column);
  if (!cell) return std::optional<standards::Reading>();
  for (std::string_view none : {"无", "none", "no", "0", "ND", "nd", "未检出"}) {
    if (*cell == none) return std::optional<standards::Reading>(standards::Reading::measured(0));
  }
  for (std::string_view present : {"有", "present", "yes", "1"}) {
    if (*cell == present) {
      return std::optional<standards::Reading>(standards::Reading::measured(1));
    }
  }
  return core::fail(core::Error{"bad_value", "column " + std::string(column) + ": '" +
                                                 std::string(*cell) +
                                                 "' is not 无/有 (none/present)"});
}

class GroundwaterAssessor final : public Assessor {
 public:
  std::vector<std::string> columns(const std::vector<std::string>& input_header) const override {
    std::vector<std::string> out = {"class", "worst_items"};
    for (const gw::LimitRow& r : gw::table1().rows) {
      for (const std::string& h : input_header) {
        if (h == r.code) {
          out.push_back("class_" + std::string(r.code));
          break;
        }
      }
    }
    return out;
  }

  core::Result<std::vector<std::string>> assess(const CsvRow& row) const override {
    gw::Sample sample;
    std::vector<gw::Item> present;
    for (const gw::LimitRow& r : gw::table1().rows) {
      if (!row.has_column(r.code)) continue;
      present.push_back(r.item);
      auto reading =
          r.bound == gw::Bound::kPresence ? presence_cell(row, r.code) : reading_cell(row, r.code);
      if (!reading) return core::fail(reading.error());
      sample[r.item] = *reading;
    }
    auto result = gw::evaluate(sample);
    if (!result) {
      return core::fail(core::Error{result.error().reason, "column " + result.error().detail});
    }
    std::vector<std::string> out;
    out.push_back(result->overall ? std::string(gw::class_name(*result->overall)) : "");
    std::string worst;
    for (gw::Item item : result->worst_items) {
      if (!worst.empty()) worst += ';';
      worst += gw::row(item).code;
    }
    out.push_back(worst);
    for (gw::Item item : present) {
      const auto& c = result->item_class[static_cast<std::size_t>(item)];
      out.push_back(c ? std::string(gw::class_name(*c)) : "");
    }
    return out;
  }
};

}  // namespace

core::Result<std::unique_ptr<Assessor>> make_groundwater_assessor(const AssessOptions& options) {
  if (auto ok = check_options(options, {}); !ok) return core::fail(ok.error());
  return std::unique_ptr<Assessor>(std::make_unique<GroundwaterAssessor>());
}

}  // namespace ecomon::app
