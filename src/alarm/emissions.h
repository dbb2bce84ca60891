// Emissions of a key polluter's outlet (排放量, issue #6 §1): the amount of one pollutant
// discharged per period and the cumulative total over a period (a calendar year, against the
// permit's annual total, 许可排放量).
//
// Where the amount of one period comes from, in this order:
//   1. `sent`: the device's own `Cou` of the pollutant for the period (HJ 212 minute / hour / day
//      data carry `xxxxxx-Cou`, "cumulative amount over the period", PROTOCOL.md §7). Units are
//      HJ 212-2017 tables B.1 / B.2's "default unit, emission amount": kg for the waste-gas and
//      wastewater pollutants ecomon meets (a21026 SO2, a21002 NOx, a34013 smoke dust, w01018 COD,
//      w21003 NH3-N, …). The 2016 capture confirms it: LD130131000091's hour 2016-08-23 21:00
//      sends 01-Avg=3.54 mg/m³, B02-Cou=1574342 m³ and 01-Cou=5.57 — 3.54 × 1574342 × 1e-6 kg.
//   2. `computed`: no Cou of the pollutant, but its measured mean (`Avg`) and the flow's `Cou` for
//      the same period (a00000 waste gas / w00000 wastewater, m³, tables B.1/B.2): amount =
//      concentration × volume, with mg/m³ × m³ = 1e-6 kg (waste gas) and mg/L × m³ = 1e-3 kg
//      (wastewater). The measured (not the converted 折算) concentration is used with the flow,
//      as the sent Cou values of the capture are (above): the conversion to reference O2 is for
//      comparing with a limit, not for mass. ASSUMPTION: the flow Cou is the volume the device
//      reports (standard-condition dry flue gas for CEMS, HJ 75-2017 — not in
//      ../shared/reference, stated here from the standard's published text).
//   Values that are quarantined or pending never count. A device flag other than N does NOT take
//   a period out of the total — the gas or water was discharged whatever the instrument's state,
//   and leaving marked periods out would let a mark hide emissions (issue #6 §1 "a mark that
//   covers an exceedance suspiciously"); such periods are counted in `flagged_periods` instead.
//   Of several versions of a value the store's latest counts; of several devices at one outlet
//   sending the same period, the one read last (Store::series order) counts.
//
// Coverage: periods with an amount (sent or computed) / periods expected in [from, to) (the range
// is cut to the caller's `now`, so a year in progress is judged on its elapsed part).
//
// Thread-safety: pure functions; read_total() reads the store (thread-safe Store).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "storage/store.h"

namespace ecomon::alarm::emissions {

enum class Medium : std::uint8_t { kWasteGas, kWastewater };
// a00000 for waste gas, w00000 for wastewater.
std::string_view flow_factor(Medium m);
// kg per (concentration unit × m³): 1e-6 for mg/m³ (waste gas), 1e-3 for mg/L (wastewater).
double kg_per_unit_volume(Medium m);
// The medium of an HJ 212-2017 factor code: 'w' → wastewater, otherwise waste gas.
Medium medium_of_factor(std::string_view factor);

struct Total {
  double total_kg = 0;
  std::int64_t periods_sent = 0;        // amounts from the device's Cou
  std::int64_t periods_computed = 0;    // amounts from Avg × flow Cou
  std::int64_t periods_flagged = 0;     // counted periods whose value carried a flag other than N
  std::int64_t periods_expected = 0;    // periods in the range (after cutting it to now)
  std::optional<std::int64_t> last_ms;  // the newest period counted
  double coverage() const {
    return periods_expected > 0 ? static_cast<double>(periods_sent + periods_computed) /
                                      static_cast<double>(periods_expected)
                                : 0;
  }
};

// Pure: sums the pollutant's amounts over the periods of `period_ms` that start in [from, to).
// `pollutant` holds the pollutant's values (fields Cou and Avg are read), `flow` the flow factor's
// (field Cou), any order, of one data kind.
Total sum(const std::vector<storage::Value>& pollutant, const std::vector<storage::Value>& flow,
          Medium medium, std::int64_t period_ms, std::int64_t from_ms, std::int64_t to_ms);

// Reads the site's values of `factor` and of its flow factor in `kind` data over [from, to) (cut
// to now_ms) and sums them. Errors: the store's; range_too_large when more than `limit` values.
core::Result<Total> read_total(const storage::Store& store, const std::string& site,
                               const std::string& factor, storage::DataKind kind,
                               std::int64_t from_ms, std::int64_t to_ms, std::int64_t now_ms);

// The calendar year (Beijing time) that contains `ms`, and its bounds as UTC instants.
int beijing_year_of(std::int64_t ms);
std::int64_t beijing_year_start_ms(int year);

}  // namespace ecomon::alarm::emissions
