// Emergency monitoring incidents over HTTP (应急监测, issue #6 §5):
//
//   GET  /api/v1/incidents?state=open|closed     newest first
//   POST /api/v1/incidents                       JSON {"title","location","pollutant","sites":[…],
//                                                "note","rtd_interval_s"} → 201 with the incident
//                                                and its timeline. With rtd_interval_s (1 … 3600)
//                                                the devices now assigned to the affected sites
//                                                are asked to report real-time data that often
//                                                (HJ 212 CN 1062); each device's 9011/9012
//                                                outcome becomes a timeline entry.
//   GET  /api/v1/incidents/{id}                  the incident, its timeline, and the alarms of
//                                                its sites raised while it was open
//   POST /api/v1/incidents/{id}/actions          JSON {"text"}: an action in the timeline
//   POST /api/v1/incidents/{id}/close            JSON {"note"}
//   GET  /api/v1/incidents/{id}/report[?format=json]  the incident report (incident_report.cpp)
//
// Scopes: a restricted caller sees (and may open) an incident only when every affected site is
// inside its scopes. Creation, actions and closing are written to the audit trail.
#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>
#include <cstdio>

#include "alarm/incident.h"
#include "alarm/service.h"
#include "api/http_api.h"
#include "api/json_body.h"
#include "api/routes_internal.h"

namespace ecomon::api::detail {
namespace json = boost::json;

namespace {

constexpr std::int64_t kMaxRtdIntervalS = 3600;

Response unavailable() { return error(503, "unavailable", "incidents are not configured"); }

Response incident_error(const core::Error& e) {
  if (e.reason == "bad_request") return error(400, e.reason, e.detail);
  if (e.reason == "not_found") return error(404, e.reason, e.detail);
  if (e.reason == "illegal") return error(409, e.reason, e.detail);
  return error(500, "internal", e.detail);
}

void audit(const Ctx& c, const std::string& action, const std::string& target,
           const std::string& text) {
  detail::record_audit(c, action, target, text);
}

core::Result<json::object> parse_body(const std::string& body) {
  return detail::parse_json_object(body, /*allow_empty=*/true);
}

// Only the named members, each a string (or null).
core::Result<void> strings_only(const json::object& o, std::initializer_list<const char*> keys) {
  for (const auto& kv : o) {
    bool known = false;
    for (const char* k : keys) known = known || kv.key() == k;
    if (!known) {
      return core::fail(
          core::Error{"bad_request", "unknown member '" + std::string(kv.key()) + "'"});
    }
    if (!kv.value().is_string() && !kv.value().is_null()) {
      return core::fail(core::Error{"bad_request", std::string(kv.key()) + " must be a string"});
    }
  }
  return {};
}

std::string member(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

core::Result<std::int64_t> parse_id(const std::string& text) {
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return core::fail(core::Error{"bad_request", "'" + text.substr(0, 40) + "' is not an id"});
  }
  return std::stoll(text);
}

bool visible(const Ctx& c, const registry::Registry& reg, const alarm::Incident& i) {
  if (c.who && auth::unrestricted(c.who->scopes)) return true;
  for (const auto& code : i.sites) {
    const registry::Site* site = reg.find_site(code);
    if (!site || !in_scope(c, reg, *site)) return false;
  }
  return !i.sites.empty();
}

void write_incident_fields(core::JsonWriter& w, const alarm::Incident& i) {
  w.key("id").value(i.id).key("title").value(i.title).key("location").value(i.location);
  w.key("pollutant").value(i.pollutant).key("sites").begin_array();
  for (const auto& s : i.sites) w.value(s);
  w.end_array();
  w.key("state").value(i.state).key("opened_at").value(iso(i.opened_ms));
  w.key("opened_by").value(i.opened_by).key("closed_at");
  i.closed_ms ? w.value(iso(*i.closed_ms)) : w.null();
  w.key("closed_by").value(i.closed_by).key("rtd_interval_s").value(i.rtd_interval_s);
}

void write_entry(core::JsonWriter& w, const alarm::TimelineEntry& e) {
  w.begin_object().key("time").value(iso(e.at_ms)).key("kind").value(e.kind);
  w.key("actor").value(e.actor).key("text").value(e.text);
  if (e.kind == "command") w.key("mn").value(e.mn).key("outcome").value(e.outcome);
  w.end_object();
}

// The incident with its timeline; with the alarm service, the alarms of its sites raised while it
// was open join the timeline (kind "alarm") in time order.
Response show(const Ctx& c, const alarm::Incident& i, int status) {
  auto entries = c.s.incidents->timeline(i.id);
  if (!entries) return incident_error(entries.error());
  std::vector<alarm::Alarm> alarms;
  if (c.s.alarms) {
    for (const auto& site : i.sites) {
      alarm::AlarmQuery q;
      q.site = site;
      q.limit = 1000;
      auto found = c.s.alarms->alarms(q);
      if (!found) return error(500, "internal", found.error().detail);
      for (auto& a : *found) {
        if (a.raised_ms >= i.opened_ms && (!i.closed_ms || a.raised_ms <= *i.closed_ms)) {
          alarms.push_back(std::move(a));
        }
      }
    }
    std::sort(alarms.begin(), alarms.end(),
              [](const auto& a, const auto& b) { return a.raised_ms < b.raised_ms; });
  }
  core::JsonWriter w;
  w.begin_object();
  write_incident_fields(w, i);
  w.key("timeline").begin_array();
  std::size_t next_alarm = 0;
  auto flush_alarms = [&](std::int64_t until_ms) {
    for (; next_alarm < alarms.size() && alarms[next_alarm].raised_ms <= until_ms; ++next_alarm) {
      const auto& a = alarms[next_alarm];
      w.begin_object().key("time").value(iso(a.raised_ms)).key("kind").value("alarm");
      w.key("actor").value("system").key("text").value(a.rule_name + " at " + a.site);
      w.key("alarm_id").value(a.id).key("state").value(alarm::state_name(a.state));
      w.end_object();
    }
  };
  for (const auto& e : *entries) {
    flush_alarms(e.at_ms - 1);
    write_entry(w, e);
  }
  flush_alarms(INT64_MAX);
  w.end_array().end_object();
  return Response{status, "application/json", w.take(), {}};
}

// The incident of the path, if the caller may see it; otherwise the answer to give.
core::Result<alarm::Incident, Response> visible_incident(const Ctx& c) {
  auto id = parse_id(c.params.at(0));
  if (!id) return core::fail(error(400, "bad_request", id.error().detail));
  auto found = c.s.incidents->get(*id);
  if (!found) return core::fail(incident_error(found.error()));
  auto reg = c.s.registry->get();
  const bool unrestricted = c.who && auth::unrestricted(c.who->scopes);
  if (!*found || !visible(c, *reg, **found)) {
    if (unrestricted) return core::fail(error(404, "not_found", "no incident " + c.params.at(0)));
    return core::fail(
        error(403, "forbidden", "incident " + c.params.at(0) + " is outside your scope"));
  }
  return std::move(**found);
}

}  // namespace

Response incidents(const Ctx& c) {
  if (!c.s.incidents) return unavailable();
  std::string state;
  if (auto it = c.t.query.find("state"); it != c.t.query.end()) state = it->second;
  if (!state.empty() && state != "open" && state != "closed") {
    return error(400, "bad_request", "state: open or closed");
  }
  auto list = c.s.incidents->list(1000);
  if (!list) return incident_error(list.error());
  auto reg = c.s.registry->get();
  core::JsonWriter w;
  w.begin_object().key("incidents").begin_array();
  for (const auto& i : *list) {
    if (!state.empty() && i.state != state) continue;
    if (!visible(c, *reg, i)) continue;
    w.begin_object();
    write_incident_fields(w, i);
    w.end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response create_incident(const Ctx& c) {
  if (!c.s.incidents) return unavailable();
  auto body = parse_body(c.req.body);
  if (!body) return error(400, "bad_request", body.error().detail);
  alarm::Incident in;
  std::int64_t rtd_interval_s = 0;
  for (const auto& kv : *body) {
    const std::string key(kv.key());
    const json::value& v = kv.value();
    if (key == "sites") {
      if (!v.is_array()) return error(400, "bad_request", "sites must be an array of site codes");
      for (const auto& e : v.as_array()) {
        if (!e.is_string()) return error(400, "bad_request", "sites must be an array of codes");
        in.sites.emplace_back(e.as_string());
      }
    } else if (key == "rtd_interval_s") {
      if (!v.is_int64() || v.as_int64() < 1 || v.as_int64() > kMaxRtdIntervalS) {
        return error(400, "bad_request", "rtd_interval_s: an integer, 1 to 3600 seconds");
      }
      rtd_interval_s = v.as_int64();
    } else if (key != "title" && key != "location" && key != "pollutant" && key != "note") {
      return error(400, "bad_request", "unknown member '" + key + "'");
    } else if (!v.is_string() && !v.is_null()) {
      return error(400, "bad_request", key + " must be a string");
    }
  }
  in.title = member(*body, "title");
  in.location = member(*body, "location");
  in.pollutant = member(*body, "pollutant");
  in.rtd_interval_s = rtd_interval_s;
  std::vector<std::string> mns;
  {
    auto reg = c.s.registry->get();
    for (const auto& code : in.sites) {
      if (auto denied = site_denied(c, *reg, reg->find_site(code), code)) {
        if (denied->status == 404) return error(400, "bad_request", "no site '" + code + "'");
        return *denied;
      }
    }
    const std::int64_t now = c.s.clock->now_ms();
    for (const auto& d : reg->devices()) {
      const registry::Site* site = reg->site_of(d.mn, now);
      if (!site) continue;
      for (const auto& code : in.sites) {
        if (site->code == code) mns.push_back(d.mn);
      }
    }
  }
  auto created = c.s.incidents->create(in, c.who->name, member(*body, "note"));
  if (!created) return incident_error(created.error());
  audit(c, "incident.create", std::to_string(created->id), c.req.body);
  if (rtd_interval_s > 0) {
    std::vector<DeviceCommandOutcome> outcomes;
    if (c.s.set_rtd_interval) {
      outcomes = c.s.set_rtd_interval(mns, static_cast<int>(rtd_interval_s));
    } else {
      for (const auto& mn : mns) {
        outcomes.push_back(DeviceCommandOutcome{mn, "unavailable", "no device gateway"});
      }
    }
    for (const auto& o : outcomes) {
      alarm::TimelineEntry e;
      e.actor = c.who->name;
      e.kind = "command";
      e.mn = o.mn;
      e.outcome = o.outcome;
      e.text = "CN 1062 RtdInterval=" + std::to_string(rtd_interval_s) + " s: " + o.outcome +
               (o.detail.empty() ? "" : " (" + o.detail + ")");
      if (auto r = c.s.incidents->add_entry(created->id, e); !r) return incident_error(r.error());
    }
  }
  return show(c, *created, 201);
}

Response incident(const Ctx& c) {
  if (!c.s.incidents) return unavailable();
  auto i = visible_incident(c);
  if (!i) return i.error();
  return show(c, *i, 200);
}

Response incident_report(const Ctx& c) {
  if (!c.s.incidents) return unavailable();
  auto i = visible_incident(c);
  if (!i) return i.error();
  return incident_report(c, *i);
}

Response incident_action(const Ctx& c) {
  if (!c.s.incidents) return unavailable();
  auto i = visible_incident(c);
  if (!i) return i.error();
  auto body = parse_body(c.req.body);
  if (!body) return error(400, "bad_request", body.error().detail);
  if (auto ok = strings_only(*body, {"text"}); !ok) return incident_error(ok.error());
  alarm::TimelineEntry e;
  e.actor = c.who->name;
  e.kind = "action";
  e.text = member(*body, "text");
  auto added = c.s.incidents->add_entry(i->id, e);
  if (!added) return incident_error(added.error());
  audit(c, "incident.action", std::to_string(i->id), e.text);
  return show(c, *i, 200);
}

Response close_incident(const Ctx& c) {
  if (!c.s.incidents) return unavailable();
  auto i = visible_incident(c);
  if (!i) return i.error();
  auto body = parse_body(c.req.body);
  if (!body) return error(400, "bad_request", body.error().detail);
  if (auto ok = strings_only(*body, {"note"}); !ok) return incident_error(ok.error());
  auto closed = c.s.incidents->close(i->id, c.who->name, member(*body, "note"));
  if (!closed) return incident_error(closed.error());
  audit(c, "incident.close", std::to_string(i->id), member(*body, "note"));
  return show(c, *closed, 200);
}

}  // namespace ecomon::api::detail
