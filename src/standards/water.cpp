#include "standards/water.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include "core/non_detect.h"

namespace ecomon::standards {

namespace {

bool equals_ascii_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::optional<Reading> parse_non_detect(std::string_view text) {
  const auto nd = core::parse_non_detect(text);
  if (!nd) return std::nullopt;
  return Reading::below_detection(nd->detection_limit.value_or(0));
}

namespace water {

namespace {

std::size_t index(Item i) { return static_cast<std::size_t>(i); }

std::string number_text(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

core::Unexpected<core::Error> bad_value(Item item, const std::string& what) {
  return core::fail(core::Error{"bad_value", std::string(item_info(item).code) + ": " + what});
}

// The checks every evaluation makes before using a reading.
core::Result<void> validate(Item item, const Reading& r) {
  if (item == Item::kWaterTemp) return {};  // °C; below zero is possible, and it has no class
  if (r.not_detected && (item == Item::kPh || item == Item::kDo)) {
    return bad_value(item, "a non-detect has no meaning for this item");
  }
  if (r.value < 0) return bad_value(item, number_text(r.value) + " is negative");
  if (item == Item::kPh && r.value > 14) {
    return bad_value(item, number_text(r.value) + " is outside 0–14");
  }
  return {};
}

const LimitRow* find_row(const LimitTable& table, Item item, WaterBody body) {
  for (const LimitRow& row : table.rows) {
    if (row.item != item) continue;
    if (row.applies_to == AppliesTo::kAll ||
        (row.applies_to == AppliesTo::kRiver && body == WaterBody::kRiver) ||
        (row.applies_to == AppliesTo::kLake && body == WaterBody::kLake)) {
      return &row;
    }
  }
  return nullptr;
}

bool meets(const LimitRow& row, std::size_t k, double v) {
  switch (row.bound) {
    case Bound::kAtMost:
      return v <= row.limit[k];
    case Bound::kAtLeast:
      return v >= row.limit[k];
    case Bound::kWithin:
      return v >= row.low[k] && v <= row.limit[k];
  }
  return false;
}

// TLI parameters: r_ij (correlation with chl-a) and TLI(j) = 10·(a + b·ln C), 2011 method
// 二 湖泊、水库营养状态评价 (the sheet, §4.5; the formulas agree with public code).
struct TrophicRow {
  TrophicParameter parameter;
  double r;
  double a;
  double b;
  std::string_view clause;
};
constexpr TrophicRow kTrophicRows[kTrophicParameterCount] = {
    {TrophicParameter::kChla, 1.0, 2.5, 1.086, "2011评价办法 湖库营养状态 TLI(chla)"},
    {TrophicParameter::kTp, 0.84, 9.436, 1.624, "2011评价办法 湖库营养状态 TLI(TP)"},
    {TrophicParameter::kTn, 0.82, 5.453, 1.694, "2011评价办法 湖库营养状态 TLI(TN)"},
    {TrophicParameter::kSd, -0.83, 5.118, -1.94, "2011评价办法 湖库营养状态 TLI(SD)"},
    {TrophicParameter::kCodMn, 0.83, 0.109, 2.661, "2011评价办法 湖库营养状态 TLI(CODMn)"},
};

// CWQI evaluation values of the 2017 rules that are not a Class III limit.
constexpr double kCwqiDoStandard = 5.0;  // C_s of DO, mg/L
constexpr double kCwqiPhNeutral = 7.0;
constexpr double kCwqiPhLow = 6.0;   // pH_sd
constexpr double kCwqiPhHigh = 9.0;  // pH_su

}  // namespace

const ItemInfo& item_info(Item item) { return items()[index(item)]; }

std::optional<Item> item_by_code(std::string_view code) {
  for (const ItemInfo& info : items()) {
    if (info.code == code) return info.item;
  }
  return std::nullopt;
}

std::optional<Item> item_by_hj212(std::string_view code) {
  for (const auto& [c, item] : kHj212WaterItems) {
    if (c == code) return item;
  }
  return std::nullopt;
}

const LimitTable* table1_for(const Date& date) {
  return table1().validity.covers(date) ? &table1() : nullptr;
}

const SupplementaryLimit* table2_item(std::string_view code) {
  for (const SupplementaryLimit& row : table2()) {
    if (row.code == code) return &row;
  }
  return nullptr;
}

const SupplementaryLimit* supplementary_by_hj212(std::string_view code) {
  for (const auto& [hj212, item] : kHj212SupplementaryItems) {
    if (hj212 == code) return table2_item(item);
  }
  return nullptr;
}

std::string_view class_name(Class c) {
  switch (c) {
    case Class::kI:
      return "I";
    case Class::kII:
      return "II";
    case Class::kIII:
      return "III";
    case Class::kIV:
      return "IV";
    case Class::kV:
      return "V";
    case Class::kWorseThanV:
      return "劣V";
  }
  return "";
}

std::string_view status_name(Status s) {
  switch (s) {
    case Status::kExcellent:
      return "优";
    case Status::kGood:
      return "良好";
    case Status::kLightlyPolluted:
      return "轻度污染";
    case Status::kModeratelyPolluted:
      return "中度污染";
    case Status::kHeavilyPolluted:
      return "重度污染";
  }
  return "";
}

// 2011 method, 断面水质定性评价 table.
Status status_of(Class c) {
  switch (c) {
    case Class::kI:
    case Class::kII:
      return Status::kExcellent;
    case Class::kIII:
      return Status::kGood;
    case Class::kIV:
      return Status::kLightlyPolluted;
    case Class::kV:
      return Status::kModeratelyPolluted;
    case Class::kWorseThanV:
      return Status::kHeavilyPolluted;
  }
  return Status::kHeavilyPolluted;
}

std::optional<WaterBody> parse_water_body(std::string_view text) {
  for (std::string_view river : {"river", "河流", "河"}) {
    if (equals_ascii_nocase(text, river)) return WaterBody::kRiver;
  }
  for (std::string_view lake : {"lake", "reservoir", "湖泊", "湖", "水库", "湖库", "湖、库"}) {
    if (equals_ascii_nocase(text, lake)) return WaterBody::kLake;
  }
  return std::nullopt;
}

core::Result<std::optional<Class>> item_class(Item item, const Reading& reading, WaterBody body,
                                              const LimitTable& table) {
  if (auto ok = validate(item, reading); !ok) return core::fail(ok.error());
  const LimitRow* row = find_row(table, item, body);
  if (row == nullptr) return std::optional<Class>();
  // Below the detection limit: class I, as the sheet's implementation note says (validate()
  // already refused a non-detect of the ≥ and range items).
  if (reading.not_detected) return std::optional<Class>(Class::kI);
  for (std::size_t k = 0; k < 5; ++k) {
    if (meets(*row, k, reading.value)) return std::optional<Class>(static_cast<Class>(k + 1));
  }
  return std::optional<Class>(Class::kWorseThanV);
}

std::optional<double> class_iii_limit(Item item, WaterBody body, const LimitTable& table) {
  const LimitRow* row = find_row(table, item, body);
  if (row == nullptr || row->bound != Bound::kAtMost) return std::nullopt;
  return row->limit[2];
}

core::Result<SectionResult> evaluate_section(const Sample& sample, WaterBody body,
                                             const LimitTable& table) {
  SectionResult out;
  for (const ItemInfo& info : items()) {
    const auto& reading = sample[info.item];
    if (!reading) continue;
    auto c = item_class(info.item, *reading, body, table);
    if (!c) return core::fail(c.error());
    out.item_class[index(info.item)] = *c;
    if (!info.in_class || !*c) continue;
    out.evaluated.push_back(info.item);
    if (!out.section_class || **c > *out.section_class) out.section_class = **c;
    if (**c > Class::kIII) {
      Exceedance e{info.item, **c, std::nullopt};
      if (info.has_multiple && !reading->not_detected) {
        if (const auto s = class_iii_limit(info.item, body, table)) {
          e.multiple = (reading->value - *s) / *s;
        }
      }
      out.exceedances.push_back(e);
    }
  }
  if (out.section_class) out.status = status_of(*out.section_class);
  // The sheet (§4.6) ranks by exceedance multiple; DO and pH have none, so they follow, the
  // worse class first. stable_sort keeps the table order of ties.
  std::stable_sort(out.exceedances.begin(), out.exceedances.end(),
                   [](const Exceedance& a, const Exceedance& b) {
                     if (a.multiple && b.multiple) return *a.multiple > *b.multiple;
                     if (a.multiple != b.multiple) return a.multiple.has_value();
                     return a.item_class > b.item_class;
                   });
  for (const Exceedance& e : out.exceedances) {
    if (out.main_pollutants.size() == 3) break;
    out.main_pollutants.push_back(e.item);
  }
  return out;
}

// 2011 method, 河流、流域（水系）水质评价: 断面水质类别比例法. Integer comparisons keep the
// boundaries exact (9 of 10 sections is 90 %, not 89.999…).
core::Result<ProportionResult> status_by_section_proportion(
    std::span<const Class> section_classes) {
  const std::size_t n = section_classes.size();
  if (n < 5) {
    return core::fail(core::Error{"too_few_sections",
                                  std::to_string(n) + " sections; the section-proportion method "
                                                      "needs at least 5 (average the "
                                                      "concentrations instead)"});
  }
  std::size_t good = 0, worst = 0;
  for (Class c : section_classes) {
    if (c <= Class::kIII) ++good;
    if (c == Class::kWorseThanV) ++worst;
  }
  ProportionResult out;
  out.sections = n;
  out.share_i_to_iii_percent = 100.0 * static_cast<double>(good) / static_cast<double>(n);
  out.share_worse_than_v_percent = 100.0 * static_cast<double>(worst) / static_cast<double>(n);
  const std::size_t good100 = good * 100, worst100 = worst * 100;
  if (good100 >= 90 * n) {
    out.status = Status::kExcellent;
  } else if (good100 >= 75 * n) {
    out.status = Status::kGood;
  } else if (worst100 < 20 * n) {
    out.status = Status::kLightlyPolluted;
  } else if (worst100 < 40 * n) {
    out.status = Status::kModeratelyPolluted;
  } else if (good100 < 60 * n) {
    out.status = Status::kHeavilyPolluted;
  }
  // else: exactly 60 % I–III and 40 % 劣V, the combination the table does not cover.
  return out;
}

core::Result<Sample> mean_sample(std::span<const Sample> samples) {
  Sample out;
  for (const ItemInfo& info : items()) {
    double sum = 0, max_detection_limit = 0;
    std::size_t n = 0, non_detects = 0;
    for (const Sample& s : samples) {
      const auto& r = s[info.item];
      if (!r) continue;
      if (auto ok = validate(info.item, *r); !ok) return core::fail(ok.error());
      ++n;
      if (r->not_detected) {
        ++non_detects;
        max_detection_limit = std::max(max_detection_limit, r->value);
        if (r->value <= 0) {
          return bad_value(info.item,
                           "a non-detect without its detection limit cannot be averaged");
        }
        sum += r->value / 2;
      } else {
        sum += r->value;
      }
    }
    if (n == 0) continue;
    out[info.item] = non_detects == n ? Reading::below_detection(max_detection_limit)
                                      : Reading::measured(sum / static_cast<double>(n));
  }
  return out;
}

core::Result<RiverResult> evaluate_river(std::span<const Sample> sections, WaterBody body,
                                         const LimitTable& table) {
  if (sections.empty()) return core::fail(core::Error{"no_data", "no sections"});
  RiverResult out;
  if (sections.size() >= 5) {
    std::vector<Class> classes;
    for (std::size_t i = 0; i < sections.size(); ++i) {
      auto r = evaluate_section(sections[i], body, table);
      if (!r) {
        return core::fail(core::Error{
            r.error().reason, "section " + std::to_string(i + 1) + ": " + r.error().detail});
      }
      if (!r->section_class) {
        return core::fail(
            core::Error{"no_data", "section " + std::to_string(i + 1) + " has no class item"});
      }
      classes.push_back(*r->section_class);
    }
    auto p = status_by_section_proportion(classes);
    if (!p) return core::fail(p.error());
    out.method = RiverMethod::kSectionProportion;
    out.status = p->status;
    out.proportion = *p;
    return out;
  }
  auto mean = mean_sample(sections);
  if (!mean) return core::fail(mean.error());
  auto r = evaluate_section(*mean, body, table);
  if (!r) return core::fail(r.error());
  out.method = RiverMethod::kMeanConcentration;
  out.status = r->status;
  out.mean_section = std::move(*r);
  return out;
}

std::string_view trophic_state_name(TrophicState s) {
  switch (s) {
    case TrophicState::kOligotrophic:
      return "贫营养";
    case TrophicState::kMesotrophic:
      return "中营养";
    case TrophicState::kLightlyEutrophic:
      return "轻度富营养";
    case TrophicState::kModeratelyEutrophic:
      return "中度富营养";
    case TrophicState::kSeverelyEutrophic:
      return "重度富营养";
  }
  return "";
}

TrophicState trophic_state_of(double tli) {
  if (tli < 30) return TrophicState::kOligotrophic;
  if (tli <= 50) return TrophicState::kMesotrophic;
  if (tli <= 60) return TrophicState::kLightlyEutrophic;
  if (tli <= 70) return TrophicState::kModeratelyEutrophic;
  return TrophicState::kSeverelyEutrophic;
}

core::Result<TliResult> trophic_level_index(const TrophicInputs& in) {
  const std::array<std::optional<double>, kTrophicParameterCount> values = {
      in.chla_mgm3, in.tp_mgl, in.tn_mgl, in.sd_m, in.codmn_mgl};
  constexpr std::string_view kNames[kTrophicParameterCount] = {"chla", "tp", "tn", "sd", "codmn"};
  TliResult out;
  double r2_sum = 0;
  for (std::size_t j = 0; j < kTrophicParameterCount; ++j) {
    if (!values[j]) continue;
    if (!(*values[j] > 0)) {
      return core::fail(core::Error{"bad_value", std::string(kNames[j]) + ": " +
                                                     number_text(*values[j]) +
                                                     " must be > 0 (TLI takes its logarithm)"});
    }
    const TrophicRow& row = kTrophicRows[j];
    out.partial[j] = 10 * (row.a + row.b * std::log(*values[j]));
    r2_sum += row.r * row.r;
  }
  if (r2_sum == 0) return core::fail(core::Error{"no_data", "no TLI parameter given"});
  for (std::size_t j = 0; j < kTrophicParameterCount; ++j) {
    if (!out.partial[j]) continue;
    out.weight[j] = kTrophicRows[j].r * kTrophicRows[j].r / r2_sum;
    out.tli += out.weight[j] * *out.partial[j];
  }
  out.state = trophic_state_of(out.tli);
  return out;
}

core::Result<CwqiResult> section_cwqi(const Sample& sample, WaterBody body,
                                      const LimitTable& table) {
  CwqiResult out;
  for (const ItemInfo& info : items()) {
    const auto& r = sample[info.item];
    if (!r || !info.in_class) continue;
    if (auto ok = validate(info.item, *r); !ok) return core::fail(ok.error());
    if (r->not_detected) {
      return bad_value(info.item, "the CWQI rules as read give no value for a non-detect");
    }
    double index_value = 0;
    if (info.item == Item::kPh) {
      index_value = r->value <= kCwqiPhNeutral
                        ? (kCwqiPhNeutral - r->value) / (kCwqiPhNeutral - kCwqiPhLow)
                        : (r->value - kCwqiPhNeutral) / (kCwqiPhHigh - kCwqiPhNeutral);
    } else if (info.item == Item::kDo) {
      if (r->value <= 0) return bad_value(info.item, "CWQI of DO needs DO > 0 (5 / C)");
      index_value = kCwqiDoStandard / r->value;
    } else {
      const auto s = class_iii_limit(info.item, body, table);
      if (!s) continue;
      index_value = r->value / *s;
    }
    out.item_index[index(info.item)] = index_value;
    out.cwqi += index_value;
    ++out.items;
  }
  if (out.items == 0) return core::fail(core::Error{"no_data", "no CWQI item present"});
  return out;
}

core::Result<double> mean_cwqi(std::span<const double> section_values) {
  if (section_values.empty()) return core::fail(core::Error{"no_data", "no section CWQI"});
  double sum = 0;
  for (double v : section_values) sum += v;
  return sum / static_cast<double>(section_values.size());
}

core::Result<bool> meets_supplementary_limit(const SupplementaryLimit& row,
                                             const Reading& reading) {
  if (reading.value < 0) {
    return core::fail(core::Error{
        "bad_value", std::string(row.code) + ": " + number_text(reading.value) + " is negative"});
  }
  return reading.not_detected || reading.value <= row.limit_mgl;
}

}  // namespace water
}  // namespace ecomon::standards
