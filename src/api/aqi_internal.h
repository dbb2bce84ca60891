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

// The HJ 212 factor codes of the AQI items (units as stations send them: µg/m³, CO mg/m³), as the
// standards module lists them (the alarm engine reads the same list).
inline constexpr const auto& kAqiFactors = standards::aqi::kHourlyHj212Codes;

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
