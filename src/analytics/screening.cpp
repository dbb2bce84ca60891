#include "analytics/screening.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
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
  }
  return "未知";
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
  return {
      {"a34004", {0, 1000, 24 * kHour, 0.02, 100.0, 75.0, true}},   // PM2.5, µg/m3
      {"a34002", {0, 2000, 24 * kHour, 0.02, 150.0, 150.0, true}},  // PM10, µg/m3
      {"a21026", {0, 2620, 72 * kHour, 0, 50.0, 500.0, true}},      // SO2, µg/m3
      {"a21004", {0, 1882, 24 * kHour, 0.02, 60.0, 200.0, true}},   // NO2, µg/m3
      {"a05024", {0, 1963, 24 * kHour, 0.02, 100.0, 200.0, true}},  // O3, µg/m3
      {"a21005", {0, 57.3, 72 * kHour, 0, 2.0, 10.0, true}},        // CO, mg/m3
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
  // Rule order (the order of `Rule`), then time.
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    return static_cast<int>(a.rule) < static_cast<int>(b.rule);
  });
  return out;
}

std::vector<Finding> screen_pm25_gt_pm10(const Series& pm25, const Series& pm10,
                                         const ScreeningConfig& c) {
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

}  // namespace ecomon::analytics::screening
