// AQI pieces shared by the public release API (public_api.cpp) and the AQI history routes
// (aqi_routes.cpp). Internal.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "core/json_writer.h"
#include "standards/aqi.h"

namespace ecomon::api::detail {

// Concentrations by standards::aqi::Pollutant (µg/m³, CO mg/m³); nullopt = missing.
using AqiValues = std::array<std::optional<double>, standards::aqi::kPollutantCount>;

// The HJ 212 factor codes of the AQI items (units as stations send them: µg/m³, CO mg/m³). In the
// hourly report a21026 … a34004 are 1-h values; the 8-h O3 is not in the hourly AQI.
inline constexpr std::array<std::pair<std::string_view, standards::aqi::Pollutant>, 6> kAqiFactors{{
    {"a21026", standards::aqi::Pollutant::kSo2},
    {"a21004", standards::aqi::Pollutant::kNo2},
    {"a21005", standards::aqi::Pollutant::kCo},
    {"a05024", standards::aqi::Pollutant::kO3},
    {"a34002", standards::aqi::Pollutant::kPm10},
    {"a34004", standards::aqi::Pollutant::kPm25},
}};

// The AQI of one hour's (or day's) concentrations, by the HJ 633 edition of the Beijing date of
// `period_start_ms` (the hour's or day's start: the value stamped 2026-03-01T00:00 by its END is
// HJ 633-2012 data).
standards::aqi::Result evaluate_aqi(const AqiValues& values, std::int64_t period_start_ms,
                                    standards::aqi::Report report);
// "aqi", "level", "category", "colour", "health_effect", "advice", "primary_pollutants", "iaqi",
// "standard" members of the current object.
void write_aqi(core::JsonWriter& w, const standards::aqi::Result& r);
// A "concentrations" member: {"SO2":…, …} with the items present.
void write_concentrations(core::JsonWriter& w, const AqiValues& v);

}  // namespace ecomon::api::detail
