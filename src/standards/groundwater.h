// Groundwater quality: GB/T 14848-2017 《地下水质量标准》 (in force since 2018-05-01), the 39
// routine indicators of 表1 [常规指标], single-indicator and comprehensive evaluation.
//
// Contract:
// - Units are those of 表1, per indicator (ItemInfo::unit): mg/L for most, µg/L for the four
//   organics (三氯甲烷, 四氯化碳, 苯, 甲苯), Bq/L for gross α/β, NTU, 铂钴色度单位 for colour,
//   MPN/100 mL (or CFU/100 mL) for total coliforms, CFU/mL for the bacterial count.
// - 嗅和味 and 肉眼可见物 are presence items: the Reading's value is 0 for 无 (none), 1 for 有
//   (present); a non-detect is 无.
// - Missing vs zero: an empty std::optional is a missing indicator and takes no part; 0 is a
//   measured value. A non-detect (Reading::not_detected) is class I — for 阴离子表面活性剂,
//   whose class I reads 不得检出, only a non-detect is class I.
// - Errors are core::Result ("bad_value", the item code in the detail): a negative value, a pH
//   outside 0–14 or given as a non-detect, a presence value other than 0 or 1. Nothing throws.
// - Pure: no I/O, no clock, only constant tables; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "standards/edition.h"
#include "standards/water.h"  // Reading

namespace ecomon::standards::groundwater {

// GB/T 14848-2017 表1, in the table's order (第1项 … 第39项).
enum class Item : std::uint8_t {
  kColor,          // 色
  kOdor,           // 嗅和味
  kTurbidity,      // 浑浊度
  kVisibleMatter,  // 肉眼可见物
  kPh,
  kTotalHardness,  // 总硬度（以CaCO3计）
  kTds,            // 溶解性总固体
  kSulfate,        // 硫酸盐
  kChloride,       // 氯化物
  kFe,
  kMn,
  kCu,
  kZn,
  kAl,
  kPhenol,  // 挥发性酚类（以苯酚计）
  kLas,     // 阴离子表面活性剂
  kCodMn,   // 耗氧量（CODMn法，以O2计）
  kNh3n,    // 氨氮（以N计）
  kS2,      // 硫化物
  kNa,
  kTotalColiforms,  // 总大肠菌群
  kBacteria,        // 菌落总数
  kNitrite,         // 亚硝酸盐（以N计）
  kNitrate,         // 硝酸盐（以N计）
  kCn,              // 氰化物
  kF,               // 氟化物
  kIodide,          // 碘化物
  kHg,
  kAs,
  kSe,
  kCd,
  kCr6,  // 铬（六价）
  kPb,
  kChloroform,  // 三氯甲烷
  kCcl4,        // 四氯化碳
  kBenzene,     // 苯
  kToluene,     // 甲苯
  kGrossAlpha,  // 总α放射性
  kGrossBeta,   // 总β放射性
};
inline constexpr std::size_t kItemCount = 39;

// Groundwater quality class [地下水质量类别]. kIVorV: gross α/β above the Class III limit, where
// 表1 gives "> limit" for both IV and V and so does not tell them apart; it ranks between IV and
// V (the truth is one of them) and calls for nuclide analysis (表1 注).
enum class Class : std::uint8_t { kI = 1, kII, kIII, kIV, kIVorV, kV };

// kAtMost: class k when value ≤ limit[k], V above limit[IV]. kWithin (pH): class k when
// low[k] ≤ value ≤ limit[k], V outside the IV range. kPresence: 0 (无) → I, 1 (有) → V.
enum class Bound : std::uint8_t { kAtMost, kWithin, kPresence };

struct LimitRow {
  Item item;
  std::string_view code;     // column name of `ecomon assess groundwater`
  std::string_view name_zh;  // the standard's words
  std::string_view unit;
  Bound bound;
  std::array<double, 4> limit;      // classes I..IV
  std::array<double, 4> low;        // kWithin only
  bool class_i_not_detected;        // class I is 不得检出 (only a non-detect is class I)
  bool above_iii_undifferentiated;  // IV and V both "> III limit" → kIVorV
  std::string_view clause;
};

struct LimitTable {
  std::string_view name;
  Validity validity;
  std::span<const LimitRow> rows;  // in Item order
};

const LimitTable& table1();                      // GB/T 14848-2017 表1
const LimitTable* table1_for(const Date& date);  // nullptr before 2018-05-01
const LimitRow& row(Item item);                  // of table1()
std::optional<Item> item_by_code(std::string_view code);

std::string_view class_name(Class c);  // "I" … "V", "IV/V" for kIVorV

// Single-indicator evaluation [单指标评价]: the class whose limit range holds the value; equal
// limits of several classes → the better class [从优不从劣], as rows are scanned from I.
core::Result<Class> item_class(Item item, const Reading& reading,
                               const LimitTable& table = table1());

struct Sample {
  std::array<std::optional<Reading>, kItemCount> readings{};  // by Item; empty = not measured

  std::optional<Reading>& operator[](Item i) { return readings[static_cast<std::size_t>(i)]; }
  const std::optional<Reading>& operator[](Item i) const {
    return readings[static_cast<std::size_t>(i)];
  }
};

struct Evaluation {
  std::array<std::optional<Class>, kItemCount> item_class{};  // by Item; nullopt = missing
  std::optional<Class> overall;   // worst indicator [综合评价]; nullopt when none is present
  std::vector<Item> worst_items;  // the indicators of that class, in table order
};

// Comprehensive evaluation [综合评价]: the worst single-indicator class, and which indicators
// set it (GB/T 14848-2017 第8章).
core::Result<Evaluation> evaluate(const Sample& sample, const LimitTable& table = table1());

}  // namespace ecomon::standards::groundwater
