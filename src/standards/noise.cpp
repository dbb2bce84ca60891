#include "standards/noise.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "standards/rounding.h"

namespace ecomon::standards::noise {

namespace {

// ---- reviewed tables ----------------------------------------------------------------------------

// GB 3096-2008 表1 环境噪声限值, L_Aeq in dB(A). 4b applies to new railway trunk lines (EIA
// approved from 2011-01-01, §5.2); the background limits of existing lines when no train passes
// (§5.3: 70/55) are not a zone class and are not modelled here.
constexpr ZoneLimit kGb3096Limits[] = {
    {ZoneClass::k0, 50, 40, "GB 3096-2008 表1 0类"},
    {ZoneClass::k1, 55, 45, "GB 3096-2008 表1 1类"},
    {ZoneClass::k2, 60, 50, "GB 3096-2008 表1 2类"},
    {ZoneClass::k3, 65, 55, "GB 3096-2008 表1 3类"},
    {ZoneClass::k4a, 70, 55, "GB 3096-2008 表1 4a类"},
    {ZoneClass::k4b, 70, 60, "GB 3096-2008 表1 4b类"},
};

// Night maximum level margins over the zone's night limit. GB 3096-2008 §5.4 itself says only
// "夜间突发噪声，其最大声级超过环境噪声限值的幅度不得高于15 dB(A)"; the frequent/sporadic split
// is required by the project's fact sheet (§4) and is the wording of GB 12348-2008.
constexpr NightMaxMargin kGb3096NightMax[] = {
    {NightEvent::kSudden, 15, "GB 3096-2008 §5.4 夜间突发噪声"},
    {NightEvent::kFrequent, 10, "fact sheet §4 频发噪声 (wording of GB 12348-2008)"},
    {NightEvent::kSporadic, 15, "fact sheet §4 偶发噪声 (wording of GB 12348-2008)"},
};

constexpr NoiseEdition kEditions[] = {
    {"GB 3096-2008", Validity{Date{2008, 10, 1}, std::nullopt}, DayNightHours{}, kGb3096Limits,
     kGb3096NightMax},
};

// HJ 640-2012 grade tables, from the fact sheet §6, which flags them as recollection; the
// effective date 2013-01-01 is recollection too.
constexpr AcousticGradeTable kRegionalGrades = {
    "HJ 640-2012 区域声环境质量等级",
    Validity{Date{2013, 1, 1}, std::nullopt},
    false,
    {50.0, 55.0, 60.0, 65.0},
    {40.0, 45.0, 50.0, 55.0},
    "HJ 640-2012 区域声环境 等级划分 (unconfirmed)",
};
constexpr AcousticGradeTable kRoadTrafficGrades = {
    "HJ 640-2012 道路交通声环境质量等级",
    Validity{Date{2013, 1, 1}, std::nullopt},
    false,
    {68.0, 70.0, 72.0, 74.0},
    {58.0, 60.0, 62.0, 64.0},
    "HJ 640-2012 道路交通声环境 等级划分 (unconfirmed)",
};

constexpr std::int32_t kSecondsPerDay = 86400;
constexpr double kDayWeightHours = 16;   // GB 3096-2008 L_dn formula
constexpr double kNightWeightHours = 8;  // GB 3096-2008 L_dn formula
constexpr double kNightPenaltyDb = 10;   // GB 3096-2008 L_dn formula

core::Unexpected<core::Error> error(std::string reason, std::string detail) {
  return core::fail(core::Error{std::move(reason), std::move(detail)});
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Energy of a level relative to a reference level, so that 10^(0.1·L) cannot overflow.
double relative_energy(double level_db, double reference_db) {
  return std::pow(10.0, 0.1 * (level_db - reference_db));
}

double level_of(double relative_energy_mean, double reference_db) {
  return reference_db + 10.0 * std::log10(relative_energy_mean);
}

core::Result<void> check_levels(std::span<const double> levels_db) {
  for (double l : levels_db) {
    if (!std::isfinite(l)) return error("bad_value", "a sound level is not a finite number");
  }
  return {};
}

}  // namespace

std::optional<ZoneClass> parse_zone_class(std::string_view text) {
  constexpr std::string_view kLei = "类";
  if (text.size() > kLei.size() && text.substr(text.size() - kLei.size()) == kLei) {
    text.remove_suffix(kLei.size());
  }
  const std::string t = lower_ascii(text);
  if (t == "0") return ZoneClass::k0;
  if (t == "1") return ZoneClass::k1;
  if (t == "2") return ZoneClass::k2;
  if (t == "3") return ZoneClass::k3;
  if (t == "4a") return ZoneClass::k4a;
  if (t == "4b") return ZoneClass::k4b;
  return std::nullopt;
}

std::string_view zone_class_name(ZoneClass zone) {
  switch (zone) {
    case ZoneClass::k0:
      return "0";
    case ZoneClass::k1:
      return "1";
    case ZoneClass::k2:
      return "2";
    case ZoneClass::k3:
      return "3";
    case ZoneClass::k4a:
      return "4a";
    case ZoneClass::k4b:
      return "4b";
  }
  return "?";
}

std::optional<NightEvent> parse_night_event(std::string_view text) {
  const std::string t = lower_ascii(text);
  if (t == "sudden" || t == "突发") return NightEvent::kSudden;
  if (t == "frequent" || t == "频发") return NightEvent::kFrequent;
  if (t == "sporadic" || t == "occasional" || t == "偶发") {
    return NightEvent::kSporadic;
  }
  return std::nullopt;
}

std::string_view night_event_name(NightEvent event) {
  switch (event) {
    case NightEvent::kSudden:
      return "sudden";
    case NightEvent::kFrequent:
      return "frequent";
    case NightEvent::kSporadic:
      return "sporadic";
  }
  return "?";
}

std::span<const NoiseEdition> noise_editions() { return kEditions; }

const NoiseEdition* noise_edition_for(const Date& date) {
  for (const NoiseEdition& e : kEditions) {
    if (e.validity.covers(date)) return &e;
  }
  return nullptr;
}

const NoiseEdition& latest_noise_edition() { return kEditions[std::size(kEditions) - 1]; }

const ZoneLimit* zone_limit(const NoiseEdition& edition, ZoneClass zone) {
  for (const ZoneLimit& row : edition.zone_limits) {
    if (row.zone == zone) return &row;
  }
  return nullptr;
}

const NightMaxMargin* night_max_margin(const NoiseEdition& edition, NightEvent event) {
  for (const NightMaxMargin& row : edition.night_max_margins) {
    if (row.event == event) return &row;
  }
  return nullptr;
}

core::Result<double> leq_db(std::span<const double> levels_db) {
  if (levels_db.empty()) return error("no_data", "no sound level to average");
  if (auto ok = check_levels(levels_db); !ok) return core::fail(ok.error());
  const double reference = *std::max_element(levels_db.begin(), levels_db.end());
  double sum = 0;
  for (double l : levels_db) sum += relative_energy(l, reference);
  return level_of(sum / static_cast<double>(levels_db.size()), reference);
}

core::Result<double> leq_db(std::span<const TimedLevel> intervals) {
  double total_s = 0;
  std::optional<double> reference;
  for (const TimedLevel& i : intervals) {
    if (!std::isfinite(i.level_db)) return error("bad_value", "a sound level is not finite");
    if (!std::isfinite(i.duration_s) || i.duration_s < 0) {
      return error("bad_value", "a duration is negative or not finite");
    }
    if (i.duration_s > 0) {
      total_s += i.duration_s;
      reference = std::max(reference.value_or(i.level_db), i.level_db);
    }
  }
  if (!reference) return error("no_data", "no time to average over");
  double sum = 0;
  for (const TimedLevel& i : intervals)
    sum += i.duration_s * relative_energy(i.level_db, *reference);
  return level_of(sum / total_s, *reference);
}

core::Result<DayNightLevels> day_night_levels(std::span<const ClockedLevel> intervals,
                                              const DayNightHours& hours) {
  if (hours.day_start_s < 0 || hours.day_start_s >= hours.night_start_s ||
      hours.night_start_s > kSecondsPerDay) {
    return error("bad_value", "day must start before night within one day");
  }
  const double day_length_s = hours.night_start_s - hours.day_start_s;
  std::optional<double> reference;
  for (const ClockedLevel& i : intervals) {
    if (!std::isfinite(i.level_db)) return error("bad_value", "a sound level is not finite");
    if (!std::isfinite(i.duration_s) || i.duration_s < 0) {
      return error("bad_value", "a duration is negative or not finite");
    }
    if (i.start_s < 0 || i.start_s >= kSecondsPerDay) {
      return error("bad_value", "a start time is outside 0..86399 s after midnight");
    }
    reference = std::max(reference.value_or(i.level_db), i.level_db);
  }
  DayNightLevels out;
  if (!reference) return out;
  double day_energy = 0, night_energy = 0;  // Σ t·10^(0.1·(L − reference))
  for (const ClockedLevel& i : intervals) {
    const double e = relative_energy(i.level_db, *reference);
    // Whole days first, so a long interval costs no more than a short one.
    const double whole_days = std::floor(i.duration_s / kSecondsPerDay);
    double day_s = whole_days * day_length_s;
    double night_s = whole_days * (kSecondsPerDay - day_length_s);
    double remaining = i.duration_s - whole_days * kSecondsPerDay;
    double t = i.start_s;  // seconds after midnight, < 2 days
    while (remaining > 0) {
      const double tod = std::fmod(t, static_cast<double>(kSecondsPerDay));
      const bool is_day = tod >= hours.day_start_s && tod < hours.night_start_s;
      const double boundary = is_day                    ? hours.night_start_s
                              : tod < hours.day_start_s ? hours.day_start_s
                                                        : kSecondsPerDay + hours.day_start_s;
      const double part = std::min(remaining, boundary - tod);
      (is_day ? day_s : night_s) += part;
      remaining -= part;
      t += part;
    }
    out.day_s += day_s;
    out.night_s += night_s;
    day_energy += day_s * e;
    night_energy += night_s * e;
  }
  if (out.day_s > 0) out.ld_db = level_of(day_energy / out.day_s, *reference);
  if (out.night_s > 0) out.ln_db = level_of(night_energy / out.night_s, *reference);
  return out;
}

core::Result<DayNightLevels> day_night_levels_from_hourly(
    std::span<const std::optional<double>, 24> hourly_leq_db, const DayNightHours& hours) {
  std::array<ClockedLevel, 24> intervals{};
  std::size_t n = 0;
  for (std::int32_t h = 0; h < 24; ++h) {
    if (const auto& l = hourly_leq_db[static_cast<std::size_t>(h)]) {
      intervals[n++] = ClockedLevel{h * 3600, 3600.0, *l};
    }
  }
  return day_night_levels(std::span<const ClockedLevel>(intervals.data(), n), hours);
}

double ldn_db(double ld_db, double ln_db) {
  // Relative to the louder of the two weighted terms, for the same overflow reason as leq_db.
  const double night_db = ln_db + kNightPenaltyDb;
  const double reference = std::max(ld_db, night_db);
  const double sum = kDayWeightHours * relative_energy(ld_db, reference) +
                     kNightWeightHours * relative_energy(night_db, reference);
  return level_of(sum / (kDayWeightHours + kNightWeightHours), reference);
}

core::Result<double> percentile_level_db(std::span<const double> levels_db, double percent) {
  if (!(percent > 0 && percent < 100)) return error("bad_value", "percent must be in (0, 100)");
  if (levels_db.empty()) return error("no_data", "no sound level samples");
  if (auto ok = check_levels(levels_db); !ok) return core::fail(ok.error());
  std::vector<double> sorted(levels_db.begin(), levels_db.end());
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const double n = static_cast<double>(sorted.size());
  // ⌈N·n/100⌉; the small subtraction keeps an exact product (10·200/100 = 20) from becoming 21
  // through rounding noise in the division.
  constexpr double kRankTolerance = 1e-9;
  const double rank = std::ceil(percent * n / 100.0 - kRankTolerance);
  const std::size_t index = static_cast<std::size_t>(std::clamp(rank, 1.0, n)) - 1;
  return sorted[index];
}

core::Result<StatisticalLevels> statistical_levels(std::span<const double> levels_db) {
  auto leq = leq_db(levels_db);
  if (!leq) return core::fail(leq.error());
  StatisticalLevels s;
  s.count = levels_db.size();
  s.leq_db = *leq;
  s.l10_db = *percentile_level_db(levels_db, 10);
  s.l50_db = *percentile_level_db(levels_db, 50);
  s.l90_db = *percentile_level_db(levels_db, 90);
  if (s.count > 1) {
    double mean = 0;
    for (double l : levels_db) mean += l;
    mean /= static_cast<double>(s.count);
    double squares = 0;
    for (double l : levels_db) squares += (l - mean) * (l - mean);
    s.sd_db = std::sqrt(squares / static_cast<double>(s.count - 1));
  }
  return s;
}

double round_level_db(double level_db) { return round_gbt8170(level_db, 1); }

LevelVerdict judge_level(double level_db, double limit_db) {
  LevelVerdict v;
  v.level_db = round_level_db(level_db);
  v.limit_db = limit_db;
  v.compliant = v.level_db <= limit_db;
  v.exceed_db = v.compliant ? 0.0 : round_level_db(v.level_db - limit_db);
  return v;
}

core::Result<NoiseAssessment> assess(const NoiseEdition& edition, const NoiseInput& input) {
  const ZoneLimit* limit = zone_limit(edition, input.zone);
  if (!limit) {
    return error("bad_value", std::string(edition.standard) + " has no zone class " +
                                  std::string(zone_class_name(input.zone)));
  }
  NoiseAssessment a;
  a.day_limit_db = limit->day_db;
  a.night_limit_db = limit->night_db;
  if (input.ld_db) a.day = judge_level(*input.ld_db, limit->day_db);
  if (input.ln_db) a.night = judge_level(*input.ln_db, limit->night_db);
  if (input.ld_db && input.ln_db) a.ldn_db = round_level_db(ldn_db(*input.ld_db, *input.ln_db));
  if (input.lmax_night_db) {
    const NightMaxMargin* margin = night_max_margin(edition, input.night_event);
    if (!margin) {
      return error("bad_value", std::string(edition.standard) + " has no L_max rule for " +
                                    std::string(night_event_name(input.night_event)) + " noise");
    }
    a.night_max = judge_level(*input.lmax_night_db, limit->night_db + margin->margin_db);
  }
  bool any_exceeds = false;
  for (const auto* v : {&a.day, &a.night, &a.night_max}) any_exceeds |= *v && !(*v)->compliant;
  if (any_exceeds) {
    a.compliant = false;
  } else if (a.day && a.night) {
    a.compliant = true;
  }
  return a;
}

std::string_view acoustic_grade_name(AcousticGrade grade) {
  switch (grade) {
    case AcousticGrade::k1:
      return "一级";
    case AcousticGrade::k2:
      return "二级";
    case AcousticGrade::k3:
      return "三级";
    case AcousticGrade::k4:
      return "四级";
    case AcousticGrade::k5:
      return "五级";
  }
  return "?";
}

std::string_view acoustic_grade_label(AcousticGrade grade) {
  switch (grade) {
    case AcousticGrade::k1:
      return "好";
    case AcousticGrade::k2:
      return "较好";
    case AcousticGrade::k3:
      return "一般";
    case AcousticGrade::k4:
      return "较差";
    case AcousticGrade::k5:
      return "差";
  }
  return "?";
}

const AcousticGradeTable& regional_grade_table() { return kRegionalGrades; }
const AcousticGradeTable& road_traffic_grade_table() { return kRoadTrafficGrades; }

AcousticGrade acoustic_grade(const AcousticGradeTable& table, Period period, double level_db) {
  constexpr AcousticGrade kGrades[] = {AcousticGrade::k1, AcousticGrade::k2, AcousticGrade::k3,
                                       AcousticGrade::k4};
  const double* upper = period == Period::kDay ? table.day_upper_db : table.night_upper_db;
  const double level = round_level_db(level_db);
  for (std::size_t i = 0; i < std::size(kGrades); ++i) {
    if (level <= upper[i]) return kGrades[i];
  }
  return AcousticGrade::k5;
}

core::Result<double> regional_mean_db(std::span<const double> point_leq_db) {
  if (point_leq_db.empty()) return error("no_data", "no grid point levels");
  if (auto ok = check_levels(point_leq_db); !ok) return core::fail(ok.error());
  double sum = 0;
  for (double l : point_leq_db) sum += l;
  return sum / static_cast<double>(point_leq_db.size());
}

core::Result<double> road_traffic_mean_db(std::span<const RoadSection> sections) {
  double total_m = 0, sum = 0;
  for (const RoadSection& s : sections) {
    if (!std::isfinite(s.leq_db)) return error("bad_value", "a section level is not finite");
    if (!std::isfinite(s.length_m) || s.length_m < 0) {
      return error("bad_value", "a section length is negative or not finite");
    }
    total_m += s.length_m;
    sum += s.leq_db * s.length_m;
  }
  if (total_m <= 0) return error("no_data", "no road length to weight by");
  return sum / total_m;
}

}  // namespace ecomon::standards::noise
