// Stored screening findings (screening marks, derive/screening_service.h, issue #5 §4/§5):
//
//   GET  /api/v1/screening/marks?site=&factor=&rule=&status=&from=&to=&limit=
//        {"marks":[MARK…],"truncated":bool} newest (highest id) first; from/to select marks whose
//        range overlaps [from, to); limit 1..1000 (default 100); truncated: more marks match.
//   GET  /api/v1/screening/marks/{id}   MARK
//   POST /api/v1/screening/marks/{id}/review
//        {"status":"confirmed"|"dismissed","note":"…","invalidate":false} → 200 MARK. note is
//        required to dismiss; invalidate (only with confirmed) also records an `invalidate` review
//        action (derive/review.h) over the mark's site, factor, kind, field and range, whose id
//        the mark keeps as review_action. Audited as screening.confirm / screening.dismiss.
//
// MARK = {"id","site","mn","factor","kind","field","rule","rule_zh","severity","from","to",
//         "count","evidence":{"text","rule_zh"},"status","first_found_at","updated_at",
//         "reviewed_by","reviewed_at","review_note","review_action"}
// Times as the other routes write them (iso(): "2020-03-26T08:00:00+08:00"); reviewed_by,
// reviewed_at, review_note and review_action are null until reviewed (review_action: until an
// invalidation was recorded). Reading needs data.read (like /api/v1/screening), reviewing
// data.review (route table). Scopes: a mark of a site outside the caller's scopes is 403, and
// left out of listings. Without the service ([screening] stored = false) the routes answer 503.
#include <boost/json.hpp>
#include <charconv>
#include <cstdio>

#include "analytics/screening.h"
#include "api/json_body.h"
#include "api/routes_internal.h"
#include "derive/aggregates.h"
#include "derive/review.h"
#include "derive/screening_service.h"

namespace ecomon::api::detail {
namespace json = boost::json;

namespace {

namespace scr = analytics::screening;

Response unavailable() {
  return error(503, "unavailable",
               "screening marks are not stored on this server ([screening] stored = false)");
}

Response marks_error(const core::Error& e) {
  if (e.reason == "bad_request") return error(400, e.reason, e.detail);
  if (e.reason == "not_found") return error(404, e.reason, e.detail);
  if (e.reason == "conflict") return error(409, e.reason, e.detail);
  return error(500, "internal", e.detail);
}

void write_mark(core::JsonWriter& w, const derive::ScreeningMark& m) {
  w.begin_object();
  w.key("id").value(m.id).key("site").value(m.site).key("mn").value(m.mn);
  w.key("factor").value(m.factor).key("kind").value(m.kind).key("field").value(m.field);
  w.key("rule").value(m.rule).key("rule_zh");
  const auto rule = scr::rule_from_name(m.rule);
  rule ? w.value(scr::rule_name_zh(*rule)) : w.value(m.rule);
  w.key("severity").value(m.severity);
  w.key("from").value(iso(m.from_ms)).key("to").value(iso(m.to_ms));
  w.key("count").value(m.count).key("evidence").raw(m.evidence);
  w.key("status").value(m.status);
  w.key("first_found_at").value(iso(m.first_found_at_ms));
  w.key("updated_at").value(iso(m.updated_at_ms));
  w.key("reviewed_by");
  m.reviewed_by.empty() ? w.null() : w.value(m.reviewed_by);
  w.key("reviewed_at");
  m.reviewed_at_ms ? w.value(iso(*m.reviewed_at_ms)) : w.null();
  w.key("review_note");
  m.reviewed_at_ms ? w.value(m.review_note) : w.null();
  w.key("review_action");
  m.review_action ? w.value(*m.review_action) : w.null();
  w.end_object();
}

// The mark of the route's {id} when the caller may see it, else the answer to give.
core::Result<derive::ScreeningMark, Response> visible_mark(const Ctx& c) {
  const std::string& text = c.params.at(0);
  std::int64_t id = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), id);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || id <= 0) {
    return core::fail(error(400, "bad_request", "'" + text.substr(0, 40) + "' is not a mark id"));
  }
  auto m = c.s.screening_marks->mark(id);
  if (!m) return core::fail(marks_error(m.error()));
  auto reg = c.s.registry->get();
  if (!*m) {
    // A restricted caller learns nothing about marks outside its scopes, not even their ids.
    if (auth::unrestricted(c.who->scopes)) {
      return core::fail(error(404, "not_found", "no screening mark " + text));
    }
    return core::fail(error(403, "forbidden", "screening mark " + text + " is outside your scope"));
  }
  if (auto denied = site_denied(c, *reg, reg->find_site((*m)->site), (*m)->site)) {
    return core::fail(*denied);
  }
  return std::move(**m);
}

}  // namespace

Response screening_marks(const Ctx& c) {
  if (!c.s.screening_marks) return unavailable();
  derive::MarkQuery q;
  if (auto answer = listing_filter(c, q.site, q.factor, q.from_ms, q.to_ms)) return *answer;
  if (auto it = c.t.query.find("rule"); it != c.t.query.end() && !it->second.empty()) {
    if (!scr::rule_from_name(it->second)) {
      return error(400, "bad_request", "unknown rule '" + it->second.substr(0, 40) + "'");
    }
    q.rule = it->second;
  }
  if (auto it = c.t.query.find("status"); it != c.t.query.end() && !it->second.empty()) {
    const std::string& s = it->second;
    if (s != "open" && s != "confirmed" && s != "dismissed" && s != "withdrawn") {
      return error(400, "bad_request", "status must be open, confirmed, dismissed or withdrawn");
    }
    q.status = s;
  }
  std::size_t limit = 100;
  if (auto it = c.t.query.find("limit"); it != c.t.query.end()) {
    const auto r = std::from_chars(it->second.data(), it->second.data() + it->second.size(), limit);
    if (r.ec != std::errc() || r.ptr != it->second.data() + it->second.size() || limit == 0 ||
        limit > 1000) {
      return error(400, "bad_request", "limit must be 1 to 1000");
    }
  }
  q.limit = limit + 1;  // one more: whether the answer is cut
  // The marks of what the caller saw committed (bounded: a large backlog answers lagging). A
  // failure is counted (ecomon_screening_errors_total) and retried by the service's thread.
  (void)c.s.screening_marks->catch_up();
  auto marks = c.s.screening_marks->marks(q);
  if (!marks) return marks_error(marks.error());
  const bool everything = auth::unrestricted(c.who->scopes);
  auto reg = c.s.registry->get();
  core::JsonWriter w;
  w.begin_object().key("marks").begin_array();
  std::size_t n = 0;
  for (const auto& m : *marks) {
    if (n == limit) break;
    if (!everything) {
      const registry::Site* site = reg->find_site(m.site);
      if (!site || !in_scope(c, *reg, *site)) continue;
    }
    write_mark(w, m);
    ++n;
  }
  w.end_array().key("truncated").value(marks->size() > limit).end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response screening_mark(const Ctx& c) {
  if (!c.s.screening_marks) return unavailable();
  auto m = visible_mark(c);
  if (!m) return m.error();
  core::JsonWriter w;
  write_mark(w, *m);
  return Response{200, "application/json", w.take(), {}};
}

Response review_screening_mark(const Ctx& c) {
  if (!c.s.screening_marks) return unavailable();
  // The body first: bad input is 400 whatever the id.
  auto o = parse_json_object(c.req.body);
  if (!o) return error(400, "bad_request", o.error().detail);
  std::string status, note;
  bool invalidate = false;
  for (const auto& kv : *o) {
    const std::string_view k = kv.key();
    const json::value& v = kv.value();
    if (k == "status" || k == "note") {
      if (!v.is_string()) return error(400, "bad_request", std::string(k) + " must be a string");
      (k == "status" ? status : note) = std::string(v.as_string());
    } else if (k == "invalidate") {
      if (!v.is_bool()) return error(400, "bad_request", "invalidate must be true or false");
      invalidate = v.as_bool();
    } else {
      return error(400, "bad_request", "unknown member '" + std::string(k).substr(0, 40) + "'");
    }
  }
  if (status != "confirmed" && status != "dismissed") {
    return error(400, "bad_request", "status must be confirmed or dismissed");
  }
  if (status == "dismissed" && note.find_first_not_of(" \t\r\n") == std::string::npos) {
    return error(400, "bad_request", "a note is required to dismiss a mark (why it is wrong)");
  }
  if (invalidate && status != "confirmed") {
    return error(400, "bad_request", "invalidate goes with status confirmed only");
  }
  if (invalidate && !c.s.reviews) {
    return error(503, "unavailable", "data review is not configured: cannot invalidate");
  }
  auto m = visible_mark(c);
  if (!m) return m.error();
  if (m->status == "withdrawn") {
    return error(409, "conflict",
                 "screening mark " + std::to_string(m->id) +
                     " was withdrawn (a later screening no longer finds it)");
  }
  std::optional<std::int64_t> action_id;
  if (invalidate) {
    derive::ReviewAction a;
    a.site = m->site;
    a.factor = m->factor;
    a.kind = m->kind;
    a.field = m->field;
    a.from_ms = m->from_ms;
    a.to_ms = m->to_ms;
    a.verb = derive::ReviewVerb::kInvalidate;
    a.reason = "筛查标记 #" + std::to_string(m->id) + " (" + m->rule + ") 确认";
    if (note.find_first_not_of(" \t\r\n") != std::string::npos) a.reason += ": " + note;
    a.reason = a.reason.substr(0, 1000);
    a.actor = c.who->name;
    auto stored = c.s.reviews->record(std::move(a));
    if (!stored) return marks_error(stored.error());
    action_id = stored->id;
    core::JsonWriter aw;
    aw.begin_object().key("id").value(stored->id).key("mark").value(m->id);
    aw.key("from").value(iso(stored->from_ms)).key("to").value(iso(stored->to_ms));
    aw.key("reason").value(stored->reason).end_object();
    record_audit(c, "review.invalidate", stored->site + "/" + stored->factor, aw.take());
    // The stored means and indices follow before the answer, as for any review action.
    if (c.s.derived) {
      if (auto r = c.s.derived->catch_up(); !r) {
        std::fprintf(stderr, "ecomon review: derived data: %s\n", r.error().detail.c_str());
      }
    }
  }
  auto reviewed = c.s.screening_marks->review(m->id, status, note, c.who->name, action_id);
  if (!reviewed) return marks_error(reviewed.error());
  core::JsonWriter w;
  write_mark(w, *reviewed);
  std::string body = w.take();
  record_audit(c, status == "confirmed" ? "screening.confirm" : "screening.dismiss",
               "screening_mark/" + std::to_string(reviewed->id), body);
  return Response{200, "application/json", std::move(body), {}};
}

}  // namespace ecomon::api::detail
