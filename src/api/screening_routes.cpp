// GET /api/v1/screening?site=&factor=&kind=minute|hour|day&from=&to=&field= — quality screening
// findings (analytics/screening.h, issue #5 §4) computed at query time from the stored values by
// derive::screen_site (derive/site_screening.h: which series are read, the cross-series rules);
// nothing is stored and no value is changed. The stored findings (marks) and their review are
// screening_marks_routes.cpp. Thresholds: ApiSources::screening (`[screening]` of `ecomon serve
// --config`), else defaults.
#include "analytics/screening.h"
#include "api/routes_internal.h"
#include "core/json_writer.h"
#include "derive/site_screening.h"

namespace ecomon::api::detail {
namespace {

namespace scr = analytics::screening;

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

}  // namespace

Response screening(const Ctx& c) {
  const ApiSources& s = c.s;
  const Target& t = c.t;
  std::string site;
  std::string factor;
  if (auto answer = series_subject(c, site, factor)) return *answer;
  auto kind = kind_param(t);
  if (!kind) return from_error(kind.error());
  const storage::DataKind k = kind->value_or(storage::DataKind::kHour);
  if (derive::screening_period_ms(k) == 0) {
    return error(400, "bad_request", "kind must be minute, hour or day");
  }
  const std::int64_t now = s.clock->now_ms();
  auto range = range_params(t, now, 7 * kDayMs);
  if (!range) return from_error(range.error());
  const auto field_it = t.query.find("field");
  const std::string field =
      field_it == t.query.end() || field_it->second.empty() ? "Avg" : field_it->second;

  const scr::ScreeningConfig defaults;
  const scr::ScreeningConfig& config = s.screening ? *s.screening : defaults;
  derive::SiteScreening what;
  what.site = site;
  what.factor = factor;
  what.kind = k;
  what.field = field;
  what.from_ms = range->from_ms;
  what.to_ms = range->to_ms;
  what.now_ms = now;
  auto screened = derive::screen_site(*s.store, config, what);
  if (!screened) return from_error(screened.error());
  const bool truncated = screened->truncated;
  const auto& found = screened->findings;

  core::JsonWriter w;
  w.begin_object().key("site").value(site).key("factor").value(factor);
  w.key("kind").value(storage::kind_name(k)).key("from").value(iso(range->from_ms));
  w.key("to").value(iso(range->to_ms)).key("truncated").value(truncated);
  w.key("findings").begin_array();
  for (const auto& [device, f] : found) {
    w.begin_object();
    w.key("rule").value(scr::rule_name(f.rule)).key("rule_zh").value(scr::rule_name_zh(f.rule));
    w.key("device").value(device);
    w.key("from").value(iso(f.from_ms)).key("to").value(iso(f.to_ms));
    w.key("count").value(static_cast<std::int64_t>(f.count));
    w.key("severity").value(scr::severity_name(f.severity));
    w.key("evidence").value(f.evidence);
    w.end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

}  // namespace ecomon::api::detail
