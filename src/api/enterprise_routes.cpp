// Key polluters (issue #6 §1): enterprises with their outlets and permits, and an outlet's
// cumulative emissions against its annual permitted totals.
//
//   GET /api/v1/enterprises                      every enterprise the caller may see, with outlets
//   GET /api/v1/enterprises/{code}               one, with its outlets, their devices and permits
//   GET /api/v1/enterprises/{code}/emissions?year=YYYY[&kind=hour|day]
//                                                per outlet and permitted factor: the year's total
//                                                so far, the permit, the share, data coverage
//
// Scopes: an enterprise is visible when one of its outlets is (auth::site_in_scope; the scope
// enterprise:CODE reaches its outlets); outlets outside the caller's scopes are left out. An
// unknown or invisible enterprise is 404 for unrestricted callers and 403 for restricted ones,
// as sites are. Read-only: permits are edited in the registry files (config/registry/README.md).
#include <algorithm>

#include "alarm/emissions.h"
#include "api/routes_internal.h"
#include "core/civil_time.h"

namespace ecomon::api::detail {
namespace {

std::vector<const registry::Outlet*> visible_outlets(const Ctx& c, const registry::Registry& reg,
                                                     const std::string& enterprise) {
  std::vector<const registry::Outlet*> out;
  for (const auto& o : reg.outlets()) {
    if (o.enterprise != enterprise) continue;
    const registry::Site* site = reg.find_site(o.site);
    if (site && in_scope(c, reg, *site)) out.push_back(&o);
  }
  return out;
}

// The enterprise of the path, if the caller may see it; otherwise the answer to give.
std::optional<Response> enterprise_denied(const Ctx& c, const registry::Registry& reg,
                                          const registry::Enterprise* e, const std::string& code) {
  if (e && (auth::unrestricted(c.who->scopes) || !visible_outlets(c, reg, e->code).empty())) {
    return std::nullopt;
  }
  if (!e && auth::unrestricted(c.who->scopes)) {
    return error(404, "not_found", "no enterprise '" + code + "'");
  }
  return error(403, "forbidden", "enterprise '" + code + "' is outside your scope");
}

void write_optional(core::JsonWriter& w, const char* key, const std::optional<double>& v) {
  w.key(key);
  v ? w.value(*v) : w.null();
}

void write_range(core::JsonWriter& w, std::int64_t from_ms, std::int64_t until_ms) {
  w.key("from");
  from_ms == INT64_MIN ? w.null() : w.value(iso(from_ms));
  w.key("until");
  until_ms == INT64_MAX ? w.null() : w.value(iso(until_ms));
}

void write_permit(core::JsonWriter& w, const registry::Registry& reg, const registry::Permit& p) {
  w.begin_object();
  w.key("factor").value(p.factor);
  if (const registry::Factor* f = reg.find_factor(p.factor)) {
    w.key("name").value(f->name_zh).key("name_en").value(f->name_en);
  }
  write_optional(w, "limit", p.limit);
  w.key("unit").value(p.unit).key("standard").value(p.standard);
  w.key("converted").value(p.converted);
  write_optional(w, "reference_o2_pct", p.reference_o2_pct);
  write_optional(w, "annual_total_t", p.annual_total_t);
  write_range(w, p.from_ms, p.until_ms);
  w.end_object();
}

void write_outlet_head(core::JsonWriter& w, const registry::Registry& reg,
                       const registry::Outlet& o) {
  const registry::Site* site = reg.find_site(o.site);
  w.key("site").value(o.site).key("permit_code").value(o.permit_code);
  w.key("name").value(site ? site->name : "").key("kind").value(site ? site->kind : "");
}

void write_enterprise_head(core::JsonWriter& w, const registry::Enterprise& e) {
  w.key("code").value(e.code).key("name").value(e.name).key("county").value(e.county);
}

}  // namespace

Response enterprises(const Ctx& c) {
  auto reg = c.s.registry->get();
  const bool everything = auth::unrestricted(c.who->scopes);
  core::JsonWriter w;
  w.begin_object().key("enterprises").begin_array();
  for (const auto& e : reg->enterprises()) {
    const auto outlets = visible_outlets(c, *reg, e.code);
    if (!everything && outlets.empty()) continue;
    w.begin_object();
    write_enterprise_head(w, e);
    w.key("outlets").begin_array();
    for (const auto* o : outlets) {
      w.begin_object();
      write_outlet_head(w, *reg, *o);
      w.end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response enterprise(const Ctx& c) {
  auto reg = c.s.registry->get();
  const std::string& code = c.params.at(0);
  const registry::Enterprise* e = reg->find_enterprise(code);
  if (auto denied = enterprise_denied(c, *reg, e, code)) return *denied;
  const std::int64_t now = c.s.clock->now_ms();
  core::JsonWriter w;
  w.begin_object();
  write_enterprise_head(w, *e);
  w.key("outlets").begin_array();
  for (const auto* o : visible_outlets(c, *reg, e->code)) {
    w.begin_object();
    write_outlet_head(w, *reg, *o);
    // The devices serving the outlet now.
    w.key("devices").begin_array();
    for (const auto& a : reg->assignments()) {
      if (a.site == o->site && a.from_ms <= now && now < a.until_ms) w.value(a.mn);
    }
    w.end_array();
    w.key("permits").begin_array();
    for (const auto& p : reg->permits()) {
      if (p.outlet == o->site) write_permit(w, *reg, p);
    }
    w.end_array().end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response enterprise_emissions(const Ctx& c) {
  namespace em = alarm::emissions;
  auto reg = c.s.registry->get();
  const std::string& code = c.params.at(0);
  const registry::Enterprise* e = reg->find_enterprise(code);
  if (auto denied = enterprise_denied(c, *reg, e, code)) return *denied;
  const std::int64_t now = c.s.clock->now_ms();
  int year = em::beijing_year_of(now);
  if (auto it = c.t.query.find("year"); it != c.t.query.end() && !it->second.empty()) {
    const std::string& y = it->second;
    if (y.size() != 4 ||
        !std::all_of(y.begin(), y.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      return error(400, "bad_request", "year: four digits (2026)");
    }
    year = std::stoi(y);
    if (year < 1990 || year > 2200) return error(400, "bad_request", "year: 1990 to 2200");
  }
  auto kind = kind_param(c.t);
  if (!kind) return from_error(kind.error());
  const storage::DataKind data_kind = kind->value_or(storage::DataKind::kHour);
  if (data_kind != storage::DataKind::kHour && data_kind != storage::DataKind::kDay) {
    return error(400, "bad_request",
                 "kind: hour or day (emission totals come from Cou per period)");
  }
  const std::int64_t from = em::beijing_year_start_ms(year);
  const std::int64_t to = em::beijing_year_start_ms(year + 1);
  core::JsonWriter w;
  w.begin_object();
  w.key("enterprise").value(e->code).key("name").value(e->name);
  w.key("year").value(static_cast<std::int64_t>(year));
  w.key("kind").value(storage::kind_name(data_kind));
  w.key("from").value(iso(from)).key("to").value(iso(to)).key("as_of").value(iso(now));
  w.key("outlets").begin_array();
  for (const auto* o : visible_outlets(c, *reg, e->code)) {
    w.begin_object();
    write_outlet_head(w, *reg, *o);
    w.key("factors").begin_array();
    // Per factor, the permit in force latest within the year (permits are sorted by start).
    std::vector<const registry::Permit*> chosen;
    for (const auto& p : reg->permits()) {
      if (p.outlet != o->site || p.from_ms >= to || p.until_ms <= from) continue;
      if (!chosen.empty() && chosen.back()->factor == p.factor) {
        chosen.back() = &p;
      } else {
        chosen.push_back(&p);
      }
    }
    for (const auto* p : chosen) {
      auto total = em::read_total(*c.s.store, o->site, p->factor, data_kind, from, to, now);
      if (!total) return from_error(total.error());
      const double total_t = total->total_kg / 1000.0;
      w.begin_object();
      w.key("factor").value(p->factor);
      if (const registry::Factor* f = reg->find_factor(p->factor)) {
        w.key("name").value(f->name_zh);
      }
      w.key("total_kg").value(total->total_kg).key("total_t").value(total_t);
      write_optional(w, "annual_total_t", p->annual_total_t);
      w.key("share");
      if (p->annual_total_t && *p->annual_total_t > 0) {
        w.value(total_t / *p->annual_total_t);
      } else {
        w.null();
      }
      w.key("periods_sent").value(total->periods_sent);
      w.key("periods_computed").value(total->periods_computed);
      w.key("periods_flagged").value(total->periods_flagged);
      w.key("periods_expected").value(total->periods_expected);
      w.key("coverage").value(total->coverage());
      w.key("last_period");
      total->last_ms ? w.value(iso(*total->last_ms)) : w.null();
      w.key("standard").value(p->standard);
      w.end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

}  // namespace ecomon::api::detail
