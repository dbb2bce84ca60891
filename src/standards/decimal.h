// Exact decimal numbers for the standards' arithmetic.
//
// Concentrations arrive as decimal text ("35.01", "0.7"); breakpoints are decimals too. Index
// formulas are evaluated on these exactly (rational arithmetic), so a value on a breakpoint gives
// exactly the breakpoint's index and ceiling/rounding never sees 50.000000001. Pure value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ecomon::standards {

struct Decimal {
  std::int64_t units = 0;  // value = units / 10^scale
  int scale = 0;           // 0..12

  // "12", "-0.5", "35.010", "+3"; nullopt for anything else (exponents, spaces, empty).
  static std::optional<Decimal> parse(std::string_view text);
  // The nearest decimal with at most `max_scale` places, trailing zeros removed.
  static Decimal from_double(double value, int max_scale = 6);
  static constexpr Decimal integer(std::int64_t v) { return Decimal{v, 0}; }

  double to_double() const;
  std::string to_string() const;
  bool negative() const { return units < 0; }

  // This value rounded to `places` decimals, half to even (GB/T 8170 "四舍六入五成双").
  Decimal round_half_even(int places) const;
  // Truncated (towards zero) to `places` decimals.
  Decimal truncate(int places) const;

  friend bool operator==(const Decimal& a, const Decimal& b) { return compare(a, b) == 0; }
  friend bool operator<(const Decimal& a, const Decimal& b) { return compare(a, b) < 0; }
  friend bool operator<=(const Decimal& a, const Decimal& b) { return compare(a, b) <= 0; }
  friend bool operator>(const Decimal& a, const Decimal& b) { return compare(a, b) > 0; }
  static int compare(const Decimal& a, const Decimal& b);
};

// (index_hi − index_lo) × (c − bp_lo) / (bp_hi − bp_lo) + index_lo, exactly, then rounded up
// (ceiling; HJ 633-2026 §4.2.6) or half up (US EPA). bp_lo < bp_hi.
std::int64_t interpolate_ceil(const Decimal& c, const Decimal& bp_lo, const Decimal& bp_hi,
                              std::int64_t index_lo, std::int64_t index_hi);
std::int64_t interpolate_round_half_up(const Decimal& c, const Decimal& bp_lo, const Decimal& bp_hi,
                                       std::int64_t index_lo, std::int64_t index_hi);

}  // namespace ecomon::standards
