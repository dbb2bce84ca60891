// The stored means and their revision trail (derive/aggregates.h, issue #5 §1, §2, §5):
//
//   GET /api/v1/aggregates?site=&factor=&interval=hour|day|month|year&from=&to=&as_of=
//       the stored hours or days of a site's factor with a start in [from, to), oldest first:
//       {"site","factor","interval","aggregates":[{"start","value","valid","source",
//        "coverage":{"expected","received","valid"},"raw_value","raw_valid","computed_at"}]}
//       "value"/"valid" have the review actions applied; "raw_value"/"raw_valid" are the same mean
//       of the raw values. An hour of source "hour" (the device's own hourly value, HJ 212 CN
//       2061) also carries the platform's mean of the same site's minute values (else real-time
//       values) of that hour: "platform":{"value","valid","received","valid_count"} (valid with
//       ≥ 45 valid minutes), "difference" (device − platform, null unless both have a value) and
//       "mismatch" (both valid and differing beyond the `[screening]` hour tolerance of the
//       factor: max(hour_tolerance, hour_tolerance_fraction × |platform|)). Months and years
//       (Beijing calendar) are computed per request from the stored days (source "days"): valid
//       with ≥ 27 valid days (February ≥ 25), a year with ≥ 324 and every month valid (GB 3095-2012
//       表4, standards/aggregation.h); the range is widened to whole months or years. `as_of=T`:
//       the rows as they were known at T (their revision trail; rows first computed after T are
//       left out); months and years from the days as known at T. The service first catches up with
//       everything committed before the request, so the answer never lags a value or review action
//       the caller saw acknowledged. `city=CODE` instead of `site`: the city's stored means (the
//       mean over its urban points, 城市点, of the AQI items; a city-wide statistic any caller with
//       data.read may read, like the city AQI); `county=CODE` likewise the county's (the mean
//       over its ambient-air points other than control points, 对照点 — an assumed practice,
//       derive/aggregates.h "Counties"). `factor` may also name a stored index — aqi_hour,
//       o3_8h, pm10_24h, pm25_24h (interval=hour; a sliding mean is keyed by its last hour's start)
//       or aqi_day, o3_8h_max (interval=day), or water_class (interval=hour, keyed by sample
//       time; /api/v1/water-class gives its items) — whose rows carry "value", "valid", "source"
//       (the index name) and "computed_at".
//   GET /api/v1/water-class?site=&from=&to=&as_of=
//       the stored section water class (GB 3838-2002 single-factor evaluation) of each sample of a
//       surface-water site measured in [from, to) (default: the last 31 days; at most 366 days),
//       oldest first: {"site","name","samples":[{"time","value" (1..6),"class" ("I".."劣V"),
//       "status" (优…重度污染),"standard","water_body","items":[{"factor","item","name","value",
//       "not_detected","class"}],"deciding":[{"factor","item","name"}],"computed_at"}]}. A sample
//       is the site's hourly values (CN 2061) of the GB 3838 items at one measured time, reviewed;
//       its class is revised (index name water_class in /api/v1/revisions) when a late value, a
//       new version or a review action changes an item. `as_of=T`: as known at T. 400 for a site
//       that is not surface water.
//   GET /api/v1/revisions?site=|city=|county=&factor=&from=&to=&limit=
//       revisions of stored hours and days whose period starts in [from, to), newest first:
//       {"revisions":[{"id","site","factor","period","start","old_value","new_value","old_valid",
//        "new_valid","reason","at"}]}
//
// Both need data.read; a site outside the caller's scopes is refused as /api/v1/series refuses
// it. Revisions without `site` are those of the sites the caller may see. Without the derived
// service both answer 503. Revisions carry "reason" (late_value, new_version, review) and, for a
// review, "review_action" (the action's id); indices (aqi_hour, aqi_day, o3_8h, o3_8h_max,
// pm10_24h, pm25_24h) are revised under their name as "factor", cities as site "city:CODE"
// (`city=CODE` selects a city's revisions; unrestricted listings include them, a caller
// restricted to some sites sees only those sites').
#include <algorithm>
#include <charconv>

#include "api/routes_internal.h"
#include "derive/aggregates.h"
#include "standards/aggregation.h"
#include "standards/water.h"

namespace ecomon::api::detail {
namespace {

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 24 * kHourMs;
constexpr std::int64_t kMaxHourSpanMs = 31 * kDayMs;
constexpr std::int64_t kMaxDaySpanMs = 366 * kDayMs;
constexpr std::int64_t kMaxYearSpanMs = 10 * 366 * kDayMs;
constexpr std::size_t kMaxRevisions = 10000;

Response unavailable() { return error(503, "unavailable", "derived data is not configured"); }

void optional_number(core::JsonWriter& w, const std::optional<double>& v) {
  if (v) {
    w.value(*v);
  } else {
    w.null();
  }
}

// The subject of /api/v1/aggregates: `site` (checked like /series) or `city` ("city:CODE", a city
// with urban air points), and the factor. Or the answer to give.
std::optional<Response> aggregate_subject(const Ctx& c, std::string& subject, std::string& factor,
                                          bool factor_required = true) {
  auto given = [&](const char* name) {
    const auto it = c.t.query.find(name);
    return it != c.t.query.end() && !it->second.empty();
  };
  // The subjects the answers name ("site":"city:510800") are accepted back as site=city:CODE and
  // site=county:CODE.
  std::string code;
  bool by_city = given("city");
  bool by_county = given("county");
  if (const auto site = c.t.query.find("site"); site != c.t.query.end()) {
    for (const std::string_view prefix : {"city:", "county:"}) {
      if (site->second.starts_with(prefix) && !by_city && !by_county) {
        code = site->second.substr(prefix.size());
        (prefix == "city:" ? by_city : by_county) = true;
      }
    }
  }
  if (!by_city && !by_county) return series_subject(c, subject, factor);
  if ((code.empty() && given("site")) || (by_city && by_county)) {
    return error(400, "bad_request", "give one of site, city or county");
  }
  const auto f = c.t.query.find("factor");
  if (factor_required && (f == c.t.query.end() || f->second.empty())) {
    return error(400, "bad_request", "factor is required");
  }
  if (code.empty()) code = c.t.query.at(by_city ? "city" : "county");
  auto reg = c.s.registry->get();
  // A city with urban points (城市点); a county with ambient-air points other than control points.
  const bool known = std::any_of(reg->sites().begin(), reg->sites().end(), [&](const auto& s) {
    if (s.kind != "ambient_air") return false;
    return by_city ? s.air_role == "urban" && s.place.city_code == code
                   : s.air_role != "control" && s.place.county_code == code;
  });
  if (!known) {
    return error(404, "not_found",
                 by_city ? "no city '" + code + "' with urban air points"
                         : "no county '" + code + "' with ambient-air points");
  }
  subject = (by_city ? "city:" : "county:") + code;
  if (f != c.t.query.end()) factor = f->second;
  return std::nullopt;
}

Response stored_indices(const Ctx& c, const std::string& subject, const std::string& name,
                        const std::string& interval, std::int64_t from_ms, std::int64_t to_ms,
                        std::optional<std::int64_t> as_of) {
  if (derive::period_name(derive::index_period(name)) != interval) {
    return error(
        400, "bad_request",
        name + " is kept per " + std::string(derive::period_name(derive::index_period(name))));
  }
  derive::IndexQuery q;
  q.site = subject;
  q.name = name;
  q.from_ms = from_ms;
  q.to_ms = to_ms;
  q.as_of_ms = as_of;
  auto rows = c.s.derived->indices(q);
  if (!rows) return from_error(rows.error());
  core::JsonWriter w;
  w.begin_object().key("site").value(subject).key("factor").value(name);
  w.key("interval").value(interval);
  if (as_of) w.key("as_of").value(iso(*as_of));
  w.key("aggregates").begin_array();
  for (const auto& r : *rows) {
    w.begin_object().key("start").value(iso(r.start_ms)).key("value");
    optional_number(w, r.value);
    w.key("valid").value(r.valid).key("source").value(name);
    w.key("computed_at").value(iso(r.computed_at_ms)).end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

}  // namespace

Response aggregates(const Ctx& c) {
  if (!c.s.derived) return unavailable();
  namespace agg = standards::aggregation;
  const Target& t = c.t;
  std::string site;
  std::string factor;
  if (auto answer = aggregate_subject(c, site, factor)) return *answer;
  const auto interval_it = t.query.find("interval");
  const std::string interval = interval_it == t.query.end() ? "hour" : interval_it->second;
  if (interval != "hour" && interval != "day" && interval != "month" && interval != "year") {
    return error(400, "bad_request", "interval must be hour, day, month or year");
  }
  const bool hour = interval == "hour";
  const bool month = interval == "month";
  const bool year = interval == "year";
  const std::int64_t default_span = hour    ? 2 * kDayMs
                                    : month ? 366 * kDayMs
                                    : year  ? 3 * 366 * kDayMs
                                            : 31 * kDayMs;
  auto range = range_params(t, c.s.clock->now_ms(), default_span);
  if (!range) return from_error(range.error());
  const std::int64_t max_span = hour              ? kMaxHourSpanMs
                                : (month || year) ? kMaxYearSpanMs
                                                  : kMaxDaySpanMs;
  if (range->to_ms - range->from_ms > max_span) {
    return error(400, "range_too_large",
                 hour              ? "at most 31 days of hourly means"
                 : (month || year) ? "at most 10 years of monthly or yearly means"
                                   : "at most 366 days of daily means");
  }
  auto as_of = time_param(t, "as_of");
  if (!as_of) return from_error(as_of.error());
  if (auto r = c.s.derived->catch_up(); !r) return from_error(r.error());
  if (derive::is_index_name(factor)) {
    return stored_indices(c, site, factor, interval, range->from_ms, range->to_ms, *as_of);
  }
  derive::AggregateQuery q;
  q.site = site;
  q.factor = factor;
  q.period = hour ? derive::Period::kHour : derive::Period::kDay;
  q.from_ms = range->from_ms;
  q.to_ms = range->to_ms;
  q.as_of_ms = *as_of;
  if (month || year) {
    // Whole months or years: from the start of the one `from` is in.
    q.from_ms =
        month ? agg::beijing_month_start(range->from_ms) : agg::beijing_year_start(range->from_ms);
    q.limit = 11 * 366;
  }
  auto rows = c.s.derived->aggregates(q);
  if (!rows) return from_error(rows.error());
  if (month || year) *rows = derive::months_or_years_from_days(*rows, month);
  core::JsonWriter w;
  w.begin_object().key("site").value(q.site).key("factor").value(q.factor);
  w.key("interval").value(interval);
  if (*as_of) w.key("as_of").value(iso(**as_of));
  w.key("aggregates").begin_array();
  for (const auto& a : *rows) {
    w.begin_object().key("start").value(iso(a.start_ms)).key("value");
    optional_number(w, a.value);
    w.key("valid").value(a.valid).key("source").value(a.source);
    w.key("coverage").begin_object();
    w.key("expected")
        .value(std::int64_t{a.expected})
        .key("received")
        .value(std::int64_t{a.received});
    w.key("valid").value(std::int64_t{a.valid_count}).end_object();
    w.key("raw_value");
    optional_number(w, a.raw_value);
    w.key("raw_valid").value(a.raw_valid);
    if (a.source == "hour") {
      // The device's own hour: the platform's mean of the minutes beside it.
      w.key("platform").begin_object().key("value");
      optional_number(w, a.platform_value);
      w.key("valid").value(a.platform_valid);
      w.key("received").value(std::int64_t{a.platform_received});
      w.key("valid_count").value(std::int64_t{a.platform_valid_count}).end_object();
      w.key("difference");
      if (a.value && a.platform_value) {
        w.value(*a.value - *a.platform_value);
      } else {
        w.null();
      }
      w.key("mismatch").value(a.mismatch);
    }
    w.key("computed_at").value(iso(a.computed_at_ms)).end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response water_class(const Ctx& c) {
  if (!c.s.derived) return unavailable();
  namespace water = standards::water;
  const auto site_it = c.t.query.find("site");
  if (site_it == c.t.query.end() || site_it->second.empty()) {
    return error(400, "bad_request", "site is required");
  }
  auto reg = c.s.registry->get();
  const registry::Site* site = reg->find_site(site_it->second);
  if (auto denied = site_denied(c, *reg, site, site_it->second)) return *denied;
  if (site->kind != "surface_water") {
    return error(400, "bad_request", "site '" + site->code + "' is not a surface-water site");
  }
  auto range = range_params(c.t, c.s.clock->now_ms(), 31 * kDayMs);
  if (!range) return from_error(range.error());
  if (range->to_ms - range->from_ms > kMaxDaySpanMs) {
    return error(400, "range_too_large", "at most 366 days of water classes");
  }
  auto as_of = time_param(c.t, "as_of");
  if (!as_of) return from_error(as_of.error());
  if (auto r = c.s.derived->catch_up(); !r) return from_error(r.error());
  derive::IndexQuery q;
  q.site = site->code;
  q.name = "water_class";
  q.from_ms = range->from_ms;
  q.to_ms = range->to_ms;
  q.as_of_ms = *as_of;
  auto rows = c.s.derived->indices(q);
  if (!rows) return from_error(rows.error());
  auto item_json = [](core::JsonWriter& w, const std::string& code) {
    w.key("factor").value(code);
    if (const auto item = water::item_by_hj212(code)) {
      const auto& info = water::item_info(*item);
      w.key("item").value(info.code).key("name").value(info.name_zh);
    }
  };
  auto class_json = [](core::JsonWriter& w, std::optional<int> c) {
    if (c && *c >= 1 && *c <= 6) {
      w.value(water::class_name(static_cast<water::Class>(*c)));
    } else {
      w.null();
    }
  };
  core::JsonWriter w;
  w.begin_object().key("site").value(site->code).key("name").value(site->name);
  if (*as_of) w.key("as_of").value(iso(**as_of));
  w.key("samples").begin_array();
  for (const auto& r : *rows) {
    w.begin_object().key("time").value(iso(r.start_ms)).key("value");
    optional_number(w, r.value);
    const std::optional<int> cls =
        r.value ? std::optional<int>(static_cast<int>(*r.value)) : std::nullopt;
    w.key("class");
    class_json(w, cls);
    w.key("status");
    if (cls && *cls >= 1 && *cls <= 6) {
      w.value(water::status_name(water::status_of(static_cast<water::Class>(*cls))));
    } else {
      w.null();
    }
    if (r.water) {
      w.key("standard").value(r.water->standard).key("water_body").value(r.water->water_body);
      w.key("items").begin_array();
      for (const auto& i : r.water->items) {
        w.begin_object();
        item_json(w, i.factor);
        w.key("value").value(i.reading.value).key("not_detected").value(i.reading.not_detected);
        w.key("class");
        class_json(w, i.item_class);
        w.end_object();
      }
      w.end_array().key("deciding").begin_array();
      for (const auto& d : r.water->deciding) {
        w.begin_object();
        item_json(w, d);
        w.end_object();
      }
      w.end_array();
    }
    w.key("computed_at").value(iso(r.computed_at_ms)).end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response revisions(const Ctx& c) {
  if (!c.s.derived) return unavailable();
  derive::RevisionQuery q;
  // site=city:CODE / county:CODE (as the rows name them) is the city's or county's rows.
  const auto site_param = c.t.query.find("site");
  const bool area_site =
      site_param != c.t.query.end() &&
      (site_param->second.starts_with("city:") || site_param->second.starts_with("county:"));
  Target without_site = c.t;
  if (area_site) without_site.query.erase("site");
  const Ctx listing{c.s, c.req, without_site, c.who, c.params};
  if (auto answer = listing_filter(listing, q.site, q.factor, q.from_ms, q.to_ms)) return *answer;
  const auto city = c.t.query.find("city");
  const auto county = c.t.query.find("county");
  if (area_site || (city != c.t.query.end() && !city->second.empty()) ||
      (county != c.t.query.end() && !county->second.empty())) {
    // A city's or county's rows (its means over its points and its indices), as aggregates names
    // them.
    if (!q.site.empty()) return error(400, "bad_request", "give one of site, city or county");
    std::string subject;
    std::string factor;
    if (auto answer = aggregate_subject(c, subject, factor, /*factor_required=*/false)) {
      return *answer;
    }
    q.site = subject;
  }
  q.limit = 1000;
  if (auto it = c.t.query.find("limit"); it != c.t.query.end()) {
    std::size_t v = 0;
    const auto r = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (r.ec != std::errc() || v == 0) return error(400, "bad_request", "limit must be 1 or more");
    q.limit = std::min(v, kMaxRevisions);
  }
  auto found = c.s.derived->revisions(q);
  if (!found) return from_error(found.error());
  const bool everything = auth::unrestricted(c.who->scopes);
  auto reg = c.s.registry->get();
  core::JsonWriter w;
  w.begin_object().key("revisions").begin_array();
  for (const auto& r : *found) {
    if (!everything) {
      const registry::Site* site = reg->find_site(r.site);
      if (!site || !in_scope(c, *reg, *site)) continue;
    }
    w.begin_object().key("id").value(r.id).key("site").value(r.site);
    w.key("factor").value(r.factor).key("period").value(derive::period_name(r.period));
    w.key("start").value(iso(r.start_ms)).key("old_value");
    optional_number(w, r.old_value);
    w.key("new_value");
    optional_number(w, r.new_value);
    w.key("old_valid").value(r.old_valid).key("new_valid").value(r.new_valid);
    w.key("reason").value(r.reason);
    if (r.review_action) w.key("review_action").value(r.review_action);
    w.key("at").value(iso(r.at_ms)).end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

}  // namespace ecomon::api::detail
