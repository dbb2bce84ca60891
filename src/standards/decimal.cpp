#include "standards/decimal.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ecomon::standards {
namespace {

// Products of two 64-bit scaled values need 128 bits (GCC and Clang both have it).
__extension__ typedef __int128 i128;

constexpr std::int64_t kPow10[] = {1,           10,           100,          1000,      10000,
                                   100000,      1000000,      10000000,     100000000, 1000000000,
                                   10000000000, 100000000000, 1000000000000};
constexpr int kMaxScale = 12;

i128 scaled(const Decimal& d, int scale) {
  return static_cast<i128>(d.units) * kPow10[scale - d.scale];
}

// floor(n / d) and ceil(n / d) for d > 0.
i128 floor_div(i128 n, i128 d) { return n >= 0 ? n / d : -((-n + d - 1) / d); }
i128 ceil_div(i128 n, i128 d) { return n >= 0 ? (n + d - 1) / d : -((-n) / d); }

}  // namespace

std::optional<Decimal> Decimal::parse(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool neg = false;
  if (s.front() == '+' || s.front() == '-') {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  std::int64_t units = 0;
  int scale = -1;
  int digits = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      if (scale >= kMaxScale) continue;  // beyond 12 places: ignored (far below any precision)
      if (units > (INT64_MAX - 9) / 10) return std::nullopt;
      units = units * 10 + (c - '0');
      ++digits;
      if (scale >= 0) ++scale;
    } else if (c == '.' && scale < 0) {
      scale = 0;
    } else {
      return std::nullopt;
    }
  }
  if (digits == 0) return std::nullopt;
  Decimal d{neg ? -units : units, scale < 0 ? 0 : scale};
  while (d.scale > 0 && d.units % 10 == 0) {
    d.units /= 10;
    --d.scale;
  }
  return d;
}

Decimal Decimal::from_double(double value, int max_scale) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", max_scale, value);
  return parse(buf).value_or(Decimal{});
}

double Decimal::to_double() const {
  return static_cast<double>(units) / static_cast<double>(kPow10[scale]);
}

std::string Decimal::to_string() const {
  const std::uint64_t magnitude =
      units < 0 ? static_cast<std::uint64_t>(-(units + 1)) + 1 : static_cast<std::uint64_t>(units);
  const std::uint64_t pow = static_cast<std::uint64_t>(kPow10[scale]);
  std::string out = units < 0 ? "-" : "";
  out += std::to_string(magnitude / pow);
  if (scale > 0) {
    const std::string frac = std::to_string(magnitude % pow);
    out += '.';
    out.append(static_cast<std::size_t>(scale) - frac.size(), '0');
    out += frac;
  }
  return out;
}

int Decimal::compare(const Decimal& a, const Decimal& b) {
  const int s = a.scale > b.scale ? a.scale : b.scale;
  const i128 x = scaled(a, s), y = scaled(b, s);
  return x < y ? -1 : x > y ? 1 : 0;
}

Decimal Decimal::round_half_even(int places) const {
  if (places >= scale) return *this;
  const std::int64_t div = kPow10[scale - places];
  std::int64_t q = units / div;
  std::int64_t r = units % div;  // same sign as units
  const std::int64_t twice = 2 * (r < 0 ? -r : r);
  if (twice > div || (twice == div && (q % 2 != 0))) q += units < 0 ? -1 : 1;
  return Decimal{q, places};
}

Decimal Decimal::truncate(int places) const {
  if (places >= scale) return *this;
  return Decimal{units / kPow10[scale - places], places};
}

std::int64_t interpolate_ceil(const Decimal& c, const Decimal& lo, const Decimal& hi,
                              std::int64_t index_lo, std::int64_t index_hi) {
  const int s = std::max({c.scale, lo.scale, hi.scale});
  const i128 num = static_cast<i128>(index_hi - index_lo) * (scaled(c, s) - scaled(lo, s));
  const i128 den = scaled(hi, s) - scaled(lo, s);
  return static_cast<std::int64_t>(index_lo + ceil_div(num, den));
}

std::int64_t interpolate_round_half_up(const Decimal& c, const Decimal& lo, const Decimal& hi,
                                       std::int64_t index_lo, std::int64_t index_hi) {
  const int s = std::max({c.scale, lo.scale, hi.scale});
  const i128 num = static_cast<i128>(index_hi - index_lo) * (scaled(c, s) - scaled(lo, s));
  const i128 den = scaled(hi, s) - scaled(lo, s);
  // floor(num/den + 1/2) = floor((2·num + den) / (2·den))
  return static_cast<std::int64_t>(index_lo + floor_div(2 * num + den, 2 * den));
}

}  // namespace ecomon::standards
