// The public release API (信息发布), /api/public/v1/…: no login, rate-limited per client,
// cacheable. It serves only what DESIGN.md calls published data:
//   - sites that are registered and not provisional (no commissioning or quarantine sites);
//   - values that are neither quarantined, from a pending device, nor clock-suspect, and whose
//     device flag says the instrument ran normally (HJ 212 flag N, or no flag); a value flagged
//     maintenance, calibration, fault, stopped, … is withheld, not replaced by an older one;
//   - the latest values, AQI and water classes withhold what a reviewer invalidated and release
//     corrections (a withheld value is not replaced by an older one);
//   - every value labelled with its release status (`status`, `status_zh`): "unaudited" (real-time
//     data, 实时数据，未经审核), "audited" (已审核) or "final" (终审) by the review actions;
//   - a site whose registry setting `release` is `final` at the value's time (issue #5 §5: "a site
//     can be set to release only final data") releases only final values: any other is shown with
//     `"value": null` and `"status": "awaiting_audit"` (待审核) — withheld, not silently missing.
//     On /api/public/v1/aqi such a station's hour is released only when each of its values is
//     final; otherwise the station is listed with `"aqi": null`, `"status": "awaiting_audit"` and
//     is left out of its city's mean. On /api/public/v1/water (where `status` is the water status)
//     the keys are `release_status` / `release_status_zh`, and a withheld sample has `"class":
//     null`.
// No device identifiers, receive times or versions are shown.
#include <map>

#include "api/aqi_internal.h"
#include "api/routes_internal.h"
#include "core/civil_time.h"
#include "standards/aqi.h"
#include "standards/water.h"

namespace ecomon::api::detail {
namespace {

constexpr std::string_view kCache = "public, max-age=60";

}  // namespace

bool published_value(const storage::Value& v) {
  if (v.quality & (storage::kQualityNotLatest)) return false;
  return v.flag.empty() || v.flag == "N";
}

bool final_release_only(const registry::Registry& reg, const std::string& site,
                        std::int64_t measured_ms) {
  const auto release = reg.setting(site, "release", measured_ms);
  return release && *release == "final";
}

bool published_site(const registry::Registry& reg, const registry::Site& site) {
  // Every registered site but the provisional ones (created for a device being commissioned).
  (void)reg;
  return !site.provisional;
}

namespace {

// The public form of a site's published values under the review actions (derive/review.h): an
// invalidated value is withheld (nullopt), a corrected one released corrected; every other value
// as stored. One lookup of the actions covering the values' span.
class PublicReview {
 public:
  PublicReview(const ApiSources& s, const std::string& site,
               const std::vector<const storage::Value*>& values) {
    if (!s.reviews || values.empty()) return;
    derive::ReviewQuery q;
    q.site = site;
    q.from_ms = INT64_MAX;
    q.to_ms = INT64_MIN;
    for (const auto* v : values) {
      q.from_ms = std::min(q.from_ms, v->measured_ms);
      q.to_ms = std::max(q.to_ms, v->measured_ms + 1);
    }
    if (auto found = s.reviews->covering(q)) actions_ = std::move(*found);
  }
  std::optional<double> number(const storage::Value& v) const {
    if (!v.number) return std::nullopt;
    const auto r = state(v);
    if (r.invalid) return std::nullopt;
    return r.corrected ? r.corrected : v.number;
  }
  derive::ReviewLevel level(const storage::Value& v) const { return state(v).level; }

 private:
  derive::ReviewState state(const storage::Value& v) const {
    std::vector<derive::ReviewAction> mine;
    for (const auto& a : actions_) {
      if (a.factor == v.factor) mine.push_back(a);
    }
    if (mine.empty()) return {};
    return derive::review_state(mine, storage::kind_name(v.kind), v.field, v.measured_ms);
  }

  std::vector<derive::ReviewAction> actions_;
};

// The release status of a value at `level` ("unaudited" for raw and screened values).
void write_status(core::JsonWriter& w, derive::ReviewLevel level) {
  const bool final = level == derive::ReviewLevel::kFinal;
  const bool audited = level == derive::ReviewLevel::kAudited;
  w.key("status").value(final ? "final" : audited ? "audited" : "unaudited");
  w.key("status_zh").value(final ? "终审" : audited ? "已审核" : "实时数据，未经审核");
}

void write_awaiting_audit(core::JsonWriter& w) {
  w.key("status").value("awaiting_audit").key("status_zh").value("待审核");
}

void write_public_site(core::JsonWriter& w, const ApiSources& s, const registry::Registry& reg,
                       const registry::Site& site, bool with_values) {
  w.begin_object();
  w.key("code").value(site.code).key("name").value(site.name).key("kind").value(site.kind);
  w.key("level").value(site.level).key("river").value(site.river);
  w.key("county").value(site.place.county).key("county_code").value(site.place.county_code);
  w.key("lon");
  site.lon ? w.value(*site.lon) : w.null();
  w.key("lat");
  site.lat ? w.value(*site.lat) : w.null();
  if (with_values) {
    w.key("values").begin_array();
    if (auto values = s.store->latest(site.code)) {
      std::vector<const storage::Value*> shown;
      for (const auto& v : *values) {
        if (!published_value(v)) continue;
        const registry::Device* d = reg.find_device(v.mn);
        if (d && d->pending) continue;
        shown.push_back(&v);
      }
      const PublicReview review(s, site.code, shown);
      for (const auto* vp : shown) {
        const storage::Value& v = *vp;
        const auto number = review.number(v);
        if (v.number && !number) continue;  // invalidated by a reviewer: withheld
        w.begin_object().key("factor").value(v.factor);
        if (const registry::Factor* f = reg.find_factor(v.factor)) {
          w.key("name")
              .value(f->name_zh)
              .key("name_en")
              .value(f->name_en)
              .key("unit")
              .value(f->unit_at(site.kind));
        }
        w.key("kind").value(storage::kind_name(v.kind)).key("field").value(v.field);
        w.key("time").value(iso(v.measured_ms)).key("value");
        const derive::ReviewLevel level = review.level(v);
        if (final_release_only(reg, site.code, v.measured_ms) &&
            level != derive::ReviewLevel::kFinal) {
          w.null();  // the site releases only final data
          write_awaiting_audit(w);
        } else {
          number ? w.value(*number) : w.value(v.text);
          write_status(w, level);
        }
        w.end_object();
      }
    }
    w.end_array();
  }
  w.end_object();
}

Response cached(std::string body) {
  Response r{200, "application/json", std::move(body), {}};
  r.headers.emplace_back("Cache-Control", std::string(kCache));
  return r;
}

namespace aqi = standards::aqi;
using standards::Reading;

// One station's published hourly means of its latest hour.
struct StationHour {
  const registry::Site* site = nullptr;
  std::int64_t hour_start_ms = 0;
  AqiValues value{};
  // The site releases only final data and a value of the hour is not final yet: no AQI.
  bool awaiting_audit = false;
  derive::ReviewLevel level = derive::ReviewLevel::kFinal;  // the lowest of the hour's values
};

std::optional<StationHour> latest_hour(const ApiSources& s, const registry::Registry& reg,
                                       const registry::Site& site) {
  auto values = s.store->latest(site.code);
  if (!values) return std::nullopt;
  StationHour h;
  h.site = &site;
  std::vector<std::pair<aqi::Pollutant, const storage::Value*>> items;
  for (const auto& v : *values) {
    if (v.kind != storage::DataKind::kHour || v.field != "Avg" || !v.number) continue;
    if (!published_value(v)) continue;
    const registry::Device* d = reg.find_device(v.mn);
    if (d && d->pending) continue;
    for (const auto& [code, p] : kAqiFactors) {
      if (v.factor == code) items.emplace_back(p, &v);
    }
  }
  if (items.empty()) return std::nullopt;
  for (const auto& [p, v] : items) h.hour_start_ms = std::max(h.hour_start_ms, v->measured_ms);
  // Review actions on that hour (derive/review.h): an invalidated value is withheld, a corrected
  // one released corrected.
  std::vector<derive::ReviewAction> actions;
  if (s.reviews) {
    derive::ReviewQuery q;
    q.site = site.code;
    q.from_ms = h.hour_start_ms;
    q.to_ms = h.hour_start_ms + 3600000;
    if (auto found = s.reviews->covering(q)) actions = std::move(*found);
  }
  // Only the values of that hour: an older value is not this hour's.
  for (const auto& [p, v] : items) {
    if (v->measured_ms != h.hour_start_ms) continue;
    std::vector<derive::ReviewAction> mine;
    for (const auto& a : actions) {
      if (a.factor == v->factor) mine.push_back(a);
    }
    const auto review =
        derive::review_state(mine, storage::kind_name(v->kind), v->field, v->measured_ms);
    if (review.invalid) continue;
    h.level = std::min(h.level, review.level);
    h.value[static_cast<std::size_t>(p)] = review.corrected ? *review.corrected : *v->number;
  }
  if (final_release_only(reg, site.code, h.hour_start_ms) &&
      h.level != derive::ReviewLevel::kFinal) {
    h.awaiting_audit = true;
    h.value = {};
  }
  return h;
}

}  // namespace

aqi::Result evaluate_aqi(const AqiValues& values, std::int64_t period_start_ms,
                         aqi::Report report) {
  aqi::Concentrations c;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i]) c.value[i] = standards::Decimal::from_double(*values[i], 3);
  }
  const auto civil = core::civil_from_unix_ms(period_start_ms, core::kChinaUtcOffsetSeconds);
  const auto standard =
      aqi::china_standard_for(standards::Date{civil.year, civil.month, civil.day});
  return aqi::evaluate(c, report, standard);
}

void write_aqi(core::JsonWriter& w, const aqi::Result& r) {
  w.key("aqi");
  r.aqi ? w.value(static_cast<std::int64_t>(*r.aqi)) : w.null();
  w.key("level");
  r.level ? w.value(static_cast<std::int64_t>(r.level->number)) : w.null();
  w.key("category");
  r.level ? w.value(r.level->category) : w.null();
  w.key("colour");
  r.level ? w.value(r.level->colour) : w.null();
  w.key("health_effect");
  r.level ? w.value(r.level->health_effect) : w.null();
  w.key("advice");
  r.level ? w.value(r.level->advice) : w.null();
  w.key("primary_pollutants").begin_array();
  for (auto p : r.primary) w.value(aqi::pollutant_name(p));
  w.end_array();
  w.key("iaqi").begin_object();
  for (auto p : aqi::kAllPollutants) {
    if (auto i = r.iaqi_of(p)) w.key(aqi::pollutant_name(p)).value(static_cast<std::int64_t>(*i));
  }
  w.end_object();
  w.key("standard").value(aqi::standard_code(r.standard));
}

void write_concentrations(core::JsonWriter& w, const AqiValues& v) {
  w.key("concentrations").begin_object();
  for (auto p : aqi::kAllPollutants) {
    if (const auto& x = v[static_cast<std::size_t>(p)]) w.key(aqi::pollutant_name(p)).value(*x);
  }
  w.end_object();
}

// GET /api/public/v1/aqi — the hourly AQI (实时报) of every published air station and of each
// city, from the latest published hourly means. Times: `time` is the hour's END, as the national
// releases label hourly values ("14:00" = 13:00–14:00); `hour_start` is the HJ 212 DataTime.
// The city's concentrations are the means over its urban assessment points (城市点; control,
// regional and background points are left out), then the AQI of those means, as HJ 663 and the
// national release compute city values.
Response public_aqi(const Ctx& c) {
  auto reg = c.s.registry->get();
  std::vector<StationHour> stations;
  for (const auto& site : reg->sites()) {
    if (site.kind != "ambient_air" || !published_site(*reg, site)) continue;
    if (auto h = latest_hour(c.s, *reg, site)) stations.push_back(*h);
  }
  core::JsonWriter w;
  w.begin_object();
  w.key("notice").value("实时数据，未经审核 — real-time data, not yet audited");
  w.key("status").value("unaudited");
  w.key("stations").begin_array();
  for (const auto& h : stations) {
    const auto r = evaluate_aqi(h.value, h.hour_start_ms, aqi::Report::kHourly);
    w.begin_object();
    w.key("code").value(h.site->code).key("name").value(h.site->name);
    w.key("air_role").value(h.site->air_role).key("county").value(h.site->place.county);
    w.key("lon");
    h.site->lon ? w.value(*h.site->lon) : w.null();
    w.key("lat");
    h.site->lat ? w.value(*h.site->lat) : w.null();
    w.key("time")
        .value(iso(h.hour_start_ms + 3600000))
        .key("hour_start")
        .value(iso(h.hour_start_ms));
    if (h.awaiting_audit) {
      write_awaiting_audit(w);
      w.key("aqi").null();
    } else {
      write_status(w, h.level);
      write_aqi(w, r);
      write_concentrations(w, h.value);
    }
    w.end_object();
  }
  w.end_array();
  // Cities: the latest hour any urban point of the city reported, and the points that have it.
  std::map<std::string, std::vector<const StationHour*>> by_city;
  for (const auto& h : stations) {
    if (h.site->air_role == "urban" && !h.awaiting_audit) {
      by_city[h.site->place.city_code].push_back(&h);
    }
  }
  w.key("cities").begin_array();
  for (const auto& [code, list] : by_city) {
    std::int64_t hour = 0;
    for (const auto* h : list) hour = std::max(hour, h->hour_start_ms);
    AqiValues mean{};
    std::array<int, aqi::kPollutantCount> n{};
    std::vector<std::string> used;
    for (const auto* h : list) {
      if (h->hour_start_ms != hour) continue;
      used.push_back(h->site->code);
      for (std::size_t i = 0; i < mean.size(); ++i) {
        if (!h->value[i]) continue;
        mean[i] = mean[i].value_or(0) + *h->value[i];
        ++n[i];
      }
    }
    for (std::size_t i = 0; i < mean.size(); ++i) {
      if (mean[i]) *mean[i] /= n[i];
    }
    const auto r = evaluate_aqi(mean, hour, aqi::Report::kHourly);
    w.begin_object();
    w.key("code").value(code).key("name").value(list.front()->site->place.city);
    w.key("time").value(iso(hour + 3600000)).key("hour_start").value(iso(hour));
    w.key("stations").begin_array();
    for (const auto& u : used) w.value(u);
    w.end_array();
    write_aqi(w, r);
    write_concentrations(w, mean);
    w.end_object();
  }
  w.end_array().end_object();
  return cached(w.take());
}

namespace {

namespace water = standards::water;

// HJ 212-2017 table B.1 codes of the GB 3838 items automatic water stations measure (one list,
// in the standards module, shared with the alarm engine).
constexpr const auto& kWaterFactors = water::kHj212WaterItems;

}  // namespace

// GET /api/public/v1/water — the latest published sample of every surface-water section and
// drinking-water source: its GB 3838-2002 class by the single-factor method (the worst item
// class; rivers leave TN out), status, main pollutants, and whether it meets the section's
// designated class (site setting water_class at the sample's time). A sample is the values of
// the latest measured time; older values of other items are not mixed in.
Response public_water(const Ctx& c) {
  auto reg = c.s.registry->get();
  core::JsonWriter w;
  w.begin_object();
  w.key("notice").value("实时数据，未经审核 — real-time data, not yet audited");
  w.key("status").value("unaudited");
  w.key("sections").begin_array();
  for (const auto& site : reg->sites()) {
    if ((site.kind != "surface_water" && site.kind != "drinking_water_source") ||
        !published_site(*reg, site)) {
      continue;
    }
    auto values = c.s.store->latest(site.code);
    if (!values) continue;
    std::vector<std::pair<water::Item, const storage::Value*>> items;
    std::int64_t at = INT64_MIN;
    for (const auto& v : *values) {
      if ((v.kind != storage::DataKind::kHour && v.kind != storage::DataKind::kDay) ||
          v.field != "Avg" || !v.number || !published_value(v)) {
        continue;
      }
      const registry::Device* d = reg->find_device(v.mn);
      if (d && d->pending) continue;
      for (const auto& [code, item] : kWaterFactors) {
        if (v.factor == code) {
          items.emplace_back(item, &v);
          at = std::max(at, v.measured_ms);
        }
      }
    }
    if (items.empty()) continue;
    // The sample's values under the review actions: invalidated items left out, corrections used.
    std::vector<const storage::Value*> at_values;
    for (const auto& [item, v] : items) {
      if (v->measured_ms == at) at_values.push_back(v);
    }
    const PublicReview review(c.s, site.code, at_values);
    std::vector<std::pair<water::Item, double>> reviewed;
    derive::ReviewLevel level = derive::ReviewLevel::kFinal;  // the lowest of the sample's
    for (const auto& [item, v] : items) {
      if (v->measured_ms != at) continue;
      if (const auto x = review.number(*v)) {
        reviewed.emplace_back(item, *x);
        level = std::min(level, review.level(*v));
      }
    }
    if (reviewed.empty()) continue;
    // `status` is the water status (优 … 重度污染) here; the release status has its own keys.
    if (final_release_only(*reg, site.code, at) && level != derive::ReviewLevel::kFinal) {
      w.begin_object();
      w.key("code").value(site.code).key("name").value(site.name).key("kind").value(site.kind);
      w.key("time").value(iso(at)).key("class").null().key("status").null();
      w.key("release_status").value("awaiting_audit").key("release_status_zh").value("待审核");
      w.end_object();
      continue;
    }
    water::Sample sample;
    for (const auto& [item, x] : reviewed) sample[item] = Reading::measured(x);
    const auto body = site.waterbody == "lake" || site.waterbody == "reservoir"
                          ? water::WaterBody::kLake
                          : water::WaterBody::kRiver;
    auto result = water::evaluate_section(sample, body);
    w.begin_object();
    w.key("code").value(site.code).key("name").value(site.name).key("kind").value(site.kind);
    w.key("river").value(site.river).key("county").value(site.place.county);
    w.key("lon");
    site.lon ? w.value(*site.lon) : w.null();
    w.key("lat");
    site.lat ? w.value(*site.lat) : w.null();
    w.key("time").value(iso(at));
    w.key("release_status")
        .value(level == derive::ReviewLevel::kFinal     ? "final"
               : level == derive::ReviewLevel::kAudited ? "audited"
                                                        : "unaudited");
    const auto designated = reg->setting(site.code, "water_class", at);
    w.key("designated_class");
    designated ? w.value(*designated) : w.null();
    if (result && result->section_class) {
      const auto cls = water::class_name(*result->section_class);
      w.key("class").value(cls);
      w.key("status").value(water::status_name(*result->status));
      w.key("main_pollutants").begin_array();
      for (auto item : result->main_pollutants) w.value(water::item_info(item).name_zh);
      w.end_array();
      w.key("meets_designated");
      if (designated) {
        // Classes compare by their order: I best, 劣V worst.
        std::optional<water::Class> target;
        for (int k = 1; k <= 6; ++k) {
          if (water::class_name(static_cast<water::Class>(k)) == *designated) {
            target = static_cast<water::Class>(k);
          }
        }
        target ? w.value(*result->section_class <= *target) : w.null();
      } else {
        w.null();
      }
    } else {
      w.key("class").null().key("status").null();
      w.key("error");
      result ? w.value("no classified item in the sample") : w.value(result.error().detail);
    }
    w.key("concentrations").begin_object();
    for (const auto& [item, x] : reviewed) w.key(water::item_info(item).code).value(x);
    w.end_object();
    w.end_object();
  }
  w.end_array().end_object();
  return cached(w.take());
}

Response public_sites(const Ctx& c) {
  auto reg = c.s.registry->get();
  core::JsonWriter w;
  w.begin_object();
  w.key("notice").value("实时数据，未经审核 — real-time data, not yet audited");
  w.key("sites").begin_array();
  for (const auto& site : reg->sites()) {
    if (published_site(*reg, site)) write_public_site(w, c.s, *reg, site, true);
  }
  w.end_array().end_object();
  return cached(w.take());
}

Response public_site(const Ctx& c) {
  auto reg = c.s.registry->get();
  const registry::Site* site = reg->find_site(c.params.at(0));
  if (!site || !published_site(*reg, *site)) {
    return error(404, "not_found", "no published site '" + c.params.at(0) + "'");
  }
  core::JsonWriter w;
  write_public_site(w, c.s, *reg, *site, true);
  return cached(w.take());
}

}  // namespace ecomon::api::detail
