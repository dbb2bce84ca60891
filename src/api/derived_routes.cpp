// The stored hourly and daily means and their revision trail (derive/aggregates.h, issue #5 §2):
//
//   GET /api/v1/aggregates?site=&factor=&interval=hour|day&from=&to=
//       the stored hours or days of a site's factor with a start in [from, to), oldest first:
//       {"site","factor","interval","aggregates":[{"start","value","valid","source",
//        "coverage":{"expected","received","valid"},"computed_at"}]}
//   GET /api/v1/revisions?site=&factor=&from=&to=&limit=
//       revisions of stored hours and days whose period starts in [from, to), newest first:
//       {"revisions":[{"id","site","factor","period","start","old_value","new_value","old_valid",
//        "new_valid","reason","at"}]}
//
// Both need data.read; a site outside the caller's scopes is refused as /api/v1/series refuses
// it. Revisions without `site` are those of the sites the caller may see. Without the derived
// service both answer 503. Values are as the service stored them (raw values, no review applied).
#include <algorithm>
#include <charconv>

#include "api/routes_internal.h"
#include "derive/aggregates.h"

namespace ecomon::api::detail {
namespace {

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 24 * kHourMs;
constexpr std::int64_t kMaxHourSpanMs = 31 * kDayMs;
constexpr std::int64_t kMaxDaySpanMs = 366 * kDayMs;
constexpr std::size_t kMaxRevisions = 10000;

Response unavailable() { return error(503, "unavailable", "derived data is not configured"); }

void optional_number(core::JsonWriter& w, const std::optional<double>& v) {
  if (v) {
    w.value(*v);
  } else {
    w.null();
  }
}

}  // namespace

Response aggregates(const Ctx& c) {
  if (!c.s.derived) return unavailable();
  const Target& t = c.t;
  std::string site;
  std::string factor;
  if (auto answer = series_subject(c, site, factor)) return *answer;
  const auto interval_it = t.query.find("interval");
  const std::string interval = interval_it == t.query.end() ? "hour" : interval_it->second;
  if (interval != "hour" && interval != "day") {
    return error(400, "bad_request", "interval must be hour or day");
  }
  const bool day = interval == "day";
  auto range = range_params(t, c.s.clock->now_ms(), day ? 31 * kDayMs : 2 * kDayMs);
  if (!range) return from_error(range.error());
  if (range->to_ms - range->from_ms > (day ? kMaxDaySpanMs : kMaxHourSpanMs)) {
    return error(400, "range_too_large",
                 day ? "at most 366 days of daily means" : "at most 31 days of hourly means");
  }
  derive::AggregateQuery q;
  q.site = site;
  q.factor = factor;
  q.period = day ? derive::Period::kDay : derive::Period::kHour;
  q.from_ms = range->from_ms;
  q.to_ms = range->to_ms;
  auto rows = c.s.derived->aggregates(q);
  if (!rows) return from_error(rows.error());
  core::JsonWriter w;
  w.begin_object().key("site").value(q.site).key("factor").value(q.factor);
  w.key("interval").value(interval).key("aggregates").begin_array();
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
    w.key("computed_at").value(iso(a.computed_at_ms)).end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response revisions(const Ctx& c) {
  if (!c.s.derived) return unavailable();
  derive::RevisionQuery q;
  if (auto answer = listing_filter(c, q.site, q.factor, q.from_ms, q.to_ms)) return *answer;
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
    w.key("reason").value(r.reason).key("at").value(iso(r.at_ms)).end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

}  // namespace ecomon::api::detail
