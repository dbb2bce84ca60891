#include "standards/aggregation.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/civil_time.h"

namespace ecomon::standards::aggregation {
namespace {

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kBeijingOffsetMs = 8 * kHourMs;

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return (a >= 0 ? a : a - b + 1) / b; }

}  // namespace

std::int64_t beijing_period_start(std::int64_t ms, std::int64_t period_ms) {
  return floor_div(ms + kBeijingOffsetMs, period_ms) * period_ms - kBeijingOffsetMs;
}

std::vector<Bucket> hours_from_subhourly(std::span<const Sample> samples, int min_minutes) {
  struct Acc {
    std::set<std::int64_t> minutes, valid_minutes;
    double sum = 0;
    int n = 0;
  };
  std::map<std::int64_t, Acc> hours;
  for (const auto& s : samples) {
    Acc& a = hours[beijing_period_start(s.time_ms, kHourMs)];
    const std::int64_t minute = floor_div(s.time_ms, kMinuteMs);
    a.minutes.insert(minute);
    if (s.valid) {
      a.valid_minutes.insert(minute);
      a.sum += s.value;
      ++a.n;
    }
  }
  std::vector<Bucket> out;
  out.reserve(hours.size());
  for (const auto& [start, a] : hours) {
    Bucket b;
    b.start_ms = start;
    b.expected = 60;
    b.received = static_cast<int>(a.minutes.size());
    b.valid = static_cast<int>(a.valid_minutes.size());
    if (a.n > 0) b.mean = a.sum / a.n;
    b.is_valid = b.valid >= min_minutes;
    out.push_back(b);
  }
  return out;
}

std::vector<Bucket> periods_as_received(std::span<const Sample> samples, std::int64_t period_ms) {
  std::map<std::int64_t, Bucket> periods;
  for (const auto& s : samples) {
    const std::int64_t start = beijing_period_start(s.time_ms, period_ms);
    Bucket& b = periods[start];
    b.start_ms = start;
    b.expected = 1;
    b.received = 1;
    if (s.valid) {
      b.valid = 1;
      b.mean = s.value;
      b.is_valid = true;
    }
  }
  std::vector<Bucket> out;
  out.reserve(periods.size());
  for (auto& [start, b] : periods) out.push_back(b);
  return out;
}

std::vector<Bucket> days_from_hours(std::span<const Bucket> hours, int min_hours) {
  struct Acc {
    int received = 0, valid = 0;
    double sum = 0;
  };
  std::map<std::int64_t, Acc> days;
  for (const auto& h : hours) {
    Acc& a = days[beijing_period_start(h.start_ms, kDayMs)];
    ++a.received;
    if (h.is_valid && h.mean) {
      ++a.valid;
      a.sum += *h.mean;
    }
  }
  std::vector<Bucket> out;
  out.reserve(days.size());
  for (const auto& [start, a] : days) {
    Bucket b;
    b.start_ms = start;
    b.expected = 24;
    b.received = a.received;
    b.valid = a.valid;
    if (a.valid > 0) b.mean = a.sum / a.valid;
    b.is_valid = a.valid >= min_hours;
    out.push_back(b);
  }
  return out;
}

namespace {

constexpr std::int32_t kBeijing = core::kChinaUtcOffsetSeconds;

std::int64_t civil_start(int year, int month) {
  core::CivilTime t;
  t.year = year;
  t.month = static_cast<std::uint8_t>(month);
  return core::to_unix_ms(t, kBeijing);
}

struct DayAcc {
  int received = 0, valid = 0;
  double sum = 0;
  void add(const Bucket& d) {
    ++received;
    if (d.is_valid && d.mean) {
      ++valid;
      sum += *d.mean;
    }
  }
  Bucket bucket(std::int64_t start, int expected, bool is_valid) const {
    Bucket b;
    b.start_ms = start;
    b.expected = expected;
    b.received = received;
    b.valid = valid;
    if (valid > 0) b.mean = sum / valid;
    b.is_valid = is_valid;
    return b;
  }
};

int days_between(std::int64_t from_ms, std::int64_t to_ms) {
  return static_cast<int>((to_ms - from_ms) / (24 * 3'600'000LL));
}

}  // namespace

std::int64_t beijing_month_start(std::int64_t ms) {
  const auto c = core::civil_from_unix_ms(ms, kBeijing);
  return civil_start(c.year, c.month);
}

std::int64_t beijing_year_start(std::int64_t ms) {
  return civil_start(core::civil_from_unix_ms(ms, kBeijing).year, 1);
}

std::vector<Bucket> months_from_days(std::span<const Bucket> days) {
  std::map<std::int64_t, DayAcc> months;
  for (const auto& d : days) months[beijing_month_start(d.start_ms)].add(d);
  std::vector<Bucket> out;
  for (const auto& [start, a] : months) {
    const auto c = core::civil_from_unix_ms(start, kBeijing);
    const std::int64_t next =
        c.month == 12 ? civil_start(c.year + 1, 1) : civil_start(c.year, c.month + 1);
    const int min_days = c.month == 2 ? kMinDaysPerFebruary : kMinDaysPerMonth;
    out.push_back(a.bucket(start, days_between(start, next), a.valid >= min_days));
  }
  return out;
}

std::vector<Bucket> years_from_days(std::span<const Bucket> days) {
  std::map<std::int64_t, DayAcc> years;
  for (const auto& d : days) years[beijing_year_start(d.start_ms)].add(d);
  const auto months = months_from_days(days);
  std::vector<Bucket> out;
  for (const auto& [start, a] : years) {
    const auto c = core::civil_from_unix_ms(start, kBeijing);
    const std::int64_t next = civil_start(c.year + 1, 1);
    int valid_months = 0;
    for (const auto& m : months) {
      if (m.start_ms >= start && m.start_ms < next && m.is_valid) ++valid_months;
    }
    out.push_back(a.bucket(start, days_between(start, next),
                           a.valid >= kMinDaysPerYear && valid_months == 12));
  }
  return out;
}

}  // namespace ecomon::standards::aggregation
