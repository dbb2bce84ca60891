// Authentication, then routing. Every route of the HTTP API is in table() below (also printed
// by `ecomon routes`, which the tests enumerate): its method, path pattern and the action its
// caller's role must grant. The rules:
//   - /healthz, /api/public/v1/… and POST /api/auth/login need no credential;
//   - everything else (all of /api/v1/…, /metrics, /api/auth/logout) is authenticated BEFORE
//     routing: without a valid session token or API key the answer is 401, whatever the path or
//     method — a caller without a credential learns nothing about which routes exist;
//   - a valid credential whose role lacks the route's action gets 403; so does a request for a
//     site or device outside the caller's scopes (routes.cpp);
//   - a browser's cookie session may change data only from the platform's own origin (a POST,
//     PUT or DELETE with a foreign Origin header is refused: CSRF).
#include <boost/json.hpp>
#include <cstdio>

#include "api/http_api.h"
#include "api/json_body.h"
#include "api/routes.h"
#include "api/routes_internal.h"
#include "api/static_files.h"

namespace ecomon::api {
namespace json = boost::json;
using detail::Ctx;
using detail::error;

namespace {

constexpr std::string_view kCookieName = "ecomon_session";

using detail::client_of;

core::Result<json::object> parse_object(const std::string& body) {
  return detail::parse_json_object(body);
}

std::string member(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The scopes of a JSON body: "scope":"county:510802" or "scopes":["county:510802","site:2523A"].
core::Result<std::vector<auth::Scope>> scopes_member(const json::object& o) {
  std::vector<std::string> texts;
  if (const auto* v = o.if_contains("scopes")) {
    if (!v->is_array()) return core::fail(core::Error{"bad_request", "scopes must be an array"});
    for (const auto& e : v->as_array()) {
      if (!e.is_string()) return core::fail(core::Error{"bad_request", "scopes are strings"});
      texts.emplace_back(e.as_string());
    }
  }
  if (const auto* v = o.if_contains("scope"); v && v->is_string())
    texts.emplace_back(v->as_string());
  if (texts.empty()) texts.emplace_back("city");
  std::vector<auth::Scope> out;
  for (const auto& t : texts) {
    auto s = auth::parse_scopes(t);
    if (!s) return core::fail(s.error());
    out.insert(out.end(), s->begin(), s->end());
  }
  return out;
}

Response auth_error(const core::Error& e) {
  if (e.reason == "bad_name" || e.reason == "bad_role" || e.reason == "bad_scope" ||
      e.reason == "weak_password" || e.reason == "bad_request") {
    return error(400, e.reason, e.detail);
  }
  if (e.reason == "exists") return error(409, e.reason, e.detail);
  if (e.reason == "not_found") return error(404, e.reason, e.detail);
  return error(500, "internal", e.detail);
}

void write_scopes(core::JsonWriter& w, const std::vector<auth::Scope>& scopes) {
  w.begin_array();
  for (const auto& s : scopes) w.value(s.value.empty() ? s.kind : s.kind + ":" + s.value);
  w.end_array();
}

// The credential of a request: "Authorization: Bearer X", else the session cookie.
struct Credential {
  std::string token;
  bool from_cookie = false;
};

std::optional<Credential> credential_of(const Request& r) {
  std::string_view a = r.authorization;
  if (a.size() > 7 && (a.substr(0, 7) == "Bearer " || a.substr(0, 7) == "bearer ")) {
    a.remove_prefix(7);
    while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
    while (!a.empty() && a.back() == ' ') a.remove_suffix(1);
    return Credential{std::string(a), false};
  }
  std::string_view c = r.cookie;
  while (!c.empty()) {
    const std::size_t semi = c.find(';');
    std::string_view pair = c.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == kCookieName) {
      return Credential{std::string(pair.substr(eq + 1)), true};
    }
    if (semi == std::string_view::npos) break;
    c.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

std::string session_cookie(const std::string& token, std::int64_t max_age_s) {
  return std::string(kCookieName) + "=" + token + "; Path=/; Max-Age=" + std::to_string(max_age_s) +
         "; HttpOnly; Secure; SameSite=Strict";
}

Response unauthorized(std::string_view message) {
  Response r = error(401, "unauthorized", message);
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"ecomon\"");
  return r;
}

Response too_many(std::int64_t retry_after_ms, std::string_view code, std::string_view message) {
  Response r = error(429, code, message);
  r.headers.emplace_back("Retry-After",
                         std::to_string(std::max<std::int64_t>(1, (retry_after_ms + 999) / 1000)));
  return r;
}

// --- auth routes ---

Response login(const ApiSources& s, const Request& req) {
  if (!s.auth) return error(503, "unavailable", "authentication is not configured");
  std::int64_t wait = 0;
  if (s.login_limiter && !s.login_limiter->allow(client_of(req), s.clock->now_ms(), &wait)) {
    return too_many(wait, "rate_limited", "too many login attempts from this address");
  }
  auto body = parse_object(req.body);
  if (!body) return error(400, "bad_request", body.error().detail);
  const std::string name = member(*body, "name");
  const std::string password = member(*body, "password");
  if (name.empty() || password.empty()) {
    return error(400, "bad_request", "name and password are required");
  }
  auto ok = s.auth->login(name, password, client_of(req), &wait);
  if (!ok) {
    if (ok.error().reason == "locked") return too_many(wait, "locked", ok.error().detail);
    if (ok.error().reason == "bad_credentials") {
      return error(401, "bad_credentials", "wrong user name or password");
    }
    return error(500, "internal", ok.error().detail);
  }
  core::JsonWriter w;
  w.begin_object().key("user").value(ok->principal.name).key("role").value(ok->principal.role);
  w.key("scopes");
  write_scopes(w, ok->principal.scopes);
  w.key("token").value(ok->token).key("expires_at").value(detail::iso(ok->principal.expires_ms));
  w.end_object();
  Response r{200, "application/json", w.take(), {}};
  const std::int64_t ttl_s = (ok->principal.expires_ms - s.clock->now_ms()) / 1000;
  r.headers.emplace_back("Set-Cookie", session_cookie(ok->token, ttl_s));
  return r;
}

Response logout(const ApiSources& s, const Request& req, const Credential& cred) {
  if (cred.token.rfind("ek_", 0) == 0) {
    return error(400, "bad_request", "an API key is revoked with DELETE /api/v1/apikeys/{id}");
  }
  auto r = s.auth->logout(cred.token, client_of(req));
  if (!r) return auth_error(r.error());
  Response out{200, "application/json", "{\"logged_out\":true}", {}};
  out.headers.emplace_back("Set-Cookie", session_cookie("", 0));
  return out;
}

Response me(const Ctx& c) {
  core::JsonWriter w;
  w.begin_object().key("user").value(c.who->name).key("role").value(c.who->role);
  w.key("api_key").value(c.who->api_key).key("scopes");
  write_scopes(w, c.who->scopes);
  w.key("actions").begin_array();
  for (int a = 0; a <= static_cast<int>(auth::Action::kMetricsRead); ++a) {
    if (c.who->allows(static_cast<auth::Action>(a))) {
      w.value(auth::action_name(static_cast<auth::Action>(a)));
    }
  }
  w.end_array();
  w.key("expires_at");
  c.who->expires_ms ? w.value(detail::iso(c.who->expires_ms)) : w.null();
  w.end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response change_password(const Ctx& c) {
  if (c.who->api_key) return error(400, "bad_request", "an API key has no password");
  auto body = parse_object(c.req.body);
  if (!body) return error(400, "bad_request", body.error().detail);
  auto r = c.s.auth->change_own_password(c.who->name, member(*body, "current"),
                                         member(*body, "new"), client_of(c.req));
  if (!r) {
    if (r.error().reason == "bad_credentials")
      return error(403, "bad_credentials", r.error().detail);
    return auth_error(r.error());
  }
  // Every session of the user ended, this one too: log in again with the new password.
  Response out{200, "application/json", "{\"changed\":true}", {}};
  out.headers.emplace_back("Set-Cookie", session_cookie("", 0));
  return out;
}

Response list_users(const Ctx& c) {
  auto users = c.s.auth->users();
  if (!users) return auth_error(users.error());
  core::JsonWriter w;
  w.begin_object().key("users").begin_array();
  for (const auto& u : *users) {
    w.begin_object().key("name").value(u.name).key("role").value(u.role).key("scopes");
    write_scopes(w, u.scopes);
    w.key("created_at").value(detail::iso(u.created_ms)).key("disabled").value(u.disabled);
    w.key("failed_logins").value(static_cast<std::int64_t>(u.failed_logins));
    w.key("locked_until");
    u.locked_until_ms > c.s.clock->now_ms() ? w.value(detail::iso(u.locked_until_ms)) : w.null();
    w.end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response add_user(const Ctx& c) {
  auto body = parse_object(c.req.body);
  if (!body) return error(400, "bad_request", body.error().detail);
  auto scopes = scopes_member(*body);
  if (!scopes) return auth_error(scopes.error());
  const std::string name = member(*body, "name");
  auto r = c.s.auth->add_user(name, member(*body, "role"), *scopes, member(*body, "password"),
                              c.who->name, client_of(c.req));
  if (!r) return auth_error(r.error());
  return Response{201, "application/json", "{\"created\":\"" + name + "\"}", {}};
}

Response user_state(const Ctx& c, bool disabled) {
  auto r = c.s.auth->set_disabled(c.params.at(0), disabled, c.who->name, client_of(c.req));
  if (!r) return auth_error(r.error());
  return Response{
      200, "application/json", disabled ? "{\"disabled\":true}" : "{\"disabled\":false}", {}};
}

void write_key(core::JsonWriter& w, const auth::ApiKeyInfo& k) {
  w.key("id").value(k.id).key("label").value(k.label).key("role").value(k.role).key("scopes");
  write_scopes(w, k.scopes);
  w.key("created_at").value(detail::iso(k.created_ms)).key("created_by").value(k.created_by);
  w.key("revoked_at");
  k.revoked_ms ? w.value(detail::iso(*k.revoked_ms)) : w.null();
}

Response list_keys(const Ctx& c) {
  auto keys = c.s.auth->api_keys();
  if (!keys) return auth_error(keys.error());
  core::JsonWriter w;
  w.begin_object().key("api_keys").begin_array();
  for (const auto& k : *keys) {
    w.begin_object();
    write_key(w, k);
    w.end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response create_key(const Ctx& c) {
  auto body = parse_object(c.req.body);
  if (!body) return error(400, "bad_request", body.error().detail);
  auto scopes = scopes_member(*body);
  if (!scopes) return auth_error(scopes.error());
  auto r = c.s.auth->create_api_key(member(*body, "label"), member(*body, "role"), *scopes,
                                    c.who->name, client_of(c.req));
  if (!r) return auth_error(r.error());
  core::JsonWriter w;
  w.begin_object();
  write_key(w, r->first);
  w.key("key").value(r->second).end_object();
  return Response{201, "application/json", w.take(), {}};
}

Response revoke_key(const Ctx& c) {
  auto r = c.s.auth->revoke_api_key(c.params.at(0), c.who->name, client_of(c.req));
  if (!r) return auth_error(r.error());
  return Response{200, "application/json", "{\"revoked\":true}", {}};
}

Response audit_log(const Ctx& c) {
  auth::AuditQuery q;
  auto from = detail::time_param(c.t, "from");
  if (!from) return detail::from_error(from.error());
  auto to = detail::time_param(c.t, "to");
  if (!to) return detail::from_error(to.error());
  if (*from) q.from_ms = **from;
  if (*to) q.to_ms = **to;
  if (auto it = c.t.query.find("actor"); it != c.t.query.end()) q.actor = it->second;
  if (auto it = c.t.query.find("action"); it != c.t.query.end()) q.action = it->second;
  if (auto it = c.t.query.find("limit"); it != c.t.query.end()) {
    try {
      q.limit = std::clamp<std::size_t>(std::stoul(it->second), 1, 10000);
    } catch (...) {
      return error(400, "bad_request", "limit must be a number");
    }
  }
  auto entries = c.s.auth->audit_entries(q);
  if (!entries) return auth_error(entries.error());
  core::JsonWriter w;
  w.begin_object().key("entries").begin_array();
  for (const auto& e : *entries) {
    w.begin_object().key("seq").value(e.seq).key("time").value(detail::iso(e.at_ms));
    w.key("actor").value(e.actor).key("action").value(e.action).key("target").value(e.target);
    w.key("detail").value(e.detail).key("client").value(e.client).key("hash").value(e.hash);
    w.end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response metrics(const Ctx& c) {
  return Response{200, "text/plain; version=0.0.4", c.s.metrics ? c.s.metrics() : "", {}};
}

// Registry edits, with the scope check and the audit entry.
void audit_edit(const Ctx& c, const Response& r, const std::string& action,
                const std::string& target) {
  if (r.status / 100 != 2 || !c.s.auth) return;
  std::string detail = c.req.body.substr(0, 4000);
  // A device's password is not written into the audit trail.
  if (action == "device.edit") {
    boost::system::error_code ec;
    json::value v = json::parse(c.req.body, ec);
    if (!ec && v.is_object()) {
      for (const char* secret : {"password", "sm4_key_hex"}) {
        if (v.as_object().contains(secret)) v.as_object()[secret] = "***";
      }
      detail = json::serialize(v);
    }
  }
  detail::record_audit(c, action, target, detail);
}

Response edit_site(const Ctx& c) {
  {
    auto reg = c.s.registry->get();
    const registry::Site* site = reg->find_site(c.params.at(0));
    // A new site: only an unrestricted caller may create one.
    const bool creating = !site && auth::unrestricted(c.who->scopes);
    if (auto denied = detail::site_denied(c, *reg, site, c.params.at(0)); denied && !creating) {
      return *denied;
    }
  }
  Response r = put_site(c.s, c.params.at(0), c.req.body);
  audit_edit(c, r, "site.edit", c.params.at(0));
  return r;
}

Response edit_device(const Ctx& c) {
  {
    auto reg = c.s.registry->get();
    const bool known = reg->find_device(c.params.at(0)) != nullptr;
    if (!auth::unrestricted(c.who->scopes) &&
        (!known || !detail::device_in_scope(c, *reg, c.params.at(0), c.s.clock->now_ms()))) {
      return error(403, "forbidden", "device '" + c.params.at(0) + "' is outside your scope");
    }
  }
  Response r = put_device(c.s, c.params.at(0), c.req.body);
  audit_edit(c, r, "device.edit", c.params.at(0));
  return r;
}

Response rotate_key(const Ctx& c) {
  const std::string& mn = c.params.at(0);
  {
    auto reg = c.s.registry->get();
    if (!reg->find_device(mn) && auth::unrestricted(c.who->scopes)) {
      return error(404, "not_found", "no device '" + mn + "'");
    }
    if (!detail::device_in_scope(c, *reg, mn, c.s.clock->now_ms())) {
      return error(403, "forbidden", "device '" + mn + "' is outside your scope");
    }
  }
  if (!c.s.rotate_key) return error(503, "unavailable", "key rotation is not available");
  auto r = c.s.rotate_key(mn);
  const std::string outcome = r ? std::string("executed") : r.error().reason;
  {
    // The key itself never goes into the trail.
    detail::record_audit(c, "device.key_rotate", mn,
                         r ? "SKCreateTime=" + *r : "outcome=" + outcome + ": " + r.error().detail);
  }
  if (!r) {
    const std::string& reason = r.error().reason;
    const int status = reason == "not_found"                       ? 404
                       : reason == "not_encrypted"                 ? 400
                       : reason == "offline"                       ? 409
                       : reason == "timeout"                       ? 504
                       : reason == "refused" || reason == "failed" ? 502
                                                                   : 500;
    return error(status, reason, r.error().detail);
  }
  return Response{200,
                  "application/json",
                  "{\"mn\":\"" + mn + "\",\"rotated\":true,\"sk_create_time\":\"" + *r + "\"}",
                  {}};
}

Response assign(const Ctx& c) {
  std::string site_code;
  if (auto body = parse_object(c.req.body)) site_code = member(*body, "site");
  if (!auth::unrestricted(c.who->scopes)) {
    auto reg = c.s.registry->get();
    const registry::Site* site = reg->find_site(site_code);
    if (!site || !detail::in_scope(c, *reg, *site)) {
      return error(403, "forbidden", "site '" + site_code + "' is outside your scope");
    }
  }
  Response r = post_assignment(c.s, c.req.body);
  audit_edit(c, r, "assignment.add", site_code);
  return r;
}

// Key polluters. A new enterprise needs an unrestricted caller, an existing one must be visible;
// an outlet's or a permit's site must be in the caller's scopes.
Response edit_enterprise(const Ctx& c) {
  {
    auto reg = c.s.registry->get();
    const registry::Enterprise* e = reg->find_enterprise(c.params.at(0));
    bool visible = auth::unrestricted(c.who->scopes);
    if (e && !visible) {
      for (const auto& o : reg->outlets()) {
        const registry::Site* site = reg->find_site(o.site);
        if (o.enterprise == e->code && site && detail::in_scope(c, *reg, *site)) visible = true;
      }
    }
    if (!visible) {
      return error(403, "forbidden", "enterprise '" + c.params.at(0) + "' is outside your scope");
    }
  }
  Response r = put_enterprise(c.s, c.params.at(0), c.req.body);
  audit_edit(c, r, "enterprise.edit", c.params.at(0));
  return r;
}

// The site named by `key` in the body must be in the caller's scopes (or the caller
// unrestricted); the site code, or the answer to give.
core::Result<std::string, Response> body_site_in_scope(const Ctx& c, const char* key) {
  std::string code;
  if (auto body = parse_object(c.req.body)) code = member(*body, key);
  if (!auth::unrestricted(c.who->scopes)) {
    auto reg = c.s.registry->get();
    const registry::Site* site = reg->find_site(code);
    if (!site || !detail::in_scope(c, *reg, *site)) {
      return core::fail(error(403, "forbidden", "site '" + code + "' is outside your scope"));
    }
  }
  return code;
}

Response add_outlet(const Ctx& c) {
  auto site = body_site_in_scope(c, "site");
  if (!site) return site.error();
  Response r = post_outlet(c.s, c.req.body);
  audit_edit(c, r, "outlet.edit", *site);
  return r;
}

Response add_permit(const Ctx& c) {
  auto site = body_site_in_scope(c, "outlet");
  if (!site) return site.error();
  Response r = post_permit(c.s, c.req.body);
  audit_edit(c, r, "permit.edit", *site);
  return r;
}

Response healthz(const Ctx&) {
  return Response{200, "application/json", "{\"status\":\"ok\"}", {}};
}

using Handler = Response (*)(const Ctx&);

struct RouteEntry {
  RouteInfo info;
  Handler handler;
};

Response disable_user(const Ctx& c) { return user_state(c, true); }
Response enable_user(const Ctx& c) { return user_state(c, false); }

using A = auth::Action;
const std::vector<RouteEntry>& table() {
  static const std::vector<RouteEntry> routes{
      {{"GET", "/healthz", Access::kPublic, {}}, healthz},
      {{"GET", "/api/public/v1/sites", Access::kPublic, {}}, detail::public_sites},
      {{"GET", "/api/public/v1/sites/{code}", Access::kPublic, {}}, detail::public_site},
      {{"GET", "/api/public/v1/aqi", Access::kPublic, {}}, detail::public_aqi},
      {{"GET", "/api/public/v1/aqi/history", Access::kPublic, {}}, detail::public_aqi_history},
      {{"GET", "/api/public/v1/aqi/daily", Access::kPublic, {}}, detail::public_aqi_daily},
      {{"GET", "/api/public/v1/water", Access::kPublic, {}}, detail::public_water},
      {{"GET", "/api/public/v1/dust-storm-days", Access::kPublic, {}}, detail::dust_storm_days},
      {{"POST", "/api/auth/login", Access::kPublic, {}}, nullptr},  // handled before routing
      {{"POST", "/api/auth/logout", Access::kAuthenticated, {}}, nullptr},
      {{"GET", "/metrics", Access::kAction, A::kMetricsRead}, metrics},
      {{"GET", "/api/v1/me", Access::kAuthenticated, {}}, me},
      {{"POST", "/api/v1/me/password", Access::kAuthenticated, {}}, change_password},
      {{"GET", "/api/v1/sites", Access::kAction, A::kDataRead}, detail::sites},
      {{"GET", "/api/v1/sites/{code}", Access::kAction, A::kDataRead}, detail::site},
      {{"PUT", "/api/v1/sites/{code}", Access::kAction, A::kRegistryWrite}, edit_site},
      {{"GET", "/api/v1/sites/{code}/latest", Access::kAction, A::kDataRead}, detail::latest},
      {{"GET", "/api/v1/series", Access::kAction, A::kDataRead}, detail::series},
      {{"GET", "/api/v1/gaps", Access::kAction, A::kDataRead}, detail::gaps},
      {{"GET", "/api/v1/aqi", Access::kAction, A::kDataRead}, detail::aqi_history},
      {{"GET", "/api/v1/screening", Access::kAction, A::kDataRead}, detail::screening},
      {{"GET", "/api/v1/screening/marks", Access::kAction, A::kDataRead}, detail::screening_marks},
      {{"GET", "/api/v1/screening/marks/{id}", Access::kAction, A::kDataRead},
       detail::screening_mark},
      {{"POST", "/api/v1/screening/marks/{id}/review", Access::kAction, A::kDataReview},
       detail::review_screening_mark},
      {{"GET", "/api/v1/aggregates", Access::kAction, A::kDataRead}, detail::aggregates},
      {{"GET", "/api/v1/revisions", Access::kAction, A::kDataRead}, detail::revisions},
      {{"GET", "/api/v1/water-class", Access::kAction, A::kDataRead}, detail::water_class},
      {{"GET", "/api/v1/enterprises", Access::kAction, A::kDataRead}, detail::enterprises},
      {{"GET", "/api/v1/enterprises/{code}", Access::kAction, A::kDataRead}, detail::enterprise},
      {{"PUT", "/api/v1/enterprises/{code}", Access::kAction, A::kRegistryWrite}, edit_enterprise},
      {{"POST", "/api/v1/outlets", Access::kAction, A::kRegistryWrite}, add_outlet},
      {{"POST", "/api/v1/permits", Access::kAction, A::kRegistryWrite}, add_permit},
      {{"GET", "/api/v1/enterprises/{code}/emissions", Access::kAction, A::kDataRead},
       detail::enterprise_emissions},
      {{"GET", "/api/v1/backfill", Access::kAction, A::kDataRead}, detail::backfill},
      {{"GET", "/api/v1/forward", Access::kAction, A::kMetricsRead}, detail::forward_status},
      {{"GET", "/api/v1/forward/{name}/ledger", Access::kAction, A::kMetricsRead},
       detail::forward_ledger},
      {{"GET", "/api/v1/dust-storm-days", Access::kAction, A::kDataRead}, detail::dust_storm_days},
      {{"GET", "/api/v1/devices", Access::kAction, A::kDeviceRead}, detail::devices},
      {{"PUT", "/api/v1/devices/{mn}", Access::kAction, A::kRegistryWrite}, edit_device},
      {{"GET", "/api/v1/devices/{mn}/records", Access::kAction, A::kDeviceRead}, detail::records},
      {{"GET", "/api/v1/devices/{mn}/frames/{id}", Access::kAction, A::kDeviceRead},
       detail::device_frame},
      {{"POST", "/api/v1/devices/{mn}/rotate-key", Access::kAction, A::kRegistryWrite}, rotate_key},
      {{"POST", "/api/v1/assignments", Access::kAction, A::kRegistryWrite}, assign},
      {{"GET", "/api/v1/users", Access::kAction, A::kUserAdmin}, list_users},
      {{"POST", "/api/v1/users", Access::kAction, A::kUserAdmin}, add_user},
      {{"POST", "/api/v1/users/{name}/disable", Access::kAction, A::kUserAdmin}, disable_user},
      {{"POST", "/api/v1/users/{name}/enable", Access::kAction, A::kUserAdmin}, enable_user},
      {{"GET", "/api/v1/apikeys", Access::kAction, A::kUserAdmin}, list_keys},
      {{"POST", "/api/v1/apikeys", Access::kAction, A::kUserAdmin}, create_key},
      {{"DELETE", "/api/v1/apikeys/{id}", Access::kAction, A::kUserAdmin}, revoke_key},
      {{"GET", "/api/v1/audit", Access::kAction, A::kAuditRead}, audit_log},
      {{"GET", "/api/v1/audit/actions", Access::kAction, A::kDataRead}, detail::review_actions},
      // approve and finalize need data.approve too: checked by the handler.
      {{"POST", "/api/v1/audit/actions", Access::kAction, A::kDataReview},
       detail::post_review_action},
      {{"GET", "/api/v1/rules", Access::kAction, A::kAlarmRead}, detail::rules},
      {{"POST", "/api/v1/rules", Access::kAction, A::kRuleWrite}, detail::create_rule},
      {{"DELETE", "/api/v1/rules/{id}", Access::kAction, A::kRuleWrite}, detail::disable_rule},
      {{"GET", "/api/v1/alarms", Access::kAction, A::kAlarmRead}, detail::alarms},
      {{"GET", "/api/v1/alarms/{id}", Access::kAction, A::kAlarmRead}, detail::alarm},
      {{"POST", "/api/v1/alarms/{id}/ack", Access::kAction, A::kAlarmHandle}, detail::alarm_ack},
      {{"POST", "/api/v1/alarms/{id}/dispatch", Access::kAction, A::kAlarmHandle},
       detail::alarm_dispatch},
      {{"POST", "/api/v1/alarms/{id}/handle", Access::kAction, A::kAlarmHandle},
       detail::alarm_handle},
      {{"POST", "/api/v1/alarms/{id}/close", Access::kAction, A::kAlarmHandle},
       detail::alarm_close},
      {{"POST", "/api/v1/alarms/{id}/evidence", Access::kAction, A::kAlarmHandle},
       detail::upload_evidence},
      {{"GET", "/api/v1/alarms/{id}/evidence", Access::kAction, A::kAlarmRead},
       detail::list_evidence},
      {{"GET", "/api/v1/alarms/{id}/evidence/{eid}", Access::kAction, A::kAlarmRead},
       detail::download_evidence},
      {{"GET", "/api/v1/tasks", Access::kAction, A::kAlarmRead}, detail::tasks},
      {{"GET", "/api/v1/events", Access::kAction, A::kAlarmRead}, detail::events},
      {{"GET", "/api/v1/incidents", Access::kAction, A::kAlarmRead}, detail::incidents},
      {{"POST", "/api/v1/incidents", Access::kAction, A::kAlarmHandle}, detail::create_incident},
      {{"GET", "/api/v1/incidents/{id}", Access::kAction, A::kAlarmRead}, detail::incident},
      {{"GET", "/api/v1/incidents/{id}/report", Access::kAction, A::kAlarmRead},
       detail::incident_report},
      {{"POST", "/api/v1/incidents/{id}/actions", Access::kAction, A::kAlarmHandle},
       detail::incident_action},
      {{"POST", "/api/v1/incidents/{id}/close", Access::kAction, A::kAlarmHandle},
       detail::close_incident},
  };
  return routes;
}

// Splits a pattern the way parse_target splits a path.
std::vector<std::string_view> pattern_segments(std::string_view p) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < p.size()) {
    std::size_t next = p.find('/', pos);
    if (next == std::string_view::npos) next = p.size();
    if (next > pos) out.push_back(p.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

bool matches(std::string_view pattern, const std::vector<std::string>& path,
             std::vector<std::string>& params) {
  const auto segs = pattern_segments(pattern);
  if (segs.size() != path.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].size() > 2 && segs[i].front() == '{') {
      if (path[i].empty()) return false;
      params.push_back(path[i]);
    } else if (segs[i] != path[i]) {
      return false;
    }
  }
  return true;
}

// Paths of the web front-end: everything that is not the API's (static_files.h).
bool is_front_end_path(const std::vector<std::string>& p) {
  return p.empty() || (p[0] != "api" && p[0] != "healthz" && p[0] != "metrics");
}

bool is_public_path(const std::vector<std::string>& p) {
  return (p.size() == 1 && p[0] == "healthz") ||
         (p.size() >= 3 && p[0] == "api" && p[1] == "public" && p[2] == "v1") ||
         (p.size() == 3 && p[0] == "api" && p[1] == "auth" && p[2] == "login");
}

}  // namespace

std::optional<std::string> detail::credential_token(const Request& r) {
  auto c = credential_of(r);
  if (!c) return std::nullopt;
  return c->token;
}

std::string detail::client_of(const Request& r) { return r.client.empty() ? "unknown" : r.client; }

void detail::record_audit(const Ctx& c, const std::string& action, const std::string& target,
                          const std::string& text) {
  if (!c.s.auth || !c.who) return;
  if (auto r = c.s.auth->audit(c.who->name, action, target, text.substr(0, 4000), client_of(c.req));
      !r) {
    std::fprintf(stderr, "ecomon: AUDIT FAILURE: %s %s by %s not recorded: %s\n", action.c_str(),
                 target.c_str(), c.who->name.c_str(), r.error().detail.c_str());
  }
}

core::Result<json::object> detail::parse_json_object(const std::string& body, bool allow_empty) {
  if (allow_empty && body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return json::object();
  }
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return core::fail(core::Error{"bad_request", "body is not JSON: " + ec.message()});
  if (!v.is_object()) return core::fail(core::Error{"bad_request", "body must be a JSON object"});
  return std::move(v.as_object());
}

std::vector<RouteInfo> routes() {
  std::vector<RouteInfo> out;
  for (const auto& r : table()) out.push_back(r.info);
  return out;
}

Response handle_request(const ApiSources& s, const Request& req) {
  const detail::Target t = detail::parse_target(req.target);
  const auto& p = t.segments;
  const std::string method = req.method == "HEAD" ? std::string("GET") : req.method;

  if (is_front_end_path(p)) {
    // The portal and the dashboard's files are public; the data they show comes from the API,
    // which checks the caller.
    if (method != "GET") return error(405, "method_not_allowed", "the web pages are read-only");
    if (auto r = serve_static(s.web_root, p, accepts_gzip(req.accept_encoding)))
      return std::move(*r);
    return error(404, "not_found", "no such page: " + req.target.substr(0, req.target.find('?')));
  }

  const auth::Principal* who = nullptr;
  std::optional<auth::Principal> principal;
  std::optional<Credential> cred;
  if (is_public_path(p)) {
    if (p.size() >= 3 && p[1] == "public") {
      std::int64_t wait = 0;
      if (s.public_limiter && !s.public_limiter->allow(client_of(req), s.clock->now_ms(), &wait)) {
        return too_many(wait, "rate_limited", "too many requests from this address");
      }
    }
    if (p.size() == 3 && p[1] == "auth") {
      if (method != "POST") return error(405, "method_not_allowed", "login is POST");
      return login(s, req);
    }
  } else {
    // Authentication before routing: no credential, no information.
    cred = credential_of(req);
    if (!cred) return unauthorized("a session token or API key is required");
    if (s.auth) principal = s.auth->authenticate(cred->token);
    if (!principal) return unauthorized("the session has ended or the key is not valid");
    who = &*principal;
    if (cred->from_cookie && method != "GET" && !req.origin.empty()) {
      const std::string own = (req.tls ? "https://" : "http://") + req.host;
      if (req.origin != own) {
        return error(403, "cross_origin", "a change from another site's page is refused");
      }
    }
  }

  bool path_known = false;
  std::vector<std::string> params;
  for (const auto& r : table()) {
    if (!matches(r.info.pattern, p, params)) continue;
    path_known = true;
    if (r.info.method != method) continue;
    if (r.info.access == Access::kAction && !who->allows(*r.info.action)) {
      return error(
          403, "forbidden",
          "role '" + who->role + "' may not " + std::string(auth::action_name(*r.info.action)));
    }
    if (r.info.pattern == "/api/auth/logout") return logout(s, req, *cred);
    return r.handler(Ctx{s, req, t, who, params});
  }
  if (path_known) return error(405, "method_not_allowed", "method not allowed on this resource");
  return error(404, "not_found", "no such resource: " + req.target.substr(0, req.target.find('?')));
}

}  // namespace ecomon::api
