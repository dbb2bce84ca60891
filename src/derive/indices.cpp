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

std::optional<WaterClass> water_class_of(
    const std::vector<std::pair<std::string, standards::Reading>>& items,
    standards::water::WaterBody body, std::int64_t sample_ms) {
  namespace water = standards::water;
  const water::LimitTable* table = water::table1_for(date_of_ms(sample_ms));
  if (!table) return std::nullopt;
  water::Sample sample;
  WaterClass out;
  out.detail.standard = std::string(table->name);
  out.detail.water_body = body == water::WaterBody::kLake ? "lake" : "river";
  for (const auto& [code, item] : water::kHj212WaterItems) {
    for (const auto& [factor, reading] : items) {
      if (factor != code) continue;
      sample[item] = reading;
      out.detail.items.push_back(WaterItemClass{factor, reading, std::nullopt});
    }
  }
  if (out.detail.items.empty()) return out;  // every item left out: no class
  const auto r = water::evaluate_section(sample, body, *table);
  if (!r) return out;  // refused: the items without a class
  for (auto& i : out.detail.items) {
    const auto item = *water::item_by_hj212(i.factor);
    if (const auto c = r->item_class[static_cast<std::size_t>(item)]) {
      i.item_class = static_cast<int>(*c);
      if (water::item_info(item).in_class && c == r->section_class) {
        out.detail.deciding.push_back(i.factor);
      }
    }
  }
  if (r->section_class) out.value = static_cast<int>(*r->section_class);
  return out;
}

std::string encode_water_detail(const WaterClassDetail& d) {
  std::string out = d.standard + ";" + d.water_body + ";";
  for (std::size_t i = 0; i < d.items.size(); ++i) {
    const auto& item = d.items[i];
    if (i) out += ',';
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, item.reading.value);
    out += item.factor + "=" + std::string(buf, r.ptr) + (item.reading.not_detected ? "L" : "") +
           ":" + (item.item_class ? std::to_string(*item.item_class) : "");
  }
  out += ';';
  for (std::size_t i = 0; i < d.deciding.size(); ++i) out += (i ? "," : "") + d.deciding[i];
  return out;
}

std::optional<WaterClassDetail> decode_water_detail(std::string_view text) {
  auto split = [](std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    while (true) {
      const auto at = s.find(sep);
      parts.push_back(s.substr(0, at));
      if (at == std::string_view::npos) return parts;
      s.remove_prefix(at + 1);
    }
  };
  const auto parts = split(text, ';');
  if (parts.size() != 4) return std::nullopt;
  WaterClassDetail d;
  d.standard = std::string(parts[0]);
  d.water_body = std::string(parts[1]);
  if (!parts[2].empty()) {
    for (const auto item : split(parts[2], ',')) {
      const auto eq = item.find('=');
      const auto colon = item.rfind(':');
      if (eq == std::string_view::npos || colon == std::string_view::npos || colon < eq) {
        return std::nullopt;
      }
      WaterItemClass w;
      w.factor = std::string(item.substr(0, eq));
      std::string_view number = item.substr(eq + 1, colon - eq - 1);
      if (!number.empty() && number.back() == 'L') {
        w.reading.not_detected = true;
        number.remove_suffix(1);
      }
      const auto r = std::from_chars(number.data(), number.data() + number.size(), w.reading.value);
      if (r.ec != std::errc() || r.ptr != number.data() + number.size()) return std::nullopt;
      const std::string_view cls = item.substr(colon + 1);
      if (!cls.empty()) {
        int c = 0;
        const auto rc = std::from_chars(cls.data(), cls.data() + cls.size(), c);
        if (rc.ec != std::errc() || rc.ptr != cls.data() + cls.size()) return std::nullopt;
        w.item_class = c;
      }
      d.items.push_back(std::move(w));
    }
  }
  if (!parts[3].empty()) {
    for (const auto code : split(parts[3], ',')) d.deciding.emplace_back(code);
  }
  return d;
}

}  // namespace ecomon::derive
