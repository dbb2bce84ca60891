#include "alarm/emissions.h"

#include <algorithm>
#include <map>

#include "core/civil_time.h"

namespace ecomon::alarm::emissions {

std::string_view flow_factor(Medium m) { return m == Medium::kWastewater ? "w00000" : "a00000"; }

double kg_per_unit_volume(Medium m) { return m == Medium::kWastewater ? 1e-3 : 1e-6; }

Medium medium_of_factor(std::string_view factor) {
  return !factor.empty() && factor.front() == 'w' ? Medium::kWastewater : Medium::kWasteGas;
}

namespace {

bool usable(const storage::Value& v) {
  return v.number && !(v.quality & (storage::kQualityQuarantined | storage::kQualityPending));
}

bool flagged(const storage::Value& v) { return !(v.flag.empty() || v.flag == "N"); }

// The period a value belongs to, or nullopt when outside [from, to).
std::optional<std::int64_t> period_of(const storage::Value& v, std::int64_t from_ms,
                                      std::int64_t to_ms) {
  if (v.measured_ms < from_ms || v.measured_ms >= to_ms) return std::nullopt;
  return v.measured_ms;
}

}  // namespace

Total sum(const std::vector<storage::Value>& pollutant, const std::vector<storage::Value>& flow,
          Medium medium, std::int64_t period_ms, std::int64_t from_ms, std::int64_t to_ms) {
  Total t;
  if (period_ms <= 0 || to_ms <= from_ms) return t;
  t.periods_expected = (to_ms - from_ms + period_ms - 1) / period_ms;
  struct Period {
    const storage::Value* cou = nullptr;
    const storage::Value* avg = nullptr;
    const storage::Value* flow = nullptr;
  };
  std::map<std::int64_t, Period> periods;
  for (const auto& v : pollutant) {
    if (!usable(v)) continue;
    const auto p = period_of(v, from_ms, to_ms);
    if (!p) continue;
    if (v.field == "Cou") periods[*p].cou = &v;
    if (v.field == "Avg") periods[*p].avg = &v;
  }
  for (const auto& v : flow) {
    if (!usable(v) || v.field != "Cou") continue;
    const auto p = period_of(v, from_ms, to_ms);
    if (!p) continue;
    if (auto it = periods.find(*p); it != periods.end()) it->second.flow = &v;
  }
  for (const auto& [start, p] : periods) {
    double kg = 0;
    bool marked = false;
    if (p.cou) {
      kg = *p.cou->number;
      marked = flagged(*p.cou);
      ++t.periods_sent;
    } else if (p.avg && p.flow) {
      kg = *p.avg->number * *p.flow->number * kg_per_unit_volume(medium);
      marked = flagged(*p.avg) || flagged(*p.flow);
      ++t.periods_computed;
    } else {
      continue;
    }
    t.total_kg += kg;
    if (marked) ++t.periods_flagged;
    t.last_ms = t.last_ms ? std::max(*t.last_ms, start) : start;
  }
  return t;
}

core::Result<Total> read_total(const storage::Store& store, const std::string& site,
                               const std::string& factor, storage::DataKind kind,
                               std::int64_t from_ms, std::int64_t to_ms, std::int64_t now_ms) {
  std::int64_t period_ms = 0;
  if (kind == storage::DataKind::kHour) period_ms = 3600000;
  if (kind == storage::DataKind::kDay) period_ms = 86400000;
  if (period_ms == 0) {
    return core::fail(core::Error{"bad_request", "emission totals are kept from hour or day data"});
  }
  // A year in progress is judged on its elapsed part: the period that holds `now` counts.
  const std::int64_t end = std::min(to_ms, (now_ms / period_ms + 1) * period_ms);
  const Medium medium = medium_of_factor(factor);
  auto read = [&](const std::string& f) {
    storage::SeriesQuery q;
    q.site = site;
    q.factor = f;
    q.kind = kind;
    q.from_ms = from_ms;
    q.to_ms = end;
    q.limit = 400000;
    return store.series(q);
  };
  auto pollutant = read(factor);
  if (!pollutant) return core::fail(pollutant.error());
  auto flow = read(std::string(flow_factor(medium)));
  if (!flow) return core::fail(flow.error());
  if (pollutant->size() >= 400000 || flow->size() >= 400000) {
    return core::fail(core::Error{"range_too_large", "more than 400000 values in the range"});
  }
  return sum(*pollutant, *flow, medium, period_ms, from_ms, std::max(from_ms, end));
}

int beijing_year_of(std::int64_t ms) {
  return core::civil_from_unix_ms(ms, core::kChinaUtcOffsetSeconds).year;
}

std::int64_t beijing_year_start_ms(int year) {
  core::CivilTime t;
  t.year = year;
  return core::to_unix_ms(t, core::kChinaUtcOffsetSeconds);
}

}  // namespace ecomon::alarm::emissions
