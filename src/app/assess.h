// `ecomon assess KIND [--option VALUE]...`: the standards engine over CSV files.
//
// CSV on stdin (UTF-8, header, empty cell = missing), CSV on stdout: the input columns first, then
// the result columns of the assessor; messages on stderr, each naming the row (line) and column.
// A bad row gets empty result cells and an `error` column message; it never stops the others.
//
// Each kind is an Assessor made by a factory from the options; the factories are listed in
// assess.cpp. The same assessors run the data-driven case files of tests/standards_cases_test.cpp.
#pragma once

#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/csv.h"
#include "core/result.h"
#include "standards/edition.h"
#include "standards/water.h"

namespace ecomon::app {

using AssessOptions = std::map<std::string, std::string>;  // "--mode hourly" → {"mode","hourly"}

class Assessor {
 public:
  virtual ~Assessor() = default;
  // The result columns for an input with these columns (the same for every row).
  virtual std::vector<std::string> columns(const std::vector<std::string>& input_header) const = 0;
  // The result cells of one row, in the order of columns(); "" for a missing result. An error
  // (reason "bad_value", detail naming the column) leaves the row's results empty.
  virtual core::Result<std::vector<std::string>> assess(const CsvRow& row) const = 0;
};

using AssessorFactory = core::Result<std::unique_ptr<Assessor>> (*)(const AssessOptions& options);

// Factories, one per kind (assess_<kind>.cpp).
core::Result<std::unique_ptr<Assessor>> make_aqi_assessor(const AssessOptions& options);
core::Result<std::unique_ptr<Assessor>> make_water_assessor(const AssessOptions& options);
core::Result<std::unique_ptr<Assessor>> make_groundwater_assessor(const AssessOptions& options);
core::Result<std::unique_ptr<Assessor>> make_noise_assessor(const AssessOptions& options);
core::Result<std::unique_ptr<Assessor>> make_soil_assessor(const AssessOptions& options);
core::Result<std::unique_ptr<Assessor>> make_ecology_assessor(const AssessOptions& options);

// The assessor of `kind` ("aqi", "water", ...) or an error naming the known kinds / bad option.
core::Result<std::unique_ptr<Assessor>> make_assessor(const std::string& kind,
                                                      const AssessOptions& options);
std::vector<std::string> assessor_kinds();

// Reads CSV from `in`, writes CSV to `out`, messages to `err`. Returns the exit status: 0, or 2
// when the input is not CSV at all (no header, unterminated quote).
int run_assess(const Assessor& assessor, std::istream& in, std::ostream& out, std::ostream& err);

// Helpers for assessors: a cell as a finite number, or an error naming the column.
core::Result<std::optional<double>> number_cell(const CsvRow& row, std::string_view column);
// Rejects options the assessor does not know, naming them.
core::Result<void> check_options(const AssessOptions& options,
                                 const std::vector<std::string>& known);
// The row's date column (YYYY-MM-DD, optionally with a time, which is ignored) as a standards
// date, nullopt when the cell is empty, or an error naming the column.
core::Result<std::optional<standards::Date>> date_cell(const CsvRow& row,
                                                       std::string_view column = "date");
std::string format_date(const standards::Date& d);  // "2026-03-01"
// An analytical result: a number, a non-detect (ND, 未检出, <0.01, 0.01L), or nullopt when empty.
core::Result<std::optional<standards::Reading>> reading_cell(const CsvRow& row,
                                                             std::string_view column);
// "%.*f" without trailing zeros ("1.40" → "1.4", "2" → "2").
std::string format_decimal(double value, int max_decimals);

}  // namespace ecomon::app
