#include "analytics/screening.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <set>
#include <utility>

namespace ecomon::analytics::screening {
namespace {

// One rule's evidence at one place, before adjacent ones merge.
struct Hit {
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  int count = 1;
  double key = 0;  // how bad: the merged finding keeps the worst hit's numbers
  double value = 0;
  double other = 0;
  std::string note;
};

Hit make_hit(std::int64_t from_ms, std::int64_t to_ms, int count, double key, double value = 0,
             double other = 0, std::string note = {}) {
  return Hit{from_ms, to_ms, count, key, value, other, std::move(note)};
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

bool same_value(double a, double b) {
  return std::fabs(a - b) <= 1e-9 * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

bool valid_flag(const std::string& flag) { return flag.empty() || flag == "N"; }

std::vector<Sample> by_time(const Series& s) {
  std::vector<Sample> out = s.samples;
  std::stable_sort(out.begin(), out.end(),
                   [](const Sample& a, const Sample& b) { return a.time_ms < b.time_ms; });
  return out;
}

std::int64_t interval_ms(const Series& s) { return std::max<std::int64_t>(1, s.interval_s) * 1000; }

// Hits in time order; a hit that starts where the previous group ends (or before) joins it.
std::vector<Hit> merge(const std::vector<Hit>& hits) {
  std::vector<Hit> out;
  for (const Hit& h : hits) {
    if (!out.empty() && h.from_ms <= out.back().to_ms) {
      Hit& g = out.back();
      g.to_ms = std::max(g.to_ms, h.to_ms);
      g.count += h.count;
      if (h.key > g.key) {
        g.key = h.key;
        g.value = h.value;
        g.other = h.other;
        g.note = h.note;
      }
    } else {
      out.push_back(h);
    }
  }
  return out;
}

// For windows that overlap, the merged count is the number of values inside the range.
void recount(std::vector<Hit>& groups, const std::vector<Sample>& samples) {
  for (Hit& g : groups) {
    const auto lo = std::lower_bound(samples.begin(), samples.end(), g.from_ms,
                                     [](const Sample& s, std::int64_t t) { return s.time_ms < t; });
    const auto hi = std::lower_bound(samples.begin(), samples.end(), g.to_ms,
                                     [](const Sample& s, std::int64_t t) { return s.time_ms < t; });
    g.count = static_cast<int>(hi - lo);
  }
}

template <class Evidence>
void emit(std::vector<Finding>& out, Rule rule, Severity severity, const std::vector<Hit>& groups,
          Evidence evidence) {
  for (const Hit& g : groups) {
    out.push_back(Finding{rule, g.from_ms, g.to_ms, severity, evidence(g), g.count});
  }
}

std::string values_word(int n) { return n == 1 ? "1 value" : std::to_string(n) + " values"; }

double robust_spread(const std::vector<Sample>& samples) {
  if (samples.empty()) return 0;
  std::vector<double> v;
  v.reserve(samples.size());
  for (const Sample& s : samples) v.push_back(s.value);
  auto median = [](std::vector<double>& x) {
    const std::size_t mid = x.size() / 2;
    std::nth_element(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(mid), x.end());
    double m = x[mid];
    if (x.size() % 2 == 0) {
      m = (m + *std::max_element(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(mid))) / 2;
    }
    return m;
  };
  const double m = median(v);
  for (double& x : v) x = std::fabs(x - m);
  return 1.4826 * median(v);
}

void low_variation(std::vector<Finding>& out, const std::vector<Sample>& s, std::int64_t step_ms,
                   const FactorLimits& f, const ScreeningConfig& c) {
  if (f.low_variation_cv <= 0 || s.empty()) return;
  const std::int64_t window_ms = c.low_variation_window_s * 1000;
  const double needed =
      c.low_variation_min_coverage * static_cast<double>(window_ms) / static_cast<double>(step_ms);
  const double span = f.range_max - f.range_min;
  std::vector<Hit> hits;
  // Sliding window [t_i, t_i + window): sums for the mean and variance, monotonic deques of
  // indices for the minimum and maximum.
  double sum = 0, sum_sq = 0;
  std::deque<std::size_t> lows, highs;
  std::size_t j = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    while (j < s.size() && s[j].time_ms < s[i].time_ms + window_ms) {
      sum += s[j].value;
      sum_sq += s[j].value * s[j].value;
      while (!lows.empty() && s[lows.back()].value >= s[j].value) lows.pop_back();
      lows.push_back(j);
      while (!highs.empty() && s[highs.back()].value <= s[j].value) highs.pop_back();
      highs.push_back(j);
      ++j;
    }
    const auto n = static_cast<double>(j - i);
    if (n >= needed && n >= 2) {
      const double mean = sum / n;
      const double var = std::max(0.0, sum_sq / n - mean * mean);
      const double cv = mean > 0 ? std::sqrt(var) / mean : 1.0;
      const double range = s[highs.front()].value - s[lows.front()].value;
      const bool narrow = span <= 0 || range < c.low_variation_range_fraction * span;
      if (mean > 0 && cv < f.low_variation_cv && narrow) {
        hits.push_back(make_hit(s[i].time_ms, s[j - 1].time_ms + step_ms, 0, -cv, cv, range, {}));
      }
    }
    sum -= s[i].value;
    sum_sq -= s[i].value * s[i].value;
    if (!lows.empty() && lows.front() == i) lows.pop_front();
    if (!highs.empty() && highs.front() == i) highs.pop_front();
  }
  auto groups = merge(hits);
  recount(groups, s);
  const std::string window_h = num(static_cast<double>(c.low_variation_window_s) / 3600);
  emit(out, Rule::kLowVariation, Severity::kWarning, groups, [&](const Hit& g) {
    std::string e = "lowest " + window_h + "-h coefficient of variation " + num(g.value * 100) +
                    " % (limit " + num(f.low_variation_cv * 100) + " %), range " + num(g.other);
    if (span > 0) {
      e += " (limit " + num(c.low_variation_range_fraction * span) + ", " +
           num(c.low_variation_range_fraction * 100) + " % of the analyser range)";
    }
    return e;
  });
}

// near_detection_limit: windows [t_i, t_i + window) with enough values, most of them in the band.
void near_detection_limit(std::vector<Finding>& out, const std::vector<Sample>& s,
                          std::int64_t step_ms, const FactorLimits& f, const ScreeningConfig& c) {
  if (!f.detection_limit || *f.detection_limit <= 0 || s.empty()) return;
  const double band = c.detection_limit_multiple * *f.detection_limit;
  const std::int64_t window_ms = c.low_variation_window_s * 1000;
  const double needed =
      c.low_variation_min_coverage * static_cast<double>(window_ms) / static_cast<double>(step_ms);
  std::vector<Hit> hits;
  std::size_t j = 0;
  int in_band = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    while (j < s.size() && s[j].time_ms < s[i].time_ms + window_ms) {
      if (s[j].value <= band) ++in_band;
      ++j;
    }
    const auto n = static_cast<double>(j - i);
    if (n >= needed && n >= 2 && in_band >= c.detection_limit_share * n) {
      hits.push_back(
          make_hit(s[i].time_ms, s[j - 1].time_ms + step_ms, 0, in_band / n, in_band / n, n));
    }
    if (s[i].value <= band) --in_band;
  }
  auto groups = merge(hits);
  recount(groups, s);
  emit(out, Rule::kNearDetectionLimit, Severity::kWarning, groups, [&](const Hit& g) {
    return "up to " + num(g.value * 100) + " % of a " +
           num(static_cast<double>(c.low_variation_window_s) / 3600) + "-h window at or below " +
           num(band) + " (" + num(c.detection_limit_multiple) + " × detection limit " +
           num(*f.detection_limit) + "; limit " + num(c.detection_limit_share * 100) + " %)";
  });
}

// small_jitter: windows whose values all lie within ±fraction of their median, not all equal.
void small_jitter(std::vector<Finding>& out, const std::vector<Sample>& s, std::int64_t step_ms,
                  const ScreeningConfig& c) {
  if (c.jitter_fraction <= 0 || s.empty()) return;
  const std::int64_t window_ms = c.jitter_window_s * 1000;
  const double needed =
      c.jitter_min_coverage * static_cast<double>(window_ms) / static_cast<double>(step_ms);
  std::vector<Hit> hits;
  std::vector<double> w;
  std::size_t j = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    while (j < s.size() && s[j].time_ms < s[i].time_ms + window_ms) ++j;
    const auto n = static_cast<double>(j - i);
    if (n < needed || n < 2) continue;
    w.clear();
    for (std::size_t k = i; k < j; ++k) w.push_back(s[k].value);
    std::sort(w.begin(), w.end());
    const double median =
        w.size() % 2 ? w[w.size() / 2] : (w[w.size() / 2 - 1] + w[w.size() / 2]) / 2;
    if (median <= 0 || same_value(w.front(), w.back())) continue;
    const double deviation = std::max(median - w.front(), w.back() - median);
    if (deviation <= c.jitter_fraction * median * (1 + 1e-12)) {
      hits.push_back(make_hit(s[i].time_ms, s[j - 1].time_ms + step_ms, 0, -deviation / median,
                              median, deviation));
    }
  }
  auto groups = merge(hits);
  recount(groups, s);
  emit(out, Rule::kSmallJitter, Severity::kWarning, groups, [&](const Hit& g) {
    return "values within ±" + num(g.other) + " (" + num(g.other / g.value * 100) + " %) of " +
           num(g.value) + " over " + num(static_cast<double>(c.jitter_window_s) / 3600) +
           " h (limit ±" + num(c.jitter_fraction * 100) + " % of the median)";
  });
}

// clock_drift: medians of (receive time − period end) per window against the first window's.
void clock_drift(std::vector<Finding>& out, const std::vector<Sample>& s, std::int64_t step_ms,
                 const ScreeningConfig& c) {
  const std::int64_t window_ms = std::max<std::int64_t>(1, c.clock_drift_window_s) * 1000;
  struct Window {
    std::int64_t from_ms, to_ms;
    std::vector<double> lags;
  };
  std::vector<Window> windows;
  for (const Sample& x : s) {
    if (x.received_ms <= 0) continue;
    const std::int64_t lag = x.received_ms - (x.time_ms + step_ms);
    if (lag > c.clock_drift_on_time_ms || lag < -c.clock_drift_on_time_ms) continue;
    if (windows.empty() || x.time_ms >= windows.back().from_ms + window_ms) {
      windows.push_back(Window{x.time_ms, x.time_ms, {}});
    }
    windows.back().to_ms = x.time_ms + step_ms;
    windows.back().lags.push_back(static_cast<double>(lag));
  }
  std::optional<double> base;
  std::vector<Hit> hits;
  for (Window& w : windows) {
    if (static_cast<int>(w.lags.size()) < c.clock_drift_min_values) continue;
    const std::size_t mid = w.lags.size() / 2;
    std::nth_element(w.lags.begin(), w.lags.begin() + static_cast<std::ptrdiff_t>(mid),
                     w.lags.end());
    const double median = w.lags[mid];
    if (!base) {
      base = median;
      continue;
    }
    const double moved = median - *base;
    if (std::fabs(moved) > static_cast<double>(c.clock_drift_max_ms)) {
      hits.push_back(make_hit(w.from_ms, w.to_ms, static_cast<int>(w.lags.size()), std::fabs(moved),
                              *base, median));
    }
  }
  emit(out, Rule::kClockDrift, Severity::kWarning, merge(hits), [&](const Hit& g) {
    return "median delay from period end to receipt moved from " + num(g.value / 1000) +
           " s (first window) to " + num(g.other / 1000) + " s (limit ±" +
           num(static_cast<double>(c.clock_drift_max_ms) / 1000) + " s): the device clock " +
           (g.other < g.value ? "runs fast" : "runs slow");
  });
}

}  // namespace

std::string_view rule_name(Rule r) {
  switch (r) {
    case Rule::kNegative:
      return "negative";
    case Rule::kOutOfRange:
      return "out_of_range";
    case Rule::kConstant:
      return "constant";
    case Rule::kLowVariation:
      return "low_variation";
    case Rule::kJump:
      return "jump";
    case Rule::kPm25GtPm10:
      return "pm25_gt_pm10";
    case Rule::kIdenticalSeries:
      return "identical_series";
    case Rule::kFutureTime:
      return "future_time";
    case Rule::kFlagCover:
      return "flag_cover";
    case Rule::kNearDetectionLimit:
      return "near_detection_limit";
    case Rule::kSmallJitter:
      return "small_jitter";
    case Rule::kClockDrift:
      return "clock_drift";
    case Rule::kSumGtTotal:
      return "sum_gt_total";
    case Rule::kMissingWithoutReason:
      return "missing_without_reason";
    case Rule::kHourMismatch:
      return "hour_mismatch";
  }
  return "unknown";
}

std::string_view rule_name_zh(Rule r) {
  switch (r) {
    case Rule::kNegative:
      return "负值";
    case Rule::kOutOfRange:
      return "超量程";
    case Rule::kConstant:
      return "恒值";
    case Rule::kLowVariation:
      return "低变异";
    case Rule::kJump:
      return "跳变";
    case Rule::kPm25GtPm10:
      return "倒挂";
    case Rule::kIdenticalSeries:
      return "数据雷同";
    case Rule::kFutureTime:
      return "未来时间";
    case Rule::kFlagCover:
      return "标记掩盖";
    case Rule::kNearDetectionLimit:
      return "贴近检出限";
    case Rule::kSmallJitter:
      return "小幅抖动";
    case Rule::kClockDrift:
      return "时钟漂移";
    case Rule::kSumGtTotal:
      return "加和不符";
    case Rule::kMissingWithoutReason:
      return "无故缺失";
    case Rule::kHourMismatch:
      return "小时值不符";
  }
  return "未知";
}

std::optional<Rule> rule_from_name(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Rule::kHourMismatch); ++i) {
    if (rule_name(static_cast<Rule>(i)) == name) return static_cast<Rule>(i);
  }
  return std::nullopt;
}

bool ScreeningConfig::enabled(Rule r) const {
  return std::find(disabled.begin(), disabled.end(), r) == disabled.end();
}

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kCritical:
      return "critical";
  }
  return "unknown";
}

std::map<std::string, FactorLimits> default_factor_limits() {
  constexpr std::int64_t kHour = 3600;
  // {range_min, range_max, constant_min_s, low_variation_cv, jump_floor, flag_cover_limit}
  // then {detection_limit, hour_tolerance}.
  return {
      {"a34004", {0, 1000, 24 * kHour, 0.02, 100.0, 75.0, true, 2.0, 2.0}},   // PM2.5, µg/m3
      {"a34002", {0, 2000, 24 * kHour, 0.02, 150.0, 150.0, true, 2.0, 2.0}},  // PM10, µg/m3
      {"a21026", {0, 2620, 72 * kHour, 0, 50.0, 500.0, true, {}, 2.0}},       // SO2, µg/m3
      {"a21004", {0, 1882, 24 * kHour, 0.02, 60.0, 200.0, true, 2.0, 2.0}},   // NO2, µg/m3
      {"a05024", {0, 1963, 24 * kHour, 0.02, 100.0, 200.0, true, 4.0, 2.0}},  // O3, µg/m3
      {"a21005", {0, 57.3, 72 * kHour, 0, 2.0, 10.0, true, {}, 0.2}},         // CO, mg/m3
  };
}

std::vector<SumRule> default_sum_rules() {
  return {
      SumRule{"a21002", {{"a21003", 46.0 / 30.0}, {"a21004", 1.0}}, 5.0, 0.10},  // NOx, µg/m3
      SumRule{"w21001", {{"w21003", 1.0}}, 0.05, 0.10},                          // TN, mg/L
  };
}

std::vector<Finding> screen(const Series& series, const ScreeningConfig& c, std::int64_t now_ms) {
  std::vector<Finding> out;
  const std::vector<Sample> s = by_time(series);
  const std::int64_t step = interval_ms(series);
  const auto limits = c.factors.find(series.factor);
  if (limits != c.factors.end()) {
    const FactorLimits& f = limits->second;
    if (f.concentration) {
      std::vector<Hit> hits;
      for (const Sample& x : s) {
        if (x.value < 0)
          hits.push_back(make_hit(x.time_ms, x.time_ms + step, 1, -x.value, x.value));
      }
      emit(out, Rule::kNegative, Severity::kWarning, merge(hits), [](const Hit& g) {
        return values_word(g.count) + " below 0 (a concentration cannot be negative); lowest " +
               num(g.value);
      });
    }
    if (f.range_max > f.range_min) {
      std::vector<Hit> hits;
      for (const Sample& x : s) {
        if (f.concentration && x.value < 0) continue;  // reported once, as `negative`
        const double beyond = std::max(f.range_min - x.value, x.value - f.range_max);
        if (beyond > 0) hits.push_back(make_hit(x.time_ms, x.time_ms + step, 1, beyond, x.value));
      }
      emit(out, Rule::kOutOfRange, Severity::kCritical, merge(hits), [&](const Hit& g) {
        return values_word(g.count) + " outside the analyser range " + num(f.range_min) + "–" +
               num(f.range_max) + "; furthest " + num(g.value);
      });
    }
    if (f.constant_min_s > 0) {
      const auto needed = static_cast<std::size_t>((f.constant_min_s * 1000 + step - 1) / step);
      std::vector<Hit> runs;
      for (std::size_t i = 0; i < s.size();) {
        std::size_t j = i + 1;
        while (j < s.size() && same_value(s[j].value, s[i].value)) ++j;
        if (j - i >= needed) {
          runs.push_back(make_hit(s[i].time_ms, s[j - 1].time_ms + step, static_cast<int>(j - i), 0,
                                  s[i].value));
        }
        i = j;
      }
      // Runs of different values stay separate findings even when they touch.
      emit(out, Rule::kConstant, Severity::kCritical, runs, [&](const Hit& g) {
        return "the value " + num(g.value) + " in " + std::to_string(g.count) +
               " consecutive values (limit " + std::to_string(needed) + ", " +
               num(static_cast<double>(f.constant_min_s) / 3600) + " h)";
      });
    }
    low_variation(out, s, step, f, c);
    near_detection_limit(out, s, step, f, c);
    small_jitter(out, s, step, c);
    if (f.jump_floor && s.size() >= 2) {
      const double spread = std::max(robust_spread(s), c.jump_min_spread);
      const double threshold = std::max(c.jump_k * spread, *f.jump_floor);
      std::vector<Hit> hits;
      for (std::size_t i = 1; i < s.size(); ++i) {
        if (s[i].time_ms - s[i - 1].time_ms != step) continue;
        const double change = s[i].value - s[i - 1].value;
        if (std::fabs(change) > threshold) {
          hits.push_back(make_hit(s[i - 1].time_ms, s[i].time_ms + step, 0, std::fabs(change),
                                  s[i - 1].value, s[i].value));
        }
      }
      auto groups = merge(hits);
      recount(groups, s);
      emit(out, Rule::kJump, Severity::kInfo, groups, [&](const Hit& g) {
        const double change = g.other - g.value;
        return std::string("change ") + (change > 0 ? "+" : "") + num(change) + " (" +
               num(g.value) + " → " + num(g.other) + ") between consecutive values exceeds " +
               num(threshold) + " = max(" + num(c.jump_k) + " × robust spread " + num(spread) +
               ", floor " + num(*f.jump_floor) + ")";
      });
    }
    if (f.flag_cover_limit) {
      std::vector<Hit> hits;
      for (const Sample& x : s) {
        if (!valid_flag(x.flag) && x.value > *f.flag_cover_limit) {
          hits.push_back(make_hit(x.time_ms, x.time_ms + step, 1, x.value, x.value, 0, x.flag));
        }
      }
      emit(out, Rule::kFlagCover, Severity::kWarning, merge(hits), [&](const Hit& g) {
        return values_word(g.count) + " with an invalid device flag above the limit " +
               num(*f.flag_cover_limit) + "; highest " + num(g.value) + " flagged " + g.note;
      });
    }
  }
  std::vector<Hit> future;
  for (const Sample& x : s) {
    if (x.time_ms > now_ms + c.future_tolerance_ms) {
      future.push_back(
          make_hit(x.time_ms, x.time_ms + step, 1, static_cast<double>(x.time_ms - now_ms)));
    }
  }
  emit(out, Rule::kFutureTime, Severity::kCritical, merge(future), [&](const Hit& g) {
    return values_word(g.count) + " measured after now + " +
           num(static_cast<double>(c.future_tolerance_ms) / 60000) + " min; up to " +
           num(g.key / 3'600'000) + " h ahead";
  });
  clock_drift(out, s, step, c);
  std::erase_if(out, [&](const Finding& f) { return !c.enabled(f.rule); });
  // Rule order (the order of `Rule`), then time.
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    return static_cast<int>(a.rule) < static_cast<int>(b.rule);
  });
  return out;
}

std::vector<Finding> screen_pm25_gt_pm10(const Series& pm25, const Series& pm10,
                                         const ScreeningConfig& c) {
  if (!c.enabled(Rule::kPm25GtPm10)) return {};
  const std::vector<Sample> a = by_time(pm25);
  const std::vector<Sample> b = by_time(pm10);
  const std::int64_t step = interval_ms(pm25);
  std::vector<Hit> hits;
  std::size_t j = 0;
  for (const Sample& x : a) {
    while (j < b.size() && b[j].time_ms < x.time_ms) ++j;
    if (j == b.size()) break;
    if (b[j].time_ms != x.time_ms) continue;
    const double tolerance = std::max(c.pm_tolerance_ugm3, c.pm_tolerance_fraction * b[j].value);
    if (x.value > b[j].value + tolerance) {
      hits.push_back(
          make_hit(x.time_ms, x.time_ms + step, 1, x.value - b[j].value, x.value, b[j].value));
    }
  }
  std::vector<Finding> out;
  emit(out, Rule::kPm25GtPm10, Severity::kWarning, merge(hits), [&](const Hit& g) {
    return values_word(g.count) + " with PM2.5 above PM10 beyond max(" + num(c.pm_tolerance_ugm3) +
           ", " + num(c.pm_tolerance_fraction * 100) + " % of PM10); largest: PM2.5 " +
           num(g.value) + " > PM10 " + num(g.other);
  });
  return out;
}

std::vector<Finding> screen_identical(const Series& a_series, const Series& b_series,
                                      const ScreeningConfig& c) {
  if (!c.enabled(Rule::kIdenticalSeries)) return {};
  const std::vector<Sample> a = by_time(a_series);
  const std::vector<Sample> b = by_time(b_series);
  const std::int64_t step = interval_ms(a_series);
  std::vector<Finding> out;
  std::vector<std::pair<std::int64_t, double>> run;  // equal common times of the current run
  auto close_run = [&] {
    std::set<double> distinct;
    for (const auto& [t, v] : run) distinct.insert(v);
    if (static_cast<int>(run.size()) >= c.identical_min_intervals &&
        static_cast<int>(distinct.size()) >= c.identical_min_distinct) {
      out.push_back(Finding{Rule::kIdenticalSeries, run.front().first, run.back().first + step,
                            Severity::kCritical,
                            "equal to " + b_series.site + " " + b_series.factor + " at " +
                                std::to_string(run.size()) + " consecutive common times with " +
                                std::to_string(distinct.size()) + " distinct values (limit " +
                                std::to_string(c.identical_min_intervals) + ")",
                            static_cast<int>(run.size())});
    }
    run.clear();
  };
  std::size_t j = 0;
  for (const Sample& x : a) {
    while (j < b.size() && b[j].time_ms < x.time_ms) ++j;
    if (j == b.size()) break;
    if (b[j].time_ms != x.time_ms)
      continue;  // a time only one series has neither counts nor breaks
    if (same_value(x.value, b[j].value)) {
      run.emplace_back(x.time_ms, x.value);
    } else {
      close_run();
    }
  }
  close_run();
  return out;
}

std::vector<Finding> screen_sum(const SumRule& rule, const Series& total,
                                const std::vector<Series>& parts, const ScreeningConfig& c) {
  if (!c.enabled(Rule::kSumGtTotal)) return {};
  // time → weighted sum of the parts present, and which parts they were
  std::map<std::int64_t, std::pair<double, std::string>> sums;
  for (std::size_t p = 0; p < parts.size() && p < rule.parts.size(); ++p) {
    for (const Sample& x : parts[p].samples) {
      auto& [sum, names] = sums[x.time_ms];
      sum += rule.parts[p].second * x.value;
      names +=
          (names.empty() ? "" : " + ") +
          (rule.parts[p].second == 1.0 ? rule.parts[p].first
                                       : num(rule.parts[p].second) + " × " + rule.parts[p].first);
    }
  }
  const std::int64_t step = interval_ms(total);
  std::vector<Hit> hits;
  for (const Sample& x : by_time(total)) {
    const auto it = sums.find(x.time_ms);
    if (it == sums.end()) continue;
    const double tolerance = std::max(rule.tolerance, rule.tolerance_fraction * x.value);
    if (it->second.first > x.value + tolerance) {
      hits.push_back(make_hit(x.time_ms, x.time_ms + step, 1, it->second.first - x.value, x.value,
                              it->second.first, it->second.second));
    }
  }
  std::vector<Finding> out;
  emit(out, Rule::kSumGtTotal, Severity::kWarning, merge(hits), [&](const Hit& g) {
    return values_word(g.count) + " with " + rule.total + " below " + g.note + " beyond max(" +
           num(rule.tolerance) + ", " + num(rule.tolerance_fraction * 100) + " % of " + rule.total +
           "); largest: " + rule.total + " " + num(g.value) + " < " + num(g.other);
  });
  return out;
}

std::vector<Finding> screen_missing(const Series& series, std::int64_t from_ms, std::int64_t to_ms,
                                    const std::vector<Span>& reasons, const ScreeningConfig& c) {
  if (!c.enabled(Rule::kMissingWithoutReason) || to_ms <= from_ms) return {};
  const std::int64_t step = interval_ms(series);
  std::set<std::int64_t> present;
  for (const Sample& x : series.samples) present.insert(x.time_ms);
  // Reasons merged into disjoint sorted spans, so each expected time is one binary search (the
  // route passes up to 100,000 flagged values against up to a week of minutes).
  std::vector<Span> spans = reasons;
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.from_ms < b.from_ms; });
  std::vector<Span> merged;
  for (const Span& r : spans) {
    if (!merged.empty() && r.from_ms <= merged.back().to_ms) {
      merged.back().to_ms = std::max(merged.back().to_ms, r.to_ms);
    } else {
      merged.push_back(r);
    }
  }
  auto explained = [&](std::int64_t t) {
    // The last span starting before the interval ends explains it if it reaches past t.
    auto it = std::lower_bound(merged.begin(), merged.end(), t + step,
                               [](const Span& r, std::int64_t x) { return r.from_ms < x; });
    return it != merged.begin() && std::prev(it)->to_ms > t;
  };
  std::vector<Hit> runs;
  for (std::int64_t t = from_ms; t < to_ms; t += step) {
    if (present.contains(t) || explained(t)) continue;
    if (!runs.empty() && runs.back().to_ms == t) {
      runs.back().to_ms = t + step;
      ++runs.back().count;
    } else {
      runs.push_back(make_hit(t, t + step, 1, 0));
    }
  }
  std::erase_if(runs, [&](const Hit& h) { return h.count < c.missing_min_intervals; });
  std::vector<Finding> out;
  emit(out, Rule::kMissingWithoutReason, Severity::kWarning, runs, [&](const Hit& g) {
    return std::to_string(g.count) + (g.count == 1 ? " interval" : " intervals") +
           " without a value and without a device status (no value of the device flagged "
           "maintenance, calibration, fault or stop at that time)";
  });
  return out;
}

bool hour_mismatch(const ScreeningConfig& c, const std::string& factor, double device_hour,
                   double platform_mean, int valid_minutes) {
  if (!c.enabled(Rule::kHourMismatch)) return false;
  const auto limits = c.factors.find(factor);
  if (limits == c.factors.end() || !limits->second.hour_tolerance) return false;
  if (valid_minutes < c.hour_min_minutes) return false;
  const double tolerance = std::max(*limits->second.hour_tolerance,
                                    c.hour_tolerance_fraction * std::fabs(platform_mean));
  return std::fabs(device_hour - platform_mean) > tolerance;
}

std::vector<Finding> screen_hour_vs_minutes(const Series& hours, const Series& minutes,
                                            const ScreeningConfig& c) {
  if (!c.enabled(Rule::kHourMismatch)) return {};
  const auto limits = c.factors.find(hours.factor);
  if (limits == c.factors.end() || !limits->second.hour_tolerance) return {};
  const double abs_tolerance = *limits->second.hour_tolerance;
  constexpr std::int64_t kHourMs = 3'600'000;
  auto floor_hour = [](std::int64_t t) { return t - ((t % kHourMs) + kHourMs) % kHourMs; };
  std::map<std::int64_t, std::pair<double, int>> platform;  // hour start → sum, valid minutes
  for (const Sample& x : minutes.samples) {
    if (!valid_flag(x.flag)) continue;
    auto& [sum, n] = platform[floor_hour(x.time_ms)];
    sum += x.value;
    ++n;
  }
  std::vector<Hit> hits;
  for (const Sample& h : by_time(hours)) {
    if (!valid_flag(h.flag)) continue;
    const auto it = platform.find(floor_hour(h.time_ms));
    if (it == platform.end()) continue;
    const double mean = it->second.first / it->second.second;
    if (hour_mismatch(c, hours.factor, h.value, mean, it->second.second)) {
      hits.push_back(make_hit(h.time_ms, h.time_ms + kHourMs, 1, std::fabs(h.value - mean), h.value,
                              mean, std::to_string(it->second.second)));
    }
  }
  std::vector<Finding> out;
  emit(out, Rule::kHourMismatch, Severity::kWarning, merge(hits), [&](const Hit& g) {
    return (g.count == 1 ? std::string("1 hour") : std::to_string(g.count) + " hours") +
           " where the device's hourly value differs from the platform's mean of its minutes "
           "beyond max(" +
           num(abs_tolerance) + ", " + num(c.hour_tolerance_fraction * 100) +
           " %); largest: device " + num(g.value) + " vs platform " + num(g.other) + " (" + g.note +
           " valid minutes)";
  });
  return out;
}

}  // namespace ecomon::analytics::screening
