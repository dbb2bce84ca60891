// Data review over HTTP (数据审核, issue #5 §5; derive/review.h):
//
//   POST /api/v1/audit/actions   JSON {"site","factor","kind","field","from","to","action",
//                                "reason","value"} → 201 with the stored action (id, actor, at).
//                                kind and field may be left out (every kind / field); from and to
//                                are ISO 8601 (no offset = Beijing time), to exclusive. invalidate,
//                                correct, restore need data.review (the route's action); approve
//                                and finalize need data.approve as well (checked here).
//   GET  /api/v1/audit/actions?site=&factor=&from=&to=&as_of=&limit=
//                                {"actions":[…]} newest first: the version history of a range.
//
// Scopes: a site outside the caller's scopes is 403 (404 for an unknown site and an unrestricted
// caller); listings leave out the actions of sites outside them. Every action is appended to the
// audit trail (review.<action>).
#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "api/json_body.h"
#include "api/routes_internal.h"
#include "core/civil_time.h"
#include "derive/aggregates.h"
#include "derive/review.h"
#include "derive/screening_service.h"

namespace ecomon::api::detail {
namespace json = boost::json;

namespace {

// The sites of a city code (Site::place.city_code); empty for anything else.
std::vector<const registry::Site*> city_sites(const registry::Registry& reg,
                                              const std::string& code) {
  std::vector<const registry::Site*> out;
  for (const auto& site : reg.sites()) {
    if (!code.empty() && site.place.city_code == code) out.push_back(&site);
  }
  return out;
}

Response unavailable() { return error(503, "unavailable", "data review is not configured"); }

Response review_error(const core::Error& e) {
  if (e.reason == "bad_request") return error(400, e.reason, e.detail);
  return error(500, "internal", e.detail);
}

core::Result<std::string> string_member(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::string();
  if (!v->is_string()) {
    return core::fail(core::Error{"bad_request", std::string(key) + " must be a string"});
  }
  return std::string(v->as_string());
}

core::Result<std::int64_t> time_member(const json::object& o, const char* key) {
  auto text = string_member(o, key);
  if (!text) return core::fail(text.error());
  if (text->empty()) {
    return core::fail(core::Error{"bad_request", std::string(key) + " is required"});
  }
  const auto p = core::parse_iso8601(*text);
  if (!p) {
    return core::fail(
        core::Error{"bad_request", std::string(key) + " '" + *text + "' is not an ISO 8601 time"});
  }
  return core::to_unix_ms(p->civil, p->offset_seconds.value_or(core::kChinaUtcOffsetSeconds));
}

core::Result<derive::ReviewAction> parse_action(const std::string& body) {
  auto o = parse_json_object(body);
  if (!o) return core::fail(o.error());
  static constexpr std::array<std::string_view, 9> kKnown{
      "site", "factor", "kind", "field", "from", "to", "action", "reason", "value"};
  for (const auto& kv : *o) {
    if (std::find(kKnown.begin(), kKnown.end(), std::string_view(kv.key())) == kKnown.end()) {
      return core::fail(
          core::Error{"bad_request", "unknown member '" + std::string(kv.key()) + "'"});
    }
  }
  derive::ReviewAction a;
  for (auto [key, out] :
       {std::pair{"site", &a.site}, std::pair{"factor", &a.factor}, std::pair{"kind", &a.kind},
        std::pair{"field", &a.field}, std::pair{"reason", &a.reason}}) {
    auto v = string_member(*o, key);
    if (!v) return core::fail(v.error());
    *out = std::move(*v);
  }
  auto verb_text = string_member(*o, "action");
  if (!verb_text) return core::fail(verb_text.error());
  const auto verb = derive::parse_verb(*verb_text);
  if (!verb) {
    return core::fail(core::Error{"bad_request",
                                  "action must be invalidate, correct, restore, approve, "
                                  "finalize, dust_storm or dust_storm_clear, not '" +
                                      verb_text->substr(0, 40) + "'"});
  }
  a.verb = *verb;
  auto from = time_member(*o, "from");
  if (!from) return core::fail(from.error());
  auto to = time_member(*o, "to");
  if (!to) return core::fail(to.error());
  a.from_ms = *from;
  a.to_ms = *to;
  if (const auto* v = o->if_contains("value"); v && !v->is_null()) {
    if (!v->is_number()) return core::fail(core::Error{"bad_request", "value must be a number"});
    a.value = v->to_number<double>();
  }
  if (auto ok = derive::check_action(a); !ok) return core::fail(ok.error());
  return a;
}

void write_action(core::JsonWriter& w, const derive::ReviewAction& a) {
  w.begin_object();
  w.key("id").value(a.id).key("site").value(a.site).key("factor").value(a.factor);
  w.key("kind").value(a.kind).key("field").value(a.field);
  w.key("from").value(iso(a.from_ms)).key("to").value(iso(a.to_ms));
  w.key("action").value(derive::verb_name(a.verb)).key("value");
  a.value ? w.value(*a.value) : w.null();
  w.key("reason").value(a.reason).key("actor").value(a.actor).key("at").value(iso(a.at_ms));
  w.end_object();
}

}  // namespace

Response post_review_action(const Ctx& c) {
  if (!c.s.reviews) return unavailable();
  auto a = parse_action(c.req.body);
  if (!a) return review_error(a.error());
  {
    auto reg = c.s.registry->get();
    const auto city = city_sites(*reg, a->site);
    if (derive::is_dust_mark(a->verb) && !reg->find_site(a->site) && !city.empty()) {
      // A city's dust-storm days: the caller must see every site of the city.
      for (const auto* site : city) {
        if (auto denied = site_denied(c, *reg, site, site->code)) return *denied;
      }
    } else if (auto denied = site_denied(c, *reg, reg->find_site(a->site), a->site)) {
      return *denied;
    }
  }
  if (derive::is_approval(a->verb) && !c.who->allows(auth::Action::kDataApprove)) {
    return error(403, "forbidden", "role '" + c.who->role + "' may not data.approve");
  }
  a->actor = c.who->name;
  auto stored = c.s.reviews->record(std::move(*a));
  if (!stored) return review_error(stored.error());
  // The stored means and indices revised before the answer (derive/aggregates.h): a reader that
  // saw the 201 sees them. The action itself is durable already; a failure here is retried by the
  // derived service's own thread.
  if (c.s.derived) {
    if (auto r = c.s.derived->catch_up(); !r) {
      std::fprintf(stderr, "ecomon review: derived data: %s\n", r.error().detail.c_str());
    }
  }
  core::JsonWriter w;
  write_action(w, *stored);
  std::string body = w.take();
  record_audit(c, "review." + std::string(derive::verb_name(stored->verb)),
               stored->site + "/" + stored->factor, body);
  return Response{201, "application/json", std::move(body), {}};
}

Response review_actions(const Ctx& c) {
  if (!c.s.reviews) return unavailable();
  derive::ReviewQuery q;
  if (auto answer = listing_filter(c, q.site, q.factor, q.from_ms, q.to_ms)) return *answer;
  auto as_of = time_param(c.t, "as_of");
  if (!as_of) return from_error(as_of.error());
  q.as_of_ms = *as_of;
  q.limit = 1000;
  if (auto it = c.t.query.find("limit"); it != c.t.query.end()) {
    std::size_t v = 0;
    const auto r = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (r.ec != std::errc() || v == 0) return error(400, "bad_request", "limit must be 1 or more");
    q.limit = std::min<std::size_t>(v, 10000);
  }
  auto actions = c.s.reviews->list(q);
  if (!actions) return review_error(actions.error());
  const bool everything = auth::unrestricted(c.who->scopes);
  auto reg = c.s.registry->get();
  core::JsonWriter w;
  w.begin_object().key("actions").begin_array();
  for (const auto& a : *actions) {
    if (!everything) {
      const registry::Site* site = reg->find_site(a.site);
      if (!site || !in_scope(c, *reg, *site)) continue;
    }
    write_action(w, a);
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

core::Result<std::vector<ReviewedValue>> reviewed_series(const ApiSources& s,
                                                         const storage::SeriesQuery& q,
                                                         std::optional<std::int64_t> as_of_ms,
                                                         bool screened_level) {
  // As of T: the versions received by then (derive::series_as_of, as the stored means' as_of).
  auto got = as_of_ms ? derive::series_as_of(*s.store, s.registry->get().get(), q, *as_of_ms)
                      : s.store->series(q);
  if (!got) return core::fail(got.error());
  std::vector<storage::Value> values = std::move(*got);
  std::vector<derive::ReviewAction> actions;
  if (s.reviews) {
    derive::ReviewQuery rq;
    rq.site = q.site;
    rq.factor = q.factor;
    rq.from_ms = q.from_ms;
    rq.to_ms = q.to_ms;
    rq.as_of_ms = as_of_ms;
    rq.limit = 1000000;
    auto found = s.reviews->covering(rq);
    if (!found) return core::fail(found.error());
    actions = std::move(*found);
  }
  // The screened level (derive/screening_service.h): values behind the screening cursor. Not
  // for as_of: when a value was screened is not kept, so a past view shows the actions' levels.
  std::uint64_t screened_upto = 0;
  if (screened_level && !as_of_ms && s.screening_marks) {
    // Screened up to what the caller saw committed (bounded, like the derived routes). A failure
    // is counted (ecomon_screening_errors_total) and retried by the service's thread; the values
    // behind the cursor are screened all the same.
    (void)s.screening_marks->catch_up();
    screened_upto = s.screening_marks->cursor();
  }
  std::vector<ReviewedValue> out;
  out.reserve(values.size());
  for (auto& v : values) {
    auto state =
        derive::review_state(actions, storage::kind_name(v.kind), v.field, v.measured_ms, as_of_ms);
    if (state.level == derive::ReviewLevel::kRaw && derive::is_screened(v, screened_upto)) {
      state.level = derive::ReviewLevel::kScreened;
    }
    out.push_back(ReviewedValue{std::move(v), state});
  }
  return out;
}

// GET /api/v1/dust-storm-days?site=CODE|city=CODE&from=&to= (and the same under /api/public/v1/
// for published sites and cities): the Beijing days in [from, to) marked dust_storm for the site
// (its own marks and its city's) or for the city, oldest first:
//   {"site"|"city","from","to","days":[{"date","from","to","dust_storm":true,"marked_for",
//     "reason","at"}]}
// Days not listed are not marked. HJ 663 allows excluding dust-affected days where the MEE rules
// say so (derive/review.h cites the reference sheet); consumers use this list to mark or leave
// out those days. Default range: the last 31 days; at most 10 years.
core::Result<std::vector<derive::DustStormDay>> dust_storm_days_of(
    const ApiSources& s, const std::vector<std::string>& subjects, std::int64_t from_ms,
    std::int64_t to_ms, std::optional<std::int64_t> as_of_ms) {
  if (!s.reviews) return std::vector<derive::DustStormDay>{};
  std::vector<derive::ReviewAction> actions;
  for (const auto& subject : subjects) {
    derive::ReviewQuery q;
    q.site = subject;
    q.factor = "";
    q.from_ms = from_ms;
    q.to_ms = to_ms;
    q.limit = 100000;
    auto found = s.reviews->covering(q);
    if (!found) return core::fail(found.error());
    actions.insert(actions.end(), found->begin(), found->end());
  }
  std::sort(actions.begin(), actions.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return derive::dust_storm_days(actions, subjects, from_ms, to_ms, as_of_ms);
}

Response dust_storm_days(const Ctx& c) {
  if (!c.s.reviews) return unavailable();
  const Target& t = c.t;
  const bool is_public = c.who == nullptr;
  auto reg = c.s.registry->get();
  const auto site_it = t.query.find("site");
  const auto city_it = t.query.find("city");
  const bool by_site = site_it != t.query.end() && !site_it->second.empty();
  const bool by_city = city_it != t.query.end() && !city_it->second.empty();
  if (by_site == by_city) return error(400, "bad_request", "give exactly one of site and city");
  std::vector<std::string> subjects;
  if (by_site) {
    const registry::Site* site = reg->find_site(site_it->second);
    if (is_public) {
      if (!site || !published_site(*reg, *site)) {
        return error(404, "not_found", "no published site '" + site_it->second + "'");
      }
    } else if (auto denied = site_denied(c, *reg, site, site_it->second)) {
      return *denied;
    }
    subjects = {site->code, site->place.city_code};
  } else {
    const auto sites = city_sites(*reg, city_it->second);
    if (sites.empty()) return error(404, "not_found", "no city '" + city_it->second + "'");
    if (!is_public) {
      for (const auto* site : sites) {
        if (auto denied = site_denied(c, *reg, site, site->code)) return *denied;
      }
    }
    subjects = {city_it->second};
  }
  auto range = range_params(t, c.s.clock->now_ms(), 31LL * 86'400'000);
  if (!range) return from_error(range.error());
  auto days = dust_storm_days_of(c.s, subjects, range->from_ms, range->to_ms);
  if (!days) return review_error(days.error());
  core::JsonWriter w;
  w.begin_object().key(by_site ? "site" : "city").value(subjects.front());
  w.key("from").value(iso(range->from_ms)).key("to").value(iso(range->to_ms));
  w.key("days").begin_array();
  for (const auto& d : *days) {
    w.begin_object();
    w.key("date").value(iso(d.day_start_ms).substr(0, 10));
    w.key("from").value(iso(d.day_start_ms)).key("to").value(iso(d.day_start_ms + 86'400'000));
    w.key("dust_storm").value(true).key("marked_for").value(d.mark.site);
    w.key("reason").value(d.mark.reason).key("at").value(iso(d.mark.at_ms));
    w.end_object();
  }
  w.end_array().end_object();
  Response r{200, "application/json", w.take(), {}};
  if (is_public) r.headers.emplace_back("Cache-Control", "public, max-age=60");
  return r;
}

}  // namespace ecomon::api::detail
