// GET /api/v1/screening?site=&factor=&kind=minute|hour|day&from=&to=&field= — quality screening
// findings (analytics/screening.h, issue #5 §4) computed at query time from the stored values;
// nothing is stored and no value is changed.
//
// Each device that reported the factor at the site is screened on its own series. Cross-series
// rules use what this query reads anyway: `identical_series` between the site's devices of the
// factor, and `pm25_gt_pm10` (factor a34004 or a34002) against the site's other PM series (same
// device, else the site's only device of it). Copies between different sites are not searched
// here: that needs every site's series (the pure module does it given two series).
#include <map>

#include "analytics/screening.h"
#include "api/routes_internal.h"
#include "core/json_writer.h"

namespace ecomon::api::detail {
namespace {

namespace scr = analytics::screening;

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
constexpr std::size_t kMaxValues = 100000;

// The stored series of one factor at a site, one screening series per device (mn).
core::Result<std::map<std::string, scr::Series>> read_series(
    const ApiSources& s, const std::string& site, const std::string& factor, storage::DataKind kind,
    const std::string& field, Range range, std::int64_t interval_s, bool& truncated) {
  storage::SeriesQuery q;
  q.site = site;
  q.factor = factor;
  q.kind = kind;
  q.from_ms = range.from_ms;
  q.to_ms = range.to_ms;
  q.limit = kMaxValues;
  auto values = s.store->series(q);
  if (!values) return core::fail(values.error());
  truncated = truncated || values->size() >= q.limit;
  std::map<std::string, scr::Series> out;
  for (const auto& v : *values) {
    if (v.field != field || !v.number) continue;
    scr::Series& series = out[v.mn];
    series.site = site;
    series.factor = factor;
    series.interval_s = interval_s;
    series.samples.push_back(scr::Sample{v.measured_ms, *v.number, v.flag});
  }
  return out;
}

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
  const auto period = period_ms_of(k);
  if (!period) return error(400, "bad_request", "kind must be minute, hour or day");
  const std::int64_t interval_s = *period / 1000;
  const std::int64_t now = s.clock->now_ms();
  auto range = range_params(t, now, 7 * kDayMs);
  if (!range) return from_error(range.error());
  const auto field_it = t.query.find("field");
  const std::string field =
      field_it == t.query.end() || field_it->second.empty() ? "Avg" : field_it->second;

  bool truncated = false;
  auto devices = read_series(s, site, factor, k, field, *range, interval_s, truncated);
  if (!devices) return from_error(devices.error());
  const scr::ScreeningConfig config;
  struct Found {
    std::string device;
    scr::Finding finding;
  };
  std::vector<Found> found;
  for (const auto& [mn, series] : *devices) {
    for (auto& f : scr::screen(series, config, now)) found.push_back({mn, std::move(f)});
  }
  for (auto a = devices->begin(); a != devices->end(); ++a) {
    for (auto b = std::next(a); b != devices->end(); ++b) {
      scr::Series other = b->second;
      other.site = site + " device " + b->first;
      for (auto& f : scr::screen_identical(a->second, other, config)) {
        found.push_back({a->first, std::move(f)});
      }
    }
  }
  if (factor == "a34004" || factor == "a34002") {
    const bool is_pm25 = factor == "a34004";
    auto others = read_series(s, site, is_pm25 ? "a34002" : "a34004", k, field, *range, interval_s,
                              truncated);
    if (!others) return from_error(others.error());
    for (const auto& [mn, series] : *devices) {
      auto partner = others->find(mn);
      if (partner == others->end() && others->size() == 1) partner = others->begin();
      if (partner == others->end()) continue;
      const scr::Series& pm25 = is_pm25 ? series : partner->second;
      const scr::Series& pm10 = is_pm25 ? partner->second : series;
      for (auto& f : scr::screen_pm25_gt_pm10(pm25, pm10, config)) {
        found.push_back({mn, std::move(f)});
      }
    }
  }

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
