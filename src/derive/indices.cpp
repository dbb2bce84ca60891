#include "derive/indices.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "core/civil_time.h"
#include "standards/air_statistics.h"
#include "standards/decimal.h"

namespace ecomon::derive {
namespace {

namespace aqi = standards::aqi;
namespace air = standards::air;

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 24 * kHourMs;

std::optional<double> at(const std::map<std::int64_t, double>& m, std::int64_t hour) {
  const auto it = m.find(hour);
  return it == m.end() ? std::nullopt : std::optional<double>(it->second);
}

// The values of the hours starting [first_hour, end) as an HourlySeries stamped by their END.
air::HourlySeries series_of(const std::map<std::int64_t, double>& m, std::int64_t first_hour,
                            std::int64_t end) {
  std::vector<std::optional<double>> values;
  for (std::int64_t hour = first_hour; hour < end; hour += kHourMs) values.push_back(at(m, hour));
  auto civil = core::civil_from_unix_ms(first_hour + kHourMs, core::kChinaUtcOffsetSeconds);
  // Whole hours and finite values by construction.
  return std::move(air::HourlySeries::make(civil, std::move(values))).value();
}

core::CivilTime end_of(std::int64_t hour_start_ms) {
  return core::civil_from_unix_ms(hour_start_ms + kHourMs, core::kChinaUtcOffsetSeconds);
}

standards::Date date_of_ms(std::int64_t ms) {
  return standards::date_of(core::civil_from_unix_ms(ms, core::kChinaUtcOffsetSeconds));
}

}  // namespace

AqiInputs hourly_aqi_inputs(const ItemHours& h, std::int64_t hour_start_ms) {
  AqiInputs v{};
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = at(h[i], hour_start_ms);
  return v;
}

AqiInputs daily_aqi_inputs(const ItemHours& h, std::int64_t day) {
  constexpr std::array<std::pair<aqi::Pollutant, air::Pollutant>, 5> kMeans{{
      {aqi::Pollutant::kSo2, air::Pollutant::kSo2},
      {aqi::Pollutant::kNo2, air::Pollutant::kNo2},
      {aqi::Pollutant::kCo, air::Pollutant::kCo},
      {aqi::Pollutant::kPm10, air::Pollutant::kPm10},
      {aqi::Pollutant::kPm25, air::Pollutant::kPm25},
  }};
  const standards::Date date = date_of_ms(day);
  AqiInputs v{};
  for (const auto& [p, gb] : kMeans) {
    const auto& m = h[static_cast<std::size_t>(p)];
    if (m.empty()) continue;
    v[static_cast<std::size_t>(p)] =
        air::daily_mean(series_of(m, day, day + kDayMs), date, gb).value;
  }
  const auto o3 = static_cast<std::size_t>(aqi::Pollutant::kO3);
  if (!h[o3].empty()) {
    v[static_cast<std::size_t>(aqi::Pollutant::kO3_8h)] = o3_daily_max_8h(h[o3], day);
    if (air::daily_mean(series_of(h[o3], day, day + kDayMs), date, air::Pollutant::kO3).value) {
      std::optional<double> max1;
      for (auto it = h[o3].lower_bound(day); it != h[o3].end() && it->first < day + kDayMs; ++it) {
        max1 = std::max(max1.value_or(it->second), it->second);
      }
      v[o3] = max1;
    }
  }
  return v;
}

aqi::Result evaluate_aqi(const AqiInputs& values, std::int64_t period_start_ms,
                         aqi::Report report) {
  aqi::Concentrations c;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i]) c.value[i] = standards::Decimal::from_double(*values[i], 3);
  }
  return aqi::evaluate_china_at(c, report, period_start_ms);
}

std::optional<double> o3_8h_at(const std::map<std::int64_t, double>& o3, std::int64_t last) {
  const auto s = series_of(o3, last - 7 * kHourMs, last + kHourMs);
  return air::sliding_mean_8h(s, end_of(last)).value;
}

std::optional<double> pm_24h_at(const std::map<std::int64_t, double>& pm, std::int64_t last) {
  const auto s = series_of(pm, last - 23 * kHourMs, last + kHourMs);
  return air::sliding_mean_24h(s, end_of(last)).value;
}

std::optional<double> o3_daily_max_8h(const std::map<std::int64_t, double>& o3, std::int64_t day) {
  // The windows stamped D 08:00 … D+1 00:00 cover the hours starting D 00:00 … 23:00.
  const auto s = series_of(o3, day, day + kDayMs);
  auto max8 = air::daily_max_8h_in_area(s, date_of_ms(day), air::AreaClass::kClass2);
  return max8 ? max8->value : std::nullopt;
}

std::string encode_inputs(const AqiInputs& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    if (!v[i]) continue;
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, *v[i]);
    out.append(buf, r.ptr);
  }
  return out;
}

std::optional<AqiInputs> decode_inputs(std::string_view text) {
  AqiInputs v{};
  std::size_t i = 0;
  while (true) {
    if (i >= v.size()) return std::nullopt;
    const auto comma = text.find(',');
    const std::string_view field = text.substr(0, comma);
    if (!field.empty()) {
      double x = 0;
      const auto r = std::from_chars(field.data(), field.data() + field.size(), x);
      if (r.ec != std::errc() || r.ptr != field.data() + field.size() || !std::isfinite(x)) {
        return std::nullopt;
      }
      v[i] = x;
    }
    ++i;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (i != v.size()) return std::nullopt;
  return v;
}

}  // namespace ecomon::derive
