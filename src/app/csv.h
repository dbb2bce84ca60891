// CSV as analysts' spreadsheets export it (RFC 4180: quoted fields, "" for a quote, CR LF or LF),
// UTF-8, with a header row. Used by `ecomon assess`. Not thread-safe; plain values.
#pragma once

#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ecomon::app {

// Splits one CSV record from `in` (which may span lines inside quotes). nullopt at end of input;
// an error for an unterminated quote.
core::Result<std::optional<std::vector<std::string>>> read_csv_record(std::istream& in);

// Writes one record, quoting the fields that need it.
void write_csv_record(std::ostream& out, const std::vector<std::string>& fields);

// One data row with access by column name.
class CsvRow {
 public:
  CsvRow(const std::vector<std::string>& header, const std::vector<std::string>& fields,
         std::size_t line)
      : header_(header), fields_(fields), line_(line) {}

  // The cell of `column`, trimmed; nullopt when the column is absent or the cell is empty
  // (an empty cell is a missing value, never 0).
  std::optional<std::string_view> get(std::string_view column) const;
  bool has_column(std::string_view column) const;
  std::size_t line() const { return line_; }

 private:
  const std::vector<std::string>& header_;
  const std::vector<std::string>& fields_;
  std::size_t line_;
};

}  // namespace ecomon::app
