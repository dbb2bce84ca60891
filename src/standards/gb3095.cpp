#include "standards/gb3095.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <string>

namespace ecomon::standards::air {
namespace {

constexpr std::array kStages = {
    StageInfo{Gb3095Stage::k2012, "GB 3095-2012", Validity{{2012, 2, 29}, Date{2026, 3, 1}}},
    StageInfo{Gb3095Stage::k2026Transition, "GB 3095-2026 过渡阶段",
              Validity{{2026, 3, 1}, Date{2031, 1, 1}}},
    StageInfo{Gb3095Stage::k2026Final, "GB 3095-2026", Validity{{2031, 1, 1}, std::nullopt}},
};

std::string format_date(const Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

}  // namespace

std::string_view pollutant_name(Pollutant p) {
  switch (p) {
    case Pollutant::kSo2:
      return "SO2";
    case Pollutant::kNo2:
      return "NO2";
    case Pollutant::kCo:
      return "CO";
    case Pollutant::kO3:
      return "O3";
    case Pollutant::kPm10:
      return "PM10";
    case Pollutant::kPm25:
      return "PM2.5";
    case Pollutant::kTsp:
      return "TSP";
    case Pollutant::kNox:
      return "NOx";
    case Pollutant::kPb:
      return "Pb";
    case Pollutant::kBap:
      return "BaP";
  }
  return "?";
}

std::string_view averaging_name(Averaging a) {
  switch (a) {
    case Averaging::kAnnual:
      return "annual";
    case Averaging::kQuarterly:
      return "quarterly";
    case Averaging::k24Hour:
      return "24-hour";
    case Averaging::k8HourDailyMax:
      return "daily max 8-hour";
    case Averaging::k1Hour:
      return "1-hour";
  }
  return "?";
}

const StageInfo& stage_info(Gb3095Stage stage) {
  for (const StageInfo& s : kStages) {
    if (s.stage == stage) return s;
  }
  return kStages.front();  // unreachable: every enumerator has a row
}

core::Result<Gb3095Stage> stage_on(const Date& date) {
  for (const StageInfo& s : kStages) {
    if (s.validity.covers(date)) return s.stage;
  }
  return core::fail(core::Error{
      "no_edition", "no GB 3095 edition in ecomon's tables covers " + format_date(date) +
                        " (GB 3095-2012 applies from 2012-02-29; GB 3095-1996 is not encoded)"});
}

core::Result<Gb3095Stage> stage_for_period(const Date& first, const Date& last) {
  auto a = stage_on(first);
  if (!a) return core::fail(a.error());
  auto b = stage_on(last);
  if (!b) return core::fail(b.error());
  if (*a != *b) {
    return core::fail(core::Error{"period_spans_stages",
                                  format_date(first) + ".." + format_date(last) + " spans " +
                                      std::string(stage_info(*a).name) + " and " +
                                      std::string(stage_info(*b).name) + "; choose a stage"});
  }
  return *a;
}

core::Result<LimitRow> find_limit(Gb3095Stage stage, Pollutant pollutant, Averaging averaging) {
  for (const LimitRow& row : limit_table()) {
    if (row.stage == stage && row.pollutant == pollutant && row.averaging == averaging) return row;
  }
  return core::fail(core::Error{"no_limit", std::string(stage_info(stage).name) + " sets no " +
                                                std::string(averaging_name(averaging)) +
                                                " limit for " +
                                                std::string(pollutant_name(pollutant))});
}

core::Result<Limit> limit(Gb3095Stage stage, Pollutant pollutant, Averaging averaging,
                          AreaClass area) {
  auto row = find_limit(stage, pollutant, averaging);
  if (!row) return core::fail(row.error());
  return Limit{row->value(area), row->unit, row->stage, row->clause, row->confidence};
}

core::Result<Limit> limit_on(const Date& date, Pollutant pollutant, Averaging averaging,
                             AreaClass area) {
  auto stage = stage_on(date);
  if (!stage) return core::fail(stage.error());
  return limit(*stage, pollutant, averaging, area);
}

bool exceeds(double value, double limit) {
  // Relative tolerance: limits span 0.001 (BaP) to 500 (SO2 1-h), so an absolute one would not do.
  return value > limit + std::fabs(limit) * 1e-9;
}

core::Result<Compliance> compliance(Gb3095Stage stage, Pollutant pollutant, Averaging averaging,
                                    AreaClass area, double value) {
  auto lim = limit(stage, pollutant, averaging, area);
  if (!lim) return core::fail(lim.error());
  if (!std::isfinite(value)) {
    return core::fail(core::Error{"bad_value", "the statistic is not a finite number"});
  }
  Compliance c{*lim, value, true, 0};
  if (exceeds(value, lim->value)) {
    c.attains = false;
    c.exceedance_multiple = (value - lim->value) / lim->value;
  }
  return c;
}

core::Result<Compliance> compliance_on(const Date& date, Pollutant pollutant, Averaging averaging,
                                       AreaClass area, double value) {
  auto stage = stage_on(date);
  if (!stage) return core::fail(stage.error());
  return compliance(*stage, pollutant, averaging, area, value);
}

core::Result<AnnualItem> annual_item(Pollutant pollutant) {
  for (const AnnualItem& item : annual_items()) {
    if (item.pollutant == pollutant) return item;
  }
  return core::fail(core::Error{"no_annual_item", std::string(pollutant_name(pollutant)) +
                                                      " is not an HJ 663 annual evaluation item"});
}

core::Result<AnnualAttainment> annual_attainment(Gb3095Stage stage, Pollutant pollutant,
                                                 AreaClass area, std::optional<double> annual_mean,
                                                 std::optional<double> percentile_value) {
  auto item = annual_item(pollutant);
  if (!item) return core::fail(item.error());
  const std::string name(pollutant_name(pollutant));
  if (!percentile_value) {
    return core::fail(core::Error{"missing_statistic",
                                  name + " has no valid " + std::to_string(item->percentile) +
                                      "th percentile; attainment cannot be judged without it"});
  }
  if (item->has_annual_mean && !annual_mean) {
    return core::fail(core::Error{"missing_statistic",
                                  name + " has no valid annual mean; attainment needs both it and "
                                         "the percentile"});
  }
  auto pct = compliance(stage, pollutant, item->percentile_limit, area, *percentile_value);
  if (!pct) return core::fail(pct.error());
  AnnualAttainment out{std::nullopt, *pct, pct->attains};
  if (item->has_annual_mean) {
    auto mean = compliance(stage, pollutant, Averaging::kAnnual, area, *annual_mean);
    if (!mean) return core::fail(mean.error());
    out.mean = *mean;
    out.attains = out.attains && mean->attains;
  }
  return out;
}

}  // namespace ecomon::standards::air
