#include "app/csv.h"

namespace ecomon::app {

core::Result<std::optional<std::vector<std::string>>> read_csv_record(std::istream& in) {
  std::vector<std::string> fields;
  std::string field;
  bool in_quotes = false;
  bool any = false;
  int c;
  while ((c = in.get()) != EOF) {
    any = true;
    const char ch = static_cast<char>(c);
    if (in_quotes) {
      if (ch == '"') {
        if (in.peek() == '"') {
          in.get();
          field += '"';
        } else {
          in_quotes = false;
        }
      } else {
        field += ch;
      }
      continue;
    }
    if (ch == '"') {
      in_quotes = true;
    } else if (ch == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (ch == '\n') {
      if (!field.empty() && field.back() == '\r') field.pop_back();
      fields.push_back(std::move(field));
      return std::optional<std::vector<std::string>>(std::move(fields));
    } else {
      field += ch;
    }
  }
  if (in_quotes) return core::fail(core::Error{"bad_csv", "a quoted field is not closed"});
  if (!any) return std::optional<std::vector<std::string>>();
  if (!field.empty() && field.back() == '\r') field.pop_back();
  fields.push_back(std::move(field));
  return std::optional<std::vector<std::string>>(std::move(fields));
}

void write_csv_record(std::ostream& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out << ',';
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\r\n") == std::string::npos) {
      out << f;
      continue;
    }
    out << '"';
    for (char ch : f) {
      if (ch == '"') out << '"';
      out << ch;
    }
    out << '"';
  }
  out << '\n';
}

namespace {
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

std::optional<std::string_view> CsvRow::get(std::string_view column) const {
  for (std::size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] != column) continue;
    if (i >= fields_.size()) return std::nullopt;
    const std::string_view v = trim(fields_[i]);
    if (v.empty()) return std::nullopt;
    return v;
  }
  return std::nullopt;
}

bool CsvRow::has_column(std::string_view column) const {
  for (const auto& h : header_) {
    if (h == column) return true;
  }
  return false;
}

}  // namespace ecomon::app
