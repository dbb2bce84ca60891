// load_registry: the registry directory's CSV files → a Registry snapshot.
//
// The CSV reader is written here rather than shared with app/csv.h because registry may not
// include app (layer rules); it is ~100 lines and also has to say where in a file a problem is,
// which is the point of this loader: every error names the file, the line and the column.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "core/civil_time.h"
#include "core/result.h"
#include "registry/checks.h"
#include "registry/registry.h"

namespace ecomon::registry {

namespace {

// Registry files are written by people, yet still bounded: 64 MiB is several hundred thousand
// rows, far beyond a province's network, and keeps a wrong path (a database file) from being
// read into memory.
constexpr std::uintmax_t kMaxFileBytes = 64u << 20;

// Columns every file may carry for people and that the loader ignores: where a row comes from
// and remarks.
constexpr std::string_view kCommentColumns[] = {"source", "note"};

core::Unexpected<core::Error> registry_error(std::string detail) {
  return core::fail(core::Error{"bad_registry", std::move(detail)});
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. A registry typed in
// a Chinese spreadsheet and saved as GBK fails here instead of storing mojibake names.
bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

struct Record {
  std::vector<std::string> fields;
  std::size_t line = 0;  // the physical line the record starts on (1-based)
};

// RFC 4180 records: `,` between fields, `"` around a field that holds `,`, `"` or a line end,
// `""` for a quote inside one; CR LF, LF or a lone CR end a record; a UTF-8 BOM at the start is
// skipped; blank lines are skipped.
class CsvReader {
 public:
  CsvReader(std::string_view text, std::string file) : text_(text), file_(std::move(file)) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
  }

  // Names columns in errors once the header is known ("column lon" rather than "column 14").
  void set_header(const std::vector<std::string>& header) { header_ = header; }

  // The next record, false at the end of the input.
  core::Result<bool> next(Record& out) {
    while (pos_ < text_.size()) {
      out.fields.clear();
      out.line = line_;
      bool quoted_any = false;
      for (;;) {
        const std::size_t column = out.fields.size();
        std::string field;
        // pos_ may be at the end: "a,b," ends with an empty field.
        if (pos_ < text_.size() && text_[pos_] == '"') {
          quoted_any = true;
          const std::size_t open_line = line_;
          ++pos_;
          for (;;) {
            if (pos_ >= text_.size()) {
              return error(open_line, column, "the quoted field is not closed");
            }
            const char c = text_[pos_++];
            if (c == '"') {
              if (pos_ < text_.size() && text_[pos_] == '"') {
                field += '"';
                ++pos_;
                continue;
              }
              break;
            }
            if (c == '\n' || (c == '\r' && (pos_ >= text_.size() || text_[pos_] != '\n'))) {
              ++line_;
            }
            field += c;
          }
          if (pos_ < text_.size() && !is_separator(text_[pos_])) {
            return error(line_, column, "text after the closing quote");
          }
        } else {
          while (pos_ < text_.size() && !is_separator(text_[pos_])) {
            if (text_[pos_] == '"') {
              return error(line_, column,
                           "a quote inside an unquoted field; quote the whole field and write "
                           "the quote twice (\"\")");
            }
            field += text_[pos_++];
          }
        }
        if (!is_valid_utf8(field)) {
          return error(line_, column, "not valid UTF-8 (save the file as UTF-8, not GBK)");
        }
        out.fields.push_back(std::move(field));
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
        if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
        ++line_;
        break;
      }
      if (!quoted_any && out.fields.size() == 1 && trim(out.fields[0]).empty()) continue;
      return true;
    }
    return false;
  }

  std::string column_label(std::size_t column) const {
    return column < header_.size() && !header_[column].empty() ? header_[column]
                                                               : std::to_string(column + 1);
  }

 private:
  static bool is_separator(char c) { return c == ',' || c == '\n' || c == '\r'; }

  core::Unexpected<core::Error> error(std::size_t line, std::size_t column,
                                      std::string_view message) const {
    return registry_error(file_ + " line " + std::to_string(line) + " column " +
                          column_label(column) + ": " + std::string(message));
  }

  std::string_view text_;
  std::string file_;
  std::vector<std::string> header_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

// The columns a file must have and may have; `source` and `note` are always allowed.
struct FileSpec {
  std::string_view name;
  std::span<const std::string_view> required;
  std::span<const std::string_view> optional;
};

struct Table {
  std::string file;
  std::vector<std::string> header;
  std::map<std::string, std::size_t, std::less<>> columns;
  std::vector<Record> rows;
};

class Row {
 public:
  Row(const Table& table, const Record& record) : table_(table), record_(record) {}

  // The trimmed cell of `column`; empty when the file has no such column.
  std::string_view get(std::string_view column) const {
    const auto it = table_.columns.find(column);
    if (it == table_.columns.end()) return {};
    return trim(record_.fields[it->second]);
  }
  std::size_t line() const { return record_.line; }

  core::Unexpected<core::Error> error(std::string_view column, std::string_view message) const {
    return registry_error(table_.file + " line " + std::to_string(record_.line) + " column " +
                          std::string(column) + ": " + std::string(message));
  }

 private:
  const Table& table_;
  const Record& record_;
};

// Reads and checks the header of `dir/spec.name`. A missing file is an empty table unless
// `must_exist`.
core::Result<Table> read_table(const std::filesystem::path& dir, const FileSpec& spec,
                               bool must_exist) {
  Table table;
  table.file = std::string(spec.name);
  const std::filesystem::path path = dir / std::filesystem::path(std::string(spec.name));
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (must_exist) {
      return registry_error(table.file + ": not found in " + dir.string() +
                            " (a registry needs at least its sites)");
    }
    return table;
  }
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return registry_error(table.file + ": cannot read: " + ec.message());
  if (size > kMaxFileBytes) {
    return registry_error(table.file + ": " + std::to_string(size) + " bytes, more than the " +
                          std::to_string(kMaxFileBytes) + " a registry file may have");
  }
  std::ifstream in(path, std::ios::binary);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!in || !in.read(text.data(), static_cast<std::streamsize>(text.size()))) {
    return registry_error(table.file + ": cannot read " + path.string());
  }

  CsvReader reader(text, table.file);
  Record record;
  auto got = reader.next(record);
  if (!got) return core::fail(got.error());
  if (!*got) return registry_error(table.file + " line 1: the file is empty; it needs a header");
  for (std::size_t i = 0; i < record.fields.size(); ++i) {
    const std::string name(trim(record.fields[i]));
    const auto where = table.file + " line 1 column " + std::to_string(i + 1);
    if (name.empty()) return registry_error(where + ": the column has no name");
    const bool known =
        std::find(spec.required.begin(), spec.required.end(), name) != spec.required.end() ||
        std::find(spec.optional.begin(), spec.optional.end(), name) != spec.optional.end() ||
        std::find(std::begin(kCommentColumns), std::end(kCommentColumns), name) !=
            std::end(kCommentColumns);
    if (!known) {
      std::string list;
      for (const auto group : {spec.required, spec.optional}) {
        for (std::string_view c : group) list += (list.empty() ? "" : " ") + std::string(c);
      }
      return registry_error(table.file + " line 1 column " + name +
                            ": unknown column (known: " + list + ", source, note)");
    }
    if (!table.columns.emplace(name, i).second) {
      return registry_error(table.file + " line 1 column " + name + ": appears twice");
    }
    table.header.push_back(name);
  }
  for (std::string_view name : spec.required) {
    if (!table.columns.contains(name)) {
      return registry_error(table.file + " line 1 column " + std::string(name) +
                            ": missing from the header");
    }
  }
  reader.set_header(table.header);
  for (;;) {
    got = reader.next(record);
    if (!got) return core::fail(got.error());
    if (!*got) break;
    const std::size_t n = record.fields.size();
    if (n < table.header.size()) {
      return registry_error(table.file + " line " + std::to_string(record.line) + " column " +
                            table.header[n] + ": missing; the row has " + std::to_string(n) +
                            " fields, the header " + std::to_string(table.header.size()));
    }
    if (n > table.header.size()) {
      return registry_error(table.file + " line " + std::to_string(record.line) + " column " +
                            std::to_string(table.header.size() + 1) + ": the row has " +
                            std::to_string(n) + " fields, the header " +
                            std::to_string(table.header.size()) +
                            " (a comma in a field that is not quoted?)");
    }
    table.rows.push_back(std::move(record));
  }
  return table;
}

std::optional<double> parse_double(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// Spreadsheets write booleans many ways; all of these are unambiguous.
std::optional<bool> parse_bool(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true" || lower == "yes" || lower == "y" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "n" || lower == "0") return false;
  return std::nullopt;
}

// An effective-range bound: an ISO 8601 time with its UTC offset, or a date meaning 00:00
// Beijing time that day. A time without an offset is refused: the file would not say which
// zone it meant, and a wrong guess moves a device swap by hours.
std::optional<std::int64_t> parse_instant(std::string_view text, std::string& why) {
  const auto parsed = core::parse_iso8601(text);
  if (!parsed) {
    why = "'" + std::string(text) + "' is not an ISO 8601 date or time";
    return std::nullopt;
  }
  if (text.size() == 10) return core::to_unix_ms(parsed->civil, core::kChinaUtcOffsetSeconds);
  if (!parsed->offset_seconds) {
    why = "'" + std::string(text) +
          "' has no UTC offset; write e.g. 2020-01-01T08:00:00+08:00, or a date (00:00 Beijing "
          "time)";
    return std::nullopt;
  }
  return core::to_unix_ms(parsed->civil, *parsed->offset_seconds);
}

// Reads the optional `from` and `until` columns of `row` (empty: since always / still in force).
core::Result<std::pair<std::int64_t, std::int64_t>> parse_range(const Row& row) {
  std::int64_t from = INT64_MIN;
  std::int64_t until = INT64_MAX;
  std::string why;
  if (const auto text = row.get("from"); !text.empty()) {
    const auto ms = parse_instant(text, why);
    if (!ms) return row.error("from", why);
    from = *ms;
  }
  if (const auto text = row.get("until"); !text.empty()) {
    const auto ms = parse_instant(text, why);
    if (!ms) return row.error("until", why);
    until = *ms;
  }
  if (auto p = internal::check_range(from, until)) return row.error(p->field, p->message);
  return std::pair{from, until};
}

constexpr std::string_view kEnterprisesRequired[] = {"code", "name"};
constexpr std::string_view kEnterprisesOptional[] = {"county"};
constexpr FileSpec kEnterprisesFile{"enterprises.csv", kEnterprisesRequired, kEnterprisesOptional};

constexpr std::string_view kSitesRequired[] = {"code", "name", "kind"};
constexpr std::string_view kSitesOptional[] = {
    "level",     "air_role", "waterbody",   "river", "province", "province_code", "city",
    "city_code", "county",   "county_code", "lon",   "lat",      "department",    "provisional"};
constexpr FileSpec kSitesFile{"sites.csv", kSitesRequired, kSitesOptional};

constexpr std::string_view kDevicesRequired[] = {"mn", "st"};
constexpr std::string_view kDevicesOptional[] = {
    "password",   "version", "crc",        "sm4_key_hex", "sm4_wire_form", "accept_length_mismatch",
    "interval_s", "pending", "enterprise", "outlet"};
constexpr FileSpec kDevicesFile{"devices.csv", kDevicesRequired, kDevicesOptional};

constexpr std::string_view kFactorsRequired[] = {"code", "name_zh"};
constexpr std::string_view kFactorsOptional[] = {"name_en", "unit", "reference_state", "decimals",
                                                 "emission_unit"};
constexpr FileSpec kFactorsFile{"factors.csv", kFactorsRequired, kFactorsOptional};

constexpr std::string_view kAssignmentsRequired[] = {"mn", "site"};
constexpr std::string_view kRangeColumns[] = {"from", "until"};
constexpr FileSpec kAssignmentsFile{"assignments.csv", kAssignmentsRequired, kRangeColumns};

constexpr std::string_view kSettingsRequired[] = {"site", "key", "value"};
constexpr FileSpec kSettingsFile{"settings.csv", kSettingsRequired, kRangeColumns};

constexpr std::string_view kOutletsRequired[] = {"site", "enterprise"};
constexpr std::string_view kOutletsOptional[] = {"permit_code"};
constexpr FileSpec kOutletsFile{"outlets.csv", kOutletsRequired, kOutletsOptional};

constexpr std::string_view kPermitsRequired[] = {"outlet", "factor"};
constexpr std::string_view kPermitsOptional[] = {
    "limit",          "unit", "standard", "converted", "reference_o2_pct",
    "annual_total_t", "from", "until"};
constexpr FileSpec kPermitsFile{"permits.csv", kPermitsRequired, kPermitsOptional};

// Fills one Registry file by file; each step checks the references to the files before it.
class Loader {
 public:
  Loader(std::filesystem::path dir, const SecretCodec* secrets)
      : dir_(std::move(dir)), secrets_(secrets) {}

  core::Result<void> enterprises() {
    auto table = read_table(dir_, kEnterprisesFile, false);
    if (!table) return core::fail(table.error());
    std::map<std::string, std::size_t, std::less<>> seen;
    for (const Record& record : table->rows) {
      const Row row(*table, record);
      Enterprise e{std::string(row.get("code")), std::string(row.get("name")),
                   std::string(row.get("county"))};
      if (auto p = internal::check_enterprise(e)) return row.error(p->field, p->message);
      if (auto r = unique(seen, e.code, row, "code"); !r) return r;
      registry_.mutable_enterprises().push_back(std::move(e));
    }
    return {};
  }

  core::Result<void> sites() {
    auto table = read_table(dir_, kSitesFile, true);
    if (!table) return core::fail(table.error());
    std::map<std::string, std::size_t, std::less<>> seen;
    for (const Record& record : table->rows) {
      const Row row(*table, record);
      Site s;
      s.code = row.get("code");
      s.name = row.get("name");
      s.kind = row.get("kind");
      s.level = row.get("level");
      s.air_role = row.get("air_role");
      s.waterbody = row.get("waterbody");
      s.river = row.get("river");
      s.place.province = row.get("province");
      s.place.province_code = row.get("province_code");
      s.place.city = row.get("city");
      s.place.city_code = row.get("city_code");
      s.place.county = row.get("county");
      s.place.county_code = row.get("county_code");
      s.department = row.get("department");
      for (auto [column, out] : {std::pair{"lon", &s.lon}, std::pair{"lat", &s.lat}}) {
        const auto text = row.get(column);
        if (text.empty()) continue;
        *out = parse_double(text);
        if (!*out) return row.error(column, "'" + std::string(text) + "' is not a number");
      }
      if (const auto text = row.get("provisional"); !text.empty()) {
        const auto b = parse_bool(text);
        if (!b) return row.error("provisional", "'" + std::string(text) + "' is not true/false");
        s.provisional = *b;
      }
      if (auto p = internal::check_site(s)) return row.error(p->field, p->message);
      if (auto r = unique(seen, s.code, row, "code"); !r) return r;
      registry_.mutable_sites().push_back(std::move(s));
    }
    registry_.reindex();
    return {};
  }

  core::Result<void> devices() {
    auto table = read_table(dir_, kDevicesFile, false);
    if (!table) return core::fail(table.error());
    std::map<std::string, std::size_t, std::less<>> seen;
    for (const Record& record : table->rows) {
      const Row row(*table, record);
      Device d;
      d.mn = row.get("mn");
      d.st = row.get("st");
      d.password = row.get("password");
      d.enterprise = row.get("enterprise");
      d.outlet = row.get("outlet");
      if (const auto text = row.get("version"); !text.empty()) {
        const auto v = parse_int(text);
        if (!v) return row.error("version", "'" + std::string(text) + "' is not a number");
        d.profile.version = *v;
      }
      if (const auto text = row.get("crc"); !text.empty()) d.profile.crc = text;
      d.profile.sm4_key_hex = row.get("sm4_key_hex");
      if (secrets_ && secrets_->is_sealed && secrets_->is_sealed(d.profile.sm4_key_hex)) {
        auto open = secrets_->open(d.profile.sm4_key_hex);
        if (!open) return row.error("sm4_key_hex", open.error().detail);
        d.profile.sm4_key_hex = std::move(*open);
      }
      if (const auto text = row.get("sm4_wire_form"); !text.empty()) {
        d.profile.sm4_wire_form = text;
      }
      for (auto [column, out] :
           {std::pair{"accept_length_mismatch", &d.profile.accept_length_mismatch},
            std::pair{"pending", &d.pending}}) {
        const auto text = row.get(column);
        if (text.empty()) continue;
        const auto b = parse_bool(text);
        if (!b) return row.error(column, "'" + std::string(text) + "' is not true/false");
        *out = *b;
      }
      if (const auto text = row.get("interval_s"); !text.empty()) {
        const auto v = parse_int(text);
        if (!v) return row.error("interval_s", "'" + std::string(text) + "' is not a number");
        d.interval_s = *v;
      }
      if (auto p = internal::check_device(d)) return row.error(p->field, p->message);
      if (!d.enterprise.empty() &&
          std::none_of(registry_.enterprises().begin(), registry_.enterprises().end(),
                       [&](const Enterprise& e) { return e.code == d.enterprise; })) {
        return row.error("enterprise", "no enterprise '" + d.enterprise + "' in enterprises.csv");
      }
      if (auto r = unique(seen, d.mn, row, "mn"); !r) return r;
      registry_.mutable_devices().push_back(std::move(d));
    }
    registry_.reindex();
    return {};
  }

  core::Result<void> factors() {
    auto table = read_table(dir_, kFactorsFile, false);
    if (!table) return core::fail(table.error());
    std::map<std::string, std::size_t, std::less<>> seen;
    for (const Record& record : table->rows) {
      const Row row(*table, record);
      Factor f;
      f.code = row.get("code");
      f.name_zh = row.get("name_zh");
      f.name_en = row.get("name_en");
      f.unit = row.get("unit");
      f.reference_state = row.get("reference_state");
      f.emission_unit = row.get("emission_unit");
      if (const auto text = row.get("decimals"); !text.empty()) {
        const auto v = parse_int(text);
        if (!v) return row.error("decimals", "'" + std::string(text) + "' is not a number");
        f.decimals = *v;
      }
      if (auto p = internal::check_factor(f)) return row.error(p->field, p->message);
      if (auto r = unique(seen, f.code, row, "code"); !r) return r;
      registry_.mutable_factors().push_back(std::move(f));
    }
    return {};
  }

  core::Result<void> assignments() {
    auto table = read_table(dir_, kAssignmentsFile, false);
    if (!table) return core::fail(table.error());
    std::map<std::string, std::vector<std::pair<Assignment, std::size_t>>, std::less<>> by_mn;
    for (const Record& record : table->rows) {
      const Row row(*table, record);
      Assignment a;
      a.mn = row.get("mn");
      a.site = row.get("site");
      if (a.mn.empty()) return row.error("mn", "is empty");
      if (a.site.empty()) return row.error("site", "is empty");
      if (registry_.find_device(a.mn) == nullptr) {
        return row.error("mn", "no device '" + a.mn + "' in devices.csv");
      }
      if (registry_.find_site(a.site) == nullptr) {
        return row.error("site", "no site '" + a.site + "' in sites.csv");
      }
      auto range = parse_range(row);
      if (!range) return core::fail(range.error());
      std::tie(a.from_ms, a.until_ms) = *range;
      auto& earlier = by_mn[a.mn];
      for (const auto& [other, other_line] : earlier) {
        if (internal::overlaps(a.from_ms, a.until_ms, other.from_ms, other.until_ms)) {
          return row.error("from", "device " + a.mn + " " +
                                       internal::describe_range(a.from_ms, a.until_ms) +
                                       " overlaps its assignment to " + other.site + " " +
                                       internal::describe_range(other.from_ms, other.until_ms) +
                                       " on line " + std::to_string(other_line));
        }
      }
      earlier.emplace_back(a, row.line());
      registry_.mutable_assignments().push_back(std::move(a));
    }
    return {};
  }

  core::Result<void> settings() {
    auto table = read_table(dir_, kSettingsFile, false);
    if (!table) return core::fail(table.error());
    std::map<std::pair<std::string, std::string>, std::vector<std::pair<SiteSetting, std::size_t>>>
        by_key;
    for (const Record& record : table->rows) {
      const Row row(*table, record);
      SiteSetting s;
      s.site = row.get("site");
      s.key = row.get("key");
      s.value = row.get("value");
      if (s.site.empty()) return row.error("site", "is empty");
      if (registry_.find_site(s.site) == nullptr) {
        return row.error("site", "no site '" + s.site + "' in sites.csv");
      }
      if (s.key.empty()) return row.error("key", "is empty");
      if (s.value.empty()) {
        return row.error("value", "is empty (end a setting with `until` instead)");
      }
      auto range = parse_range(row);
      if (!range) return core::fail(range.error());
      std::tie(s.from_ms, s.until_ms) = *range;
      // Two values in force at once would make setting() depend on the row order.
      auto& earlier = by_key[{s.site, s.key}];
      for (const auto& [other, other_line] : earlier) {
        if (internal::overlaps(s.from_ms, s.until_ms, other.from_ms, other.until_ms)) {
          return row.error("from", s.site + " " + s.key + " " +
                                       internal::describe_range(s.from_ms, s.until_ms) +
                                       " overlaps the value '" + other.value + "' " +
                                       internal::describe_range(other.from_ms, other.until_ms) +
                                       " on line " + std::to_string(other_line));
        }
      }
      earlier.emplace_back(s, row.line());
      registry_.mutable_settings().push_back(std::move(s));
    }
    return {};
  }

  core::Result<void> outlets() {
    auto table = read_table(dir_, kOutletsFile, false);
    if (!table) return core::fail(table.error());
    std::map<std::string, std::size_t, std::less<>> seen;
    for (const Record& record : table->rows) {
      const Row row(*table, record);
      Outlet o{std::string(row.get("site")), std::string(row.get("enterprise")),
               std::string(row.get("permit_code"))};
      if (auto p = internal::check_outlet(o, registry_.find_site(o.site))) {
        return row.error(p->field, p->message);
      }
      if (registry_.find_enterprise(o.enterprise) == nullptr) {
        return row.error("enterprise", "no enterprise '" + o.enterprise + "' in enterprises.csv");
      }
      if (auto r = unique(seen, o.site, row, "site"); !r) return r;
      registry_.mutable_outlets().push_back(std::move(o));
    }
    return {};
  }

  core::Result<void> permits() {
    auto table = read_table(dir_, kPermitsFile, false);
    if (!table) return core::fail(table.error());
    std::map<std::pair<std::string, std::string>, std::vector<std::pair<Permit, std::size_t>>>
        by_key;
    for (const Record& record : table->rows) {
      const Row row(*table, record);
      Permit p;
      p.outlet = row.get("outlet");
      p.factor = row.get("factor");
      p.unit = row.get("unit");
      p.standard = row.get("standard");
      if (!p.outlet.empty() && registry_.find_outlet(p.outlet) == nullptr) {
        return row.error("outlet", "no outlet '" + p.outlet + "' in outlets.csv");
      }
      for (const auto& [column, target] :
           {std::pair<std::string_view, std::optional<double>*>{"limit", &p.limit},
            {"reference_o2_pct", &p.reference_o2_pct},
            {"annual_total_t", &p.annual_total_t}}) {
        const auto text = row.get(column);
        if (text.empty()) continue;
        const auto v = parse_double(text);
        if (!v) return row.error(column, "'" + std::string(text) + "' is not a number");
        *target = *v;
      }
      if (const auto text = row.get("converted"); !text.empty()) {
        const auto b = parse_bool(text);
        if (!b) return row.error("converted", "'" + std::string(text) + "' is not true or false");
        p.converted = *b;
      }
      if (auto problem = internal::check_permit(p)) {
        return row.error(problem->field, problem->message);
      }
      auto range = parse_range(row);
      if (!range) return core::fail(range.error());
      std::tie(p.from_ms, p.until_ms) = *range;
      // Two permits in force at once would make permit() depend on the row order.
      auto& earlier = by_key[{p.outlet, p.factor}];
      for (const auto& [other, other_line] : earlier) {
        if (internal::overlaps(p.from_ms, p.until_ms, other.from_ms, other.until_ms)) {
          return row.error("from", p.outlet + " " + p.factor + " " +
                                       internal::describe_range(p.from_ms, p.until_ms) +
                                       " overlaps the permit on line " +
                                       std::to_string(other_line) + " " +
                                       internal::describe_range(other.from_ms, other.until_ms));
        }
      }
      earlier.emplace_back(p, row.line());
      registry_.mutable_permits().push_back(std::move(p));
    }
    return {};
  }

  Registry take() {
    registry_.reindex();
    return std::move(registry_);
  }

 private:
  static core::Result<void> unique(std::map<std::string, std::size_t, std::less<>>& seen,
                                   const std::string& code, const Row& row,
                                   std::string_view column) {
    const auto [it, inserted] = seen.emplace(code, row.line());
    if (!inserted) {
      return row.error(column, "'" + code + "' appears twice (first on line " +
                                   std::to_string(it->second) + ")");
    }
    return {};
  }

  std::filesystem::path dir_;
  const SecretCodec* secrets_ = nullptr;
  Registry registry_;
};

}  // namespace

core::Result<Registry> load_registry(const std::string& dir) {
  return load_registry(dir, SecretCodec{});
}

core::Result<Registry> load_registry(const std::string& dir, const SecretCodec& secrets) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return registry_error("registry directory '" + dir + "' does not exist");
  }
  Loader loader(dir, &secrets);
  // Order matters: devices name enterprises; assignments and settings name sites and devices;
  // outlets name sites and enterprises; permits name outlets.
  for (auto step : {&Loader::enterprises, &Loader::sites, &Loader::devices, &Loader::factors,
                    &Loader::assignments, &Loader::settings, &Loader::outlets, &Loader::permits}) {
    if (auto r = (loader.*step)(); !r) return core::fail(r.error());
  }
  return loader.take();
}

}  // namespace ecomon::registry
