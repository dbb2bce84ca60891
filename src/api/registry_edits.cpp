// Registry edits through the API: PUT /api/v1/sites/{code}, PUT /api/v1/devices/{mn},
// POST /api/v1/assignments; key polluters: PUT /api/v1/enterprises/{code}, POST /api/v1/outlets,
// POST /api/v1/permits. A JSON body in, the new snapshot swapped in and saved, or a 400 with
// the registry's reason.
#include <boost/json.hpp>

#include "api/http_api.h"
#include "api/json_body.h"
#include "api/routes_internal.h"
#include "core/civil_time.h"

namespace ecomon::api {
namespace json = boost::json;

namespace {

core::Result<json::object> parse_object(const std::string& body) {
  return detail::parse_json_object(body);
}

// Reads an optional string member into `out`; an error when present with another type.
core::Result<void> str(const json::object& o, const char* key, std::string& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  if (!v->is_string())
    return core::fail(core::Error{"bad_request", std::string(key) + " must be a string"});
  out = std::string(v->as_string());
  return {};
}

core::Result<void> num(const json::object& o, const char* key, std::optional<double>& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  if (!v->is_number())
    return core::fail(core::Error{"bad_request", std::string(key) + " must be a number"});
  out = v->to_number<double>();
  return {};
}

core::Result<void> integer(const json::object& o, const char* key, int& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  if (!v->is_int64() || v->as_int64() < INT32_MIN || v->as_int64() > INT32_MAX) {
    return core::fail(core::Error{"bad_request", std::string(key) + " must be a 32-bit integer"});
  }
  out = static_cast<int>(v->as_int64());
  return {};
}

core::Result<void> boolean(const json::object& o, const char* key, bool& out) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return {};
  if (!v->is_bool())
    return core::fail(core::Error{"bad_request", std::string(key) + " must be true or false"});
  out = v->as_bool();
  return {};
}

core::Result<std::int64_t> time_member(const json::object& o, const char* key,
                                       std::int64_t missing) {
  std::string text;
  if (auto r = str(o, key, text); !r) return core::fail(r.error());
  if (text.empty()) return missing;
  const auto t = core::parse_iso8601(text);
  if (!t)
    return core::fail(
        core::Error{"bad_request", std::string(key) + " '" + text + "' is not ISO 8601"});
  return core::to_unix_ms(t->civil, t->offset_seconds.value_or(core::kChinaUtcOffsetSeconds));
}

#define ECOMON_TRY(expr)                                            \
  do {                                                              \
    if (auto ecomon_r = (expr); !ecomon_r) return ecomon_r.error(); \
  } while (0)

std::optional<core::Error> fill_site(const json::object& o, registry::Site& s) {
  ECOMON_TRY(str(o, "name", s.name));
  ECOMON_TRY(str(o, "kind", s.kind));
  ECOMON_TRY(str(o, "level", s.level));
  ECOMON_TRY(str(o, "air_role", s.air_role));
  ECOMON_TRY(str(o, "waterbody", s.waterbody));
  ECOMON_TRY(str(o, "river", s.river));
  ECOMON_TRY(str(o, "department", s.department));
  ECOMON_TRY(num(o, "lon", s.lon));
  ECOMON_TRY(num(o, "lat", s.lat));
  ECOMON_TRY(boolean(o, "provisional", s.provisional));
  if (const auto* p = o.if_contains("place"); p && p->is_object()) {
    const auto& po = p->as_object();
    ECOMON_TRY(str(po, "province", s.place.province));
    ECOMON_TRY(str(po, "province_code", s.place.province_code));
    ECOMON_TRY(str(po, "city", s.place.city));
    ECOMON_TRY(str(po, "city_code", s.place.city_code));
    ECOMON_TRY(str(po, "county", s.place.county));
    ECOMON_TRY(str(po, "county_code", s.place.county_code));
  }
  return std::nullopt;
}

std::optional<core::Error> fill_device(const json::object& o, registry::Device& d) {
  ECOMON_TRY(str(o, "st", d.st));
  ECOMON_TRY(str(o, "password", d.password));
  ECOMON_TRY(integer(o, "interval_s", d.interval_s));
  ECOMON_TRY(boolean(o, "pending", d.pending));
  ECOMON_TRY(str(o, "enterprise", d.enterprise));
  ECOMON_TRY(str(o, "outlet", d.outlet));
  ECOMON_TRY(integer(o, "version", d.profile.version));
  ECOMON_TRY(str(o, "crc", d.profile.crc));
  ECOMON_TRY(str(o, "sm4_key_hex", d.profile.sm4_key_hex));
  ECOMON_TRY(str(o, "sm4_wire_form", d.profile.sm4_wire_form));
  ECOMON_TRY(boolean(o, "accept_length_mismatch", d.profile.accept_length_mismatch));
  return std::nullopt;
}

// Applies `change` to the registry (one edit at a time), saves the result before it is swapped in,
// and answers `ok_body`, or the registry's reason for refusing.
Response commit(
    const ApiSources& s,
    const std::function<core::Result<registry::Registry>(const registry::Registry&)>& change,
    const std::string& ok_body) {
  bool save_failed = false;
  auto done = s.registry->update(
      [&](const registry::Registry& current) -> core::Result<registry::Registry> {
        auto next = change(current);
        if (!next) return next;
        if (s.save_registry) {
          if (auto saved = s.save_registry(*next); !saved) {
            save_failed = true;
            return core::fail(saved.error());
          }
        }
        return next;
      });
  if (!done) {
    if (save_failed) {
      return detail::error(500, "internal", "the edit could not be saved: " + done.error().detail);
    }
    return detail::error(400, done.error().reason, done.error().detail);
  }
  return Response{200, "application/json", ok_body, {}};
}

}  // namespace

Response put_site(const ApiSources& s, const std::string& code, const std::string& body) {
  auto o = parse_object(body);
  if (!o) return detail::error(400, "bad_request", o.error().detail);
  std::optional<core::Error> bad;
  registry::Site site;
  auto r = commit(
      s,
      [&](const registry::Registry& reg) -> core::Result<registry::Registry> {
        if (const registry::Site* old = reg.find_site(code)) site = *old;  // a partial update
        site.code = code;
        if ((bad = fill_site(*o, site))) return core::fail(*bad);
        return reg.with_site(site);
      },
      "");
  if (r.status != 200) return r;
  return Response{200, "application/json", detail::site_json(site), {}};
}

Response put_device(const ApiSources& s, const std::string& mn, const std::string& body) {
  auto o = parse_object(body);
  if (!o) return detail::error(400, "bad_request", o.error().detail);
  return commit(
      s,
      [&](const registry::Registry& reg) -> core::Result<registry::Registry> {
        registry::Device device;
        if (const registry::Device* old = reg.find_device(mn)) device = *old;  // partial update
        device.mn = mn;
        if (auto e = fill_device(*o, device)) return core::fail(*e);
        return reg.with_device(device);
      },
      "{\"mn\":" + json::serialize(json::string(mn)) + "}");
}

Response post_assignment(const ApiSources& s, const std::string& body) {
  auto o = parse_object(body);
  if (!o) return detail::error(400, "bad_request", o.error().detail);
  registry::Assignment a;
  if (auto r = str(*o, "mn", a.mn); !r) return detail::error(400, "bad_request", r.error().detail);
  if (auto r = str(*o, "site", a.site); !r)
    return detail::error(400, "bad_request", r.error().detail);
  auto from = time_member(*o, "from", INT64_MIN);
  if (!from) return detail::error(400, "bad_request", from.error().detail);
  auto until = time_member(*o, "until", INT64_MAX);
  if (!until) return detail::error(400, "bad_request", until.error().detail);
  a.from_ms = *from;
  a.until_ms = *until;
  return commit(
      s, [&](const registry::Registry& reg) { return reg.with_assignment(a); },
      "{\"mn\":" + json::serialize(json::string(a.mn)) +
          ",\"site\":" + json::serialize(json::string(a.site)) + "}");
}

Response put_enterprise(const ApiSources& s, const std::string& code, const std::string& body) {
  auto o = parse_object(body);
  if (!o) return detail::error(400, "bad_request", o.error().detail);
  return commit(
      s,
      [&](const registry::Registry& reg) -> core::Result<registry::Registry> {
        registry::Enterprise e;
        if (const registry::Enterprise* old = reg.find_enterprise(code)) e = *old;
        e.code = code;
        if (auto r = str(*o, "name", e.name); !r) return core::fail(r.error());
        if (auto r = str(*o, "county", e.county); !r) return core::fail(r.error());
        return reg.with_enterprise(e);
      },
      "{\"code\":" + json::serialize(json::string(code)) + "}");
}

Response post_outlet(const ApiSources& s, const std::string& body) {
  auto o = parse_object(body);
  if (!o) return detail::error(400, "bad_request", o.error().detail);
  registry::Outlet outlet;
  for (const auto& [key, out] : {std::pair<const char*, std::string*>{"site", &outlet.site},
                                 {"enterprise", &outlet.enterprise},
                                 {"permit_code", &outlet.permit_code}}) {
    if (auto r = str(*o, key, *out); !r) return detail::error(400, "bad_request", r.error().detail);
  }
  return commit(
      s, [&](const registry::Registry& reg) { return reg.with_outlet(outlet); },
      "{\"site\":" + json::serialize(json::string(outlet.site)) + "}");
}

Response post_permit(const ApiSources& s, const std::string& body) {
  auto o = parse_object(body);
  if (!o) return detail::error(400, "bad_request", o.error().detail);
  registry::Permit p;
  auto bad = [](const core::Error& e) { return detail::error(400, "bad_request", e.detail); };
  for (const auto& [key, out] : {std::pair<const char*, std::string*>{"outlet", &p.outlet},
                                 {"factor", &p.factor},
                                 {"unit", &p.unit},
                                 {"standard", &p.standard}}) {
    if (auto r = str(*o, key, *out); !r) return bad(r.error());
  }
  for (const auto& [key, out] : {std::pair<const char*, std::optional<double>*>{"limit", &p.limit},
                                 {"reference_o2_pct", &p.reference_o2_pct},
                                 {"annual_total_t", &p.annual_total_t}}) {
    if (auto r = num(*o, key, *out); !r) return bad(r.error());
  }
  if (auto r = boolean(*o, "converted", p.converted); !r) return bad(r.error());
  auto from = time_member(*o, "from", INT64_MIN);
  if (!from) return bad(from.error());
  auto until = time_member(*o, "until", INT64_MAX);
  if (!until) return bad(until.error());
  p.from_ms = *from;
  p.until_ms = *until;
  return commit(
      s, [&](const registry::Registry& reg) { return reg.with_permit(p); },
      "{\"outlet\":" + json::serialize(json::string(p.outlet)) +
          ",\"factor\":" + json::serialize(json::string(p.factor)) + "}");
}

}  // namespace ecomon::api
