// Which edition of a standard applies to data of a given civil date (Beijing time).
//
// Every table of src/standards carries the dates it applies to; code picks the edition by the
// data's date, so history is evaluated by the rules of its time. Pure; thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "core/civil_time.h"

namespace ecomon::standards {

struct Date {
  int year = 1970;
  int month = 1;
  int day = 1;
  friend auto operator<=>(const Date&, const Date&) = default;
};

inline Date date_of(const core::CivilTime& t) { return Date{t.year, t.month, t.day}; }

// [from, until): `until` absent while the edition is in force.
struct Validity {
  Date from;
  std::optional<Date> until;
  bool covers(const Date& d) const { return from <= d && (!until || d < *until); }
};

}  // namespace ecomon::standards
