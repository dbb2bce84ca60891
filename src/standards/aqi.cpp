#include "standards/aqi.h"

#include <algorithm>
#include <cmath>

#include "standards/aqi_tables.h"

namespace ecomon::standards::aqi {
namespace {

using tables::Averaging;

std::size_t idx(Pollutant p) { return static_cast<std::size_t>(p); }

// HJ 633-2012 表2 and 附录A (colours); HJ 633-2026 keeps them.
constexpr Level kChinaLevels[] = {
    {1, "I", "优", "#00E400", "空气质量令人满意，基本无空气污染", "各类人群可正常活动"},
    {2, "II", "良", "#FFFF00", "空气质量可接受，但某些污染物可能对极少数异常敏感人群健康有较弱影响",
     "极少数异常敏感人群应减少户外活动"},
    {3, "III", "轻度污染", "#FF7E00", "易感人群症状有轻度加剧，健康人群出现刺激症状",
     "儿童、老年人及心脏病、呼吸系统疾病患者应减少长时间、高强度的户外锻炼"},
    {4, "IV", "中度污染", "#FF0000", "进一步加剧易感人群症状，可能对健康人群心脏、呼吸系统有影响",
     "儿童、老年人及心脏病、呼吸系统疾病患者避免长时间、高强度的户外锻炼，一般人群适量减少户外运"
     "动"},
    {5, "V", "重度污染", "#99004C",
     "心脏病和肺病患者症状显著加剧，运动耐受力降低，健康人群普遍出现症状",
     "儿童、老年人和心脏病、肺病患者应停留在室内，停止户外运动，一般人群减少户外运动"},
    {6, "VI", "严重污染", "#7E0023", "健康人群运动耐受力降低，有明显强烈症状，提前出现某些疾病",
     "儿童、老年人和病人应当留在室内，避免体力消耗，一般人群应避免户外活动"},
};

// US EPA categories (Technical Assistance Document, 2024).
constexpr Level kUsLevels[] = {
    {1, "I", "Good", "#00E400", "", ""},
    {2, "II", "Moderate", "#FFFF00", "", ""},
    {3, "III", "Unhealthy for Sensitive Groups", "#FF7E00", "", ""},
    {4, "IV", "Unhealthy", "#FF0000", "", ""},
    {5, "V", "Very Unhealthy", "#8F3F97", "", ""},
    {6, "VI", "Hazardous", "#7E0023", "", ""},
};

// IAQI on an HJ 633 row: (BP_lo, BP_hi] segments, ceiling, 500 above the last breakpoint.
// Returns nullopt above a row that stops early (the special rules decide).
std::optional<int> china_iaqi(const tables::ChinaRow& row, const Decimal& c) {
  if (c <= row.bp[0]) return 0;
  for (int i = 1; i < row.count; ++i) {
    if (c <= row.bp[i]) {
      return static_cast<int>(interpolate_ceil(c, row.bp[i - 1], row.bp[i],
                                               tables::kChinaIndex[i - 1], tables::kChinaIndex[i]));
    }
  }
  if (row.count == 8) return 500;
  return std::nullopt;
}

Result evaluate_china(const Concentrations& in, Report report, Standard standard) {
  const tables::ChinaEdition& ed = tables::china_edition(standard);
  const bool is2026 = standard == Standard::kHj633_2026;
  Result r;
  r.standard = standard;

  // §4.2.2 (2026): round concentrations half to even — integers, CO one decimal.
  Concentrations c = in;
  if (ed.round_concentrations) {
    for (Pollutant p : kAllPollutants) {
      if (c[p]) c[p] = c[p]->round_half_even(p == Pollutant::kCo ? 1 : 0);
    }
    if (c.so2_24h) c.so2_24h = c.so2_24h->round_half_even(0);
  }

  auto on_row = [&](Pollutant p, Averaging a, const Decimal& v) {
    return china_iaqi(*tables::china_row(ed, p, a), v);
  };
  const Averaging gas = report == Report::kHourly ? Averaging::k1h : Averaging::k24h;

  for (Pollutant p : kAllPollutants) {
    if (!c[p]) continue;
    const Decimal& v = *c[p];
    std::optional<int> iaqi;
    switch (p) {
      case Pollutant::kSo2:
        iaqi = on_row(p, gas, v);
        if (!iaqi) {  // SO2 1-h above 800
          if (is2026) {
            iaqi = 200;  // HJ 633-2026 表3 注b
          } else if (c.so2_24h) {
            iaqi = on_row(p, Averaging::k24h, *c.so2_24h);  // HJ 633-2012 表1 注(2)
          }
        }
        break;
      case Pollutant::kNo2:
      case Pollutant::kCo:
        iaqi = on_row(p, gas, v);
        break;
      case Pollutant::kO3:
        iaqi = on_row(p, Averaging::k1h, v);
        break;
      case Pollutant::kO3_8h:
        iaqi = on_row(p, Averaging::k8h, v);
        if (!iaqi) {  // O3 8-h above 800
          if (is2026) {
            iaqi = 300;  // HJ 633-2026 表3 注c
          } else if (c[Pollutant::kO3]) {
            iaqi = on_row(Pollutant::kO3, Averaging::k1h, *c[Pollutant::kO3]);  // 表1 注(3)
          }
        }
        break;
      case Pollutant::kPm10:
      case Pollutant::kPm25:
        iaqi = on_row(p, Averaging::k24h, v);  // hourly: the 1-h value on the 24-h row
        break;
    }
    r.iaqi[idx(p)] = iaqi;
  }

  // Which items make the AQI.
  for (Pollutant p : kAllPollutants) r.in_aqi[idx(p)] = true;
  if (report == Report::kHourly) {
    r.in_aqi[idx(Pollutant::kO3_8h)] = false;  // published beside the AQI, not in it
  } else if (is2026) {
    r.in_aqi[idx(Pollutant::kO3)] = false;  // daily: O3 by its daily max 8-h
  }

  std::optional<int> aqi;
  bool missing = false;
  for (Pollutant p : kAllPollutants) {
    if (!r.in_aqi[idx(p)]) continue;
    const auto& v = r.iaqi[idx(p)];
    if (!v) {
      // The six pollutants of the index; the O3 1-h daily max of 2012 is an extra indicator.
      const bool required = !(report == Report::kDaily && p == Pollutant::kO3);
      missing |= required;
      continue;
    }
    aqi = std::max(aqi.value_or(0), *v);
  }
  if (is2026 && missing && aqi && *aqi <= 100) aqi.reset();  // HJ 633-2026 §5.3.1
  r.aqi = aqi;
  if (!aqi) return r;
  r.level = &level_of(*aqi, standard);
  for (Pollutant p : kAllPollutants) {
    const auto& v = r.iaqi[idx(p)];
    if (!r.in_aqi[idx(p)] || !v) continue;
    if (*aqi > 50 && *v == *aqi) r.primary.push_back(p);
    if (*v > 100) r.exceeding.push_back(p);
  }
  return r;
}

// ---- US EPA ----------------------------------------------------------------------------------

// µg/m³ → ppb at 25 °C, 1 atm: ppb = µg/m³ × 24.465 / M (CO: mg/m³ → ppm, the same factor).
constexpr double kMolarVolume = 24.465;
constexpr double kMolarMass[] = {64.066, 46.0055, 28.010, 47.9982, 47.9982, 0, 0};

std::optional<int> us_index(tables::UsItem item, const Decimal& raw) {
  const tables::UsRow& row = tables::us_row(item);
  const Decimal c = raw.truncate(row.truncate_places);
  for (const auto& s : row.segments) {
    if (c < s.c_lo) return std::nullopt;  // below the row (O3 1-h under 0.125 ppm)
    if (c <= s.c_hi) {
      return static_cast<int>(interpolate_round_half_up(c, s.c_lo, s.c_hi, s.i_lo, s.i_hi));
    }
  }
  return 500;  // beyond the AQI: shown as 500
}

Result evaluate_us(const Concentrations& c, Report report) {
  Result r;
  r.standard = Standard::kUsEpa2024;
  auto converted = [&](Pollutant p, double scale_to) {
    const double ppx = c[p]->to_double() * kMolarVolume / kMolarMass[idx(p)] * scale_to;
    return Decimal::from_double(ppx, 6);
  };
  for (Pollutant p : kAllPollutants) {
    if (!c[p]) continue;
    std::optional<int> v;
    switch (p) {
      case Pollutant::kPm25:
        v = us_index(tables::UsItem::kPm25, *c[p]);
        break;
      case Pollutant::kPm10:
        v = us_index(tables::UsItem::kPm10, *c[p]);
        break;
      case Pollutant::kCo:  // mg/m³ → ppm; the 8-h table
        v = us_index(tables::UsItem::kCo8h, converted(p, 1.0));
        break;
      case Pollutant::kNo2:  // µg/m³ → ppb
        v = us_index(tables::UsItem::kNo2_1h, converted(p, 1.0));
        break;
      case Pollutant::kSo2: {
        const Decimal ppb = converted(p, 1.0);
        v = us_index(tables::UsItem::kSo2_1h, ppb);
        if (v && *v > 200) v = us_index(tables::UsItem::kSo2_24h, ppb);
        break;
      }
      case Pollutant::kO3_8h:  // µg/m³ → ppm
        v = us_index(tables::UsItem::kO3_8h, converted(p, 1e-3));
        if (v && *v > 300) v.reset();  // above 0.200 ppm the 1-h table decides
        break;
      case Pollutant::kO3:
        v = us_index(tables::UsItem::kO3_1h, converted(p, 1e-3));
        break;
    }
    r.iaqi[idx(p)] = v;
    r.in_aqi[idx(p)] = true;
  }
  (void)report;
  std::optional<int> aqi;
  for (Pollutant p : kAllPollutants) {
    if (r.iaqi[idx(p)]) aqi = std::max(aqi.value_or(0), *r.iaqi[idx(p)]);
  }
  r.aqi = aqi;
  if (!aqi) return r;
  r.level = &level_of(*aqi, Standard::kUsEpa2024);
  for (Pollutant p : kAllPollutants) {
    const auto& v = r.iaqi[idx(p)];
    if (!v) continue;
    if (*aqi > 50 && *v == *aqi) r.primary.push_back(p);
    if (*v > 100) r.exceeding.push_back(p);
  }
  return r;
}

std::optional<double> nowcast(std::span<const std::optional<double>> latest_first,
                              std::size_t hours, bool floor_half) {
  const std::size_t n = std::min(hours, latest_first.size());
  int recent = 0;
  for (std::size_t i = 0; i < std::min<std::size_t>(3, n); ++i)
    recent += latest_first[i].has_value();
  if (recent < 2) return std::nullopt;
  double lo = 0, hi = 0;
  bool any = false;
  for (std::size_t i = 0; i < n; ++i) {
    if (!latest_first[i]) continue;
    lo = any ? std::min(lo, *latest_first[i]) : *latest_first[i];
    hi = any ? std::max(hi, *latest_first[i]) : *latest_first[i];
    any = true;
  }
  double w = hi > 0 ? lo / hi : 1.0;
  if (floor_half && w < 0.5) w = 0.5;
  double num = 0, den = 0, weight = 1;
  for (std::size_t i = 0; i < n; ++i, weight *= w) {
    if (!latest_first[i]) continue;
    num += weight * *latest_first[i];
    den += weight;
  }
  return num / den;
}

}  // namespace

std::string_view pollutant_name(Pollutant p) {
  static constexpr std::string_view kNames[] = {"SO2", "NO2", "CO", "O3", "O3_8h", "PM10", "PM2.5"};
  return kNames[idx(p)];
}

std::string_view pollutant_name_zh(Pollutant p) {
  static constexpr std::string_view kNames[] = {"二氧化硫",       "二氧化氮",  "一氧化碳",
                                                "臭氧1小时",      "臭氧8小时", "颗粒物(PM10)",
                                                "细颗粒物(PM2.5)"};
  return kNames[idx(p)];
}

std::string_view standard_code(Standard s) {
  switch (s) {
    case Standard::kHj633_2012:
      return "HJ633-2012";
    case Standard::kHj633_2026:
      return "HJ633-2026";
    case Standard::kUsEpa2024:
      return "US-EPA-2024";
  }
  return "HJ633-2026";
}

std::optional<Standard> parse_standard(std::string_view code) {
  for (Standard s : {Standard::kHj633_2012, Standard::kHj633_2026, Standard::kUsEpa2024}) {
    if (code == standard_code(s)) return s;
  }
  return std::nullopt;
}

Standard china_standard_for(const Date& d) {
  for (const auto& e : tables::china_editions()) {
    if (e.validity.covers(d)) return e.standard;
  }
  // Before HJ 633-2012 existed, the oldest edition is the closest rule.
  return Standard::kHj633_2012;
}

std::optional<Pollutant> hourly_pollutant_of_hj212(std::string_view code) {
  for (const auto& [c, p] : kHourlyHj212Codes) {
    if (c == code) return p;
  }
  return std::nullopt;
}

Result evaluate_china_at(const Concentrations& c, Report report, std::int64_t period_start_ms) {
  const auto civil = core::civil_from_unix_ms(period_start_ms, core::kChinaUtcOffsetSeconds);
  return evaluate(c, report, china_standard_for(date_of(civil)));
}

const Level& level_of(int aqi, Standard standard) {
  const Level* levels = standard == Standard::kUsEpa2024 ? kUsLevels : kChinaLevels;
  if (aqi <= 50) return levels[0];
  if (aqi <= 100) return levels[1];
  if (aqi <= 150) return levels[2];
  if (aqi <= 200) return levels[3];
  if (aqi <= 300) return levels[4];
  return levels[5];
}

std::string_view sensitive_groups_2026(Pollutant p) {
  switch (p) {
    case Pollutant::kSo2:
      return "哮喘患者、儿童（含青少年）、老年人";
    case Pollutant::kNo2:
      return "呼吸系统疾病患者（如哮喘）、儿童（含青少年）、老年人";
    case Pollutant::kCo:
      return "心血管疾病患者";
    case Pollutant::kO3:
    case Pollutant::kO3_8h:
      return "呼吸系统疾病患者（如哮喘）、儿童（含青少年）、经常户外活动人群、老年人";
    case Pollutant::kPm10:
    case Pollutant::kPm25:
      return "心血管或呼吸系统疾病患者（如哮喘）、儿童（含青少年）、经常户外活动人群、老年人";
  }
  return "";
}

Result evaluate(const Concentrations& c, Report report, Standard standard) {
  if (standard == Standard::kUsEpa2024) return evaluate_us(c, report);
  return evaluate_china(c, report, standard);
}

std::optional<double> nowcast_pm(std::span<const std::optional<double>> latest_first) {
  return nowcast(latest_first, 12, true);
}

std::optional<double> nowcast_o3(std::span<const std::optional<double>> latest_first) {
  return nowcast(latest_first, 8, false);
}

}  // namespace ecomon::standards::aqi
