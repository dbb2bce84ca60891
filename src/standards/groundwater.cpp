#include "standards/groundwater.h"

#include <charconv>
#include <string>

namespace ecomon::standards::groundwater {

namespace {

constexpr std::array<double, 4> kNoLow = {0, 0, 0, 0};

// Shorthands that keep each table row on one line: a "≤" row, and its flags.
constexpr LimitRow at_most(Item item, std::string_view code, std::string_view name,
                           std::string_view unit, std::array<double, 4> limit,
                           std::string_view clause) {
  return LimitRow{item, code, name, unit, Bound::kAtMost, limit, kNoLow, false, false, clause};
}

// GB/T 14848-2017 表1 地下水质量常规指标及限值, classes I..IV (V = beyond IV). Review against
// ../shared/reference/standards/GB-T14848-2017-groundwater.md §2.
constexpr LimitRow kRows[kItemCount] = {
    // 感官性状及一般化学指标
    at_most(Item::kColor, "color_pcu", "色（铂钴色度单位）", "铂钴色度单位", {5, 5, 15, 25},
            "GB/T 14848-2017 表1 第1项"),
    {Item::kOdor,
     "odor",
     "嗅和味",
     "无/有",
     Bound::kPresence,
     {0, 0, 0, 0},
     kNoLow,
     false,
     false,
     "GB/T 14848-2017 表1 第2项"},
    at_most(Item::kTurbidity, "turbidity_ntu", "浑浊度", "NTU", {3, 3, 3, 10},
            "GB/T 14848-2017 表1 第3项"),
    {Item::kVisibleMatter,
     "visible_matter",
     "肉眼可见物",
     "无/有",
     Bound::kPresence,
     {0, 0, 0, 0},
     kNoLow,
     false,
     false,
     "GB/T 14848-2017 表1 第4项"},
    // I–III 6.5 ≤ pH ≤ 8.5; IV 5.5 ≤ pH < 6.5 or 8.5 < pH ≤ 9.0; V pH < 5.5 or pH > 9.0. Scanned
    // from I, the IV range [5.5, 9.0] only catches what the I–III range did not.
    {Item::kPh,
     "ph",
     "pH",
     "",
     Bound::kWithin,
     {8.5, 8.5, 8.5, 9.0},
     {6.5, 6.5, 6.5, 5.5},
     false,
     false,
     "GB/T 14848-2017 表1 第5项"},
    at_most(Item::kTotalHardness, "total_hardness", "总硬度（以CaCO3计）", "mg/L",
            {150, 300, 450, 650}, "GB/T 14848-2017 表1 第6项"),
    at_most(Item::kTds, "tds", "溶解性总固体", "mg/L", {300, 500, 1000, 2000},
            "GB/T 14848-2017 表1 第7项"),
    at_most(Item::kSulfate, "so4", "硫酸盐", "mg/L", {50, 150, 250, 350},
            "GB/T 14848-2017 表1 第8项"),
    at_most(Item::kChloride, "cl", "氯化物", "mg/L", {50, 150, 250, 350},
            "GB/T 14848-2017 表1 第9项"),
    at_most(Item::kFe, "fe", "铁", "mg/L", {0.1, 0.2, 0.3, 2.0}, "GB/T 14848-2017 表1 第10项"),
    at_most(Item::kMn, "mn", "锰", "mg/L", {0.05, 0.05, 0.10, 1.50}, "GB/T 14848-2017 表1 第11项"),
    at_most(Item::kCu, "cu", "铜", "mg/L", {0.01, 0.05, 1.00, 1.50}, "GB/T 14848-2017 表1 第12项"),
    at_most(Item::kZn, "zn", "锌", "mg/L", {0.05, 0.5, 1.00, 5.00}, "GB/T 14848-2017 表1 第13项"),
    at_most(Item::kAl, "al", "铝", "mg/L", {0.01, 0.05, 0.20, 0.50}, "GB/T 14848-2017 表1 第14项"),
    at_most(Item::kPhenol, "phenol", "挥发性酚类（以苯酚计）", "mg/L", {0.001, 0.001, 0.002, 0.01},
            "GB/T 14848-2017 表1 第15项"),
    // Class I: 不得检出. limit[0] is unused (class_i_not_detected).
    {Item::kLas,
     "las",
     "阴离子表面活性剂",
     "mg/L",
     Bound::kAtMost,
     {0, 0.1, 0.3, 0.3},
     kNoLow,
     true,
     false,
     "GB/T 14848-2017 表1 第16项"},
    at_most(Item::kCodMn, "codmn", "耗氧量（CODMn法，以O2计）", "mg/L", {1.0, 2.0, 3.0, 10.0},
            "GB/T 14848-2017 表1 第17项"),
    at_most(Item::kNh3n, "nh3n", "氨氮（以N计）", "mg/L", {0.02, 0.10, 0.50, 1.50},
            "GB/T 14848-2017 表1 第18项"),
    at_most(Item::kS2, "s2", "硫化物", "mg/L", {0.005, 0.01, 0.02, 0.10},
            "GB/T 14848-2017 表1 第19项"),
    at_most(Item::kNa, "na", "钠", "mg/L", {100, 150, 200, 400}, "GB/T 14848-2017 表1 第20项"),
    // 微生物指标
    at_most(Item::kTotalColiforms, "total_coliforms_mpn100ml", "总大肠菌群", "MPN/100mL",
            {3.0, 3.0, 3.0, 100}, "GB/T 14848-2017 表1 第21项"),
    at_most(Item::kBacteria, "bacteria_cfuml", "菌落总数", "CFU/mL", {100, 100, 100, 1000},
            "GB/T 14848-2017 表1 第22项"),
    // 毒理学指标
    at_most(Item::kNitrite, "no2n", "亚硝酸盐（以N计）", "mg/L", {0.01, 0.10, 1.00, 4.80},
            "GB/T 14848-2017 表1 第23项"),
    at_most(Item::kNitrate, "no3n", "硝酸盐（以N计）", "mg/L", {2.0, 5.0, 20.0, 30.0},
            "GB/T 14848-2017 表1 第24项"),
    at_most(Item::kCn, "cn", "氰化物", "mg/L", {0.001, 0.01, 0.05, 0.1},
            "GB/T 14848-2017 表1 第25项"),
    at_most(Item::kF, "f", "氟化物", "mg/L", {1.0, 1.0, 1.0, 2.0}, "GB/T 14848-2017 表1 第26项"),
    at_most(Item::kIodide, "iodide", "碘化物", "mg/L", {0.04, 0.04, 0.08, 0.50},
            "GB/T 14848-2017 表1 第27项"),
    at_most(Item::kHg, "hg", "汞", "mg/L", {0.0001, 0.0001, 0.001, 0.002},
            "GB/T 14848-2017 表1 第28项"),
    at_most(Item::kAs, "as", "砷", "mg/L", {0.001, 0.001, 0.01, 0.05},
            "GB/T 14848-2017 表1 第29项"),
    at_most(Item::kSe, "se", "硒", "mg/L", {0.01, 0.01, 0.01, 0.1}, "GB/T 14848-2017 表1 第30项"),
    at_most(Item::kCd, "cd", "镉", "mg/L", {0.0001, 0.001, 0.005, 0.01},
            "GB/T 14848-2017 表1 第31项"),
    at_most(Item::kCr6, "cr6", "铬（六价）", "mg/L", {0.005, 0.01, 0.05, 0.10},
            "GB/T 14848-2017 表1 第32项"),
    at_most(Item::kPb, "pb", "铅", "mg/L", {0.005, 0.005, 0.01, 0.10},
            "GB/T 14848-2017 表1 第33项"),
    at_most(Item::kChloroform, "chloroform_ugl", "三氯甲烷", "µg/L", {0.5, 6, 60, 300},
            "GB/T 14848-2017 表1 第34项"),
    at_most(Item::kCcl4, "ccl4_ugl", "四氯化碳", "µg/L", {0.5, 0.5, 2.0, 50.0},
            "GB/T 14848-2017 表1 第35项"),
    at_most(Item::kBenzene, "benzene_ugl", "苯", "µg/L", {0.5, 1.0, 10.0, 120},
            "GB/T 14848-2017 表1 第36项"),
    at_most(Item::kToluene, "toluene_ugl", "甲苯", "µg/L", {0.5, 140, 700, 1400},
            "GB/T 14848-2017 表1 第37项"),
    // 放射性指标: IV and V both read "> III limit" (limit[3] repeats III and is unused).
    {Item::kGrossAlpha,
     "gross_alpha_bql",
     "总α放射性",
     "Bq/L",
     Bound::kAtMost,
     {0.1, 0.1, 0.5, 0.5},
     kNoLow,
     false,
     true,
     "GB/T 14848-2017 表1 第38项"},
    {Item::kGrossBeta,
     "gross_beta_bql",
     "总β放射性",
     "Bq/L",
     Bound::kAtMost,
     {0.1, 1.0, 1.0, 1.0},
     kNoLow,
     false,
     true,
     "GB/T 14848-2017 表1 第39项"},
};

constexpr bool rows_in_item_order() {
  for (std::size_t i = 0; i < kItemCount; ++i) {
    if (static_cast<std::size_t>(kRows[i].item) != i) return false;
  }
  return true;
}
static_assert(rows_in_item_order(), "row(Item) indexes kRows by Item");

constexpr LimitTable kTable1 = {"GB/T 14848-2017 表1", {{2018, 5, 1}, std::nullopt}, kRows};

std::string number_text(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

core::Unexpected<core::Error> bad_value(const LimitRow& r, const std::string& what) {
  return core::fail(core::Error{"bad_value", std::string(r.code) + ": " + what});
}

const LimitRow* find_row(const LimitTable& table, Item item) {
  for (const LimitRow& r : table.rows) {
    if (r.item == item) return &r;
  }
  return nullptr;
}

}  // namespace

const LimitTable& table1() { return kTable1; }

const LimitTable* table1_for(const Date& date) {
  return kTable1.validity.covers(date) ? &kTable1 : nullptr;
}

const LimitRow& row(Item item) { return kRows[static_cast<std::size_t>(item)]; }

std::optional<Item> item_by_code(std::string_view code) {
  for (const LimitRow& r : kRows) {
    if (r.code == code) return r.item;
  }
  return std::nullopt;
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
    case Class::kIVorV:
      return "IV/V";
    case Class::kV:
      return "V";
  }
  return "";
}

core::Result<Class> item_class(Item item, const Reading& reading, const LimitTable& table) {
  const LimitRow* r = find_row(table, item);
  if (r == nullptr) {
    return core::fail(core::Error{"bad_value", "item not in " + std::string(table.name)});
  }
  if (reading.value < 0) return bad_value(*r, number_text(reading.value) + " is negative");
  switch (r->bound) {
    case Bound::kPresence:
      if (reading.not_detected) return Class::kI;
      if (reading.value == 0) return Class::kI;
      if (reading.value == 1) return Class::kV;
      return bad_value(*r, number_text(reading.value) + " is neither 0 (无) nor 1 (有)");
    case Bound::kWithin:
      if (reading.not_detected) return bad_value(*r, "a non-detect has no meaning for pH");
      if (reading.value > 14) return bad_value(*r, number_text(reading.value) + " is outside 0–14");
      for (std::size_t k = 0; k < 4; ++k) {
        if (reading.value >= r->low[k] && reading.value <= r->limit[k]) {
          return static_cast<Class>(k + 1);
        }
      }
      return Class::kV;
    case Bound::kAtMost:
      break;
  }
  // Below the detection limit: class I (the sheet §3). For a 不得检出 item that is the only way
  // to class I.
  if (reading.not_detected) return Class::kI;
  const std::size_t first = r->class_i_not_detected ? 1 : 0;
  const std::size_t end = r->above_iii_undifferentiated ? 3 : 4;  // I..III or I..IV have limits
  for (std::size_t k = first; k < end; ++k) {
    if (reading.value <= r->limit[k]) return static_cast<Class>(k + 1);
  }
  return r->above_iii_undifferentiated ? Class::kIVorV : Class::kV;
}

core::Result<Evaluation> evaluate(const Sample& sample, const LimitTable& table) {
  Evaluation out;
  for (std::size_t i = 0; i < kItemCount; ++i) {
    if (!sample.readings[i]) continue;
    auto c = item_class(static_cast<Item>(i), *sample.readings[i], table);
    if (!c) return core::fail(c.error());
    out.item_class[i] = *c;
    if (!out.overall || *c > *out.overall) out.overall = *c;
  }
  if (out.overall) {
    for (std::size_t i = 0; i < kItemCount; ++i) {
      if (out.item_class[i] == out.overall) out.worst_items.push_back(static_cast<Item>(i));
    }
  }
  return out;
}

}  // namespace ecomon::standards::groundwater
