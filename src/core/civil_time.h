// Civil (wall-clock) date-times and their conversion to instants.
//
// ecomon stores instants as UTC; the network's civil time zone (Asia/Shanghai, UTC+8, no daylight
// saving since 1991) decides hours and days. HJ 212 times are civil times in that zone.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ecomon::core {

inline constexpr std::int32_t kChinaUtcOffsetSeconds = 8 * 3600;

struct CivilTime {
  std::int32_t year = 1970;
  std::uint8_t month = 1;   // 1..12
  std::uint8_t day = 1;     // 1..31
  std::uint8_t hour = 0;    // 0..23
  std::uint8_t minute = 0;  // 0..59
  std::uint8_t second = 0;  // 0..59
  std::uint16_t millisecond = 0;

  friend bool operator==(const CivilTime&, const CivilTime&) = default;
};

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int32_t year, unsigned month, unsigned day);

// The date of a day number (inverse of days_from_civil; Howard Hinnant's civil_from_days); the
// time of day is 00:00.
CivilTime civil_from_days(std::int64_t days);

bool is_valid(const CivilTime& t);

// Milliseconds since the Unix epoch of civil time `t` in a zone `utc_offset_seconds` east of UTC.
std::int64_t to_unix_ms(const CivilTime& t, std::int32_t utc_offset_seconds);

// The civil time `unix_ms` shows in a zone `utc_offset_seconds` east of UTC.
CivilTime civil_from_unix_ms(std::int64_t unix_ms, std::int32_t utc_offset_seconds);

// A parsed ISO 8601 time: "2026-03-01T00:00:00+08:00", "2026-03-01T00:00Z", "2026-03-01 08:00",
// "2026-03-01" (midnight). Without an offset, `offset_seconds` is nullopt (the caller decides the
// zone). Fractional seconds are kept to the millisecond.
struct ParsedTime {
  CivilTime civil;
  std::optional<std::int32_t> offset_seconds;
};
std::optional<ParsedTime> parse_iso8601(std::string_view text);

// ISO 8601 with offset: "2019-09-24T22:00:00+08:00"; ".mmm" only when milliseconds are not 0.
std::string format_iso8601(const CivilTime& t, std::int32_t utc_offset_seconds);
// An instant (Unix ms) as Beijing time with its offset: "2026-11-30T09:00:00+08:00".
std::string format_beijing(std::int64_t unix_ms);

}  // namespace ecomon::core
