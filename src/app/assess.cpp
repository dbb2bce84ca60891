#include "app/assess.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <istream>
#include <ostream>

#include "core/civil_time.h"

namespace ecomon::app {

namespace {

struct Kind {
  const char* name;
  AssessorFactory factory;
};

constexpr Kind kKinds[] = {
    {"aqi", make_aqi_assessor},
    {"water", make_water_assessor},
    {"groundwater", make_groundwater_assessor},
    {"noise", make_noise_assessor},
    {"soil", make_soil_assessor},
    {"ecology", make_ecology_assessor},
};

}  // namespace

std::vector<std::string> assessor_kinds() {
  std::vector<std::string> out;
  for (const Kind& k : kKinds) out.emplace_back(k.name);
  return out;
}

core::Result<std::unique_ptr<Assessor>> make_assessor(const std::string& kind,
                                                      const AssessOptions& options) {
  for (const Kind& k : kKinds) {
    if (kind == k.name) return k.factory(options);
  }
  std::string known;
  for (const Kind& k : kKinds) known += std::string(known.empty() ? "" : ", ") + k.name;
  return core::fail(core::Error{"bad_kind", "unknown kind '" + kind + "' (known: " + known + ")"});
}

core::Result<void> check_options(const AssessOptions& options,
                                 const std::vector<std::string>& known) {
  for (const auto& [key, value] : options) {
    bool ok = false;
    for (const auto& k : known) ok |= k == key;
    if (!ok) return core::fail(core::Error{"bad_option", "unknown option --" + key});
  }
  return {};
}

core::Result<std::optional<double>> number_cell(const CsvRow& row, std::string_view column) {
  const auto cell = row.get(column);
  if (!cell) return std::optional<double>();
  std::string_view s = *cell;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) {
    return core::fail(core::Error{"bad_value", "column " + std::string(column) + ": '" +
                                                   std::string(*cell) + "' is not a number"});
  }
  return std::optional<double>(v);
}

core::Result<std::optional<standards::Date>> date_cell(const CsvRow& row, std::string_view column) {
  const auto cell = row.get(column);
  if (!cell) return std::optional<standards::Date>();
  const auto t = core::parse_iso8601(*cell);
  if (!t) {
    return core::fail(core::Error{"bad_value", "column " + std::string(column) + ": '" +
                                                   std::string(*cell) +
                                                   "' is not a date (YYYY-MM-DD)"});
  }
  return std::optional<standards::Date>(standards::date_of(t->civil));
}

core::Result<std::optional<standards::Reading>> reading_cell(const CsvRow& row,
                                                             std::string_view column) {
  const auto cell = row.get(column);
  if (!cell) return std::optional<standards::Reading>();
  if (auto nd = standards::parse_non_detect(*cell)) return std::optional<standards::Reading>(*nd);
  auto value = number_cell(row, column);
  if (!value) return core::fail(value.error());
  return std::optional<standards::Reading>(standards::Reading::measured(**value));
}

std::string format_date(const standards::Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

std::string format_decimal(double value, int max_decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", max_decimals, value);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

int run_assess(const Assessor& assessor, std::istream& in, std::ostream& out, std::ostream& err) {
  auto header_record = read_csv_record(in);
  if (!header_record || !*header_record) {
    err << "ecomon assess: " << (header_record ? "no header row" : header_record.error().detail)
        << "\n";
    return 2;
  }
  std::vector<std::string> header = std::move(**header_record);
  if (!header.empty() && header[0].rfind("\xEF\xBB\xBF", 0) == 0) header[0].erase(0, 3);  // BOM
  const std::vector<std::string> result_columns = assessor.columns(header);
  std::vector<std::string> out_header = header;
  out_header.insert(out_header.end(), result_columns.begin(), result_columns.end());
  out_header.push_back("error");
  write_csv_record(out, out_header);

  std::size_t line = 1, rows = 0, bad = 0;
  while (true) {
    ++line;
    auto record = read_csv_record(in);
    if (!record) {
      err << "ecomon assess: line " << line << ": " << record.error().detail << "\n";
      return 2;
    }
    if (!*record) break;
    std::vector<std::string>& fields = **record;
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    ++rows;
    const CsvRow row(header, fields, line);
    std::vector<std::string> cells = fields;
    cells.resize(header.size());
    std::string message;
    if (fields.size() != header.size()) {
      message = "has " + std::to_string(fields.size()) + " cells, the header " +
                std::to_string(header.size());
    }
    auto result = assessor.assess(row);
    if (result) {
      cells.insert(cells.end(), result->begin(), result->end());
    } else {
      cells.resize(header.size() + result_columns.size());
      message = result.error().detail;
    }
    if (!message.empty()) {
      ++bad;
      err << "ecomon assess: row at line " << line << ": " << message << "\n";
    }
    cells.push_back(message);
    write_csv_record(out, cells);
  }
  if (bad) err << "ecomon assess: " << bad << " of " << rows << " rows had errors\n";
  return 0;
}

}  // namespace ecomon::app
