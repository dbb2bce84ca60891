// Alarm rules, alarms and enforcement tasks over HTTP (issue #6):
//
//   GET    /api/v1/rules                      rules the caller's scopes reach
//   POST   /api/v1/rules                      JSON rule (alarm/rule.h) → 201 with the stored rule
//   DELETE /api/v1/rules/{id}                 disables the rule (clears its open episodes)
//   GET    /api/v1/alarms?state=&site=&rule=&active=&from=&to=&limit=
//   GET    /api/v1/alarms/{id}                the alarm and its events
//   POST   /api/v1/alarms/{id}/ack|dispatch|handle|close   JSON {"note"}; dispatch also
//                                             {"department","assignee","due"}
//   POST   /api/v1/alarms/{id}/evidence?name= raw body, Content-Type → 201 the stored file's row
//   GET    /api/v1/alarms/{id}/evidence       {"evidence":[…]}
//   GET    /api/v1/alarms/{id}/evidence/{eid} the file (Content-Disposition: attachment)
//   GET    /api/v1/tasks?department=          dispatched and handled alarms (enforcement tasks)
//   GET    /api/v1/events?after=              Server-sent events (text/event-stream): one event
//                                             per alarm change ("id: <alarm_events id>",
//                                             "event: alarm", "data: <the flat alarm>"), from
//                                             Last-Event-ID, else ?after=, else from now
//
// Scopes: an alarm or rule whose site is outside every scope of the caller is left out of
// listings and answers 403 by id; a rule without a site (any site) may be created and seen by an
// unrestricted caller only. Rule changes and transitions are written to the audit trail.
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "alarm/evidence.h"
#include "alarm/service.h"
#include "api/http_api.h"
#include "api/json_body.h"
#include "api/routes_internal.h"
#include "api/rule_json.h"
#include "core/civil_time.h"

namespace ecomon::api::detail {
namespace json = boost::json;

namespace {

Response unavailable() { return error(503, "unavailable", "alarms are not configured"); }

Response alarm_error(const core::Error& e) {
  if (e.reason == "bad_rule" || e.reason == "bad_request") return error(400, e.reason, e.detail);
  if (e.reason == "not_found") return error(404, e.reason, e.detail);
  if (e.reason == "illegal" || e.reason == "still_active") return error(409, e.reason, e.detail);
  return error(500, "internal", e.detail);
}

using detail::client_of;

void audit(const Ctx& c, const std::string& action, const std::string& target,
           const std::string& text) {
  detail::record_audit(c, action, target, text);
}

core::Result<json::object> parse_body(const std::string& body, bool allow_empty) {
  return detail::parse_json_object(body, allow_empty);
}

std::optional<double> as_number(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_double()) return v.as_double();
  return std::nullopt;
}

core::Result<std::int64_t> parse_id(const std::string& text) {
  std::int64_t id = 0;
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return core::fail(core::Error{"bad_request", "'" + text.substr(0, 40) + "' is not an id"});
  }
  id = std::stoll(text);
  return id;
}

core::Result<std::int64_t> parse_time(const std::string& key, const std::string& text) {
  const auto p = core::parse_iso8601(text);
  if (!p)
    return core::fail(core::Error{"bad_request", key + " '" + text + "' is not an ISO 8601 time"});
  return core::to_unix_ms(p->civil, p->offset_seconds.value_or(core::kChinaUtcOffsetSeconds));
}

// A rule from a JSON body. Errors: bad_request naming the member.
core::Result<alarm::Rule> rule_from_json(const json::object& o) {
  alarm::Rule r;
  static const char* kKnown[] = {"name",       "kind",      "site",     "device",     "factor",
                                 "field",      "data_kind", "op",       "limit",      "count",
                                 "interval_s", "tolerance", "severity", "hold_off_s", "renotify_s",
                                 "recipients", "enabled",   "id"};
  for (const auto& kv : o) {
    bool known = false;
    for (const char* k : kKnown) known = known || kv.key() == k;
    if (!known) {
      return core::fail(
          core::Error{"bad_request", "unknown member '" + std::string(kv.key()) + "'"});
    }
  }
  auto bad = [](const std::string& what) { return core::fail(core::Error{"bad_request", what}); };
  auto str = [&](const char* key, std::string& target) -> bool {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null()) return true;
    if (!v->is_string()) return false;
    target = std::string(v->as_string());
    return true;
  };
  auto num = [&](const char* key, double& target) -> bool {
    const auto* v = o.if_contains(key);
    if (!v || v->is_null()) return true;
    auto n = as_number(*v);
    if (!n) return false;
    target = *n;
    return true;
  };
  auto integer = [&](const char* key, std::int64_t& target) -> bool {
    double d = static_cast<double>(target);
    if (!num(key, d)) return false;
    if (d != std::floor(d) || std::fabs(d) > 1e15) return false;
    target = static_cast<std::int64_t>(d);
    return true;
  };
  std::string kind = "threshold", data_kind = "hour", op = ">", severity = "major";
  if (!str("name", r.name)) return bad("name must be a string");
  if (!str("kind", kind)) return bad("kind must be a string");
  if (!str("site", r.site) || !str("device", r.device) || !str("factor", r.factor) ||
      !str("field", r.field)) {
    return bad("site, device, factor and field are strings");
  }
  if (!str("data_kind", data_kind) || !str("op", op) || !str("severity", severity)) {
    return bad("data_kind, op and severity are strings");
  }
  const bool has_limit = o.contains("limit") && !o.at("limit").is_null();
  if (!num("limit", r.limit)) return bad("limit must be a number");
  if (!integer("count", r.count)) return bad("count must be an integer");
  if (!integer("interval_s", r.interval_s)) return bad("interval_s must be an integer");
  if (!num("tolerance", r.tolerance)) return bad("tolerance must be a number");
  if (!integer("hold_off_s", r.hold_off_s)) return bad("hold_off_s must be an integer");
  if (!integer("renotify_s", r.renotify_s)) return bad("renotify_s must be an integer");
  if (const auto* v = o.if_contains("recipients"); v && !v->is_null()) {
    if (!v->is_array()) return bad("recipients must be an array of URLs");
    for (const auto& e : v->as_array()) {
      if (!e.is_string()) return bad("recipients must be an array of URLs");
      r.recipients.emplace_back(e.as_string());
    }
  }
  if (const auto* v = o.if_contains("enabled"); v && !(v->is_bool() && v->as_bool())) {
    return bad("a rule is created enabled (disable it with DELETE /api/v1/rules/{id})");
  }
  const auto k = alarm::parse_rule_kind(kind);
  if (!k) {
    return bad(
        "kind: threshold, sustained, rate_of_change, offline, factor_missing, aqi_level, "
        "water_class, screening, permit, emission_total, drinking_water, radiation_dose or "
        "water_deteriorating");
  }
  r.kind = *k;
  const auto dk = storage::parse_kind(data_kind);
  if (!dk) return bad("data_kind: rtd, minute, hour or day");
  r.data_kind = *dk;
  const auto p = alarm::parse_op(op);
  if (!p) return bad("op: >, >=, < or <=");
  r.op = *p;
  const auto sev = alarm::parse_severity(severity);
  if (!sev) return bad("severity: info, minor, major or critical");
  r.severity = *sev;
  const bool clock_driven =
      r.kind == alarm::RuleKind::kOffline || r.kind == alarm::RuleKind::kFactorMissing;
  // water_class without a limit judges against the site's designated class (limit 0); permit
  // and emission_total without one against the permit itself (limit 1); drinking_water uses the
  // standard's limits, radiation_dose defaults k = 3, water_deteriorating 1 class.
  const bool limit_optional =
      r.kind == alarm::RuleKind::kWaterClass || r.kind == alarm::RuleKind::kScreening ||
      r.kind == alarm::RuleKind::kPermit || r.kind == alarm::RuleKind::kEmissionTotal ||
      r.kind == alarm::RuleKind::kDrinkingWater || r.kind == alarm::RuleKind::kRadiationDose ||
      r.kind == alarm::RuleKind::kWaterDeteriorating;
  if (!clock_driven && !limit_optional && !has_limit) {
    return bad("limit is required");
  }
  return r;
}

void write_rule(core::JsonWriter& w, const alarm::Rule& r) {
  w.begin_object();
  w.key("id").value(r.id).key("name").value(r.name).key("kind").value(alarm::kind_name(r.kind));
  w.key("site").value(r.site);
  if (r.kind == alarm::RuleKind::kOffline) {
    w.key("device").value(r.device).key("interval_s").value(r.interval_s);
    w.key("tolerance").value(r.tolerance);
  } else if (r.kind == alarm::RuleKind::kFactorMissing) {
    w.key("device").value(r.device).key("factor").value(r.factor);
    w.key("data_kind").value(storage::kind_name(r.data_kind));
    w.key("count").value(r.count).key("interval_s").value(r.interval_s);
  } else if (r.kind == alarm::RuleKind::kAqiLevel) {
    w.key("op").value(alarm::op_name(r.op)).key("limit").value(r.limit);
  } else if (r.kind == alarm::RuleKind::kWaterClass) {
    w.key("limit");
    r.limit > 0 ? w.value(r.limit) : w.null();  // null: the site's designated class
  } else if (r.kind == alarm::RuleKind::kWaterDeteriorating) {
    w.key("limit").value(r.limit);  // classes worse than the previous sample's
  } else if (r.kind == alarm::RuleKind::kRadiationDose) {
    w.key("factor").value(r.factor).key("field").value(r.field);
    w.key("data_kind").value(storage::kind_name(r.data_kind));
    w.key("limit").value(r.limit);  // k of mean + k·σ
  } else if (r.kind == alarm::RuleKind::kScreening || r.kind == alarm::RuleKind::kDrinkingWater) {
    w.key("factor").value(r.factor).key("field").value(r.field);
    w.key("data_kind").value(storage::kind_name(r.data_kind));
  } else {
    w.key("factor").value(r.factor).key("field").value(r.field);
    w.key("data_kind").value(storage::kind_name(r.data_kind));
    w.key("op").value(alarm::op_name(r.op)).key("limit").value(r.limit);
    w.key("count").value(r.count);
    if (r.kind == alarm::RuleKind::kRateOfChange) w.key("interval_s").value(r.interval_s);
  }
  w.key("severity").value(alarm::severity_name(r.severity));
  w.key("hold_off_s").value(r.hold_off_s).key("renotify_s").value(r.renotify_s);
  w.key("recipients").begin_array();
  for (const auto& u : r.recipients) w.value(u);
  w.end_array();
  w.key("enabled").value(r.enabled).key("created_at").value(iso(r.created_ms));
  w.key("created_by").value(r.created_by).key("updated_at").value(iso(r.updated_ms));
  w.key("source").value(r.source);
  w.end_object();
}

// May the caller see things of this site? ("" = any site: unrestricted callers only.)
bool site_visible(const Ctx& c, const registry::Registry& reg, const std::string& code) {
  if (c.who && auth::unrestricted(c.who->scopes)) return true;
  if (code.empty()) return false;
  const registry::Site* site = reg.find_site(code);
  return site && in_scope(c, reg, *site);
}

Response json_ok(int status, std::string body) {
  return Response{status, "application/json", std::move(body), {}};
}

// The enterprise an alarm concerns (key polluters): the one whose outlet its site is, else the
// one of its device; "enterprise" and "enterprise_name" are null when none.
void write_alarm_enterprise(core::JsonWriter& w, const registry::Registry& reg,
                            const alarm::Alarm& a) {
  const registry::Enterprise* e = nullptr;
  if (const registry::Outlet* o = reg.find_outlet(a.site)) e = reg.find_enterprise(o->enterprise);
  if (!e && !a.mn.empty()) {
    if (const registry::Device* d = reg.find_device(a.mn); d && !d->enterprise.empty()) {
      e = reg.find_enterprise(d->enterprise);
    }
  }
  w.key("enterprise");
  e ? w.value(e->code) : w.null();
  w.key("enterprise_name");
  e ? w.value(e->name) : w.null();
}

Response list_alarms(const Ctx& c, bool tasks) {
  if (!c.s.alarms) return unavailable();
  alarm::AlarmQuery q;
  q.tasks_only = tasks;
  const auto& query = c.t.query;
  if (auto it = query.find("state"); it != query.end() && !it->second.empty()) {
    q.state = alarm::parse_state(it->second);
    if (!q.state) {
      return error(400, "bad_request", "state: open, acknowledged, dispatched, handled or closed");
    }
  }
  if (auto it = query.find("active"); it != query.end() && !it->second.empty()) {
    if (it->second != "true" && it->second != "false") {
      return error(400, "bad_request", "active: true or false");
    }
    q.active = it->second == "true";
  }
  if (auto it = query.find("site"); it != query.end()) q.site = it->second;
  if (auto it = query.find("rule"); it != query.end() && !it->second.empty()) {
    auto id = parse_id(it->second);
    if (!id) return error(400, "bad_request", "rule: " + id.error().detail);
    q.rule_id = *id;
  }
  auto from = time_param(c.t, "from");
  if (!from) return from_error(from.error());
  auto to = time_param(c.t, "to");
  if (!to) return from_error(to.error());
  if (*from) q.from_ms = **from;
  if (*to) q.to_ms = **to;
  if (auto it = query.find("limit"); it != query.end() && !it->second.empty()) {
    auto n = parse_id(it->second);
    if (!n || *n < 1) return error(400, "bad_request", "limit must be a positive number");
    q.limit = static_cast<std::size_t>(std::min<std::int64_t>(*n, 10000));
  }
  std::string department;
  if (auto it = query.find("department"); it != query.end()) department = it->second;
  auto reg = c.s.registry->get();
  if (!q.site.empty()) {
    if (auto denied = site_denied(c, *reg, reg->find_site(q.site), q.site)) return *denied;
  }
  if (auto it = query.find("enterprise"); it != query.end() && !it->second.empty()) {
    // The enterprise's outlets, the sites its devices serve or served, and its devices.
    const std::string& code = it->second;
    if (!reg->find_enterprise(code)) {
      if (c.who && auth::unrestricted(c.who->scopes)) {
        return error(404, "not_found", "no enterprise '" + code + "'");
      }
      return error(403, "forbidden", "enterprise '" + code + "' is outside your scope");
    }
    alarm::AlarmQuery::Subjects subjects;
    for (const auto& o : reg->outlets()) {
      if (o.enterprise == code) subjects.sites.push_back(o.site);
    }
    for (const auto& d : reg->devices()) {
      if (d.enterprise != code) continue;
      subjects.mns.push_back(d.mn);
      for (const auto& a : reg->assignments()) {
        if (a.mn == d.mn) subjects.sites.push_back(a.site);
      }
    }
    q.subjects = std::move(subjects);
  }
  auto alarms = c.s.alarms->alarms(q);
  if (!alarms) return alarm_error(alarms.error());
  core::JsonWriter w;
  w.begin_object().key(tasks ? "tasks" : "alarms").begin_array();
  for (const auto& a : *alarms) {
    if (!site_visible(c, *reg, a.site)) continue;
    if (!department.empty() && a.department != department) continue;
    w.begin_object();
    alarm::write_alarm_fields(w, a);
    write_alarm_enterprise(w, *reg, a);
    w.end_object();
  }
  w.end_array().end_object();
  return json_ok(200, w.take());
}

// The alarm of the path, if the caller may see it; otherwise the answer to give.
core::Result<alarm::Alarm, Response> visible_alarm(const Ctx& c) {
  auto id = parse_id(c.params.at(0));
  if (!id) return core::fail(error(400, "bad_request", id.error().detail));
  auto a = c.s.alarms->alarm(*id);
  if (!a) return core::fail(alarm_error(a.error()));
  auto reg = c.s.registry->get();
  const bool unrestricted = c.who && auth::unrestricted(c.who->scopes);
  if (!*a) {
    // A restricted caller learns nothing about alarms outside its scopes, not even their ids.
    if (unrestricted) return core::fail(error(404, "not_found", "no alarm " + c.params.at(0)));
    return core::fail(
        error(403, "forbidden", "alarm " + c.params.at(0) + " is outside your scope"));
  }
  if (!site_visible(c, *reg, (*a)->site)) {
    return core::fail(
        error(403, "forbidden", "alarm " + c.params.at(0) + " is outside your scope"));
  }
  return std::move(**a);
}

Response transition(const Ctx& c, const std::string& action) {
  if (!c.s.alarms) return unavailable();
  auto a = visible_alarm(c);
  if (!a) return a.error();
  auto body = parse_body(c.req.body, true);
  if (!body) return error(400, "bad_request", body.error().detail);
  alarm::Transition t;
  t.action = action;
  t.actor = c.who ? c.who->name : "unknown";
  std::vector<std::int64_t> evidence_ids;
  for (const auto& kv : *body) {
    const std::string key(kv.key());
    if (key == "evidence") {
      // handle: the evidence files (ids of this alarm's uploads) the disposal refers to.
      if (action != "handle") return error(400, "bad_request", "evidence belongs to handle");
      if (!kv.value().is_array()) return error(400, "bad_request", "evidence: an array of ids");
      for (const auto& e : kv.value().as_array()) {
        if (!e.is_int64() || e.as_int64() <= 0) {
          return error(400, "bad_request", "evidence: an array of ids");
        }
        evidence_ids.push_back(e.as_int64());
      }
      continue;
    }
    if (key != "note" && key != "department" && key != "assignee" && key != "due") {
      return error(400, "bad_request", "unknown member '" + key + "'");
    }
    if (!kv.value().is_string() && !kv.value().is_null()) {
      return error(400, "bad_request", key + " must be a string");
    }
  }
  if (!evidence_ids.empty()) {
    if (!c.s.evidence) return error(503, "unavailable", "evidence files are not configured");
    auto files = c.s.evidence->list(a->id);
    if (!files) return error(500, "internal", files.error().detail);
    for (const std::int64_t id : evidence_ids) {
      bool found = false;
      for (const auto& f : *files) found = found || f.id == id;
      if (!found) {
        return error(400, "bad_request",
                     "evidence " + std::to_string(id) + " is not a file of this alarm");
      }
    }
  }
  auto member = [&](const char* key) {
    const auto* v = body->if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  t.note = member("note");
  if (!evidence_ids.empty()) {
    std::string ids;
    for (const std::int64_t id : evidence_ids) ids += (ids.empty() ? "" : ",") + std::to_string(id);
    t.note += " [evidence " + ids + "]";
  }
  if (action == "dispatch") {
    t.department = member("department");
    t.assignee = member("assignee");
    if (const std::string due = member("due"); !due.empty()) {
      auto ms = parse_time("due", due);
      if (!ms) return error(400, "bad_request", ms.error().detail);
      t.due_ms = *ms;
    }
  } else if (!member("department").empty() || !member("assignee").empty() ||
             !member("due").empty()) {
    return error(400, "bad_request", "department, assignee and due belong to dispatch");
  }
  auto done = c.s.alarms->transition(a->id, t);
  if (!done) return alarm_error(done.error());
  audit(c, "alarm." + action, std::to_string(a->id), c.req.body);
  core::JsonWriter w;
  alarm::write_alarm(w, *done);
  return json_ok(200, w.take());
}

}  // namespace

Response rules(const Ctx& c) {
  if (!c.s.alarms) return unavailable();
  auto rules = c.s.alarms->rules();
  if (!rules) return alarm_error(rules.error());
  auto reg = c.s.registry->get();
  core::JsonWriter w;
  w.begin_object().key("rules").begin_array();
  for (const auto& r : *rules) {
    if (site_visible(c, *reg, r.site)) write_rule(w, r);
  }
  w.end_array().end_object();
  return json_ok(200, w.take());
}

Response create_rule(const Ctx& c) {
  if (!c.s.alarms) return unavailable();
  auto body = parse_body(c.req.body, false);
  if (!body) return error(400, "bad_request", body.error().detail);
  auto rule = rule_from_json(*body);
  if (!rule) return alarm_error(rule.error());
  {
    auto reg = c.s.registry->get();
    const bool unrestricted = auth::unrestricted(c.who->scopes);
    if (!rule->site.empty()) {
      const registry::Site* site = reg->find_site(rule->site);
      if (!site && unrestricted) return error(400, "bad_rule", "no site '" + rule->site + "'");
      if (auto denied = site_denied(c, *reg, site, rule->site)) return *denied;
    } else if (!unrestricted) {
      return error(403, "forbidden",
                   "a rule for any site needs an unrestricted scope; name a site");
    }
    if (!rule->device.empty()) {
      if (!reg->find_device(rule->device)) {
        if (unrestricted) return error(400, "bad_rule", "no device '" + rule->device + "'");
        return error(403, "forbidden", "device '" + rule->device + "' is outside your scope");
      }
      if (!device_in_scope(c, *reg, rule->device, c.s.clock->now_ms())) {
        return error(403, "forbidden", "device '" + rule->device + "' is outside your scope");
      }
    }
  }
  auto stored = c.s.alarms->create_rule(std::move(*rule), c.who->name);
  if (!stored) return alarm_error(stored.error());
  core::JsonWriter w;
  write_rule(w, *stored);
  std::string out = w.take();
  audit(c, "rule.create", std::to_string(stored->id), out);
  return json_ok(201, std::move(out));
}

Response disable_rule(const Ctx& c) {
  if (!c.s.alarms) return unavailable();
  auto id = parse_id(c.params.at(0));
  if (!id) return error(400, "bad_request", id.error().detail);
  auto rules = c.s.alarms->rules();
  if (!rules) return alarm_error(rules.error());
  const alarm::Rule* found = nullptr;
  for (const auto& r : *rules) {
    if (r.id == *id) found = &r;
  }
  const bool unrestricted = auth::unrestricted(c.who->scopes);
  auto reg = c.s.registry->get();
  if (!found || !site_visible(c, *reg, found->site)) {
    if (unrestricted) return error(404, "not_found", "no rule " + c.params.at(0));
    return error(403, "forbidden", "rule " + c.params.at(0) + " is outside your scope");
  }
  auto done = c.s.alarms->disable_rule(*id, c.who->name);
  if (!done) return alarm_error(done.error());
  audit(c, "rule.disable", std::to_string(*id), "");
  core::JsonWriter w;
  write_rule(w, *done);
  return json_ok(200, w.take());
}

Response alarms(const Ctx& c) { return list_alarms(c, false); }
Response tasks(const Ctx& c) { return list_alarms(c, true); }

Response alarm(const Ctx& c) {
  if (!c.s.alarms) return unavailable();
  auto a = visible_alarm(c);
  if (!a) return a.error();
  auto events = c.s.alarms->events(a->id);
  if (!events) return alarm_error(events.error());
  core::JsonWriter w;
  w.begin_object();
  alarm::write_alarm_fields(w, *a);
  write_alarm_enterprise(w, *c.s.registry->get(), *a);
  w.key("events").begin_array();
  for (const auto& e : *events) {
    w.begin_object().key("id").value(e.id).key("time").value(iso(e.at_ms));
    w.key("actor").value(e.actor).key("action").value(e.action).key("from").value(e.from);
    w.key("to").value(e.to).key("note").value(e.note).end_object();
  }
  w.end_array().end_object();
  return json_ok(200, w.take());
}

namespace {

// What an event stream keeps of its request: the caller, the sources, the position.
struct EventStream {
  ApiSources s;
  Request req;
  Target t;
  auth::Principal who;
  std::optional<std::string> token;
  std::int64_t after = 0;
  std::int64_t checked_ms = 0;  // when the credential was last found valid
};

constexpr std::size_t kEventsPerPoll = 500;
constexpr std::int64_t kRecheckCredentialMs = 30000;

core::Result<std::string> next_events(EventStream& es) {
  const std::int64_t now = es.s.clock ? es.s.clock->now_ms() : 0;
  if (es.s.auth && es.token && now - es.checked_ms >= kRecheckCredentialMs) {
    // A logged-out session or a revoked key ends its streams too (within this period).
    if (!es.s.auth->authenticate(*es.token)) {
      return core::fail(core::Error{"unauthorized", "the credential is no longer valid"});
    }
    es.checked_ms = now;
  }
  auto changes = es.s.alarms->changes_after(es.after, kEventsPerPoll);
  if (!changes) return core::fail(changes.error());
  if (changes->empty()) return std::string();
  const Ctx c{es.s, es.req, es.t, &es.who, {}};
  auto reg = es.s.registry->get();
  std::string out;
  for (const auto& ch : *changes) {
    es.after = ch.event_id;
    if (!site_visible(c, *reg, ch.alarm.site)) continue;
    core::JsonWriter w;
    w.begin_object();
    alarm::write_alarm_fields(w, ch.alarm);
    write_alarm_enterprise(w, *reg, ch.alarm);
    w.end_object();
    out += "id: " + std::to_string(ch.event_id) + "\nevent: alarm\ndata: " + w.take() + "\n\n";
  }
  // Events outside the caller's scopes still move the position: a comment carries it.
  if (out.empty()) out = ": at " + std::to_string(es.after) + "\n\n";
  return out;
}

}  // namespace

Response events(const Ctx& c) {
  if (!c.s.alarms) return unavailable();
  std::int64_t after = 0;
  std::string from = c.req.last_event_id;
  if (from.empty()) {
    if (auto it = c.t.query.find("after"); it != c.t.query.end()) from = it->second;
  }
  if (!from.empty()) {
    auto id = parse_id(from);
    if (!id) return error(400, "bad_request", "after / Last-Event-ID: " + id.error().detail);
    after = *id;
  } else {
    auto last = c.s.alarms->last_change_id();
    if (!last) return alarm_error(last.error());
    after = *last;
  }
  auto es =
      std::make_shared<EventStream>(EventStream{c.s, c.req, c.t, *c.who, credential_token(c.req),
                                                after, c.s.clock ? c.s.clock->now_ms() : 0});
  es->req.body.clear();
  Response r{200, "text/event-stream", {}, {}};
  r.headers.emplace_back("X-Accel-Buffering", "no");  // nginx: do not buffer the stream
  r.stream = [es]() { return next_events(*es); };
  return r;
}

namespace {

void write_evidence(core::JsonWriter& w, const alarm::Evidence& e) {
  w.begin_object().key("id").value(e.id).key("alarm_id").value(e.alarm_id);
  w.key("name").value(e.name).key("content_type").value(e.content_type);
  w.key("size").value(e.size).key("sha256").value(e.sha256);
  w.key("uploader").value(e.uploader).key("uploaded_at").value(iso(e.at_ms));
  w.end_object();
}

Response evidence_error(const core::Error& e) {
  if (e.reason == "too_large") return error(413, e.reason, e.detail);
  if (e.reason == "bad_type" || e.reason == "type_mismatch") return error(415, e.reason, e.detail);
  if (e.reason == "empty" || e.reason == "too_many") return error(400, e.reason, e.detail);
  if (e.reason == "not_found") return error(404, e.reason, e.detail);
  return error(500, "internal", e.detail);
}

// RFC 6266 / RFC 5987: an ASCII fallback and the UTF-8 name percent-encoded.
std::string content_disposition(const std::string& name) {
  std::string ascii, encoded;
  static const char* kHex = "0123456789ABCDEF";
  for (const char ch : name) {
    const auto u = static_cast<unsigned char>(ch);
    ascii += (u >= 0x20 && u < 0x7F && ch != '"' && ch != '\\' && ch != '%') ? ch : '_';
    const bool plain = (u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                       std::strchr("!#$&+-.^_`|~", ch) != nullptr;
    if (plain && u != 0) {
      encoded += ch;
    } else {
      encoded += '%';
      encoded += kHex[u >> 4];
      encoded += kHex[u & 0xF];
    }
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace

Response upload_evidence(const Ctx& c) {
  if (!c.s.alarms || !c.s.evidence) return unavailable();
  auto a = visible_alarm(c);
  if (!a) return a.error();
  std::string name;
  if (auto it = c.t.query.find("name"); it != c.t.query.end()) name = it->second;
  auto stored = c.s.evidence->add(a->id, c.who ? c.who->name : "unknown", name, c.req.content_type,
                                  c.req.body);
  if (!stored) return evidence_error(stored.error());
  core::JsonWriter w;
  write_evidence(w, *stored);
  std::string out = w.take();
  audit(c, "alarm.evidence", std::to_string(a->id), out);
  return json_ok(201, std::move(out));
}

Response list_evidence(const Ctx& c) {
  if (!c.s.alarms || !c.s.evidence) return unavailable();
  auto a = visible_alarm(c);
  if (!a) return a.error();
  auto files = c.s.evidence->list(a->id);
  if (!files) return evidence_error(files.error());
  core::JsonWriter w;
  w.begin_object().key("evidence").begin_array();
  for (const auto& e : *files) write_evidence(w, e);
  w.end_array().end_object();
  return json_ok(200, w.take());
}

Response download_evidence(const Ctx& c) {
  if (!c.s.alarms || !c.s.evidence) return unavailable();
  auto a = visible_alarm(c);
  if (!a) return a.error();
  auto id = parse_id(c.params.at(1));
  if (!id) return error(400, "bad_request", id.error().detail);
  auto file = c.s.evidence->read(a->id, *id);
  if (!file) return evidence_error(file.error());
  Response r{200, file->first.content_type, std::move(file->second), {}};
  r.headers.emplace_back("Content-Disposition", content_disposition(file->first.name));
  // Never rendered as a page of this origin, whatever a browser guesses.
  r.headers.emplace_back("Content-Security-Policy", "sandbox; default-src 'none'");
  return r;
}

Response alarm_ack(const Ctx& c) { return transition(c, "ack"); }
Response alarm_dispatch(const Ctx& c) { return transition(c, "dispatch"); }
Response alarm_handle(const Ctx& c) { return transition(c, "handle"); }
Response alarm_close(const Ctx& c) { return transition(c, "close"); }

}  // namespace ecomon::api::detail

namespace ecomon::api {

core::Result<alarm::Rule> rule_from_json_text(const std::string& text) {
  auto body = detail::parse_json_object(text, false);
  if (!body) return core::fail(body.error());
  return detail::rule_from_json(*body);
}

}  // namespace ecomon::api
