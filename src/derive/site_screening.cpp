#include "derive/site_screening.h"

#include <algorithm>
#include <climits>
#include <map>

namespace ecomon::derive {
namespace {

namespace scr = analytics::screening;

constexpr std::size_t kMaxValues = 100000;

using DeviceSeries = std::map<std::string, scr::Series>;  // mn → series

// The stored series of one factor at a site, one screening series per device (mn).
core::Result<DeviceSeries> read_series(const storage::Store& store, const SiteScreening& w,
                                       const std::string& factor, storage::DataKind kind,
                                       std::int64_t interval_s, bool& truncated) {
  storage::SeriesQuery q;
  q.site = w.site;
  q.factor = factor;
  q.kind = kind;
  q.from_ms = w.from_ms;
  q.to_ms = w.to_ms;
  q.limit = kMaxValues;
  auto values = store.series(q);
  if (!values) return core::fail(values.error());
  truncated = truncated || values->size() >= q.limit;
  DeviceSeries out;
  for (const auto& v : *values) {
    if (v.field != w.field || !v.number) continue;
    scr::Series& series = out[v.mn];
    series.site = w.site;
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
core::Result<std::vector<scr::Span>> status_reasons(const storage::Store& store,
                                                    const std::string& mn, const SiteScreening& w,
                                                    std::int64_t interval_ms, bool& truncated) {
  storage::RecordQuery q;
  q.mn = mn;
  q.kind = w.kind;
  q.from_ms = w.from_ms;
  q.to_ms = w.to_ms;
  q.limit = kMaxValues;
  auto values = store.records(q);
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
const scr::Series* partner_of(const DeviceSeries& others, const std::string& mn) {
  auto it = others.find(mn);
  if (it == others.end() && others.size() == 1) it = others.begin();
  return it == others.end() ? nullptr : &it->second;
}

}  // namespace

std::int64_t screening_period_ms(storage::DataKind kind) {
  switch (kind) {
    case storage::DataKind::kMinute:
      return 60'000;
    case storage::DataKind::kHour:
      return 3'600'000;
    case storage::DataKind::kDay:
      return 86'400'000;
    default:
      return 0;
  }
}

core::Result<SiteScreeningResult> screen_site(const storage::Store& store,
                                              const scr::ScreeningConfig& config,
                                              const SiteScreening& w) {
  SiteScreeningResult result;
  bool& truncated = result.truncated;
  auto& found = result.findings;
  const std::int64_t step = screening_period_ms(w.kind);
  if (step == 0) return result;
  const std::int64_t interval_s = step / 1000;
  const std::string& factor = w.factor;

  auto devices = read_series(store, w, factor, w.kind, interval_s, truncated);
  if (!devices) return core::fail(devices.error());
  for (const auto& [mn, series] : *devices) {
    for (auto& f : scr::screen(series, config, w.now_ms)) found.push_back({mn, std::move(f)});
  }
  for (auto a = devices->begin(); a != devices->end(); ++a) {
    for (auto b = std::next(a); b != devices->end(); ++b) {
      scr::Series other = b->second;
      other.site = w.site + " device " + b->first;
      for (auto& f : scr::screen_identical(a->second, other, config)) {
        found.push_back({a->first, std::move(f)});
      }
    }
  }
  if ((factor == "a34004" || factor == "a34002") && config.enabled(scr::Rule::kPm25GtPm10)) {
    const bool is_pm25 = factor == "a34004";
    auto others =
        read_series(store, w, is_pm25 ? "a34002" : "a34004", w.kind, interval_s, truncated);
    if (!others) return core::fail(others.error());
    for (const auto& [mn, series] : *devices) {
      const scr::Series* partner = partner_of(*others, mn);
      if (!partner) continue;
      const scr::Series& pm25 = is_pm25 ? series : *partner;
      const scr::Series& pm10 = is_pm25 ? *partner : series;
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
    std::map<std::string, DeviceSeries> by_factor;  // factor → mn → series
    by_factor[factor] = *devices;
    std::vector<std::string> all{rule.total};
    for (const auto& p : rule.parts) all.push_back(p.first);
    for (const std::string& f : all) {
      if (by_factor.contains(f)) continue;
      auto read = read_series(store, w, f, w.kind, interval_s, truncated);
      if (!read) return core::fail(read.error());
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
    for (const auto& [mn, series] : *devices) {
      // From the device's first value in the range: before it, the device was not reporting
      // here at all (GET /api/v1/gaps lists that as no_data).
      std::int64_t first = INT64_MAX;
      std::int64_t newest = INT64_MIN;
      for (const auto& x : series.samples) {
        first = std::min(first, x.time_ms);
        newest = std::max(newest, x.time_ms);
      }
      std::int64_t last = std::min(w.to_ms, w.now_ms - step);
      if (!w.tail_is_missing) last = std::min(last, newest + step);
      auto reasons = status_reasons(store, mn, w, step, truncated);
      if (!reasons) return core::fail(reasons.error());
      for (auto& f : scr::screen_missing(series, first, last, *reasons, config)) {
        found.push_back({mn, std::move(f)});
      }
    }
  }
  // A device's own hours against the platform's mean of its minutes (issue #5 §1).
  if (w.kind == storage::DataKind::kHour && config.enabled(scr::Rule::kHourMismatch)) {
    auto minutes = read_series(store, w, factor, storage::DataKind::kMinute, 60, truncated);
    if (!minutes) return core::fail(minutes.error());
    for (const auto& [mn, series] : *devices) {
      const auto it = minutes->find(mn);
      if (it == minutes->end()) continue;
      for (auto& f : scr::screen_hour_vs_minutes(series, it->second, config)) {
        found.push_back({mn, std::move(f)});
      }
    }
  }
  return result;
}

}  // namespace ecomon::derive
