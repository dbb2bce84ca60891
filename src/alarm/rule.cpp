#include "alarm/rule.h"

#include <cmath>
#include <cstdio>

#include "analytics/screening.h"
#include "standards/radiation.h"
#include "standards/water.h"

namespace ecomon::alarm {
namespace {

constexpr std::string_view kKinds[] = {"threshold", "sustained", "rate_of_change", "offline",
                                       "factor_missing", "aqi_level", "water_class", "screening",
                                       // key polluter supervision
                                       "permit", "emission_total"};
// Issue #6 §2 additions, from RuleKind::kDrinkingWater (32) on.
constexpr std::string_view kMoreKinds[] = {"drinking_water", "radiation_dose",
                                           "water_deteriorating"};
constexpr int kMoreKindsFirst = static_cast<int>(RuleKind::kDrinkingWater);
constexpr std::string_view kOps[] = {">", ">=", "<", "<="};
constexpr std::string_view kSeverities[] = {"info", "minor", "major", "critical"};

template <typename E, std::size_t N>
std::optional<E> parse_name(const std::string_view (&names)[N], std::string_view s) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

bool has_control_or_empty(const std::string& s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

}  // namespace

std::string_view kind_name(RuleKind k) {
  const int i = static_cast<int>(k);
  if (i >= kMoreKindsFirst) return kMoreKinds[i - kMoreKindsFirst];
  return kKinds[i];
}
std::optional<RuleKind> parse_rule_kind(std::string_view s) {
  if (auto k = parse_name<RuleKind>(kKinds, s)) return k;
  for (std::size_t i = 0; i < std::size(kMoreKinds); ++i) {
    if (kMoreKinds[i] == s) return static_cast<RuleKind>(kMoreKindsFirst + static_cast<int>(i));
  }
  return std::nullopt;
}
std::string_view op_name(Op op) { return kOps[static_cast<int>(op)]; }
std::optional<Op> parse_op(std::string_view s) { return parse_name<Op>(kOps, s); }
std::string_view severity_name(Severity s) { return kSeverities[static_cast<int>(s)]; }
std::optional<Severity> parse_severity(std::string_view s) {
  return parse_name<Severity>(kSeverities, s);
}

bool is_derived(RuleKind k) {
  return k == RuleKind::kAqiLevel || k == RuleKind::kWaterClass ||
         k == RuleKind::kWaterDeteriorating;
}
bool is_water_class(RuleKind k) {
  return k == RuleKind::kWaterClass || k == RuleKind::kWaterDeteriorating;
}

bool is_touched_kind(RuleKind k) {
  return is_derived(k) || k == RuleKind::kPermit || k == RuleKind::kEmissionTotal;
}

namespace {

// permit and emission_total (key polluter supervision): the engine chooses the fields.
std::optional<std::string> normalise_polluter_rule(Rule& r) {
  if (r.factor.empty()) return "factor is required";
  if (!r.device.empty()) return "a permit or emission_total rule has no device (it reads outlets)";
  if (!r.field.empty()) {
    return "a permit or emission_total rule has no field (the permit decides: measured, "
           "converted ZsRtd/ZsAvg, or Cou)";
  }
  if (r.limit == 0) r.limit = 1;
  if (!(r.limit > 0 && r.limit <= 10)) {
    return "limit of a permit or emission_total rule: the share of the permitted value that "
           "opens, above 0 up to 10 (1 = the permit itself, 0.8 = early warning)";
  }
  r.count = 1;
  r.interval_s = 0;
  if (r.kind == RuleKind::kPermit) {
    if (r.data_kind == storage::DataKind::kOther) return "data_kind: rtd, minute, hour or day";
    r.op = Op::kGreater;
  } else {
    if (r.data_kind != storage::DataKind::kHour && r.data_kind != storage::DataKind::kDay) {
      return "data_kind of an emission_total rule: hour or day";
    }
    r.op = Op::kGreaterEqual;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> normalise_rule(Rule& r) {
  if (r.name.empty() || r.name.size() > 200 || has_control_or_empty(r.name)) {
    return "name: 1 to 200 characters, no control characters";
  }
  for (const std::string* s : {&r.site, &r.device, &r.factor, &r.field}) {
    if (s->size() > 64 || has_control_or_empty(*s))
      return "site, device, factor, field: at most 64 characters";
  }
  if (r.hold_off_s < 0 || r.hold_off_s > 365LL * 86400) return "hold_off_s: 0 to one year";
  if (r.renotify_s < 0 || r.renotify_s > 365LL * 86400) return "renotify_s: 0 to one year";
  if (r.renotify_s > 0 && r.renotify_s < 10) return "renotify_s: at least 10 s (or 0 = never)";
  if (r.recipients.size() > 20) return "recipients: at most 20";
  for (const auto& url : r.recipients) {
    const bool http = url.rfind("http://", 0) == 0 && url.size() > 7;
    const bool https = url.rfind("https://", 0) == 0 && url.size() > 8;
    if (!(http || https) || url.size() > 2000 || has_control_or_empty(url) ||
        url.find(' ') != std::string::npos) {
      return "recipients: http:// or https:// URLs: '" + url.substr(0, 100) + "'";
    }
  }
  if (!std::isfinite(r.limit)) return "limit must be a finite number";
  if (r.kind == RuleKind::kOffline) {
    if (!r.factor.empty() || !r.field.empty()) return "an offline rule has no factor or field";
    if (!(r.tolerance >= 1 && r.tolerance <= 1000)) return "tolerance: 1 to 1000";
    if (r.interval_s < 0 || r.interval_s > 366LL * 86400)
      return "interval_s: 0 (the device's) to one year";
    return std::nullopt;
  }
  if (is_derived(r.kind)) {
    if (!r.factor.empty() || !r.device.empty())
      return "an aqi_level, water_class or water_deteriorating rule has no factor or device (it "
             "reads its items)";
    if (!r.field.empty() && r.field != "Avg")
      return "field of an aqi_level, water_class or water_deteriorating rule: Avg";
    r.field = "Avg";
    r.count = 1;
    r.interval_s = 0;
    if (r.kind == RuleKind::kAqiLevel) {
      r.data_kind = storage::DataKind::kHour;
      if (!(r.limit >= 0 && r.limit <= 500)) return "limit of an aqi_level rule: an AQI, 0 to 500";
    } else if (r.kind == RuleKind::kWaterDeteriorating) {
      r.data_kind = storage::DataKind::kHour;  // hourly and daily samples both count
      r.op = Op::kGreaterEqual;
      if (r.limit == 0) r.limit = 1;
      if (!(r.limit >= 1 && r.limit <= 5 && r.limit == std::floor(r.limit)))
        return "limit of a water_deteriorating rule: 1 to 5 classes";
    } else {
      r.data_kind = storage::DataKind::kHour;  // hourly and daily samples both count
      r.op = Op::kGreater;
      if (!(r.limit == 0 || (r.limit >= 1 && r.limit <= 6 && r.limit == std::floor(r.limit))))
        return "limit of a water_class rule: a class 1 to 6 (I..V, 6 = 劣V) or 0 = designated";
    }
    return std::nullopt;
  }
  if (r.kind == RuleKind::kPermit || r.kind == RuleKind::kEmissionTotal) {
    return normalise_polluter_rule(r);
  }
  if (r.kind == RuleKind::kDrinkingWater) {
    if (!r.device.empty()) return "device applies to offline and factor_missing rules only";
    if (!r.factor.empty() && !standards::water::supplementary_by_hj212(r.factor)) {
      return "factor of a drinking_water rule: a GB 3838-2002 表2 item (w21038 sulfate, w21022 "
             "chloride, w21007 nitrate, w20125 iron, w20124 manganese) or empty for all five";
    }
    if (r.data_kind == storage::DataKind::kOther) return "data_kind: rtd, minute, hour or day";
    if (r.field.empty()) r.field = r.data_kind == storage::DataKind::kRealtime ? "Rtd" : "Avg";
    r.count = 1;
    r.interval_s = 0;
    r.op = Op::kGreater;
    r.limit = 0;  // each item's 表2 limit
    return std::nullopt;
  }
  if (r.factor.empty()) return "factor is required";
  if (r.data_kind == storage::DataKind::kOther) return "data_kind: rtd, minute, hour or day";
  if (r.kind == RuleKind::kRadiationDose) {
    if (!r.device.empty()) return "device applies to offline and factor_missing rules only";
    if (r.field.empty()) r.field = r.data_kind == storage::DataKind::kRealtime ? "Rtd" : "Avg";
    if (r.limit == 0) r.limit = 3;
    if (!(r.limit > 0 && r.limit <= 100)) return "limit of a radiation_dose rule: k, 0 to 100";
    r.count = 1;
    r.interval_s = 0;
    r.op = Op::kGreater;
    return std::nullopt;
  }
  if (r.kind == RuleKind::kFactorMissing) {
    if (!r.field.empty()) return "a factor_missing rule has no field (any field counts)";
    if (r.count < 1 || r.count > 100000) return "count: 1 to 100000 intervals";
    if (r.interval_s < 0 || r.interval_s > 366LL * 86400)
      return "interval_s: 0 (the device's) to one year";
    return std::nullopt;
  }
  if (!r.device.empty()) return "device applies to offline and factor_missing rules only";
  if (r.field.empty()) r.field = r.data_kind == storage::DataKind::kRealtime ? "Rtd" : "Avg";
  if (r.kind == RuleKind::kScreening) {
    r.count = 1;
    r.interval_s = 0;
    r.op = Op::kGreater;
    r.limit = 0;
    return std::nullopt;
  }
  if (r.kind == RuleKind::kSustained) {
    if (r.count < 2 || r.count > 100000) return "count: 2 to 100000 consecutive values";
  } else {
    r.count = 1;
  }
  if (r.kind == RuleKind::kRateOfChange) {
    if (r.op != Op::kGreater && r.op != Op::kGreaterEqual)
      return "op of a rate_of_change rule: > or >=";
    if (r.limit < 0) return "limit of a rate_of_change rule: at least 0";
    if (r.interval_s < 0 || r.interval_s > 366LL * 86400) return "interval_s: 0 to one year";
  } else {
    r.interval_s = 0;
  }
  return std::nullopt;
}

bool same_definition(const Rule& a, const Rule& b) {
  return a.name == b.name && a.kind == b.kind && a.site == b.site && a.device == b.device &&
         a.factor == b.factor && a.field == b.field && a.data_kind == b.data_kind && a.op == b.op &&
         a.limit == b.limit && a.count == b.count && a.interval_s == b.interval_s &&
         a.tolerance == b.tolerance && a.severity == b.severity && a.hold_off_s == b.hold_off_s &&
         a.renotify_s == b.renotify_s && a.recipients == b.recipients;
}

bool compare(Op op, double x, double limit) {
  switch (op) {
    case Op::kGreater:
      return x > limit;
    case Op::kGreaterEqual:
      return x >= limit;
    case Op::kLess:
      return x < limit;
    case Op::kLessEqual:
      return x <= limit;
  }
  return false;
}

bool value_counts(const storage::Value& v) {
  if (v.quality & storage::kQualityNotLatest) return false;
  return v.flag.empty() || v.flag == "N";
}

namespace {

// A screening rule on one value: the per-value rules of analytics::screening only, and the
// flag_cover finding the engine found for a flagged value at an outlet.
Evaluation evaluate_screening(const storage::Value& v, SeriesState& st, std::int64_t now_ms,
                              const std::string* cover) {
  namespace sc = analytics::screening;
  Evaluation e;
  if (cover && !cover->empty() && !(v.flag.empty() || v.flag == "N") &&
      !(v.quality & (storage::kQualityQuarantined | storage::kQualityPending)) && v.number) {
    e.verdict = Verdict::kExceeds;
    e.finding = *cover;
    e.observed = *v.number;
    e.since_ms = v.measured_ms;
    if (!st.seen || v.measured_ms >= st.last_ms) {
      st.seen = true;
      st.last_ms = v.measured_ms;
    }
    return e;
  }
  // Clock-suspect values count here (they are what future_time is about); flagged, quarantined
  // and pending ones do not, and a report without a number has nothing to screen.
  if (!(v.flag.empty() || v.flag == "N")) return e;
  if (v.quality & (storage::kQualityQuarantined | storage::kQualityPending)) return e;
  if (!v.number) return e;
  static const sc::ScreeningConfig kConfig;
  sc::Series series;
  series.site = v.site;
  series.factor = v.factor;
  series.samples.push_back(sc::Sample{v.measured_ms, *v.number, v.flag});
  for (const auto& f : sc::screen(series, kConfig, now_ms)) {
    if (f.rule != sc::Rule::kNegative && f.rule != sc::Rule::kOutOfRange &&
        f.rule != sc::Rule::kFutureTime) {
      continue;
    }
    if (!e.finding.empty()) e.finding += "; ";
    e.finding += std::string(sc::rule_name(f.rule)) + ": " + f.evidence;
  }
  e.verdict = e.finding.empty() ? Verdict::kGood : Verdict::kExceeds;
  e.observed = *v.number;
  e.since_ms = v.measured_ms;
  st.seen = true;
  st.last_ms = v.measured_ms;
  return e;
}

}  // namespace

Evaluation evaluate(const Rule& rule, const storage::Value& v, SeriesState& st, std::int64_t now_ms,
                    const std::string* cover) {
  if (rule.kind == RuleKind::kScreening) return evaluate_screening(v, st, now_ms, cover);
  Evaluation e;
  if (!value_counts(v)) return e;
  e.late = st.seen && v.measured_ms < st.last_ms;
  const bool repeat = st.seen && v.measured_ms == st.last_ms;  // a new version of the newest value
  std::optional<double> x = v.number;
  if (!x) {
    // Below the detection limit: good for an upper limit, unknown for a lower one.
    if (!(v.quality & storage::kQualityBelowDetection)) return e;
    if (rule.op == Op::kLess || rule.op == Op::kLessEqual) return e;
  }
  switch (rule.kind) {
    case RuleKind::kDrinkingWater: {
      const auto* item = standards::water::supplementary_by_hj212(v.factor);
      if (!item) return e;
      // 表2 limits are "≤": a value equal to the limit meets it.
      e.verdict = x && *x > item->limit_mgl ? Verdict::kExceeds : Verdict::kGood;
      e.limit = item->limit_mgl;
      e.observed = x.value_or(0);
      e.since_ms = v.measured_ms;
      break;
    }
    case RuleKind::kWaterDeteriorating: {
      if (e.late || !x) return e;
      // After a restart an open episode has no reference: the next samples build one again.
      const bool in_episode = st.streak > 0 && st.previous.has_value();
      // A new sample: the previous sample's final class becomes the reference, unless an
      // episode holds it at the class before the drop.
      if (st.seen && v.measured_ms > st.last_ms && !in_episode) st.previous = st.current;
      st.current = x;
      st.seen = true;
      st.last_ms = v.measured_ms;
      if (!st.previous) return e;  // the first sample: nothing to compare with
      const bool worse = *x - *st.previous >= rule.limit;
      if (worse && !in_episode) st.streak_start_ms = v.measured_ms;
      st.streak = worse ? 1 : 0;
      e.verdict = worse ? Verdict::kExceeds : Verdict::kGood;
      e.observed = *x;
      e.since_ms = st.streak_start_ms;
      if (!worse && in_episode) st.previous = x;  // recovered: compare with this sample next
      return e;
    }
    case RuleKind::kRadiationDose:
      return e;  // evaluate_dose_rate()
    case RuleKind::kThreshold:
    case RuleKind::kAqiLevel:
    case RuleKind::kWaterClass:
    case RuleKind::kPermit:
    case RuleKind::kEmissionTotal: {
      e.verdict = x && compare(rule.op, *x, rule.limit) ? Verdict::kExceeds : Verdict::kGood;
      e.observed = x.value_or(0);
      e.since_ms = v.measured_ms;
      break;
    }
    case RuleKind::kSustained: {
      if (e.late) return e;
      const bool exceeds = x && compare(rule.op, *x, rule.limit);
      if (repeat) {
        // A corrected newest value replaces its predecessor in the streak.
        if (st.streak > 0) --st.streak;
      }
      if (exceeds) {
        if (st.streak == 0) st.streak_start_ms = v.measured_ms;
        ++st.streak;
      } else {
        st.streak = 0;
      }
      e.verdict = st.streak >= rule.count ? Verdict::kExceeds
                                          : (exceeds ? Verdict::kIgnored : Verdict::kGood);
      // A streak still short of `count` neither opens nor clears (an open episode stays open
      // only while every value exceeds, so a short streak after a good value cannot be inside one).
      e.observed = x.value_or(0);
      e.since_ms = st.streak_start_ms;
      break;
    }
    case RuleKind::kRateOfChange: {
      if (e.late || !x) {
        if (!e.late && !x) st.previous.reset();
        return e;
      }
      if (st.previous && !repeat && v.measured_ms > st.last_ms) {
        double delta = std::fabs(*x - *st.previous);
        if (rule.interval_s > 0) {
          delta = delta * static_cast<double>(rule.interval_s) * 1000.0 /
                  static_cast<double>(v.measured_ms - st.last_ms);
        }
        e.verdict = compare(rule.op, delta, rule.limit) ? Verdict::kExceeds : Verdict::kGood;
        e.observed = delta;
        e.since_ms = v.measured_ms;
      }
      st.previous = x;
      break;
    }
    case RuleKind::kOffline:
    case RuleKind::kFactorMissing:
    case RuleKind::kScreening:
      return e;
  }
  if (!e.late) {
    st.seen = true;
    st.last_ms = v.measured_ms;
  }
  return e;
}

// --- key polluter supervision (permit, emission_total, flag_cover) ---

std::optional<double> convert_to_reference_o2(double measured, double o2_pct,
                                              double reference_o2_pct) {
  if (!std::isfinite(measured) || !(o2_pct >= 0 && o2_pct < kMaxO2ForConversionPct)) {
    return std::nullopt;
  }
  if (!(reference_o2_pct >= 0 && reference_o2_pct < 21)) return std::nullopt;
  return measured * (21.0 - reference_o2_pct) / (21.0 - o2_pct);
}

PermitReading permit_reading(const PermitTerms& permit, const OutletSample& sample) {
  PermitReading r;
  if (!permit.converted) {
    r.value = sample.measured;
    if (!r.value) r.refused = "no measured value";
    return r;
  }
  if (sample.converted) {
    r.value = sample.converted;
    r.from_converted = true;
    return r;
  }
  if (!sample.measured) {
    r.refused = "no measured or converted value";
    return r;
  }
  if (!sample.o2_pct) {
    r.refused = "no O2 (a19001) to convert the measured value";
    return r;
  }
  if (!permit.reference_o2_pct) {
    r.refused = "the permit names no reference O2";
    return r;
  }
  r.value = convert_to_reference_o2(*sample.measured, *sample.o2_pct, *permit.reference_o2_pct);
  if (!r.value) {
    char b[96];
    std::snprintf(b, sizeof b, "O2 %g %% is not below %g %%: not converted", *sample.o2_pct,
                  kMaxO2ForConversionPct);
    r.refused = b;
    return r;
  }
  r.converted_here = true;
  return r;
}

std::optional<std::string> flag_cover_finding(const storage::Value& v, const PermitTerms& permit,
                                              const PermitReading& reading,
                                              std::int64_t open_permit_alarm_id) {
  if (v.flag.empty() || v.flag == "N") return std::nullopt;
  if (v.quality & (storage::kQualityQuarantined | storage::kQualityPending)) return std::nullopt;
  if (!permit.limit) return std::nullopt;
  const bool above = reading.value && *reading.value > *permit.limit;
  if (!above && open_permit_alarm_id == 0) return std::nullopt;
  char b[512];
  if (above) {
    std::snprintf(b, sizeof b,
                  "flag_cover: flag %s on %s %s, concentration %g%s above the permitted %g %s "
                  "(%s)",
                  v.flag.c_str(), v.factor.c_str(), v.field.c_str(), *reading.value,
                  reading.converted_here   ? " (converted to reference O2 here)"
                  : reading.from_converted ? " (converted, as sent)"
                                           : "",
                  *permit.limit, permit.unit.c_str(), permit.standard.c_str());
  } else {
    std::snprintf(b, sizeof b,
                  "flag_cover: flag %s on %s %s appeared during the open permit alarm %lld "
                  "(permitted %g %s, %s)",
                  v.flag.c_str(), v.factor.c_str(), v.field.c_str(),
                  static_cast<long long>(open_permit_alarm_id), *permit.limit, permit.unit.c_str(),
                  permit.standard.c_str());
  }
  return std::string(b);
}

Evaluation evaluate_dose_rate(const Rule& rule, const storage::Value& v, SeriesState& st,
                              const RadiationBaseline& baseline) {
  namespace rad = standards::radiation;
  Evaluation e;
  if (!value_counts(v) || !v.number) return e;
  e.late = st.seen && v.measured_ms < st.last_ms;
  rad::Baseline b;
  b.count = 2;
  b.mean_ngy_h = baseline.mean_ngy_h;
  b.sd_ngy_h = baseline.sd_ngy_h;
  rad::AnomalyRule ar;
  ar.k = rule.limit;
  ar.background_upper_ngy_h = baseline.background_upper_ngy_h;
  auto verdict = rad::assess_dose_rate(*v.number, b, ar);
  if (!verdict) return e;  // a negative or non-finite reading: not judged
  e.observed = *v.number;
  e.since_ms = v.measured_ms;
  e.verdict = verdict->level == rad::DoseRateLevel::kNormal ? Verdict::kGood : Verdict::kExceeds;
  e.limit = verdict->investigation_level_ngy_h;
  if (e.verdict == Verdict::kExceeds) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s: %g nGy/h, investigation level %g nGy/h (mean %g + %g σ %g)",
                  std::string(rad::dose_rate_level_name(verdict->level)).c_str(), *v.number,
                  verdict->investigation_level_ngy_h, baseline.mean_ngy_h, rule.limit,
                  baseline.sd_ngy_h);
    e.finding = buf;
  }
  if (!e.late) {
    st.seen = true;
    st.last_ms = v.measured_ms;
  }
  return e;
}

}  // namespace ecomon::alarm
