// The breakpoint tables of the AQI editions (data, reviewed against the standards' texts).
// Internal to standards/aqi.cpp; see aqi.h for the contract.
#pragma once

#include <array>
#include <span>
#include <string_view>

#include "standards/aqi.h"

namespace ecomon::standards::aqi::tables {

enum class Averaging : std::uint8_t { k1h, k8h, k24h };

// HJ 633: breakpoints for IAQI 0, 50, 100, 150, 200, 300, 400, 500; `count` < 8 when the row
// stops early (SO2 1-h at 800, O3 8-h at 800: the special rules of the table notes apply above).
inline constexpr std::array<int, 8> kChinaIndex = {0, 50, 100, 150, 200, 300, 400, 500};

struct ChinaRow {
  Pollutant pollutant;
  Averaging averaging;
  std::array<Decimal, 8> bp;
  int count;
  std::string_view clause;
};

struct ChinaEdition {
  Standard standard;
  Validity validity;  // data dates the edition applies to (Beijing time)
  std::span<const ChinaRow> rows;
  bool round_concentrations;  // HJ 633-2026 §4.2.2
  std::string_view clause;
};

// US EPA: one segment of a row: [c_lo, c_hi] → [i_lo, i_hi].
struct UsSegment {
  Decimal c_lo, c_hi;
  int i_lo, i_hi;
};
enum class UsItem : std::uint8_t {
  kO3_8h,
  kO3_1h,
  kPm25,
  kPm10,
  kCo8h,
  kSo2_1h,
  kSo2_24h,
  kNo2_1h
};
struct UsRow {
  UsItem item;
  std::span<const UsSegment> segments;
  int truncate_places;  // concentrations are truncated to this many decimals first
  std::string_view clause;
};

std::span<const ChinaEdition> china_editions();
const ChinaEdition& china_edition(Standard s);
const ChinaRow* china_row(const ChinaEdition& e, Pollutant p, Averaging a);
const UsRow& us_row(UsItem item);

}  // namespace ecomon::standards::aqi::tables
