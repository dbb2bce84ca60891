// GET /api/v1/screening?site=&factor=&kind=minute|hour|day&from=&to=&field= — quality screening
// findings (analytics/screening.h, issue #5 §4) computed at query time from the stored values;
// nothing is stored and no value is changed.
//
// Each device that reported the factor at the site is screened on its own series. Cross-series
// rules use what this query reads anyway: `identical_series` between the site's devices of the
// factor, and `pm25_gt_pm10` (factor a34004 or a34002) against the site's other PM series (same
// device, else the site's only device of it). Copies between different sites are not searched
// here: that needs every site's series (the pure module does it given two series).
//
// The other rules, from what the same devices sent:
//   - sum_gt_total: when the factor is a total or a part of a configured sum rule, the rule's
//     other factors of the same device (else the site's only device of each).
//   - missing_without_reason: expected times of each device that sent the factor, from its first
//     value in the range to min(`to`, now − one interval); a value of the device (any factor)
//     flagged other than N at a time is the status reason that explains it.
//   - hour_mismatch (kind hour): the same device's minute values of the factor.
//   - clock_drift: receive times of the values, not of re-sent ones (quality bit resend).
// Thresholds: ApiSources::screening (`[screening]` of `ecomon serve --config`), else defaults.
#include <algorithm>
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
    // A re-sent value arrives late by design: no evidence about the device's clock.
    const bool resent = (v.quality & storage::kQualityResend) != 0;
    series.samples.push_back(
        scr::Sample{v.measured_ms, *v.number, v.flag, resent ? 0 : v.received_ms});
  }
  return out;
}

// A device's values of every factor in the range flagged other than N: the status reasons for
// missing values (each covers its own period).
core::Result<std::vector<scr::Span>> status_reasons(const ApiSources& s, const std::string& mn,
                                                    storage::DataKind kind, Range range,
                                                    std::int64_t interval_ms, bool& truncated) {
  storage::RecordQuery q;
  q.mn = mn;
  q.kind = kind;
  q.from_ms = range.from_ms;
  q.to_ms = range.to_ms;
  q.limit = kMaxValues;
  auto values = s.store->records(q);
  if (!values) return core::fail(values.error());
  truncated = truncated || values->size() >= q.limit;
  std::vector<scr::Span> out;
  for (const auto& v : *values) {
    if (v.flag.empty() || v.flag == "N") continue;
    if (!out.empty() && out.back().from_ms == v.measured_ms) continue;
    out.push_back(scr::Span{v.measured_ms, v.measured_ms + interval_ms});
  }
  return out;
}

// The partner of a device's series among another factor's series: the same device, else the
// site's only device of that factor.
const scr::Series* partner_of(const std::map<std::string, scr::Series>& others,
                              const std::string& mn) {
  auto it = others.find(mn);
  if (it == others.end() && others.size() == 1) it = others.begin();
  return it == others.end() ? nullptr : &it->second;
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
  const scr::ScreeningConfig defaults;
  const scr::ScreeningConfig& config = s.screening ? *s.screening : defaults;
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
      if (!config.enabled(scr::Rule::kPm25GtPm10)) break;
      const scr::Series& pm25 = is_pm25 ? series : partner->second;
      const scr::Series& pm10 = is_pm25 ? partner->second : series;
      for (auto& f : scr::screen_pm25_gt_pm10(pm25, pm10, config)) {
        found.push_back({mn, std::move(f)});
      }
    }
  }
  // Sum rules the factor takes part in, as the total or as a part.
  for (const scr::SumRule& rule : config.sums) {
    if (!config.enabled(scr::Rule::kSumGtTotal)) break;
    const bool is_total = rule.total == factor;
    const bool is_part = std::any_of(rule.parts.begin(), rule.parts.end(),
                                     [&](const auto& p) { return p.first == factor; });
    if (!is_total && !is_part) continue;
    std::map<std::string, std::map<std::string, scr::Series>> by_factor;  // factor → mn → series
    by_factor[factor] = *devices;
    for (const std::string& f : [&] {
           std::vector<std::string> all{rule.total};
           for (const auto& p : rule.parts) all.push_back(p.first);
           return all;
         }()) {
      if (by_factor.contains(f)) continue;
      auto read = read_series(s, site, f, k, field, *range, interval_s, truncated);
      if (!read) return from_error(read.error());
      by_factor[f] = std::move(*read);
    }
    for (const auto& [mn, series] : *devices) {
      const scr::Series* total = is_total ? &series : partner_of(by_factor[rule.total], mn);
      if (!total) continue;
      std::vector<scr::Series> parts;
      for (const auto& p : rule.parts) {
        const scr::Series* part = p.first == factor ? &series : partner_of(by_factor[p.first], mn);
        parts.push_back(part ? *part : scr::Series{});
      }
      for (auto& f : scr::screen_sum(rule, *total, parts, config)) {
        found.push_back({mn, std::move(f)});
      }
    }
  }
  // Missing values without a device status, up to the last interval that has ended.
  if (config.enabled(scr::Rule::kMissingWithoutReason)) {
    const std::int64_t step = interval_s * 1000;
    const std::int64_t last = std::min(range->to_ms, now - step);
    for (const auto& [mn, series] : *devices) {
      // From the device's first value in the range: before it, the device was not reporting
      // here at all (GET /api/v1/gaps lists that as no_data).
      std::int64_t first = INT64_MAX;
      for (const auto& x : series.samples) first = std::min(first, x.time_ms);
      auto reasons = status_reasons(s, mn, k, *range, step, truncated);
      if (!reasons) return from_error(reasons.error());
      for (auto& f : scr::screen_missing(series, first, last, *reasons, config)) {
        found.push_back({mn, std::move(f)});
      }
    }
  }
  // A device's own hours against the platform's mean of its minutes (issue #5 §1).
  if (k == storage::DataKind::kHour && config.enabled(scr::Rule::kHourMismatch)) {
    auto minutes =
        read_series(s, site, factor, storage::DataKind::kMinute, field, *range, 60, truncated);
    if (!minutes) return from_error(minutes.error());
    for (const auto& [mn, series] : *devices) {
      const auto it = minutes->find(mn);
      if (it == minutes->end()) continue;
      for (auto& f : scr::screen_hour_vs_minutes(series, it->second, config)) {
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
