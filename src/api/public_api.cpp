// The public release API (信息发布), /api/public/v1/…: no login, rate-limited per client,
// cacheable. It serves only what DESIGN.md calls published data:
//   - sites that are registered and not provisional (no commissioning or quarantine sites);
//   - values that are neither quarantined, from a pending device, nor clock-suspect, and whose
//     device flag says the instrument ran normally (HJ 212 flag N, or no flag); a value flagged
//     maintenance, calibration, fault, stopped, … is withheld, not replaced by an older one;
//   - every value labelled with its release status: "unaudited" (real-time data, 实时数据，未经
//     审核) until the audit workflow (issue #5) marks it final.
// No device identifiers, receive times or versions are shown.
#include "api/routes_internal.h"

namespace ecomon::api::detail {
namespace {

constexpr std::string_view kCache = "public, max-age=60";

bool published_value(const storage::Value& v) {
  if (v.quality & (storage::kQualityNotLatest)) return false;
  return v.flag.empty() || v.flag == "N";
}

bool published_site(const registry::Registry& reg, const registry::Site& site) {
  (void)reg;
  return !site.provisional;
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
      for (const auto& v : *values) {
        if (!published_value(v)) continue;
        const registry::Device* d = reg.find_device(v.mn);
        if (d && d->pending) continue;
        w.begin_object().key("factor").value(v.factor);
        if (const registry::Factor* f = reg.find_factor(v.factor)) {
          w.key("name").value(f->name_zh).key("name_en").value(f->name_en).key("unit").value(f->unit);
        }
        w.key("kind").value(storage::kind_name(v.kind)).key("field").value(v.field);
        w.key("time").value(iso(v.measured_ms)).key("value");
        v.number ? w.value(*v.number) : w.value(v.text);
        w.key("status").value("unaudited");
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

}  // namespace

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
