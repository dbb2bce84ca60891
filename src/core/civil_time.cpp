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

CivilTime civil_from_days(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  CivilTime t;
  t.year = static_cast<std::int32_t>(y + (m <= 2));
  t.month = static_cast<std::uint8_t>(m);
  t.day = static_cast<std::uint8_t>(d);
  return t;
}

CivilTime civil_from_unix_ms(std::int64_t unix_ms, std::int32_t utc_offset_seconds) {
  std::int64_t ms = unix_ms + static_cast<std::int64_t>(utc_offset_seconds) * 1000;
  std::int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  std::int64_t rem = ms - days * 86400000;
  CivilTime t = civil_from_days(days);
  t.hour = static_cast<std::uint8_t>(rem / 3600000);
  rem %= 3600000;
  t.minute = static_cast<std::uint8_t>(rem / 60000);
  rem %= 60000;
  t.second = static_cast<std::uint8_t>(rem / 1000);
  t.millisecond = static_cast<std::uint16_t>(rem % 1000);
  return t;
}

namespace {
bool digits_at(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}
}  // namespace

std::optional<ParsedTime> parse_iso8601(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
  if (!digits_at(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits_at(s, 5, 2, mo) ||
      s[7] != '-' || !digits_at(s, 8, 2, d)) {
    return std::nullopt;
  }
  std::size_t pos = 10;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    if (!digits_at(s, pos + 1, 2, h) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits_at(s, pos + 4, 2, mi)) {
      return std::nullopt;
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!digits_at(s, pos + 1, 2, sec)) return std::nullopt;
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        int scale = 100;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          ms += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
      }
    }
  }
  ParsedTime out;
  out.civil = CivilTime{y,
                        static_cast<std::uint8_t>(mo),
                        static_cast<std::uint8_t>(d),
                        static_cast<std::uint8_t>(h),
                        static_cast<std::uint8_t>(mi),
                        static_cast<std::uint8_t>(sec),
                        static_cast<std::uint16_t>(ms)};
  if (h == 24 && mi == 0 && sec == 0) {  // "24:00" is the end of that day
    out.civil.hour = 23;
    const std::int64_t next = to_unix_ms(out.civil, 0) + 3600000;
    out.civil = civil_from_unix_ms(next, 0);
  }
  if (!is_valid(out.civil)) return std::nullopt;
  if (pos == s.size()) return out;
  if (s[pos] == 'Z' && pos + 1 == s.size()) {
    out.offset_seconds = 0;
    return out;
  }
  if (s[pos] == '+' || s[pos] == '-') {
    int oh, om = 0;
    if (!digits_at(s, pos + 1, 2, oh)) return std::nullopt;
    std::size_t p2 = pos + 3;
    if (p2 < s.size() && s[p2] == ':') ++p2;
    if (p2 < s.size() && !digits_at(s, p2, 2, om)) return std::nullopt;
    if (p2 < s.size()) p2 += 2;
    if (p2 != s.size() || oh > 14 || om > 59) return std::nullopt;
    const int off = oh * 3600 + om * 60;
    out.offset_seconds = s[pos] == '-' ? -off : off;
    return out;
  }
  return std::nullopt;
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

std::string format_beijing(std::int64_t unix_ms) {
  return format_iso8601(civil_from_unix_ms(unix_ms, kChinaUtcOffsetSeconds),
                        kChinaUtcOffsetSeconds);
}

}  // namespace ecomon::core
