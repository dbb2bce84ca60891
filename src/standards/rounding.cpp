#include "standards/rounding.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace ecomon::standards {

double round_gbt8170(double value, int decimals) {
  if (!std::isfinite(value)) return value;
  const double scale = std::pow(10.0, decimals);
  const double scaled = value * scale;
  const double lower = std::floor(scaled);
  const double frac = scaled - lower;
  // The representation error of `scaled` grows with its magnitude; 1e-9 covers decimal inputs of
  // ordinary magnitudes (1.015 × 100 gives 101.49999999999999).
  const double tolerance = std::max(1e-9, std::fabs(scaled) * 8 * DBL_EPSILON);
  double rounded;
  if (std::fabs(frac - 0.5) <= tolerance) {
    rounded = std::fmod(lower, 2.0) == 0 ? lower : lower + 1;
  } else {
    rounded = frac < 0.5 ? lower : lower + 1;
  }
  return rounded / scale;
}

}  // namespace ecomon::standards
