// The air-quality indices derived from hourly means (issue #5 §1 "derived indices kept
// continuously"): the inputs of the hourly and daily AQI, the O3 8-h and PM 24-h sliding means and
// the O3 daily maximum 8-h mean, all from a station's (or a city's) valid hourly means. The stored
// indices (aggregates.h, table derived_indices) and the per-request AQI routes
// (api/aqi_routes.cpp) both compute them here, so the two give the same numbers.
//
// Hours are keyed by their START (the HJ 212 DataTime, Beijing civil hours as UTC instants); the
// standards functions (standards/air_statistics.h) label them by their END, so the hour starting
// 13:00 is the value stamped 14:00. A sliding mean is keyed here by the start of the LAST hour of
// its window (the 8-h mean "stamped 14:00" covers the hours starting 06:00 … 13:00 and is keyed
// 13:00), like an hour row.
//
//   hourly AQI (实时报): the 1-h values of SO2, NO2, CO, O3 and, on the 24-h rows, PM10 and PM2.5
//                        (HJ 633 table 1 as CNEMC publishes it; the 8-h O3 is not in it);
//   daily AQI (日报):     HJ 663 daily means of the hours starting D 00:00 … 23:00 (≥ 20 valid,
//                        GB 3095-2012 表4), O3 daily max 8-h (≥ 14 valid windows, or exceeding the
//                        class-2 limit), O3 daily max 1-h when the day has 20 valid O3 hours;
//   o3_8h:               8-h sliding mean, valid with ≥ 6 valid hours (GB 3095-2012 表4);
//   pm10_24h, pm25_24h:  24-h sliding mean, valid with ≥ 20 valid hours (air_statistics.h: the
//                        24-h rule applied to sliding means, unconfirmed in the reference sheet).
// The HJ 633 edition follows the Beijing date of the hour's or day's start (standards/aqi.h).
//
// The section water class of a surface-water sample (standards/water.h): GB 3838-2002 single-
// factor evaluation (单因子评价, 《地表水环境质量评价办法（试行）》) of the items an automatic
// station sends (HJ 212 w01001 pH, w01009 DO, w01019 CODMn, w01018 COD, w01017 BOD5, w21003 NH3-N,
// w21011 TP, w21001 TN); the class is the worst class of the class items present (a partial-item
// class, as the CNEMC release publishes it); TN of a lake or reservoir is classed as a reference
// item, outside the section class, and TN of a river has no class. The limit table is the one in
// force on the sample's Beijing date (standards::water::table1_for).
//
// Pure: no I/O, no clock; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "standards/aqi.h"
#include "standards/water.h"

namespace ecomon::derive {

// Concentrations by standards::aqi::Pollutant (µg/m³, CO mg/m³); nullopt = missing.
using AqiInputs = std::array<std::optional<double>, standards::aqi::kPollutantCount>;
// Per AQI item (standards::aqi::Pollutant index), the valid hourly values by hour start.
using ItemHours = std::array<std::map<std::int64_t, double>, standards::aqi::kPollutantCount>;

// The hourly AQI's inputs of the hour starting `hour_start_ms`.
AqiInputs hourly_aqi_inputs(const ItemHours& h, std::int64_t hour_start_ms);
// The daily AQI's inputs of the Beijing day starting `day_start_ms` (its hours only are read).
AqiInputs daily_aqi_inputs(const ItemHours& h, std::int64_t day_start_ms);
// The AQI by the HJ 633 edition of the Beijing date of `period_start_ms` (values rounded to 3
// decimals first, as the API has always done).
standards::aqi::Result evaluate_aqi(const AqiInputs& v, std::int64_t period_start_ms,
                                    standards::aqi::Report report);

// Sliding means keyed by their last hour's start (nullopt: not valid).
std::optional<double> o3_8h_at(const std::map<std::int64_t, double>& o3,
                               std::int64_t last_hour_start_ms);
std::optional<double> pm_24h_at(const std::map<std::int64_t, double>& pm,
                                std::int64_t last_hour_start_ms);
// The O3 daily max 8-h of the day starting `day_start_ms` (GB 3095 class-2 limit for the
// exceedance exception; nullopt: not valid).
std::optional<double> o3_daily_max_8h(const std::map<std::int64_t, double>& o3,
                                      std::int64_t day_start_ms);

// AqiInputs as stored text ("v0,v1,…", empty = missing; shortest round-trip decimals) and back
// (nullopt for text that is not seven such fields).
std::string encode_inputs(const AqiInputs& v);
std::optional<AqiInputs> decode_inputs(std::string_view text);

// One item of a water sample and its class (1..6 for I..劣V; nullopt: no class for this body).
struct WaterItemClass {
  std::string factor;  // HJ 212 code, e.g. "w21011"
  standards::Reading reading;
  std::optional<int> item_class;
  friend bool operator==(const WaterItemClass&, const WaterItemClass&) = default;
};

// What a stored water_class index row keeps beside its class.
struct WaterClassDetail {
  std::string standard;               // the limit table applied: "GB 3838-2002 表1"
  std::string water_body;             // "river" or "lake" (reservoirs are evaluated as lakes)
  std::vector<WaterItemClass> items;  // the items present, in kHj212WaterItems order
  std::vector<std::string> deciding;  // the class items (HJ 212 codes) whose class is the section's
  friend bool operator==(const WaterClassDetail&, const WaterClassDetail&) = default;
};

struct WaterClass {
  std::optional<int> value;  // the section class 1..6; nullopt when no class item is present
  WaterClassDetail detail;
};

// The section class of one sample measured at `sample_ms` (its Beijing date picks the table), from
// (HJ 212 code, reading) pairs (codes outside kHj212WaterItems are ignored). nullopt when no
// table covers the date; no item gives no class; a sample the standard refuses (a negative
// concentration, a pH outside 0–14) keeps its items without any class.
std::optional<WaterClass> water_class_of(
    const std::vector<std::pair<std::string, standards::Reading>>& items,
    standards::water::WaterBody body, std::int64_t sample_ms);

// WaterClassDetail as stored text and back (nullopt for text that is not such a detail):
// "standard;body;code=value[L]:class,...;code,..." (class empty when none; L marks a non-detect,
// whose value is its detection limit).
std::string encode_water_detail(const WaterClassDetail& d);
std::optional<WaterClassDetail> decode_water_detail(std::string_view text);

}  // namespace ecomon::derive
