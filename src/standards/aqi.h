// Air Quality Index: HJ 633-2012, HJ 633-2026 (China) and the US EPA AQI (2024 revision).
//
// The edition is chosen by the data's date (china_standard_for): HJ 633-2012 for data dated up to
// 2026-02-28, HJ 633-2026 from 2026-03-01 (Beijing time). Breakpoint tables are constant data in
// aqi_tables.cpp, each row citing its clause. Arithmetic is exact (standards/decimal.h).
//
// Units: µg/m³ for SO2, NO2, O3, PM10, PM2.5; mg/m³ for CO (feeding µg/m³ pegs CO at 500).
// A missing concentration is std::nullopt, never 0; an AQI that cannot be published is nullopt
// ("NA"). Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "standards/decimal.h"
#include "standards/edition.h"

namespace ecomon::standards::aqi {

// The items of the index. In the hourly (real-time) report kO3 is the 1-h value; in the daily
// report kO3 is the daily maximum 1-h value and kO3_8h the daily maximum 8-h sliding mean.
enum class Pollutant : std::uint8_t { kSo2, kNo2, kCo, kO3, kO3_8h, kPm10, kPm25 };
inline constexpr std::size_t kPollutantCount = 7;
inline constexpr std::array<Pollutant, kPollutantCount> kAllPollutants = {
    Pollutant::kSo2,   Pollutant::kNo2,  Pollutant::kCo,  Pollutant::kO3,
    Pollutant::kO3_8h, Pollutant::kPm10, Pollutant::kPm25};

// "SO2", "NO2", "CO", "O3", "O3_8h", "PM10", "PM2.5" — the names in `ecomon assess` output.
std::string_view pollutant_name(Pollutant p);
// 二氧化硫, 二氧化氮, 一氧化碳, 臭氧1小时, 臭氧8小时, 颗粒物(PM10), 细颗粒物(PM2.5).
std::string_view pollutant_name_zh(Pollutant p);

enum class Standard : std::uint8_t { kHj633_2012, kHj633_2026, kUsEpa2024 };
// "HJ633-2012", "HJ633-2026", "US-EPA-2024".
std::string_view standard_code(Standard s);
std::optional<Standard> parse_standard(std::string_view code);
// The HJ 633 edition for data of this (Beijing) date.
Standard china_standard_for(const Date& data_date);

// 实时报 (hourly) or 日报 (daily).
enum class Report : std::uint8_t { kHourly, kDaily };

struct Concentrations {
  std::array<std::optional<Decimal>, kPollutantCount> value;
  // Hourly report under HJ 633-2012 only: the SO2 24-h mean, whose IAQI replaces the SO2 1-h
  // IAQI when the 1-h value exceeds 800 µg/m³ (table 1 note b).
  std::optional<Decimal> so2_24h;

  std::optional<Decimal>& operator[](Pollutant p) { return value[static_cast<std::size_t>(p)]; }
  const std::optional<Decimal>& operator[](Pollutant p) const {
    return value[static_cast<std::size_t>(p)];
  }
};

// Level (级别) I..VI with its category, colour and the HJ 633 table 2 texts.
struct Level {
  int number;              // 1..6
  std::string_view roman;  // "I".."VI"
  std::string_view category;  // 优, 良, 轻度污染, 中度污染, 重度污染, 严重污染 (US: Good, ...)
  std::string_view colour;  // "#00E400", ...
  std::string_view health_effect;
  std::string_view advice;
};

struct Result {
  Standard standard = Standard::kHj633_2026;
  std::optional<int> aqi;  // nullopt: NA
  // The sub-index of every item given, including those that do not enter the AQI (the 8-h O3 of
  // the hourly report); nullopt for an item not given or not computable.
  std::array<std::optional<int>, kPollutantCount> iaqi;
  // Which items enter the AQI in this report and edition.
  std::array<bool, kPollutantCount> in_aqi{};
  std::vector<Pollutant> primary;    // none when AQI ≤ 50; all tied items
  std::vector<Pollutant> exceeding;  // IAQI > 100
  const Level* level = nullptr;      // nullptr when NA

  std::optional<int> iaqi_of(Pollutant p) const { return iaqi[static_cast<std::size_t>(p)]; }
};

// The item of the hourly AQI that an HJ 212-2017 factor code (table B.2) carries, in the units
// stations send: a21026 SO2, a21004 NO2, a21005 CO (mg/m³), a05024 O3 (its 1-h value), a34002
// PM10, a34004 PM2.5. nullopt for any other code (the 8-h O3 is not an hourly item).
inline constexpr std::array<std::pair<std::string_view, Pollutant>, 6> kHourlyHj212Codes{{
    {"a21026", Pollutant::kSo2},
    {"a21004", Pollutant::kNo2},
    {"a21005", Pollutant::kCo},
    {"a05024", Pollutant::kO3},
    {"a34002", Pollutant::kPm10},
    {"a34004", Pollutant::kPm25},
}};
std::optional<Pollutant> hourly_pollutant_of_hj212(std::string_view code);

// evaluate() by the HJ 633 edition in force on the Beijing date of `period_start_ms` (UTC ms of
// the hour's or day's start), as china_standard_for() picks it.
Result evaluate_china_at(const Concentrations& c, Report report, std::int64_t period_start_ms);

// Evaluates one hour or one day by the given edition.
//
// HJ 633 (both editions): IAQI by linear interpolation between breakpoints, rounded up; above
// the last breakpoint 500. Hourly: SO2/NO2/CO/O3 1-h values on the 1-h rows, PM 1-h values on the
// 24-h rows; the 8-h O3 gets an IAQI but does not enter the AQI (the published practice, verified
// on 13,403 CNEMC rows). Daily: 24-h rows; O3 from the daily max 8-h, and under HJ 633-2012 also
// the daily max 1-h (both are daily indicators in its §5.1). Special rows: HJ 633-2012 SO2 1-h >
// 800 → the SO2 24-h IAQI, O3 8-h > 800 → the O3 1-h IAQI; HJ 633-2026 SO2 1-h > 800 → 200,
// O3 8-h > 800 → 300. HJ 633-2026 §4.2.2 rounds concentrations first (half even; integers, CO one
// decimal). Missing items: HJ 633-2012 → the AQI of the items present (published practice);
// HJ 633-2026 §5.3.1 → NA unless the items present give an AQI above 100. Primary pollutants:
// AQI > 50, every item whose integer IAQI equals the AQI. Exceeding: IAQI > 100.
//
// US EPA 2024: concentrations converted to ppm/ppb at 25 °C and 1 atm (molar volume
// 24.465 L/mol), truncated, index rounded half up; daily PM 24-h, O3 8-h (1-h table only at
// ≥ 0.125 ppm), CO 8-h, SO2/NO2 1-h. For the hourly report give NowCast PM values (nowcast()).
Result evaluate(const Concentrations& c, Report report, Standard standard);

// The level of an AQI value under a standard (China or US categories).
const Level& level_of(int aqi, Standard standard);

// Sensitive groups named by HJ 633-2026 §7 for a pollutant whose IAQI exceeds 100.
std::string_view sensitive_groups_2026(Pollutant p);

// US EPA NowCast of the last 12 hourly PM values (latest first; nullopt = missing): needs 2 of
// the 3 latest hours; weight w = min/max, at least 0.5. Ozone variant: last 8 hours, no floor.
std::optional<double> nowcast_pm(std::span<const std::optional<double>> latest_first);
std::optional<double> nowcast_o3(std::span<const std::optional<double>> latest_first);

}  // namespace ecomon::standards::aqi
