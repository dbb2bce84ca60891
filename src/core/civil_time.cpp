#include "core/civil_time.h"

#include <cstdio>

namespace ecomon::core {

std::int64_t days_from_civil(std::int32_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_valid(const CivilTime& t) {
  static constexpr std::uint8_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (t.month < 1 || t.month > 12 || t.day < 1) return false;
  const bool leap = (t.year % 4 == 0 && t.year % 100 != 0) || t.year % 400 == 0;
  const unsigned max_day = kDays[t.month - 1] + (t.month == 2 && leap ? 1 : 0);
  return t.day <= max_day && t.hour < 24 && t.minute < 60 && t.second < 60 && t.millisecond < 1000;
}

std::int64_t to_unix_ms(const CivilTime& t, std::int32_t utc_offset_seconds) {
  const std::int64_t days = days_from_civil(t.year, t.month, t.day);
  const std::int64_t secs = days * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
  return (secs - utc_offset_seconds) * 1000 + t.millisecond;
}

std::string format_iso8601(const CivilTime& t, std::int32_t utc_offset_seconds) {
  char buf[48];
  const char sign = utc_offset_seconds < 0 ? '-' : '+';
  const int off = utc_offset_seconds < 0 ? -utc_offset_seconds : utc_offset_seconds;
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02u", t.year, t.month, t.day,
                        t.hour, t.minute, t.second);
  if (t.millisecond != 0) {
    n += std::snprintf(buf + n, sizeof buf - n, ".%03u", t.millisecond);
  }
  std::snprintf(buf + n, sizeof buf - n, "%c%02d:%02d", sign, off / 3600, off % 3600 / 60);
  return buf;
}

}  // namespace ecomon::core
