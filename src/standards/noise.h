// Environmental noise: GB 3096-2008 声环境质量标准 (zone limits, day/night, the night maximum
// level rule) and the level arithmetic it rests on (等效连续A声级, 昼夜等效声级, 累积百分声级);
// HJ 640-2012 regional and road-traffic grades as an unconfirmed table.
//
// Units: every level is an A-weighted sound level in dB(A) (`_db`); durations are seconds (`_s`);
// times of day are seconds after local midnight (Beijing time, the standard's clock).
// Missing vs zero: a missing level is std::nullopt or an absent sample, never 0 dB; functions that
// have nothing to average return the error "no_data", never a level.
// Errors (core::Error reasons): "no_data", "bad_value" (a non-finite level, a negative or
// non-finite duration, a percent outside (0, 100), hours that do not form a day).
// Pure: no I/O, no clock, no state besides the constant tables below; every function is
// thread-safe and every returned reference points into static storage.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/result.h"
#include "standards/edition.h"

namespace ecomon::standards::noise {

// 声环境功能区类别 (GB 3096-2008 §4): 0 康复疗养区, 1 居住文教, 2 商业混合, 3 工业物流,
// 4a 交通干线两侧 (roads, urban rail on the surface, inland waterways), 4b 铁路干线两侧.
enum class ZoneClass { k0, k1, k2, k3, k4a, k4b };

// "0", "1", "2", "3", "4a", "4b" (case-insensitive, an optional trailing "类"); nullopt otherwise.
// A bare "4" is rejected: 4a and 4b differ at night (55 vs 60 dB).
std::optional<ZoneClass> parse_zone_class(std::string_view text);
std::string_view zone_class_name(ZoneClass zone);  // "0" … "4b"

enum class Period { kDay, kNight };  // 昼间 / 夜间

// The kind of sudden night noise whose maximum level L_max is judged.
//   kSudden   突发噪声 — not further described: GB 3096-2008 §5.4, L_max ≤ night limit + 15.
//   kFrequent 频发噪声 — recurring: L_max ≤ night limit + 10.
//   kSporadic 偶发噪声 — occasional: L_max ≤ night limit + 15.
// The frequent/sporadic split is the wording of GB 12348-2008 / GB 22337-2008; the project's fact
// sheet attaches it to GB 3096, whose own §5.4 has the single +15 rule (see kSudden).
enum class NightEvent { kSudden, kFrequent, kSporadic };

// "sudden"/"突发", "frequent"/"频发", "sporadic"/"偶发" (case-insensitive); nullopt otherwise.
std::optional<NightEvent> parse_night_event(std::string_view text);
std::string_view night_event_name(NightEvent event);  // "sudden", "frequent", "sporadic"

// Day 06:00–22:00, night 22:00–06:00 by default (GB 3096-2008 §3, 《噪声污染防治法》 2022);
// local governments may move them for season or custom, so callers can pass their own.
struct DayNightHours {
  std::int32_t day_start_s = 6 * 3600;
  std::int32_t night_start_s = 22 * 3600;
};

// One row of 表1 环境噪声限值: L_Aeq limits of a zone class.
struct ZoneLimit {
  ZoneClass zone;
  double day_db;
  double night_db;
  std::string_view clause;
};

// How far the night L_max may exceed the zone's night limit, by kind of event.
struct NightMaxMargin {
  NightEvent event;
  double margin_db;
  std::string_view clause;
};

// One edition of the noise standard with the dates it applies to.
struct NoiseEdition {
  std::string_view standard;  // "GB 3096-2008"
  Validity validity;
  DayNightHours hours;
  std::span<const ZoneLimit> zone_limits;
  std::span<const NightMaxMargin> night_max_margins;
};

// Every tabled edition, oldest first. Only GB 3096-2008 is tabled (GB 3096-93 is not).
std::span<const NoiseEdition> noise_editions();
// The edition that applies to data of `date`; nullptr before the first tabled edition.
const NoiseEdition* noise_edition_for(const Date& date);
// The edition in force (the one without an end date).
const NoiseEdition& latest_noise_edition();
// The row of `zone` in `edition`; nullptr if the edition has no such class.
const ZoneLimit* zone_limit(const NoiseEdition& edition, ZoneClass zone);
// The L_max margin of `event`; nullptr if the edition has none.
const NightMaxMargin* night_max_margin(const NoiseEdition& edition, NightEvent event);

// ---- level arithmetic -------------------------------------------------------------------------

// L_eq of equal-duration samples: 10·lg((1/N) Σ 10^(0.1·L_i)) — an energy mean, never the
// arithmetic mean of decibels. "no_data" when empty.
core::Result<double> leq_db(std::span<const double> levels_db);

// A level held for a duration.
struct TimedLevel {
  double level_db;
  double duration_s;
};
// L_eq of unequal durations: 10·lg(Σ t_i·10^(0.1·L_i) / Σ t_i). Zero-duration intervals add
// nothing; "no_data" when the total duration is 0.
core::Result<double> leq_db(std::span<const TimedLevel> intervals);

// A level held from `start_s` (seconds after local midnight, 0 ≤ start_s < 86400) for
// `duration_s`; an interval running past midnight continues into the next day's early hours.
struct ClockedLevel {
  std::int32_t start_s;
  double duration_s;
  double level_db;
};

// L_d (昼间等效声级) and L_n (夜间等效声级), each missing when no time fell in its period.
struct DayNightLevels {
  std::optional<double> ld_db;
  std::optional<double> ln_db;
  double day_s = 0;    // seconds of data in the day period
  double night_s = 0;  // seconds of data in the night period
};

// Splits each interval at the day/night boundaries (the level is taken as constant within an
// interval, so each part carries its share of the energy) and energy-averages each period.
// Coverage rules (how many hours make a valid L_d) are the caller's: day_s and night_s say how
// much data there was.
core::Result<DayNightLevels> day_night_levels(std::span<const ClockedLevel> intervals,
                                              const DayNightHours& hours = {});

// The same from 24 hourly L_eq values, index h = the hour starting at h:00; missing hours skipped.
core::Result<DayNightLevels> day_night_levels_from_hourly(
    std::span<const std::optional<double>, 24> hourly_leq_db, const DayNightHours& hours = {});

// L_dn = 10·lg{[16·10^(0.1·L_d) + 8·10^(0.1·(L_n + 10))] / 24}: the night carries a 10 dB
// penalty, the weights are GB 3096's fixed 16 h and 8 h.
double ldn_db(double ld_db, double ln_db);

// 累积百分声级 L_N: the level exceeded during N % of the measurement time, from equal-interval
// samples. Convention: sort the samples from loudest to quietest and take the one at 1-based rank
// ⌈N·n/100⌉ (at least 1). With HJ 640's 200 samples this is the 20th, 100th and 180th loudest for
// L10, L50 and L90; no interpolation between samples. "bad_value" for N outside (0, 100).
core::Result<double> percentile_level_db(std::span<const double> levels_db, double percent);

struct StatisticalLevels {
  std::size_t count = 0;
  double leq_db = 0;
  double l10_db = 0;
  double l50_db = 0;
  double l90_db = 0;
  // The sample standard deviation of the levels, sqrt(Σ(L_i − L̄)² / (n − 1)) over dB values as
  // HJ 640 reports it; missing for a single sample.
  std::optional<double> sd_db;
};
core::Result<StatisticalLevels> statistical_levels(std::span<const double> levels_db);

// ---- compliance (GB 3096-2008 §5) -------------------------------------------------------------

// Sound levels are reported to 0.1 dB; the judgement is made on the reported (GB/T 8170 rounded)
// level, so a published 50.0 is never called an exceedance of 50.
double round_level_db(double level_db);

struct LevelVerdict {
  double level_db;  // rounded to 0.1 dB
  double limit_db;
  double exceed_db;  // level − limit when above the limit, else 0 (rounded to 0.1 dB)
  bool compliant;    // level ≤ limit
};
LevelVerdict judge_level(double level_db, double limit_db);

struct NoiseInput {
  ZoneClass zone = ZoneClass::k0;
  std::optional<double> ld_db;
  std::optional<double> ln_db;
  std::optional<double> lmax_night_db;
  NightEvent night_event = NightEvent::kSudden;
};

struct NoiseAssessment {
  double day_limit_db = 0;
  double night_limit_db = 0;
  std::optional<double> ldn_db;           // when both L_d and L_n are given
  std::optional<LevelVerdict> day;        // L_d against the day limit
  std::optional<LevelVerdict> night;      // L_n against the night limit
  std::optional<LevelVerdict> night_max;  // L_max against night limit + margin
  // false when any judged level exceeds; true when L_d and L_n are both given and every judged
  // level (L_max too, when given) complies; missing otherwise.
  std::optional<bool> compliant;
};

// "bad_value" when the edition lacks the zone or the event's margin.
core::Result<NoiseAssessment> assess(const NoiseEdition& edition, const NoiseInput& input);

// ---- HJ 640-2012 grades (UNCONFIRMED: the fact sheet gives them from memory) -------------------

enum class AcousticGrade { k1, k2, k3, k4, k5 };            // 一级 好 … 五级 差
std::string_view acoustic_grade_name(AcousticGrade grade);  // "一级", …
std::string_view acoustic_grade_label(AcousticGrade grade);  // "好", "较好", "一般", "较差", "差"

// Upper edges (inclusive, on levels rounded to 0.1 dB) of grades 1–4; above the 4th → grade 5.
struct AcousticGradeTable {
  std::string_view name;  // "HJ 640-2012 区域声环境"
  Validity validity;
  bool confirmed;  // false: figures not checked against the text
  double day_upper_db[4];
  double night_upper_db[4];
  std::string_view clause;
};
const AcousticGradeTable& regional_grade_table();      // 区域声环境 (grid method)
const AcousticGradeTable& road_traffic_grade_table();  // 道路交通声环境
AcousticGrade acoustic_grade(const AcousticGradeTable& table, Period period, double level_db);

// Regional L_d/L_n: the arithmetic mean of the grid points' L_eq (HJ 640 averages space
// arithmetically, unlike time). "no_data" when empty.
core::Result<double> regional_mean_db(std::span<const double> point_leq_db);
// Road traffic: the mean of road sections' L_eq weighted by section length.
struct RoadSection {
  double leq_db;
  double length_m;
};
core::Result<double> road_traffic_mean_db(std::span<const RoadSection> sections);

}  // namespace ecomon::standards::noise
