// `ecomon assess aqi --mode hourly|daily [--standard auto|HJ633-2012|HJ633-2026|US-EPA-2024]`
//
// Input columns: `time` (ISO 8601 with offset; without one, Beijing time), and any of
// `so2 no2 co o3 o3_8h pm10 pm25` (µg/m³; `co` in mg/m³). Hourly mode: 1-h values labelled by
// the hour they end (the national release convention), `o3_8h` the 8-h sliding mean (its IAQI is
// reported but does not enter the AQI), optional `so2_24h` (HJ 633-2012: replaces an SO2 1-h value
// above 800). Daily mode: 24-h means, `o3_8h` the daily max 8-h, `o3` the daily max 1-h.
// Under `auto` (default) the edition follows the data's Beijing date: the day itself (daily), or
// the date of the hour's start (hourly: the value stamped 2026-03-01T00:00+08:00 is the mean of
// 2026-02-28 23:00–24:00, so HJ 633-2012).
// Output columns: aqi (integer or NA), level (I..VI), category, primary_pollutants,
// exceeding_pollutants (";"-joined SO2 NO2 CO O3 O3_8h PM10 PM2.5), iaqi_<input column>, standard.
#include <array>

#include "app/assess.h"
#include "core/civil_time.h"
#include "standards/aqi.h"

namespace ecomon::app {
namespace {

namespace aqi = standards::aqi;

struct Column {
  const char* name;
  aqi::Pollutant pollutant;
};
constexpr Column kColumns[] = {
    {"so2", aqi::Pollutant::kSo2},     {"no2", aqi::Pollutant::kNo2},
    {"co", aqi::Pollutant::kCo},       {"o3", aqi::Pollutant::kO3},
    {"o3_8h", aqi::Pollutant::kO3_8h}, {"pm10", aqi::Pollutant::kPm10},
    {"pm25", aqi::Pollutant::kPm25},
};

core::Result<std::optional<standards::Decimal>> decimal_cell(const CsvRow& row,
                                                             std::string_view column) {
  const auto cell = row.get(column);
  if (!cell) return std::optional<standards::Decimal>();
  auto d = standards::Decimal::parse(*cell);
  if (!d) {
    // Exponent forms and the like: accept any finite number.
    auto n = number_cell(row, column);
    if (!n) return core::fail(n.error());
    d = standards::Decimal::from_double(**n, 6);
  }
  if (d->negative()) {
    return core::fail(core::Error{"bad_value", "column " + std::string(column) + ": '" +
                                                   std::string(*cell) +
                                                   "' is negative; a concentration cannot be"});
  }
  return std::optional<standards::Decimal>(*d);
}

std::string joined(const std::vector<aqi::Pollutant>& ps) {
  std::string s;
  for (aqi::Pollutant p : ps) {
    if (!s.empty()) s += ';';
    s += aqi::pollutant_name(p);
  }
  return s;
}

class AqiAssessor final : public Assessor {
 public:
  AqiAssessor(aqi::Report report, std::optional<aqi::Standard> fixed)
      : report_(report), fixed_(fixed) {}

  std::vector<std::string> columns(const std::vector<std::string>& header) const override {
    std::vector<std::string> out = {"aqi", "level", "category", "primary_pollutants",
                                    "exceeding_pollutants"};
    for (const Column& col : kColumns) {
      for (const auto& h : header) {
        if (h == col.name) out.push_back(std::string("iaqi_") + col.name);
      }
    }
    out.push_back("standard");
    return out;
  }

  core::Result<std::vector<std::string>> assess(const CsvRow& row) const override {
    aqi::Concentrations c;
    for (const Column& col : kColumns) {
      auto v = decimal_cell(row, col.name);
      if (!v) return core::fail(v.error());
      c[col.pollutant] = *v;
    }
    if (report_ == aqi::Report::kHourly) {
      auto v = decimal_cell(row, "so2_24h");
      if (!v) return core::fail(v.error());
      c.so2_24h = *v;
    }
    auto standard = standard_for(row);
    if (!standard) return core::fail(standard.error());

    const aqi::Result r = aqi::evaluate(c, report_, *standard);
    std::vector<std::string> out;
    out.push_back(r.aqi ? std::to_string(*r.aqi) : "NA");
    out.push_back(r.level ? std::string(r.level->roman) : "");
    out.push_back(r.level ? std::string(r.level->category) : "");
    out.push_back(joined(r.primary));
    out.push_back(joined(r.exceeding));
    for (const Column& col : kColumns) {
      if (!row.has_column(col.name)) continue;
      const auto v = r.iaqi_of(col.pollutant);
      out.push_back(v ? std::to_string(*v) : (c[col.pollutant] ? "NA" : ""));
    }
    out.push_back(std::string(aqi::standard_code(*standard)));
    return out;
  }

 private:
  core::Result<aqi::Standard> standard_for(const CsvRow& row) const {
    if (fixed_) return *fixed_;
    const auto cell = row.get("time");
    if (!cell) {
      return core::fail(core::Error{
          "bad_value", "column time: empty; --standard auto needs the time of each row"});
    }
    const auto t = core::parse_iso8601(*cell);
    if (!t) {
      return core::fail(core::Error{
          "bad_value", "column time: '" + std::string(*cell) + "' is not an ISO 8601 time"});
    }
    std::int64_t ms =
        core::to_unix_ms(t->civil, t->offset_seconds.value_or(core::kChinaUtcOffsetSeconds));
    if (report_ == aqi::Report::kHourly) ms -= 3600 * 1000;  // the hour it ends → its start
    const core::CivilTime beijing = core::civil_from_unix_ms(ms, core::kChinaUtcOffsetSeconds);
    return aqi::china_standard_for(standards::date_of(beijing));
  }

  aqi::Report report_;
  std::optional<aqi::Standard> fixed_;
};

}  // namespace

core::Result<std::unique_ptr<Assessor>> make_aqi_assessor(const AssessOptions& options) {
  if (auto ok = check_options(options, {"mode", "standard"}); !ok) return core::fail(ok.error());
  const auto mode = options.find("mode");
  if (mode == options.end() || (mode->second != "hourly" && mode->second != "daily")) {
    return core::fail(core::Error{"bad_option", "--mode hourly|daily is required"});
  }
  std::optional<aqi::Standard> fixed;
  const auto standard = options.find("standard");
  if (standard != options.end() && standard->second != "auto") {
    fixed = aqi::parse_standard(standard->second);
    if (!fixed) {
      return core::fail(core::Error{"bad_option",
                                    "--standard must be auto, HJ633-2012, "
                                    "HJ633-2026 or US-EPA-2024, not '" +
                                        standard->second + "'"});
    }
  }
  const aqi::Report report = mode->second == "hourly" ? aqi::Report::kHourly : aqi::Report::kDaily;
  return std::unique_ptr<Assessor>(std::make_unique<AqiAssessor>(report, fixed));
}

}  // namespace ecomon::app
