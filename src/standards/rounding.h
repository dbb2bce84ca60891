// GB/T 8170 rounding ("四舍六入五成双": half to even) of a double, for results that are reported
// to a fixed number of decimals (noise levels to 0.1 dB, EI to 0.1, air statistics). A value
// within floating-point noise of a tie is a tie: 65.25 − 62.0 or 1.015 × 100 are not exact in
// binary but stand for decimals that are. Exact inputs should use Decimal::round_half_even.
#pragma once

namespace ecomon::standards {

double round_gbt8170(double value, int decimals);

}  // namespace ecomon::standards
