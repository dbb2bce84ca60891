// Hourly and daily AQI over a range, with the review actions applied (issue #5; HJ 633, HJ 663):
//
//   GET /api/v1/aqi?site=CODE&mode=hourly|daily&from=&to=&as_of=     one station
//   GET /api/v1/aqi?city=CODE|1&mode=hourly|daily&from=&to=&as_of=   a city (1: the only city)
//   GET /api/v1/aqi?county=CODE&mode=hourly|daily&from=&to=&as_of=   a county (stored only: its
//       ambient-air points other than control points, derive/aggregates.h "Counties")
//   GET /api/public/v1/aqi/history?hours=N                    each city, the last N hours (≤ 168)
//   GET /api/public/v1/aqi/daily?days=N                       each city, the last N days (≤ 90)
//
// /api/v1/aqi reads the indices the derived service stores (derive/aggregates.h: aqi_hour,
// aqi_day of the station or of "city:CODE"), after letting it catch up with every value and
// review action committed before the request, so an answer never lags a commit it could see;
// `as_of=T` gives them as they were known at T (their revision trail). The stored hours behind
// them are the derived hourly means: the device's hourly mean (CN 2061) when it sent one, else the
// platform's mean of its minute or real-time values (≥ 45 valid minutes); valid when the device
// flag is N (or none), the value neither quarantined, pending nor clock-suspect, and no reviewer
// invalidated it; a corrected value replaces the raw one (derive/review.h). Without the derived
// service (tools, tests) the route computes the same from the reviewed hourly values (CN 2061) per
// request, as the public routes always do: they also leave out what is not published
// (published_value(), pending devices, provisional sites), which the stored indices do not.
//
// Hourly entries (实时报): one per hour of [from, to), labelled by the hour's END ("time", the
// national release convention: "14:00" = 13:00–14:00) with its start in "hour_start" (the HJ 212
// DataTime); the AQI by HJ 633 table 1 rules as public_api.cpp computes it (PM on the 24-h rows
// with 1-h values, O3 1-h). Daily entries (日报): one per Beijing day of [from, to), "date" and
// "time" = the day's start; concentrations by HJ 663 from the hourly values (derive/indices.h):
// 24-h means of the hours stamped D 01:00 … D+1 00:00 with at least 20 valid hours (GB 3095 表4),
// O3 daily max 8-h (≥ 14 valid windows, or exceeding the class-2 limit) and O3 daily max 1-h (the
// largest valid hour, given only when the day has 20 valid O3 hours; HJ 633-2012 counts it,
// HJ 633-2026 not). The edition of HJ 633 follows the period's date (standards/aqi.h).
//
// A city's concentrations are, hour by hour, the means over its urban assessment points (城市点;
// air_role urban) that have a valid value of the item, as public_api.cpp computes the latest city
// AQI; its daily values are computed from those city hours. The city AQI is a city-wide statistic
// (also released publicly), so any caller with data.read gets it over all the city's urban points.
// Hours and days without any value are listed with "aqi": null, so a chart's axis is continuous.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <set>

#include "api/aqi_internal.h"
#include "api/routes_internal.h"
#include "core/civil_time.h"
#include "derive/aggregates.h"
#include "derive/indices.h"
#include "derive/review.h"
#include "standards/aggregation.h"

namespace ecomon::api::detail {
namespace {

namespace aqi = standards::aqi;

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 24 * kHourMs;
constexpr std::int64_t kMaxHourlySpanMs = 31 * kDayMs;
constexpr std::int64_t kMaxDailySpanMs = 366 * kDayMs;
constexpr int kMaxPublicHours = 168;
constexpr int kMaxPublicDays = 90;

constexpr std::string_view kNotice = "实时数据，未经审核 — real-time data, not yet audited";

// Per AQI item (aqi::Pollutant index), the valid hourly values by hour start.
using Hours = derive::ItemHours;

// One station's valid hourly means of the AQI items with hour starts in [from_ms, to_ms).
core::Result<Hours> station_hours(const ApiSources& s, const registry::Registry& reg,
                                  const std::string& site, std::int64_t from_ms, std::int64_t to_ms,
                                  bool published_only) {
  Hours out;
  for (const auto& [code, p] : kAqiFactors) {
    storage::SeriesQuery q;
    q.site = site;
    q.factor = std::string(code);
    q.kind = storage::DataKind::kHour;
    q.from_ms = from_ms;
    q.to_ms = to_ms;
    // Only `final` matters here: no screened level (no screening work in a public request).
    auto values = reviewed_series(s, q, std::nullopt, /*screened_level=*/false);
    if (!values) return core::fail(values.error());
    for (const auto& rv : *values) {
      const auto shown = rv.shown();
      if (rv.value.field != "Avg" || !shown || !rv.valid()) continue;
      if (published_only) {
        if (!published_value(rv.value)) continue;
        const registry::Device* d = reg.find_device(rv.value.mn);
        if (d && d->pending) continue;
        // A site that releases final data only: its other hours stay out of the public AQI.
        if (final_release_only(reg, site, rv.value.measured_ms) &&
            rv.review.level != derive::ReviewLevel::kFinal) {
          continue;
        }
      }
      out[static_cast<std::size_t>(p)][rv.value.measured_ms] = *shown;
    }
  }
  return out;
}

// Hour by hour and item by item, the mean over the stations that have a value.
Hours mean_hours(const std::vector<Hours>& stations) {
  Hours out;
  for (std::size_t i = 0; i < aqi::kPollutantCount; ++i) {
    std::map<std::int64_t, std::pair<double, int>> sum;
    for (const auto& st : stations) {
      for (const auto& [hour, v] : st[i]) {
        auto& acc = sum[hour];
        acc.first += v;
        ++acc.second;
      }
    }
    for (const auto& [hour, acc] : sum) out[i][hour] = acc.first / acc.second;
  }
  return out;
}

// Day starts marked as dust-storm days (沙尘, review verbs dust_storm / dust_storm_clear).
using DustDays = std::set<std::int64_t>;

// The dust-storm days of [first, end) for `subjects` (a site's code and its city code, or a city
// code), as known at `as_of`: written on daily entries as "dust_storm" so a reader can leave them
// out where the national rules allow; the AQI itself is never changed by the mark.
core::Result<DustDays> dust_days(const ApiSources& s, const std::vector<std::string>& subjects,
                                 std::int64_t first, std::int64_t end,
                                 std::optional<std::int64_t> as_of = std::nullopt) {
  auto days = dust_storm_days_of(s, subjects, first, end, as_of);
  if (!days) return core::fail(days.error());
  DustDays out;
  for (const auto& d : *days) out.insert(d.day_start_ms);
  return out;
}

// One entry per period of [first, end): the AQI of `inputs(start)` labelled as the mode says.
template <class Inputs>
void write_entries(core::JsonWriter& w, bool daily, std::int64_t first, std::int64_t end,
                   const Inputs& inputs, const DustDays& dust = {}) {
  const std::int64_t period = daily ? kDayMs : kHourMs;
  w.key("aqi").begin_array();
  for (std::int64_t start = first; start < end; start += period) {
    const AqiValues v = inputs(start);
    w.begin_object();
    if (daily) {
      const auto civil = core::civil_from_unix_ms(start, core::kChinaUtcOffsetSeconds);
      char text[40];
      std::snprintf(text, sizeof text, "%04d-%02d-%02d", civil.year, civil.month, civil.day);
      w.key("date").value(std::string_view(text)).key("time").value(iso(start));
      w.key("dust_storm").value(dust.count(start) > 0);
    } else {
      w.key("time").value(iso(start + kHourMs)).key("hour_start").value(iso(start));
    }
    write_aqi(w, evaluate_aqi(v, start, daily ? aqi::Report::kDaily : aqi::Report::kHourly));
    write_concentrations(w, v);
    w.end_object();
  }
  w.end_array();
}

void write_hourly(core::JsonWriter& w, const Hours& h, std::int64_t first, std::int64_t end) {
  write_entries(w, false, first, end,
                [&](std::int64_t hour) { return derive::hourly_aqi_inputs(h, hour); });
}

void write_daily(core::JsonWriter& w, const Hours& h, std::int64_t first_day, std::int64_t end,
                 const DustDays& dust) {
  write_entries(
      w, true, first_day, end, [&](std::int64_t day) { return derive::daily_aqi_inputs(h, day); },
      dust);
}

// The stored AQI of a station or "city:CODE" (derive/aggregates.h), as known at `as_of` if given.
std::optional<Response> write_stored(const Ctx& c, core::JsonWriter& w, const std::string& subject,
                                     bool daily, std::int64_t first, std::int64_t end,
                                     std::optional<std::int64_t> as_of, const DustDays& dust) {
  if (auto r = c.s.derived->catch_up(); !r) return from_error(r.error());
  derive::IndexQuery q;
  q.site = subject;
  q.name = daily ? "aqi_day" : "aqi_hour";
  q.from_ms = first;
  q.to_ms = end;
  q.as_of_ms = as_of;
  auto rows = c.s.derived->indices(q);
  if (!rows) return from_error(rows.error());
  std::map<std::int64_t, AqiValues> stored;
  for (const auto& r : *rows) stored[r.start_ms] = r.inputs;
  write_entries(
      w, daily, first, end,
      [&](std::int64_t start) {
        const auto it = stored.find(start);
        return it == stored.end() ? AqiValues{} : it->second;
      },
      dust);
  return std::nullopt;
}

// The urban assessment points of each city, by city code (published ones only when asked).
std::map<std::string, std::vector<const registry::Site*>> urban_points(
    const registry::Registry& reg, bool published_only) {
  std::map<std::string, std::vector<const registry::Site*>> out;
  for (const auto& site : reg.sites()) {
    if (site.kind != "ambient_air" || site.air_role != "urban") continue;
    if (published_only && !published_site(reg, site)) continue;
    out[site.place.city_code].push_back(&site);
  }
  return out;
}

core::Result<Hours> city_hours(const ApiSources& s, const registry::Registry& reg,
                               const std::vector<const registry::Site*>& points,
                               std::int64_t from_ms, std::int64_t to_ms, bool published_only) {
  std::vector<Hours> stations;
  for (const auto* site : points) {
    auto h = station_hours(s, reg, site->code, from_ms, to_ms, published_only);
    if (!h) return core::fail(h.error());
    stations.push_back(std::move(*h));
  }
  return mean_hours(stations);
}

void write_points(core::JsonWriter& w, const std::vector<const registry::Site*>& points) {
  w.key("stations").begin_array();
  for (const auto* p : points) w.value(p->code);
  w.end_array();
}

// A positive count parameter, at most `max`.
std::optional<int> count_param(const Target& t, const char* name, int fallback, int max) {
  const auto it = t.query.find(name);
  if (it == t.query.end() || it->second.empty()) return fallback;
  int v = 0;
  const auto r = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (r.ec != std::errc() || r.ptr != it->second.data() + it->second.size() || v < 1 || v > max) {
    return std::nullopt;
  }
  return v;
}

Response cached(std::string body) {
  Response r{200, "application/json", std::move(body), {}};
  r.headers.emplace_back("Cache-Control", "public, max-age=60");
  return r;
}

Response public_cities(const Ctx& c, bool daily, int count) {
  auto reg = c.s.registry->get();
  const std::int64_t period = daily ? kDayMs : kHourMs;
  // Complete periods only: the last N hours (days) before the current one.
  const std::int64_t end =
      standards::aggregation::beijing_period_start(c.s.clock->now_ms(), period);
  const std::int64_t first = end - count * period;
  core::JsonWriter w;
  w.begin_object().key("notice").value(kNotice).key("status").value("unaudited");
  w.key("mode").value(daily ? "daily" : "hourly").key("cities").begin_array();
  for (const auto& [code, points] : urban_points(*reg, /*published_only=*/true)) {
    auto h = city_hours(c.s, *reg, points, daily ? first - kDayMs : first, end, true);
    if (!h) return from_error(h.error());
    w.begin_object().key("code").value(code).key("name").value(points.front()->place.city);
    write_points(w, points);
    if (daily) {
      auto dust = dust_days(c.s, {code}, first, end);
      if (!dust) return from_error(dust.error());
      write_daily(w, *h, first, end, *dust);
    } else {
      write_hourly(w, *h, first, end);
    }
    w.end_object();
  }
  w.end_array().end_object();
  return cached(w.take());
}

}  // namespace

Response aqi_history(const Ctx& c) {
  const Target& t = c.t;
  const auto mode_it = t.query.find("mode");
  const std::string mode = mode_it == t.query.end() ? "hourly" : mode_it->second;
  if (mode != "hourly" && mode != "daily") {
    return error(400, "bad_request", "mode must be hourly or daily");
  }
  const bool daily = mode == "daily";
  const auto site_it = t.query.find("site");
  const auto city_it = t.query.find("city");
  const auto county_it = t.query.find("county");
  const bool by_site = site_it != t.query.end() && !site_it->second.empty();
  const bool by_city = city_it != t.query.end() && !city_it->second.empty();
  const bool by_county = county_it != t.query.end() && !county_it->second.empty();
  if (int{by_site} + int{by_city} + int{by_county} != 1) {
    return error(400, "bad_request", "give one of site, city or county");
  }
  if (by_county && !c.s.derived) {
    return error(503, "unavailable", "county AQI needs the stored indices (derived data)");
  }
  const std::int64_t period = daily ? kDayMs : kHourMs;
  auto from = time_param(t, "from");
  if (!from) return from_error(from.error());
  auto to = time_param(t, "to");
  if (!to) return from_error(to.error());
  auto as_of = time_param(t, "as_of");
  if (!as_of) return from_error(as_of.error());
  if (*as_of && !c.s.derived) {
    return error(503, "unavailable", "as_of needs the stored indices (derived data)");
  }
  namespace agg = standards::aggregation;
  const std::int64_t now = c.s.clock->now_ms();
  // Default: the last 24 hours or 30 days before the current (incomplete) one; periods whose
  // start is in [from, to).
  const std::int64_t end = *to ? agg::beijing_period_start(**to - 1, period) + period
                               : agg::beijing_period_start(now, period);
  const std::int64_t first = *from ? agg::beijing_period_start(**from + period - 1, period)
                                   : end - (daily ? 30 : 24) * period;
  if (first >= end) return error(400, "bad_request", "from must be before to");
  if (end - first > (daily ? kMaxDailySpanMs : kMaxHourlySpanMs)) {
    return error(400, "range_too_large",
                 daily ? "at most 366 days of daily AQI" : "at most 31 days of hourly AQI");
  }
  const std::int64_t fetch_from = daily ? first - kDayMs : first;
  auto reg = c.s.registry->get();
  core::JsonWriter w;
  w.begin_object().key("mode").value(mode);
  if (by_site) {
    const registry::Site* site = reg->find_site(site_it->second);
    if (auto denied = site_denied(c, *reg, site, site_it->second)) return *denied;
    w.key("site").value(site->code).key("name").value(site->name);
    DustDays dust;
    if (daily) {
      auto d = dust_days(c.s, {site->code, site->place.city_code}, first, end, *as_of);
      if (!d) return from_error(d.error());
      dust = std::move(*d);
    }
    if (c.s.derived) {
      if (auto failed = write_stored(c, w, site->code, daily, first, end, *as_of, dust)) {
        return *failed;
      }
    } else {
      auto h = station_hours(c.s, *reg, site->code, fetch_from, end, false);
      if (!h) return from_error(h.error());
      daily ? write_daily(w, *h, first, end, dust) : write_hourly(w, *h, first, end);
    }
  } else if (by_county) {
    // The county's stored AQI (derive/aggregates.h "Counties": its ambient-air points other than
    // control points).
    const std::string& code = county_it->second;
    std::vector<const registry::Site*> points;
    for (const auto& s : reg->sites()) {
      if (s.kind == "ambient_air" && s.air_role != "control" && s.place.county_code == code) {
        points.push_back(&s);
      }
    }
    if (points.empty()) {
      return error(404, "not_found", "no county '" + code + "' with ambient-air points");
    }
    w.key("county").value(code).key("name").value(points.front()->place.county);
    write_points(w, points);
    DustDays dust;
    if (daily) {
      auto d = dust_days(c.s, {points.front()->place.city_code}, first, end, *as_of);
      if (!d) return from_error(d.error());
      dust = std::move(*d);
    }
    if (auto failed = write_stored(c, w, "county:" + code, daily, first, end, *as_of, dust)) {
      return *failed;
    }
  } else {
    auto cities = urban_points(*reg, false);
    auto it = cities.find(city_it->second);
    if (city_it->second == "1") {
      if (cities.size() != 1) {
        return error(400, "bad_request", "more than one city: give its code (city=510800)");
      }
      it = cities.begin();
    }
    if (it == cities.end()) {
      return error(404, "not_found", "no city '" + city_it->second + "' with urban air points");
    }
    w.key("city").value(it->first).key("name").value(it->second.front()->place.city);
    write_points(w, it->second);
    DustDays dust;
    if (daily) {
      auto d = dust_days(c.s, {it->first}, first, end, *as_of);
      if (!d) return from_error(d.error());
      dust = std::move(*d);
    }
    if (c.s.derived) {
      if (auto failed = write_stored(c, w, "city:" + it->first, daily, first, end, *as_of, dust)) {
        return *failed;
      }
    } else {
      auto h = city_hours(c.s, *reg, it->second, fetch_from, end, false);
      if (!h) return from_error(h.error());
      daily ? write_daily(w, *h, first, end, dust) : write_hourly(w, *h, first, end);
    }
  }
  w.end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response public_aqi_history(const Ctx& c) {
  const auto hours = count_param(c.t, "hours", 24, kMaxPublicHours);
  if (!hours) return error(400, "bad_request", "hours must be 1 to 168");
  return public_cities(c, false, *hours);
}

Response public_aqi_daily(const Ctx& c) {
  const auto days = count_param(c.t, "days", 30, kMaxPublicDays);
  if (!days) return error(400, "bad_request", "days must be 1 to 90");
  return public_cities(c, true, *days);
}

}  // namespace ecomon::api::detail
