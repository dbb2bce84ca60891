// Alarm rules as data (issue #6 §2) and the pure pieces of their evaluation.
//
// Kinds and the fields each one reads (every rule also has id, name, severity, hold_off_s,
// renotify_s, recipients, enabled):
//   threshold       a value of (site, factor, field, data_kind) compared with `limit` by `op`
//                   (> >= < <=); one exceeding value opens the episode, one value on the good
//                   side of the limit clears it.
//   sustained       as threshold, but the episode opens only when `count` consecutive values
//                   (in measured-time order) exceed; one good value clears it.
//   rate_of_change  |value − previous value| compared with `limit` by `op` (> or >=); with
//                   `interval_s` > 0 the change is scaled to "per interval_s seconds" of measured
//                   time, otherwise it is the change between consecutive values.
//   offline         a device (`device`, or every device of `site`, or every device) silent for at
//                   least interval × `tolerance`, where interval is the rule's `interval_s` when
//                   set, else the device's registered interval_s; clears when it is heard again.
//   factor_missing  a device (`device`, or every device of `site`, or every device) that is online
//                   (heard within interval × `count`) but has not sent `factor` in `data_kind`
//                   data (any field, any flag) for `count` intervals (interval as for offline);
//                   clears when the factor comes back. Judged on the platform's clock (tick()).
//   aqi_level       the hourly AQI (实时报, HJ 633 edition by the hour's Beijing date) of `site`
//                   (empty: every site whose registry kind is ambient_air, or that the registry
//                   does not know) compared with `limit` (an AQI, 0–500) by `op`. Fed by stored
//                   hourly means (data kind hour, field Avg) of the six items — a21026 SO2,
//                   a21004 NO2, a21005 CO, a05024 O3 1-h, a34002 PM10, a34004 PM2.5: each one
//                   that arrives makes the engine read that site's six means of the same hour
//                   from the store and compute the AQI; an AQI that cannot be published (NA)
//                   neither opens nor clears. HJ 633 表2 levels begin above 50 (II 良), 100 (III
//                   轻度污染), 150 (IV 中度污染), 200 (V 重度污染) and 300 (VI 严重污染): "level
//                   III or worse" is op ">" limit 100. factor, field and data_kind are not used.
//   water_class     the GB 3838-2002 section class (single-factor method, 环办〔2011〕22号) of the
//                   sample of one measured time at `site` (empty: every site of kind
//                   surface_water or drinking_water_source, or unknown to the registry), as a
//                   number 1..6 (I..V, 6 = 劣V), worse than `limit` (op is always ">"). `limit`
//                   1..6 is the worst acceptable class; 0 (or absent in the API) means the
//                   site's designated class, registry setting water_class at the sample's time
//                   (no designated class: the sample is not judged). Fed by hourly or daily Avg
//                   values of w01001 pH, w01009 DO, w01019 CODMn, w01018 COD, w01017 BOD5,
//                   w21003 NH3-N, w21011 TP, w21001 TN; the sample is the values of that data
//                   kind and measured time (lakes and reservoirs class TN, rivers do not).
//
//   screening       a value of (site, factor, field, data_kind) that the per-value quality
//                   screening rules (analytics/screening.h, default limits) report: `negative`
//                   (a concentration below 0), `out_of_range` (outside the analyser's default
//                   range) or `future_time` (measured more than 10 min after the engine's clock;
//                   such values are clock-suspect and count for this kind only). One clean value
//                   clears. The series rules (constant, low_variation, jump, pm25_gt_pm10,
//                   identical_series, flag_cover) are not alarm rules. op and limit are not used.
//                   Values are judged in arrival order (no late-data handling: a future-stamped
//                   value must not make the honest ones after it late).
//
// --- key polluter supervision (issue #6 §1): permit, emission_total, screening's flag_cover ---
//   permit          the concentration of `factor` at an outlet (`site`, or empty: every outlet)
//                   in `data_kind` data (rtd → Rtd fields, minute/hour/day → Avg fields) compared
//                   with the permitted limit in force at the measured time (registry
//                   permits.csv, through AlarmService::set_permits) × `limit` (a share of the
//                   permitted limit, 0 < limit ≤ 10; 0 or absent = 1, the limit itself; 0.8 = an
//                   early warning at 80 %). op is always ">"; field is chosen per value:
//                     - permit not `converted`: the measured value (Rtd / Avg);
//                     - permit `converted` (折算): the device's converted value (ZsRtd / ZsAvg)
//                       when it sent one; otherwise the measured value converted here from the
//                       O2 of the same time (a19001 Rtd / Avg) with C_ref = C × (21 − O2_ref) /
//                       (21 − O2_meas) (convert_to_reference_o2); with O2_meas ≥ 20.9 % or no O2
//                       the value is not judged (it neither opens nor clears).
//                   The values of one measured time are read from the store after the batch (as
//                   aqi_level does), so the order of fields inside a frame does not matter; a
//                   later version judges the time again. No permit (or one with only an annual
//                   total) at that time: not judged. One alarm per episode, as threshold; the
//                   alarm's `limit` is the permitted limit × `limit`, its `field` the one judged.
//   emission_total  the cumulative emission of `factor` at an outlet (`site`, or empty: every
//                   outlet) in the calendar year (Beijing time) of the data, in tonnes, from
//                   `data_kind` (hour, default, or day) data — alarm/emissions.h says how a
//                   period's amount is found (device Cou, else Avg × flow Cou) — compared with
//                   the permit's annual_total_t × `limit` (0 < limit ≤ 10; 0 or absent = 1;
//                   e.g. 0.8 early warning, 1.0 exceeded); op is always ">=". Judged whenever a
//                   Cou or Avg of the factor or the flow's Cou of the outlet arrives; the value is
//                   the year's total as of its newest period (so late hours do not make it
//                   "late"); a new year's small total clears the episode. No permit with an
//                   annual total: not judged.
//   screening       (the kind above) also reports `flag_cover` at outlets: a value with a device
//                   flag other than N (M, C, D, F, S, T, B — marked data never counts as an
//                   exceedance) is itself a finding when (a) its concentration, taken as the
//                   permit says (converted where the permit is converted: ZsRtd/ZsAvg as sent, or
//                   Rtd/Avg converted with the same time's O2 of any flag), is above the
//                   permitted limit — the mark would hide an exceedance —, or (b) it arrives while
//                   a permit alarm of the same outlet and factor is open — the mark appeared
//                   during an exceedance. Evidence: flag, field, value, limit, standard (and the
//                   open alarm's id). flag_cover_finding() is the rule; quarantined and pending
//                   values are never screened.
// --- kinds added for issue #6 §2 (drinking-water sources, radiation, deterioration) ---
//   drinking_water  a value of a GB 3838-2002 表2 supplementary item (集中式生活饮用水地表水源地
//                   补充项目) above its 表2 limit (standards::water::table2(), mg/L; a value equal
//                   to the limit meets it): HJ 212 codes w21038 sulfate 250, w21022 chloride 250,
//                   w21007 nitrate (as N) 10, w20125 iron 0.3, w20124 manganese 0.1. `factor`
//                   one of them, or empty for all five; `site` empty: every site of kind
//                   drinking_water_source (or unknown to the registry). data_kind and field as
//                   for threshold (default hour, Avg). op and limit are the standard's (not
//                   read). The subject is the site AND the item ("site:CODE/w21038"): each item
//                   is its own episode, cleared by a value of that item within its limit.
//                   表3 (specific items) is not included: the reference sheet marks its values
//                   as unconfirmed.
//   radiation_dose  an ambient gamma dose rate (nGy/h, `factor` required: HJ 212 has no code for
//                   it, so the station's own) above the site's baseline (standards/radiation.h):
//                   "above baseline" means above the investigation level mean + k·σ of the
//                   site's own history, k = `limit` (default 3), and above the site's reference
//                   background upper bound when one is registered; a reading above 2 × mean is
//                   reported too (assess_dose_rate's investigate/emergency tiers, named in the
//                   alarm's opening note). The baseline comes from the registry settings
//                   radiation_mean_ngy_h, radiation_sd_ngy_h (and optionally
//                   radiation_background_upper_ngy_h) at the value's time; a site without them
//                   is not judged (like a water_class rule without a designated class).
//   water_deteriorating
//                   the GB 3838 section class (as water_class computes it, same items, same
//                   sites) worse than the class of the section's PREVIOUS sample (of the same
//                   data kind) by at least `limit` classes (1..5, default 1). The class before
//                   the drop stays the reference while the episode lasts: it clears when a
//                   sample is better than reference + limit (i.e. the section recovered), not
//                   merely when the class stops falling. Samples are judged in measured-time
//                   order (late samples are ignored); after a restart the first sample is the
//                   reference again. op is not read.
//
// aqi_level and water_class are episodes exactly like threshold rules (late values, hold-off,
// retroactive marking); the subject is the site, the alarm's value the AQI or the class number.
// A later version of a value of the same hour (a correction) evaluates the hour again, so it can
// clear the episode. The items read from the store obey the same rules as the triggering value:
// a flagged (non-N), quarantined, pending or clock-suspect mean is left out of the AQI or sample.
//
// Values that never count, either way (they neither open nor clear an episode): a device flag
// other than N (or none) — M maintenance, C calibration, D fault, F stopped, B, T, S, … (HJ 212
// data marks: marked-invalid data is not an exceedance, issue #6 §1) — and values whose quality
// is quarantined, pending or clock-suspect (storage::kQualityNotLatest). A below-detection report
// counts as a good value for > and >= rules and is ignored by < and <= rules.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"

namespace ecomon::alarm {

enum class RuleKind : std::uint8_t {
  kThreshold,
  kSustained,
  kRateOfChange,
  kOffline,
  kFactorMissing,
  kAqiLevel,
  kWaterClass,
  kScreening,
  // Key polluter supervision (issue #6 §1).
  kPermit,
  kEmissionTotal,
  // Issue #6 §2 additions (alarm-more), numbered apart so other additions above do not collide.
  kDrinkingWater = 32,
  kRadiationDose = 33,
  kWaterDeteriorating = 34,
};
enum class Op : std::uint8_t { kGreater, kGreaterEqual, kLess, kLessEqual };
enum class Severity : std::uint8_t { kInfo, kMinor, kMajor, kCritical };

// threshold, sustained, rate_of_change, offline, factor_missing, aqi_level, water_class,
// screening, permit, emission_total, drinking_water, radiation_dose, water_deteriorating
std::string_view kind_name(RuleKind k);
std::optional<RuleKind> parse_rule_kind(std::string_view s);
std::string_view op_name(Op op);  // ">", ">=", "<", "<="
std::optional<Op> parse_op(std::string_view s);
std::string_view severity_name(Severity s);  // info, minor, major, critical
std::optional<Severity> parse_severity(std::string_view s);

struct Rule {
  std::int64_t id = 0;  // assigned when stored
  std::string name;
  RuleKind kind = RuleKind::kThreshold;
  std::string site;    // empty: any site
  std::string device;  // offline, factor_missing: one device's MN; empty: every device (of `site`)
  std::string factor;  // HJ 212-2017 code (a34004); value rules
  std::string field;   // Rtd, Avg, ZsAvg, …; default Rtd for rtd data, Avg otherwise
  storage::DataKind data_kind = storage::DataKind::kHour;
  Op op = Op::kGreater;
  double limit = 0;
  std::int64_t count = 1;  // sustained: consecutive exceeding values; factor_missing: intervals
  std::int64_t interval_s = 0;  // rate_of_change: per this many seconds; offline and
                                // factor_missing: the interval (0: the device's)
  double tolerance = 2;         // offline: silent for interval × tolerance
  Severity severity = Severity::kMajor;
  std::int64_t hold_off_s = 0;  // value rules: a cleared episode resumes within this (data) time
  std::int64_t renotify_s = 0;  // re-send while open and not acknowledged; 0 = never
  std::vector<std::string> recipients;  // webhook URLs (http:// or https://)
  bool enabled = true;
  std::int64_t created_ms = 0;
  std::string created_by;
  std::int64_t updated_ms = 0;
  std::string source = "api";  // api | config (ecomon serve --config FILE, [[rules]])
};

// True when two rules define the same condition and delivery (every field a user sets: name,
// kind, site, device, factor, field, data_kind, op, limit, count, interval_s, tolerance,
// severity, hold_off_s, renotify_s, recipients), whatever their id, times, source and state.
bool same_definition(const Rule& a, const Rule& b);

// True for the kinds whose value is computed from several stored values (aqi_level,
// water_class, water_deteriorating) rather than read from the triggering one.
bool is_derived(RuleKind k);
// True for the kinds judged on a section class (water_class, water_deteriorating).
bool is_water_class(RuleKind k);

// True for the kinds judged once per (site, measured time) from values read back from the store
// after a batch (aqi_level, water_class, permit, emission_total): a value that arrives or is
// corrected only marks its time as touched.
bool is_touched_kind(RuleKind k);

// Checks a rule and fills its defaults (field). nullopt when acceptable, otherwise why not.
std::optional<std::string> normalise_rule(Rule& rule);

// True when `x op limit`.
bool compare(Op op, double x, double limit);

// The device flag and quality bits under which a value may count at all.
bool value_counts(const storage::Value& v);

// The state of one (rule, subject) series as evaluate() leaves it.
struct SeriesState {
  bool seen = false;
  std::int64_t last_ms = 0;          // newest measured time evaluated
  std::int64_t streak = 0;           // sustained: consecutive exceeding values up to last_ms
  std::int64_t streak_start_ms = 0;  // measured time of the streak's first value
  std::optional<double> previous;    // rate_of_change: the value at last_ms;
                                     // water_deteriorating: the reference class
  std::optional<double> current;     // water_deteriorating: the class of the sample at last_ms
};

// The verdict on one value of a value rule.
enum class Verdict : std::uint8_t {
  kIgnored,  // does not count (flag, quality, no number, or a late value a rule cannot order)
  kGood,     // the condition does not hold
  kExceeds,  // the condition holds
};

struct Evaluation {
  Verdict verdict = Verdict::kIgnored;
  bool late = false;          // measured before the newest value already evaluated
  double observed = 0;        // the value (rate_of_change: the change)
  std::int64_t since_ms = 0;  // when the condition began (sustained: the streak's start)
  std::string finding;        // screening: the findings and their evidence ("" otherwise)
  // drinking_water: the item's 表2 limit; radiation_dose: the investigation level (nGy/h);
  // absent when the rule's own limit applies.
  std::optional<double> limit;
};

// Evaluates one value against a value rule (threshold, sustained, rate_of_change; aqi_level,
// water_class, permit and emission_total judge their computed value as threshold does) that
// matches it, and advances `state`. Late values are judged by threshold rules (they can open or
// clear an episode retroactively) but ignored by sustained and rate_of_change rules, which need
// order. `now_ms` is the engine's clock (screening's future_time). `cover`: for a screening rule
// and a flagged value, the flag_cover finding the engine found (flag_cover_finding), if any.
Evaluation evaluate(const Rule& rule, const storage::Value& v, SeriesState& state,
                    std::int64_t now_ms = 0, const std::string* cover = nullptr);

// --- key polluter supervision (permit, emission_total, flag_cover) ---

// What the engine knows of the permit of (outlet, factor) at one measured time (the app fills it
// from the registry's permits.csv; tests from a table).
struct PermitTerms {
  std::optional<double> limit;  // permitted concentration, in `unit`
  std::string unit;
  std::string standard;                    // "GB 13223-2011 表1"
  bool converted = false;                  // the limit applies to the converted concentration
  std::optional<double> reference_o2_pct;  // reference O2 of the conversion
  std::optional<double> annual_total_t;    // 许可排放量, t per calendar year
};

// O2 at or above this is ambient air (no combustion): a concentration is not converted.
inline constexpr double kMaxO2ForConversionPct = 20.9;

// The concentration converted to the reference oxygen content (折算): C × (21 − O2_ref) /
// (21 − O2_meas). The formula is GB 13223-2011 §5.2 formula (1) (thermal power plants; the same
// formula in GB 13271-2014 §5.2 for boilers and HJ 75-2017 for CEMS data) — these standards are not
// in ../shared/reference; the formula is stated from their published text. nullopt when O2_meas
// is not in [0, 20.9) (refused: the divisor tends to 0 and the result means nothing) or O2_ref is
// not in [0, 21).
std::optional<double> convert_to_reference_o2(double measured, double o2_pct,
                                              double reference_o2_pct);

// The values of one outlet, factor, data kind and measured time that a permit judgement reads.
struct OutletSample {
  std::optional<double> measured;   // Rtd / Avg
  std::optional<double> converted;  // ZsRtd / ZsAvg, as the device sent it
  std::optional<double> o2_pct;     // a19001 Rtd / Avg
};
struct PermitReading {
  std::optional<double> value;  // the concentration to compare with the permitted limit
  bool from_converted = false;  // the device's ZsRtd / ZsAvg
  bool converted_here = false;  // measured × (21 − O2_ref) / (21 − O2_meas)
  std::string refused;          // why there is no value ("" when there is one)
};
// How a permit judges a sample: see the `permit` kind above.
PermitReading permit_reading(const PermitTerms& permit, const OutletSample& sample);

// flag_cover (see the screening kind above): the finding for a value `v` with a device flag other
// than N, given the concentration the permit judges (`reading`, from the value and its time's
// O2) and the id of an open permit alarm of the same outlet and factor (0: none). nullopt when the
// value is not flagged, is quarantined or pending, or is neither above the permitted limit nor
// inside an open permit episode.
std::optional<std::string> flag_cover_finding(const storage::Value& v, const PermitTerms& permit,
                                              const PermitReading& reading,
                                              std::int64_t open_permit_alarm_id);

// A site's dose-rate baseline (radiation_dose rules), from the registry.
struct RadiationBaseline {
  double mean_ngy_h = 0;
  double sd_ngy_h = 0;
  std::optional<double> background_upper_ngy_h;
};

// radiation_dose: judges one value against the site's baseline (standards::radiation::
// assess_dose_rate with k = rule.limit) and advances `state` as threshold does. The finding names
// the tier (abnormal, investigate, emergency) and the investigation level.
Evaluation evaluate_dose_rate(const Rule& rule, const storage::Value& v, SeriesState& state,
                              const RadiationBaseline& baseline);

}  // namespace ecomon::alarm
