#include "derive/aggregates.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "derive/feed_worker.h"
#include "derive/review.h"
#include "standards/aggregation.h"
#include "storage/sqlite/sql.h"

namespace ecomon::derive {
namespace {

namespace agg = standards::aggregation;
using Stmt = storage::sql::Statement;

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 24 * kHourMs;
constexpr const char* kCursorName = "derived";
constexpr const char* kReviewCursorName = "review";
constexpr const char* kCityPrefix = "city:";

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS derived_hours(
  site TEXT NOT NULL,
  factor TEXT NOT NULL,
  kind_source TEXT NOT NULL,
  hour_start_ms INTEGER NOT NULL,
  value REAL,
  valid INTEGER NOT NULL,
  expected INTEGER NOT NULL,
  received INTEGER NOT NULL,
  valid_count INTEGER NOT NULL,
  computed_at_ms INTEGER NOT NULL,
  PRIMARY KEY(site, factor, hour_start_ms));
CREATE TABLE IF NOT EXISTS derived_days(
  site TEXT NOT NULL,
  factor TEXT NOT NULL,
  day_start_ms INTEGER NOT NULL,
  value REAL,
  valid INTEGER NOT NULL,
  expected INTEGER NOT NULL,
  received INTEGER NOT NULL,
  valid_count INTEGER NOT NULL,
  computed_at_ms INTEGER NOT NULL,
  PRIMARY KEY(site, factor, day_start_ms));
CREATE TABLE IF NOT EXISTS derived_revisions(
  id INTEGER PRIMARY KEY,
  site TEXT NOT NULL,
  factor TEXT NOT NULL,
  period TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  old_value REAL,
  new_value REAL,
  old_valid INTEGER NOT NULL,
  new_valid INTEGER NOT NULL,
  reason TEXT NOT NULL,
  cause_sequence INTEGER NOT NULL,
  at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS derived_revisions_by_period ON derived_revisions(site, factor, start_ms);
CREATE TABLE IF NOT EXISTS derived_cursor(
  name TEXT PRIMARY KEY,
  sequence INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS derived_indices(
  site TEXT NOT NULL,
  name TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  value REAL,
  valid INTEGER NOT NULL,
  detail TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  computed_at_ms INTEGER NOT NULL,
  PRIMARY KEY(site, name, start_ms));
)sql";

// Columns added after the first release: (table, column, declaration).
constexpr std::array<std::array<const char*, 3>, 14> kAddedColumns{{
    {"derived_hours", "raw_value", "REAL"},
    {"derived_hours", "raw_valid", "INTEGER NOT NULL DEFAULT 0"},
    {"derived_hours", "created_at_ms", "INTEGER NOT NULL DEFAULT 0"},
    {"derived_days", "raw_value", "REAL"},
    {"derived_days", "raw_valid", "INTEGER NOT NULL DEFAULT 0"},
    {"derived_days", "created_at_ms", "INTEGER NOT NULL DEFAULT 0"},
    {"derived_revisions", "review_action", "INTEGER NOT NULL DEFAULT 0"},
    {"derived_revisions", "old_detail", "TEXT NOT NULL DEFAULT ''"},
    {"derived_hours", "platform_value", "REAL"},
    {"derived_hours", "platform_valid", "INTEGER NOT NULL DEFAULT 0"},
    {"derived_hours", "platform_received", "INTEGER NOT NULL DEFAULT 0"},
    {"derived_hours", "platform_valid_count", "INTEGER NOT NULL DEFAULT 0"},
    {"derived_hours", "mismatch", "INTEGER NOT NULL DEFAULT 0"},
    {"derived_revisions", "old_computed_at_ms", "INTEGER NOT NULL DEFAULT 0"},
}};

// The stored indices (aggregates.h) and their periods.
constexpr std::array<std::pair<std::string_view, Period>, 7> kIndices{{
    {"aqi_hour", Period::kHour},
    {"aqi_day", Period::kDay},
    {"o3_8h", Period::kHour},
    {"o3_8h_max", Period::kDay},
    {"pm10_24h", Period::kHour},
    {"pm25_24h", Period::kHour},
    {"water_class", Period::kHour},  // keyed by the sample's measured time
}};
constexpr const char* kWaterClass = "water_class";

// Why a touched period changed; the stronger cause wins (review over new_version over
// late_value).
enum class Cause : std::uint8_t { kNone, kLate, kNewVersion, kReview };
std::string_view cause_name(Cause c) {
  switch (c) {
    case Cause::kReview:
      return "review";
    case Cause::kNewVersion:
      return "new_version";
    default:
      return "late_value";
  }
}

struct CauseOf {
  Cause cause = Cause::kNone;
  std::uint64_t sequence = 0;  // the change-feed sequence, or the review action's id
  void add(const CauseOf& o) { add(o.cause, o.sequence); }
  void add(Cause c, std::uint64_t seq) {
    if (c >= cause && c != Cause::kNone) {
      cause = c;
      sequence = seq;
    }
  }
};

using SeriesKey = std::pair<std::string, std::string>;                 // site, factor
using PeriodKey = std::tuple<std::string, std::string, std::int64_t>;  // site, factor, start
using SampleKey = std::pair<std::string, std::int64_t>;                // site, measured time

bool is_water_item(std::string_view factor) {
  return standards::water::item_by_hj212(factor).has_value();
}

// A surface-water site's water body for GB 3838 (lakes and reservoirs as lakes); nullopt for any
// other site.
std::optional<standards::water::WaterBody> water_body_of(const registry::Registry* reg,
                                                         const std::string& site) {
  const registry::Site* s = reg ? reg->find_site(site) : nullptr;
  if (!s || s->kind != "surface_water") return std::nullopt;
  const bool lake = s->waterbody == "lake" || s->waterbody == "reservoir";
  return lake ? standards::water::WaterBody::kLake : standards::water::WaterBody::kRiver;
}

// The field of a kind that feeds an hour: hourly and minute means (Avg), real-time values (Rtd).
bool feeds_hours(const storage::Value& v) {
  switch (v.kind) {
    case storage::DataKind::kHour:
    case storage::DataKind::kMinute:
      return v.field == "Avg";
    case storage::DataKind::kRealtime:
      return v.field == "Rtd";
    default:
      return false;
  }
}

bool sample_valid(const storage::Value& v) {
  return v.number && (v.flag.empty() || v.flag == "N") &&
         (v.quality & storage::kQualityNotLatest) == 0;
}

// The platform's hour beside the device's (compute_hour).
bool same_platform(const Aggregate& a, const Aggregate& b) {
  return a.platform_value == b.platform_value && a.platform_valid == b.platform_valid &&
         a.platform_received == b.platform_received &&
         a.platform_valid_count == b.platform_valid_count && a.mismatch == b.mismatch;
}

bool same_row(const Aggregate& a, const Aggregate& b) {
  return a.value == b.value && a.valid == b.valid && a.expected == b.expected &&
         a.received == b.received && a.valid_count == b.valid_count && a.source == b.source &&
         a.raw_value == b.raw_value && a.raw_valid == b.raw_valid && same_platform(a, b);
}

// Whether what the rows that follow an hour read changed (its day, its city, the indices): not
// the platform's mean beside a device hour.
bool feeds_dependents(const Aggregate& a, const Aggregate& b) {
  return !(a.value == b.value && a.valid == b.valid && a.expected == b.expected &&
           a.received == b.received && a.valid_count == b.valid_count &&
           a.raw_value == b.raw_value && a.raw_valid == b.raw_valid);
}

// hour_mismatch as analytics/screening.h defines it, on a stored device hour: both the device's
// hour and the platform's valid (≥ hour_min_minutes valid minutes), and they differ by more than
// max(the factor's hour_tolerance, hour_tolerance_fraction × |platform|).
bool hour_mismatch(const analytics::screening::ScreeningConfig& c, const std::string& factor,
                   const Aggregate& a) {
  if (!a.valid || !a.value || !a.platform_valid || !a.platform_value) return false;
  return analytics::screening::hour_mismatch(c, factor, *a.value, *a.platform_value,
                                             a.platform_valid_count);
}

// A row's coverage as a revision's old_detail: "source,expected,received,valid_count" and, for a
// device hour, ",platform_value,platform_valid,platform_received,platform_valid_count,mismatch"
// (platform_value empty when none).
std::string row_detail(const Aggregate& a) {
  std::string d = a.source + "," + std::to_string(a.expected) + "," + std::to_string(a.received) +
                  "," + std::to_string(a.valid_count);
  if (a.source == "hour") {
    char v[32] = "";
    if (a.platform_value) std::snprintf(v, sizeof v, "%.17g", *a.platform_value);
    d += std::string(",") + v + "," + std::to_string(int{a.platform_valid}) + "," +
         std::to_string(a.platform_received) + "," + std::to_string(a.platform_valid_count) + "," +
         std::to_string(int{a.mismatch});
  }
  return d;
}
void apply_row_detail(Aggregate& a, const std::string& detail) {
  int n[3] = {0, 0, 0};
  const auto c1 = detail.find(',');
  if (c1 == std::string::npos) return;  // an older revision without detail: coverage as it is
  if (std::sscanf(detail.c_str() + c1 + 1, "%d,%d,%d", &n[0], &n[1], &n[2]) != 3) return;
  a.source = detail.substr(0, c1);
  a.expected = n[0];
  a.received = n[1];
  a.valid_count = n[2];
  a.platform_value.reset();
  a.platform_valid = false;
  a.platform_received = a.platform_valid_count = 0;
  a.mismatch = false;
  // The platform's hour, when the old row was a device hour (older revisions do not have it).
  std::size_t at = c1;
  for (int i = 0; i < 3 && at != std::string::npos; ++i) at = detail.find(',', at + 1);
  if (at == std::string::npos) return;
  const std::string rest = detail.substr(at + 1);
  const auto c2 = rest.find(',');
  if (c2 == std::string::npos) return;
  if (c2 > 0) a.platform_value = std::strtod(rest.c_str(), nullptr);
  int p[4] = {0, 0, 0, 0};
  if (std::sscanf(rest.c_str() + c2 + 1, "%d,%d,%d,%d", &p[0], &p[1], &p[2], &p[3]) != 4) return;
  a.platform_valid = p[0] != 0;
  a.platform_received = p[1];
  a.platform_valid_count = p[2];
  a.mismatch = p[3] != 0;
}

constexpr const char* kCountyPrefix = "county:";

// A city's or a county's row ("city:CODE", "county:CODE"), not a station's.
bool is_area(const std::string& site) {
  return site.rfind(kCityPrefix, 0) == 0 || site.rfind(kCountyPrefix, 0) == 0;
}

// The areas whose hours a station's AQI-item hours feed: its city when it is an urban point
// (城市点), its county when it is an ambient-air point other than a control point (对照点) —
// ASSUMED county practice (aggregates.h, "Counties").
std::vector<std::string> areas_of(const registry::Site& s) {
  std::vector<std::string> out;
  if (s.kind != "ambient_air") return out;
  if (s.air_role == "urban" && !s.place.city_code.empty()) {
    out.push_back(kCityPrefix + s.place.city_code);
  }
  if (s.air_role != "control" && !s.place.county_code.empty()) {
    out.push_back(kCountyPrefix + s.place.county_code);
  }
  return out;
}

// The AQI item of an HJ 212 factor code (nullopt: not an AQI item).
std::optional<std::size_t> aqi_item(const std::string& factor) {
  if (auto p = standards::aqi::hourly_pollutant_of_hj212(factor)) {
    return static_cast<std::size_t>(*p);
  }
  return std::nullopt;
}

Aggregate from_bucket(const agg::Bucket& b, Period p, std::string source) {
  Aggregate a;
  a.period = p;
  a.source = std::move(source);
  a.start_ms = b.start_ms;
  a.value = b.mean;
  a.valid = b.is_valid;
  a.expected = b.expected;
  a.received = b.received;
  a.valid_count = b.valid;
  return a;
}

}  // namespace

std::string_view period_name(Period p) { return p == Period::kDay ? "day" : "hour"; }

std::vector<Aggregate> months_or_years_from_days(const std::vector<Aggregate>& days_rows,
                                                 bool months) {
  std::vector<agg::Bucket> days;
  for (const auto& a : days_rows) {
    agg::Bucket b;
    b.start_ms = a.start_ms;
    b.mean = a.value;
    b.is_valid = a.valid;
    days.push_back(b);
  }
  std::vector<agg::Bucket> raw = days;
  for (std::size_t i = 0; i < days_rows.size(); ++i) {
    raw[i].mean = days_rows[i].raw_value;
    raw[i].is_valid = days_rows[i].raw_valid;
  }
  const auto periods = months ? agg::months_from_days(days) : agg::years_from_days(days);
  const auto raw_periods = months ? agg::months_from_days(raw) : agg::years_from_days(raw);
  std::vector<Aggregate> out;
  for (std::size_t i = 0; i < periods.size(); ++i) {
    const auto& b = periods[i];
    Aggregate a;
    a.start_ms = b.start_ms;
    a.value = b.mean;
    a.valid = b.is_valid;
    a.source = "days";
    a.expected = b.expected;
    a.received = b.received;
    a.valid_count = b.valid;
    a.raw_value = raw_periods[i].mean;
    a.raw_valid = raw_periods[i].is_valid;
    for (const auto& d : days_rows) {
      if (d.start_ms >= b.start_ms &&
          (i + 1 == periods.size() || d.start_ms < periods[i + 1].start_ms)) {
        a.computed_at_ms = std::max(a.computed_at_ms, d.computed_at_ms);
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

core::Result<std::vector<storage::Value>> series_as_of(const storage::Store& store,
                                                       const registry::Registry* reg,
                                                       const storage::SeriesQuery& q,
                                                       std::int64_t as_of_ms) {
  auto latest = store.series(q);
  if (!latest) return core::fail(latest.error());
  std::set<std::string> mns;
  for (const auto& v : *latest) mns.insert(v.mn);
  if (reg) {
    for (const auto& a : reg->assignments()) {
      if (a.site == q.site && a.from_ms < q.to_ms && q.from_ms < a.until_ms) mns.insert(a.mn);
    }
  }
  using Key = std::tuple<std::int64_t, storage::DataKind, std::string, std::string>;
  std::map<Key, storage::Value> by_key;  // (measured, kind, field, mn): the order of series()
  for (const auto& mn : mns) {
    storage::RecordQuery rq;
    rq.mn = mn;
    rq.kind = q.kind;
    rq.from_ms = q.from_ms;
    rq.to_ms = q.to_ms;
    rq.limit = q.limit;
    auto records = store.records(rq);
    if (!records) return core::fail(records.error());
    if (records->size() >= rq.limit) {
      return core::fail(
          core::Error{"range_too_large", "as_of reads every stored version of device " + mn +
                                             " in from..to, more than the limit: narrow from..to"});
    }
    for (auto& v : *records) {
      if (v.factor != q.factor || v.received_ms > as_of_ms) continue;
      auto& slot = by_key[Key{v.measured_ms, v.kind, v.field, v.mn}];
      if (slot.version <= v.version) slot = std::move(v);
    }
  }
  std::vector<storage::Value> out;
  for (auto& [key, v] : by_key) {
    if (v.site == q.site) out.push_back(std::move(v));
  }
  return out;
}

Period index_period(std::string_view name) {
  for (const auto& [n, p] : kIndices) {
    if (n == name) return p;
  }
  return Period::kHour;
}

bool is_index_name(std::string_view name) {
  return std::any_of(kIndices.begin(), kIndices.end(),
                     [&](const auto& i) { return i.first == name; });
}

class DerivedService::Impl {
 public:
  Impl(const storage::Store& store, const core::Clock& clock, DerivedOptions options)
      : store_(store), clock_(clock), options_(options) {}

  core::Result<void> open(const std::string& path) {
    auto db = storage::sql::open_service_connection(path, options_.busy_timeout_ms);
    if (!db) return core::fail(db.error());
    db_ = std::move(*db);
    if (!storage::sql::exec(db_.get(), kSchema)) return core::fail(err(path + ": derived schema"));
    std::lock_guard lock(mu_);
    for (const auto& [table, column, decl] : kAddedColumns) {
      if (auto r = add_column(table, column, decl); !r) return r;
    }
    auto c = load_cursor(kCursorName);
    if (!c) return core::fail(c.error());
    cursor_ = *c;
    auto rc = load_cursor(kReviewCursorName);
    if (!rc) return core::fail(rc.error());
    review_cursor_ = *rc;
    return {};
  }

  // Adds a column to a table of an older file. Caller holds mu_.
  core::Result<void> add_column(const char* table, const char* column, const char* decl) {
    Stmt q(db_.get(), std::string("SELECT 1 FROM pragma_table_info('") + table + "') WHERE name='" +
                          column + "'");
    const int rc = q.step();
    if (rc == SQLITE_ROW) return {};
    if (rc != SQLITE_DONE) return core::fail(err("table info"));
    const std::string sql =
        std::string("ALTER TABLE ") + table + " ADD COLUMN " + column + " " + decl;
    if (!storage::sql::exec(db_.get(), sql.c_str())) return core::fail(err(sql));
    return {};
  }

  // A cursor's position, created at 0. Caller holds mu_.
  core::Result<std::uint64_t> load_cursor(const char* name) {
    Stmt q(db_.get(), "SELECT sequence FROM derived_cursor WHERE name=?");
    q.bind(name);
    const int rc = q.step();
    if (rc == SQLITE_ROW) return static_cast<std::uint64_t>(q.integer(0));
    if (rc != SQLITE_DONE) return core::fail(err("cursor"));
    Stmt ins(db_.get(), "INSERT INTO derived_cursor(name, sequence) VALUES(?, 0)");
    ins.bind(name);
    if (ins.step() != SQLITE_DONE) return core::fail(err("cursor"));
    return std::uint64_t{0};
  }

  core::Error err(std::string_view what) { return storage::sql::error(db_.get(), what); }

  // --- the engine ---

  // What a batch touches: (site, factor, hour)s and the water samples of surface-water sites.
  struct Touched {
    std::map<PeriodKey, CauseOf> hours;
    std::map<SampleKey, CauseOf> samples;
  };

  std::shared_ptr<const registry::Registry> registry_now() const {
    return options_.registry ? options_.registry->get() : nullptr;
  }

  core::Result<std::size_t> process_changes(std::size_t max_items = SIZE_MAX) {
    std::lock_guard engine(engine_mu_);
    std::size_t total = 0;
    while (total < max_items) {
      auto changes = store_.changes(cursor_, options_.batch_limit);
      if (!changes) return core::fail(changes.error());
      if (changes->empty()) break;
      // Outside the transaction: which hours the batch touches and why, and those hours computed
      // from the store. Only this engine writes the derived tables, so reading them first is
      // safe, and SQLite's write lock (which the ingestor's commits wait for) is held only for
      // the writes.
      Touched touched;
      const auto reg = registry_now();
      {
        std::lock_guard lock(mu_);
        if (auto r = touched_hours(*changes, reg.get(), touched); !r) return core::fail(r.error());
      }
      const std::uint64_t next = changes->back().sequence;
      if (auto r = recompute_and_commit(touched, reg.get(), kCursorName, next); !r) {
        return core::fail(r.error());
      }
      std::lock_guard lock(mu_);
      cursor_ = next;
      changes_read_ += changes->size();
      total += changes->size();
    }
    // Then the review actions written since, each revising the hours of its range.
    while (total < max_items) {
      auto actions = new_actions();
      if (!actions) return core::fail(actions.error());
      if (actions->empty()) break;
      Touched touched;
      const auto reg = registry_now();
      {
        std::lock_guard lock(mu_);
        for (const auto& a : *actions) {
          // A level or a dust-storm mark, not a value: no mean changes.
          if (is_approval(a.verb) || is_dust_mark(a.verb)) continue;
          const auto id = static_cast<std::uint64_t>(a.id);
          auto hours = stored_hours(a.site, a.factor, agg::beijing_period_start(a.from_ms, kHourMs),
                                    a.to_ms);
          if (!hours) return core::fail(hours.error());
          for (const std::int64_t h : *hours) {
            touched.hours[PeriodKey{a.site, a.factor, h}].add(Cause::kReview, id);
          }
          // The stored water classes of the samples in its range.
          if (!is_water_item(a.factor) || !water_body_of(reg.get(), a.site)) continue;
          auto samples = stored_index_starts(a.site, kWaterClass, a.from_ms, a.to_ms);
          if (!samples) return core::fail(samples.error());
          for (const std::int64_t t : *samples) {
            touched.samples[SampleKey{a.site, t}].add(Cause::kReview, id);
          }
        }
      }
      const auto next = static_cast<std::uint64_t>(actions->back().id);
      if (auto r = recompute_and_commit(touched, reg.get(), kReviewCursorName, next); !r) {
        return core::fail(r.error());
      }
      std::lock_guard lock(mu_);
      review_cursor_ = next;
      actions_read_ += actions->size();
      total += actions->size();
    }
    return total;
  }

  // Computes the touched hours (with the review actions up to the cursor `cursor_name` will have
  // after this batch), then writes them, their days, cities and indices and moves the cursor, in
  // one transaction.
  core::Result<void> recompute_and_commit(const Touched& touched, const registry::Registry* reg,
                                          const char* cursor_name, std::uint64_t next) {
    const std::uint64_t review_upto =
        cursor_name == std::string_view(kReviewCursorName) ? next : review_cursor_;
    std::vector<std::pair<IndexRow, CauseOf>> samples;
    for (const auto& [key, cause] : touched.samples) {
      const auto& [site, t] = key;
      const auto body = water_body_of(reg, site);
      if (!body) continue;
      auto row = compute_water_class(site, t, *body, review_upto);
      if (!row) return core::fail(row.error());
      if (*row) samples.emplace_back(std::move(**row), cause);
    }
    std::vector<std::pair<Aggregate, CauseOf>> hours;
    for (const auto& [key, cause] : touched.hours) {
      const auto& [site, factor, hour] = key;
      auto fresh = compute_hour(site, factor, hour, review_upto);
      if (!fresh) return core::fail(fresh.error());
      if (!*fresh) continue;  // no value of the hour is stored (any more): the row stays
      (*fresh)->site = site;
      (*fresh)->factor = factor;
      hours.emplace_back(std::move(**fresh), cause);
    }
    std::lock_guard lock(mu_);
    if (!storage::sql::exec(db_.get(), "BEGIN IMMEDIATE")) return core::fail(err("begin"));
    BatchStats stats;
    auto r = write_batch(hours, reg, stats);
    const std::int64_t now = clock_.now_ms();
    for (std::size_t i = 0; r && i < samples.size(); ++i) {
      if (auto w = store_index(samples[i].first, samples[i].second, now, stats); !w) {
        r = core::fail(w.error());
      }
    }
    if (r) {
      Stmt q(db_.get(), "UPDATE derived_cursor SET sequence=? WHERE name=?");
      q.bind(static_cast<std::int64_t>(next)).bind(cursor_name);
      if (q.step() != SQLITE_DONE) r = core::fail(err("cursor"));
    }
    if (r && !storage::sql::exec(db_.get(), "COMMIT")) r = core::fail(err("commit"));
    if (!r) {
      storage::sql::exec(db_.get(), "ROLLBACK");
      return core::fail(r.error());
    }
    rows_written_ += stats.rows;
    revisions_added_ += stats.revisions;
    hour_mismatches_ += stats.mismatches;
    return {};
  }

  struct BatchStats {
    std::uint64_t rows = 0;
    std::uint64_t revisions = 0;
    std::uint64_t mismatches = 0;
  };

  // The review actions after the review cursor, oldest first, at most batch_limit.
  core::Result<std::vector<ReviewAction>> new_actions() {
    std::lock_guard lock(mu_);
    std::vector<ReviewAction> out;
    if (!review_table_exists()) return out;
    Stmt s(db_.get(), std::string("SELECT ") + kReviewActionColumns +
                          " FROM review_actions WHERE id > ? ORDER BY id LIMIT ?");
    s.bind(static_cast<std::int64_t>(review_cursor_));
    s.bind(static_cast<std::int64_t>(options_.batch_limit));
    return read_actions(s);
  }

  // Whether the review service created its table in this file (it may not have: tests, tools).
  bool review_table_exists() {
    if (review_table_) return true;
    Stmt q(db_.get(), "SELECT 1 FROM sqlite_master WHERE type='table' AND name='review_actions'");
    review_table_ = q.step() == SQLITE_ROW;
    return review_table_;
  }

  core::Result<std::vector<ReviewAction>> read_actions(Stmt& s) {
    // A verb this build does not know changes no value it can compute.
    return read_review_actions(db_.get(), s, /*skip_unknown_verbs=*/true);
  }

  // The review actions of a series covering any part of [from_ms, to_ms), with id ≤ upto, in id
  // order (the input of review_state()).
  core::Result<std::vector<ReviewAction>> actions_covering(const std::string& site,
                                                           const std::string& factor,
                                                           std::int64_t from_ms, std::int64_t to_ms,
                                                           std::uint64_t upto) {
    std::lock_guard lock(mu_);
    return actions_covering_locked(site, factor, from_ms, to_ms, upto);
  }
  // The same; caller holds mu_.
  core::Result<std::vector<ReviewAction>> actions_covering_locked(const std::string& site,
                                                                  const std::string& factor,
                                                                  std::int64_t from_ms,
                                                                  std::int64_t to_ms,
                                                                  std::uint64_t upto) {
    if (upto == 0 || !review_table_exists()) return std::vector<ReviewAction>();
    Stmt s(db_.get(),
           std::string("SELECT ") + kReviewActionColumns +
               " FROM review_actions WHERE site=? AND factor=? AND from_ms<? AND to_ms>? AND "
               "id<=? ORDER BY id");
    s.bind(site).bind(factor).bind(to_ms).bind(from_ms);
    s.bind(static_cast<std::int64_t>(std::min<std::uint64_t>(upto, INT64_MAX)));
    return read_actions(s);
  }

  // The starts of the stored hours of a series in [from_ms, to_ms). Caller holds mu_.
  core::Result<std::vector<std::int64_t>> stored_hours(const std::string& site,
                                                       const std::string& factor,
                                                       std::int64_t from_ms, std::int64_t to_ms) {
    Stmt q(db_.get(),
           "SELECT hour_start_ms FROM derived_hours WHERE site=? AND factor=? AND "
           "hour_start_ms>=? AND hour_start_ms<? ORDER BY hour_start_ms");
    q.bind(site).bind(factor).bind(from_ms).bind(to_ms);
    std::vector<std::int64_t> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back(q.integer(0));
    if (rc != SQLITE_DONE) return core::fail(err("stored hours"));
    return out;
  }

  // The starts of the stored rows of an index of a site in [from_ms, to_ms). Caller holds mu_.
  core::Result<std::vector<std::int64_t>> stored_index_starts(const std::string& site,
                                                              std::string_view name,
                                                              std::int64_t from_ms,
                                                              std::int64_t to_ms) {
    Stmt q(db_.get(),
           "SELECT start_ms FROM derived_indices WHERE site=? AND name=? AND start_ms>=? AND "
           "start_ms<? ORDER BY start_ms");
    q.bind(site).bind(name).bind(from_ms).bind(to_ms);
    std::vector<std::int64_t> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back(q.integer(0));
    if (rc != SQLITE_DONE) return core::fail(err("stored indices"));
    return out;
  }

  // The (site, factor, hour)s a batch touches, each with the strongest cause among its changes,
  // and the water samples (a surface-water site's hourly value of a GB 3838 item) with the cause
  // of their change. A change is late against the newest hour of its series: the stored hours
  // and the earlier changes of the batch. Caller holds mu_.
  core::Result<void> touched_hours(const std::vector<storage::Change>& changes,
                                   const registry::Registry* reg, Touched& touched) {
    auto& hours = touched.hours;
    std::map<SeriesKey, std::int64_t> newest;  // newest hour start per series
    for (const auto& c : changes) {
      const storage::Value& v = c.value;
      if (v.site.empty() || !feeds_hours(v)) continue;
      const std::int64_t hour = agg::beijing_period_start(v.measured_ms, kHourMs);
      SeriesKey series{v.site, v.factor};
      auto it = newest.find(series);
      if (it == newest.end()) {
        auto n = newest_hour(v.site, v.factor);
        if (!n) return core::fail(n.error());
        it = newest.emplace(series, n->value_or(INT64_MIN)).first;
      }
      Cause cause = Cause::kNone;
      if (v.version > 1) {
        cause = Cause::kNewVersion;
      } else if (it->second != INT64_MIN && it->second - hour > kHourMs) {
        cause = Cause::kLate;
      }
      it->second = std::max(it->second, hour);
      hours[PeriodKey{v.site, v.factor, hour}].add(cause, c.sequence);
      if (v.kind == storage::DataKind::kHour && is_water_item(v.factor) &&
          water_body_of(reg, v.site)) {
        touched.samples[SampleKey{v.site, v.measured_ms}].add(cause, c.sequence);
      }
    }
    return {};
  }

  // Inside the transaction: the recomputed hours stored where they differ, then the cities' hours
  // of the changed station hours, the days of every changed hour, and the indices. Caller holds
  // mu_.
  core::Result<void> write_batch(const std::vector<std::pair<Aggregate, CauseOf>>& hours,
                                 const registry::Registry* reg, BatchStats& stats) {
    const std::int64_t now = clock_.now_ms();
    std::vector<std::pair<PeriodKey, CauseOf>> changed;  // hours whose row changed
    for (const auto& [hour, cause] : hours) {
      auto c = store_row(hour, cause, now, stats);
      if (!c) return core::fail(c.error());
      if (*c) changed.emplace_back(PeriodKey{hour.site, hour.factor, hour.start_ms}, cause);
    }
    if (reg) {
      if (auto r = write_cities(*reg, changed, now, stats); !r) return r;
    }
    std::map<PeriodKey, CauseOf> days;
    for (const auto& [key, cause] : changed) {
      const auto& [site, factor, hour] = key;
      days[PeriodKey{site, factor, agg::beijing_period_start(hour, kDayMs)}].add(cause);
    }
    for (const auto& [key, cause] : days) {
      const auto& [site, factor, day_start] = key;
      auto fresh = compute_day(site, factor, day_start);
      if (!fresh) return core::fail(fresh.error());
      fresh->site = site;
      fresh->factor = factor;
      if (auto c = store_row(*fresh, cause, now, stats); !c) return core::fail(c.error());
    }
    return write_indices(changed, now, stats);
  }

  // The city and county hours of the changed AQI-item hours of their points (areas_of),
  // appended to `changed` when their row changed. Caller holds mu_.
  core::Result<void> write_cities(const registry::Registry& reg,
                                  std::vector<std::pair<PeriodKey, CauseOf>>& changed,
                                  std::int64_t now, BatchStats& stats) {
    std::map<std::string, std::vector<std::string>> points;  // "city:CODE"/"county:CODE" → points
    for (const auto& site : reg.sites()) {
      for (const auto& area : areas_of(site)) points[area].push_back(site.code);
    }
    std::map<PeriodKey, CauseOf> cities;
    for (const auto& [key, cause] : changed) {
      const auto& [site, factor, hour] = key;
      if (is_area(site) || !aqi_item(factor)) continue;
      const registry::Site* s = reg.find_site(site);
      if (!s) continue;
      for (const auto& area : areas_of(*s)) cities[PeriodKey{area, factor, hour}].add(cause);
    }
    for (const auto& [key, cause] : cities) {
      const auto& [city, factor, hour] = key;
      const auto& list = points[city];
      Aggregate a;
      a.site = city;
      a.factor = factor;
      a.period = Period::kHour;
      a.source = city.rfind(kCityPrefix, 0) == 0 ? "city" : "county";
      a.start_ms = hour;
      a.expected = static_cast<int>(list.size());
      double sum = 0, raw_sum = 0;
      int raw_n = 0;
      for (const auto& code : list) {
        auto rows = read(AggregateQuery{code, factor, Period::kHour, hour, hour + 1, {}, 1});
        if (!rows) return core::fail(rows.error());
        if (rows->empty()) continue;
        const Aggregate& h = rows->front();
        ++a.received;
        if (h.valid && h.value) {
          ++a.valid_count;
          sum += *h.value;
        }
        if (h.raw_valid && h.raw_value) {
          ++raw_n;
          raw_sum += *h.raw_value;
        }
      }
      if (a.received == 0) continue;  // no point has the hour (any more): the row stays
      a.valid = a.valid_count > 0;
      if (a.valid) a.value = sum / a.valid_count;
      a.raw_valid = raw_n > 0;
      if (a.raw_valid) a.raw_value = raw_sum / raw_n;
      auto c = store_row(a, cause, now, stats);
      if (!c) return core::fail(c.error());
      if (*c) changed.emplace_back(key, cause);
    }
    return {};
  }

  // The indices depending on the changed hours of AQI items, per station or city. Caller holds
  // mu_.
  core::Result<void> write_indices(const std::vector<std::pair<PeriodKey, CauseOf>>& changed,
                                   std::int64_t now, BatchStats& stats) {
    namespace aqi = standards::aqi;
    // Per subject, the indices to recompute (name, start) with their cause.
    std::map<std::string, std::map<std::pair<std::string_view, std::int64_t>, CauseOf>> todo;
    for (const auto& [key, cause] : changed) {
      const auto& [site, factor, hour] = key;
      const auto item = aqi_item(factor);
      if (!item) continue;
      auto& t = todo[site];
      const std::int64_t day = agg::beijing_period_start(hour, kDayMs);
      t[{"aqi_hour", hour}].add(cause);
      t[{"aqi_day", day}].add(cause);
      if (*item == static_cast<std::size_t>(aqi::Pollutant::kO3)) {
        for (int k = 0; k < 8; ++k) t[{"o3_8h", hour + k * kHourMs}].add(cause);
        t[{"o3_8h_max", day}].add(cause);
      }
      const bool pm10 = *item == static_cast<std::size_t>(aqi::Pollutant::kPm10);
      if (pm10 || *item == static_cast<std::size_t>(aqi::Pollutant::kPm25)) {
        for (int k = 0; k < 24; ++k) {
          t[{pm10 ? "pm10_24h" : "pm25_24h", hour + k * kHourMs}].add(cause);
        }
      }
    }
    for (const auto& [site, list] : todo) {
      std::int64_t lo = INT64_MAX, hi = INT64_MIN;
      for (const auto& [k, cause] : list) {
        lo = std::min(lo, k.second);
        hi = std::max(hi, k.second);
      }
      // Every hour an index of the list reads: 23 h before the first, the whole last day.
      auto h = item_hours(site, lo - kDayMs, hi + 2 * kDayMs);
      if (!h) return core::fail(h.error());
      const auto o3 = static_cast<std::size_t>(aqi::Pollutant::kO3);
      for (const auto& [k, cause] : list) {
        const auto& [name, start] = k;
        IndexRow row;
        row.site = site;
        row.name = std::string(name);
        row.period = index_period(name);
        row.start_ms = start;
        if (name == "aqi_hour" || name == "aqi_day") {
          const bool daily = name == "aqi_day";
          row.inputs = daily ? daily_aqi_inputs(*h, start) : hourly_aqi_inputs(*h, start);
          const auto r =
              evaluate_aqi(row.inputs, start, daily ? aqi::Report::kDaily : aqi::Report::kHourly);
          if (r.aqi) row.value = *r.aqi;
        } else if (name == "o3_8h") {
          row.value = o3_8h_at((*h)[o3], start);
        } else if (name == "o3_8h_max") {
          row.value = o3_daily_max_8h((*h)[o3], start);
        } else {
          const auto p = name == "pm10_24h" ? aqi::Pollutant::kPm10 : aqi::Pollutant::kPm25;
          row.value = pm_24h_at((*h)[static_cast<std::size_t>(p)], start);
        }
        row.valid = row.value.has_value();
        if (auto r = store_index(row, cause, now, stats); !r) return core::fail(r.error());
      }
    }
    return {};
  }

  // The valid hourly means of the AQI items of a station or city in [from_ms, to_ms). Caller
  // holds mu_.
  core::Result<ItemHours> item_hours(const std::string& site, std::int64_t from_ms,
                                     std::int64_t to_ms) {
    ItemHours out;
    for (const auto& [code, p] : standards::aqi::kHourlyHj212Codes) {
      auto rows =
          read(AggregateQuery{site, std::string(code), Period::kHour, from_ms, to_ms, {}, 100000});
      if (!rows) return core::fail(rows.error());
      auto& m = out[static_cast<std::size_t>(p)];
      for (const auto& a : *rows) {
        if (a.valid && a.value) m[a.start_ms] = *a.value;
      }
    }
    return out;
  }

  // Writes an index row when it differs from the stored one (a row that would hold nothing is not
  // created), and a revision when a stored row changed for a cause. Caller holds mu_.
  core::Result<bool> store_index(const IndexRow& row, const CauseOf& cause, std::int64_t now,
                                 BatchStats& stats) {
    const std::string detail = row.name.rfind("aqi_", 0) == 0 ? encode_inputs(row.inputs)
                               : row.water                    ? encode_water_detail(*row.water)
                                                              : "";
    Stmt q(db_.get(),
           "SELECT value, valid, detail, computed_at_ms FROM derived_indices WHERE site=? AND "
           "name=? AND start_ms=?");
    q.bind(row.site).bind(row.name).bind(row.start_ms);
    const int rc = q.step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return core::fail(err("index row"));
    const bool existed = rc == SQLITE_ROW;
    std::optional<double> old_value;
    bool old_valid = false;
    std::string old_detail;
    std::int64_t old_computed_at = 0;
    if (existed) {
      old_value = q.opt_real(0);
      old_valid = q.integer(1) != 0;
      old_detail = q.text(2);
      old_computed_at = q.integer(3);
      if (old_value == row.value && old_valid == row.valid && old_detail == detail) return false;
    } else if (!row.value && detail.find_first_not_of(',') == std::string::npos) {
      return false;
    }
    Stmt up(db_.get(),
            "INSERT INTO derived_indices(site, name, start_ms, value, valid, detail, "
            "created_at_ms, computed_at_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?7) ON CONFLICT(site, "
            "name, start_ms) DO UPDATE SET value=?4, valid=?5, detail=?6, computed_at_ms=?7");
    up.bind(row.site).bind(row.name).bind(row.start_ms).bind(row.value);
    up.bind(std::int64_t{row.valid}).bind(detail).bind(now);
    if (up.step() != SQLITE_DONE) return core::fail(err("index row"));
    ++stats.rows;
    if (!existed || cause.cause == Cause::kNone) return true;
    if (auto r = add_revision(row.site, row.name, row.period, row.start_ms, old_value, row.value,
                              old_valid, row.valid, old_detail, old_computed_at, cause, now, stats);
        !r) {
      return core::fail(r.error());
    }
    return true;
  }

  core::Result<void> add_revision(const std::string& site, const std::string& factor, Period p,
                                  std::int64_t start_ms, const std::optional<double>& old_value,
                                  const std::optional<double>& new_value, bool old_valid,
                                  bool new_valid, const std::string& old_detail,
                                  std::int64_t old_computed_at, const CauseOf& cause,
                                  std::int64_t now, BatchStats& stats) {
    const bool review = cause.cause == Cause::kReview;
    Stmt rev(db_.get(),
             "INSERT INTO derived_revisions(site, factor, period, start_ms, old_value, new_value, "
             "old_valid, new_valid, reason, cause_sequence, at_ms, review_action, old_detail, "
             "old_computed_at_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    rev.bind(site).bind(factor).bind(period_name(p)).bind(start_ms);
    rev.bind(old_value).bind(new_value).bind(std::int64_t{old_valid}).bind(std::int64_t{new_valid});
    rev.bind(cause_name(cause.cause));
    rev.bind(static_cast<std::int64_t>(review ? 0 : cause.sequence)).bind(now);
    rev.bind(static_cast<std::int64_t>(review ? cause.sequence : 0)).bind(old_detail);
    rev.bind(old_computed_at);
    if (rev.step() != SQLITE_DONE) return core::fail(err("revision"));
    ++stats.revisions;
    return {};
  }

  core::Result<std::optional<std::int64_t>> newest_hour(const std::string& site,
                                                        const std::string& factor) {
    Stmt q(db_.get(), "SELECT max(hour_start_ms) FROM derived_hours WHERE site=? AND factor=?");
    q.bind(site).bind(factor);
    if (q.step() != SQLITE_ROW) return core::fail(err("newest hour"));
    return q.opt_integer(0);
  }

  // The hour from the stored values with the review actions up to id `review_upto` applied: the
  // official hour when the device sent one, else from the minute values, else from the
  // real-time values; nullopt when none is stored. raw_value/raw_valid: the same without review.
  core::Result<std::optional<Aggregate>> compute_hour(const std::string& site,
                                                      const std::string& factor, std::int64_t hour,
                                                      std::uint64_t review_upto) {
    storage::SeriesQuery q;
    q.site = site;
    q.factor = factor;
    q.from_ms = hour;
    q.to_ms = hour + kHourMs;
    auto values = store_.series(q);
    if (!values) return core::fail(values.error());
    auto actions = actions_covering(site, factor, hour, hour + kHourMs, review_upto);
    if (!actions) return core::fail(actions.error());
    return hour_of(*values, *actions, factor, hour, std::nullopt);
  }

  // The hour starting `hour` from a series' values and the review actions covering it (those
  // written at or before `as_of_ms` when given); nullopt when no value feeds it.
  std::optional<Aggregate> hour_of(const std::vector<storage::Value>& values,
                                   const std::vector<ReviewAction>& actions,
                                   const std::string& factor, std::int64_t hour,
                                   std::optional<std::int64_t> as_of_ms) const {
    // Per kind (hour, minute, rtd): the reviewed samples and the raw ones.
    std::array<std::vector<agg::Sample>, 3> reviewed, raw;
    for (const auto& v : values) {
      if (!feeds_hours(v) || v.measured_ms < hour || v.measured_ms >= hour + kHourMs) continue;
      const std::size_t k = v.kind == storage::DataKind::kHour     ? 0
                            : v.kind == storage::DataKind::kMinute ? 1
                                                                   : 2;
      const auto st =
          review_state(actions, storage::kind_name(v.kind), v.field, v.measured_ms, as_of_ms);
      const bool raw_ok = sample_valid(v);
      reviewed[k].push_back(agg::Sample{v.measured_ms, st.corrected.value_or(v.number.value_or(0)),
                                        raw_ok && !st.invalid});
      raw[k].push_back(agg::Sample{v.measured_ms, v.number.value_or(0), raw_ok});
    }
    // The bucket of this hour: the official hour as received, else from minutes or real-time.
    auto bucket_of = [&](const std::vector<agg::Sample>& samples,
                         bool official) -> std::optional<agg::Bucket> {
      for (const auto& b : official ? agg::periods_as_received(samples, kHourMs)
                                    : agg::hours_from_subhourly(samples)) {
        if (b.start_ms == hour) return b;
      }
      return std::nullopt;
    };
    const std::size_t used = !reviewed[0].empty() ? 0 : !reviewed[1].empty() ? 1 : 2;
    const auto b = bucket_of(reviewed[used], used == 0);
    if (!b) return std::nullopt;
    Aggregate a = from_bucket(*b, Period::kHour, used == 0 ? "hour" : used == 1 ? "minute" : "rtd");
    if (const auto r = bucket_of(raw[used], used == 0)) {
      a.raw_value = r->mean;
      a.raw_valid = r->is_valid;
    }
    if (used == 0) {
      // The platform's own hour beside the device's: its minutes, else its real-time values.
      const std::size_t sub = !reviewed[1].empty() ? 1 : 2;
      if (const auto p = bucket_of(reviewed[sub], false)) {
        a.platform_value = p->mean;
        a.platform_valid = p->is_valid;
        a.platform_received = p->received;
        a.platform_valid_count = p->valid;
      }
      a.mismatch = hour_mismatch(options_.screening, factor, a);
    }
    return a;
  }

  // The water class of a surface-water site's sample at `t` from the stored hourly values (CN 2061
  // Avg, the latest version, the last device's when several sent one) of the GB 3838 items, with
  // the review actions up to `review_upto`: a value that is not valid (device flag, quality,
  // invalidated) is left out, a corrected one counts with its correction, a below-detection
  // report as a non-detect. nullopt when no limit table covers the date.
  core::Result<std::optional<IndexRow>> compute_water_class(const std::string& site, std::int64_t t,
                                                            standards::water::WaterBody body,
                                                            std::uint64_t review_upto) {
    std::vector<std::pair<std::string, standards::Reading>> items;
    for (const auto& [code, item] : standards::water::kHj212WaterItems) {
      storage::SeriesQuery q;
      q.site = site;
      q.factor = std::string(code);
      q.kind = storage::DataKind::kHour;
      q.from_ms = t;
      q.to_ms = t + 1;
      auto values = store_.series(q);
      if (!values) return core::fail(values.error());
      const storage::Value* found = nullptr;
      for (const auto& v : *values) {
        if (v.field == "Avg" && v.measured_ms == t) found = &v;
      }
      if (!found || !(found->flag.empty() || found->flag == "N") ||
          (found->quality & storage::kQualityNotLatest) != 0) {
        continue;
      }
      auto actions = actions_covering(site, q.factor, t, t + 1, review_upto);
      if (!actions) return core::fail(actions.error());
      const auto st = review_state(*actions, "hour", "Avg", t);
      if (st.invalid) continue;
      if (st.corrected) {
        items.emplace_back(q.factor, standards::Reading::measured(*st.corrected));
      } else if (found->number) {
        items.emplace_back(q.factor, standards::Reading::measured(*found->number));
      } else if (found->quality & storage::kQualityBelowDetection) {
        items.emplace_back(q.factor, standards::Reading::below_detection(
                                         storage::detection_limit_of(found->text).value_or(0)));
      }
    }
    auto wc = water_class_of(items, body, t);
    if (!wc) return std::optional<IndexRow>();
    IndexRow row;
    row.site = site;
    row.name = kWaterClass;
    row.period = Period::kHour;
    row.start_ms = t;
    if (wc->value) row.value = *wc->value;
    row.valid = row.value.has_value();
    row.water = std::move(wc->detail);
    return std::optional<IndexRow>(std::move(row));
  }

  // The day from its stored hours (those written in this transaction included); raw_value from
  // their raw means. Caller holds mu_.
  core::Result<Aggregate> compute_day(const std::string& site, const std::string& factor,
                                      std::int64_t day_start) {
    auto rows =
        read(AggregateQuery{site, factor, Period::kHour, day_start, day_start + kDayMs, {}, 10000});
    if (!rows) return core::fail(rows.error());
    return day_from_hours(*rows, day_start);
  }

  // The day starting `day_start` from its hour rows.
  static Aggregate day_from_hours(const std::vector<Aggregate>& rows, std::int64_t day_start) {
    std::vector<agg::Bucket> hours, raw_hours;
    for (const auto& a : rows) {
      agg::Bucket b;
      b.start_ms = a.start_ms;
      b.expected = a.expected;
      b.received = a.received;
      b.valid = a.valid_count;
      b.mean = a.value;
      b.is_valid = a.valid;
      hours.push_back(b);
      b.mean = a.raw_value;
      b.is_valid = a.raw_valid;
      raw_hours.push_back(b);
    }
    Aggregate day;
    day.period = Period::kDay;
    day.source = "hours";
    day.start_ms = day_start;
    day.expected = 24;
    for (const auto& b : agg::days_from_hours(hours)) {
      if (b.start_ms == day_start) day = from_bucket(b, Period::kDay, "hours");
    }
    for (const auto& b : agg::days_from_hours(raw_hours)) {
      if (b.start_ms != day_start) continue;
      day.raw_value = b.mean;
      day.raw_valid = b.is_valid;
    }
    return day;
  }

  // Writes the row when it differs from the stored one, and a revision when a stored row changed
  // its value or validity for a cause. Returns whether the row changed. Caller holds mu_.
  core::Result<bool> store_row(const Aggregate& a, const CauseOf& cause, std::int64_t now,
                               BatchStats& stats) {
    auto old = read(AggregateQuery{a.site, a.factor, a.period, a.start_ms, a.start_ms + 1, {}, 1});
    if (!old) return core::fail(old.error());
    const Aggregate* was = old->empty() ? nullptr : &old->front();
    if (was && same_row(*was, a)) return false;
    if (auto r = store_row_sql(a, cause, now, stats, was); !r) return core::fail(r.error());
    if (a.mismatch && (!was || !was->mismatch)) ++stats.mismatches;
    return !was || feeds_dependents(*was, a);
  }

  core::Result<bool> store_row_sql(const Aggregate& a, const CauseOf& cause, std::int64_t now,
                                   BatchStats& stats, const Aggregate* was) {
    const bool hour = a.period == Period::kHour;
    const std::string table = hour ? "derived_hours" : "derived_days";
    const std::string start = hour ? "hour_start_ms" : "day_start_ms";
    // Hours keep their source; days are always "hours" (no column).
    // Hours also keep the platform's hour beside a device hour (?13 … ?17).
    const std::string sql =
        "INSERT INTO " + table + "(site, factor, " + (hour ? "kind_source, " : "") + start +
        ", value, valid, expected, received, valid_count, computed_at_ms, raw_value, raw_valid, "
        "created_at_ms" +
        (hour ? ", platform_value, platform_valid, platform_received, platform_valid_count, "
                "mismatch"
              : "") +
        ") VALUES(?1,?2," + (hour ? "?3," : "") + "?4,?5,?6,?7,?8,?9,?10,?11,?12,?10" +
        (hour ? ",?13,?14,?15,?16,?17" : "") + ") ON CONFLICT(site, factor, " + start +
        ") DO UPDATE SET " + (hour ? "kind_source=?3, " : "") +
        "value=?5, valid=?6, expected=?7, received=?8, valid_count=?9, computed_at_ms=?10, "
        "raw_value=?11, raw_valid=?12" +
        (hour ? ", platform_value=?13, platform_valid=?14, platform_received=?15, "
                "platform_valid_count=?16, mismatch=?17"
              : "");
    Stmt up(db_.get(), sql);
    up.bind(a.site).bind(a.factor).bind(a.source).bind(a.start_ms).bind(a.value);
    up.bind(std::int64_t{a.valid}).bind(std::int64_t{a.expected}).bind(std::int64_t{a.received});
    up.bind(std::int64_t{a.valid_count}).bind(now).bind(a.raw_value);
    up.bind(std::int64_t{a.raw_valid});
    if (hour) {
      up.bind(a.platform_value).bind(std::int64_t{a.platform_valid});
      up.bind(std::int64_t{a.platform_received}).bind(std::int64_t{a.platform_valid_count});
      up.bind(std::int64_t{a.mismatch});
    }
    if (up.step() != SQLITE_DONE) return core::fail(err("derived row"));
    ++stats.rows;
    if (!was || cause.cause == Cause::kNone) return true;
    if (was->value == a.value && was->valid == a.valid) return true;
    if (auto r =
            add_revision(a.site, a.factor, a.period, a.start_ms, was->value, a.value, was->valid,
                         a.valid, row_detail(*was), was->computed_at_ms, cause, now, stats);
        !r) {
      return core::fail(r.error());
    }
    return true;
  }

  // Caller holds mu_.
  core::Result<std::vector<Aggregate>> read(const AggregateQuery& q) {
    const bool hour = q.period == Period::kHour;
    Stmt s(db_.get(),
           hour ? "SELECT kind_source, hour_start_ms, value, valid, expected, received, "
                  "valid_count, computed_at_ms, raw_value, raw_valid, created_at_ms, "
                  "platform_value, platform_valid, platform_received, platform_valid_count, "
                  "mismatch FROM derived_hours WHERE site=? AND factor=? AND hour_start_ms>=? "
                  "AND hour_start_ms<? ORDER BY hour_start_ms LIMIT ?"
                : "SELECT 'hours', day_start_ms, value, valid, expected, received, "
                  "valid_count, computed_at_ms, raw_value, raw_valid, created_at_ms, NULL, 0, 0, "
                  "0, 0 FROM derived_days WHERE site=? AND factor=? AND day_start_ms>=? AND "
                  "day_start_ms<? ORDER BY day_start_ms LIMIT ?");
    s.bind(q.site).bind(q.factor).bind(q.from_ms).bind(q.to_ms);
    s.bind(static_cast<std::int64_t>(q.limit));
    std::vector<Aggregate> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      Aggregate a;
      a.site = q.site;
      a.factor = q.factor;
      a.period = q.period;
      a.source = s.text(0);
      a.start_ms = s.integer(1);
      a.value = s.opt_real(2);
      a.valid = s.integer(3) != 0;
      a.expected = static_cast<int>(s.integer(4));
      a.received = static_cast<int>(s.integer(5));
      a.valid_count = static_cast<int>(s.integer(6));
      a.computed_at_ms = s.integer(7);
      a.raw_value = s.opt_real(8);
      a.raw_valid = s.integer(9) != 0;
      a.created_at_ms = s.integer(10);
      a.platform_value = s.opt_real(11);
      a.platform_valid = s.integer(12) != 0;
      a.platform_received = static_cast<int>(s.integer(13));
      a.platform_valid_count = static_cast<int>(s.integer(14));
      a.mismatch = s.integer(15) != 0;
      out.push_back(std::move(a));
    }
    if (rc != SQLITE_DONE) return core::fail(err("derived rows"));
    if (q.as_of_ms) {
      if (auto r = rewind(out, *q.as_of_ms); !r) return core::fail(r.error());
    }
    return out;
  }

  // The first revision of a row after `as_of_ms`: the old value, validity, detail, and when the
  // old row had last changed (0: a revision written before that was kept).
  struct OldSide {
    std::optional<double> value;
    bool valid = false;
    std::string detail;
    std::int64_t computed_at_ms = 0;
  };
  core::Result<std::optional<OldSide>> first_revision_after(const std::string& site,
                                                            const std::string& factor, Period p,
                                                            std::int64_t start_ms,
                                                            std::int64_t as_of_ms) {
    Stmt s(db_.get(),
           "SELECT old_value, old_valid, old_detail, old_computed_at_ms FROM derived_revisions "
           "WHERE site=? AND factor=? AND start_ms=? AND period=? AND at_ms>? ORDER BY id LIMIT 1");
    s.bind(site).bind(factor).bind(start_ms).bind(period_name(p)).bind(as_of_ms);
    const int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<OldSide>();
    if (rc != SQLITE_ROW) return core::fail(err("revision"));
    return std::optional<OldSide>(
        OldSide{s.opt_real(0), s.integer(1) != 0, s.text(2), s.integer(3)});
  }

  // Rows as they were known at `as_of_ms` (aggregates.h, "As of"). Caller holds mu_.
  core::Result<void> rewind(std::vector<Aggregate>& rows, std::int64_t as_of_ms) {
    std::erase_if(rows, [&](const Aggregate& a) { return a.created_at_ms > as_of_ms; });
    for (auto& a : rows) {
      if (a.computed_at_ms <= as_of_ms) continue;
      auto old = first_revision_after(a.site, a.factor, a.period, a.start_ms, as_of_ms);
      if (!old) return core::fail(old.error());
      // The old side of the first revision after T is the row at T when the row had not changed
      // between T and that revision.
      if (*old && (*old)->computed_at_ms <= as_of_ms) {
        a.value = (*old)->value;
        a.valid = (*old)->valid;
        apply_row_detail(a, (*old)->detail);
        a.computed_at_ms = as_of_ms;  // known then; the exact time of that version is not kept
        continue;
      }
      // Changed after T without a revision (an hour filling in, its day): recomputed as the store
      // held it at T. A city row has no such recomputation: the old side, if any.
      if (!is_area(a.site)) {
        auto then = a.period == Period::kHour ? hour_as_of(a, as_of_ms) : day_as_of(a, as_of_ms);
        if (!then) return core::fail(then.error());
        if (*then) {
          const std::int64_t created = a.created_at_ms;
          a = std::move(**then);
          a.created_at_ms = created;
          a.computed_at_ms = as_of_ms;
          continue;
        }
      }
      if (*old) {
        a.value = (*old)->value;
        a.valid = (*old)->valid;
        apply_row_detail(a, (*old)->detail);
        a.computed_at_ms = as_of_ms;
      }
    }
    return {};
  }

  // A station's stored hour as the store held it at `as_of_ms`: the value versions received by
  // then (series_as_of) and the review actions written by then; nullopt when none was received
  // by then. Caller holds mu_.
  core::Result<std::optional<Aggregate>> hour_as_of(const Aggregate& row, std::int64_t as_of_ms) {
    storage::SeriesQuery q;
    q.site = row.site;
    q.factor = row.factor;
    q.from_ms = row.start_ms;
    q.to_ms = row.start_ms + kHourMs;
    const auto reg = registry_now();
    auto values = series_as_of(store_, reg.get(), q, as_of_ms);
    if (!values) return core::fail(values.error());
    auto actions = actions_covering_locked(row.site, row.factor, q.from_ms, q.to_ms, UINT64_MAX);
    if (!actions) return core::fail(actions.error());
    auto a = hour_of(*values, *actions, row.factor, row.start_ms, as_of_ms);
    if (a) {
      a->site = row.site;
      a->factor = row.factor;
    }
    return a;
  }

  // A station's stored day as known at `as_of_ms`: from its hours as known then. Caller holds mu_.
  core::Result<std::optional<Aggregate>> day_as_of(const Aggregate& row, std::int64_t as_of_ms) {
    auto hours = read(AggregateQuery{row.site, row.factor, Period::kHour, row.start_ms,
                                     row.start_ms + kDayMs, as_of_ms, 10000});
    if (!hours) return core::fail(hours.error());
    if (hours->empty()) return std::optional<Aggregate>();
    Aggregate day = day_from_hours(*hours, row.start_ms);
    day.site = row.site;
    day.factor = row.factor;
    return std::optional<Aggregate>(std::move(day));
  }

  core::Result<std::vector<IndexRow>> indices(const IndexQuery& q) {
    std::lock_guard lock(mu_);
    Stmt s(db_.get(),
           "SELECT start_ms, value, valid, detail, created_at_ms, computed_at_ms FROM "
           "derived_indices WHERE site=? AND name=? AND start_ms>=? AND start_ms<? ORDER BY "
           "start_ms LIMIT ?");
    s.bind(q.site).bind(q.name).bind(q.from_ms).bind(q.to_ms);
    s.bind(static_cast<std::int64_t>(q.limit));
    std::vector<IndexRow> out;
    std::vector<std::string> details;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      IndexRow r;
      r.site = q.site;
      r.name = q.name;
      r.period = index_period(q.name);
      r.start_ms = s.integer(0);
      r.value = s.opt_real(1);
      r.valid = s.integer(2) != 0;
      details.push_back(s.text(3));
      r.created_at_ms = s.integer(4);
      r.computed_at_ms = s.integer(5);
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return core::fail(err("indices"));
    for (std::size_t i = 0; i < out.size(); ++i) {
      auto& r = out[i];
      if (q.as_of_ms && r.computed_at_ms > *q.as_of_ms) {
        auto old = first_revision_after(r.site, r.name, r.period, r.start_ms, *q.as_of_ms);
        if (!old) return core::fail(old.error());
        if (*old) {
          r.value = (*old)->value;
          r.valid = (*old)->valid;
          details[i] = (*old)->detail;
          r.computed_at_ms = *q.as_of_ms;
        }
      }
      if (r.name == kWaterClass) {
        r.water = decode_water_detail(details[i]);
      } else if (auto v = decode_inputs(details[i])) {
        r.inputs = *v;
      }
    }
    if (q.as_of_ms) {
      // Rows created after as_of did not exist then.
      std::erase_if(out, [&](const IndexRow& r) { return r.created_at_ms > *q.as_of_ms; });
    }
    return out;
  }

  core::Result<std::vector<Revision>> revisions(const RevisionQuery& q) {
    std::lock_guard lock(mu_);
    Stmt s(db_.get(),
           "SELECT id, site, factor, period, start_ms, old_value, new_value, old_valid, new_valid, "
           "reason, cause_sequence, at_ms, review_action FROM derived_revisions WHERE (?1 = '' OR "
           "site = ?1) AND (?2 = '' OR factor = ?2) AND start_ms >= ?3 AND start_ms < ?4 ORDER BY "
           "id DESC LIMIT ?5");
    s.bind(q.site).bind(q.factor).bind(q.from_ms).bind(q.to_ms);
    s.bind(static_cast<std::int64_t>(q.limit));
    std::vector<Revision> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      Revision r;
      r.id = s.integer(0);
      r.site = s.text(1);
      r.factor = s.text(2);
      r.period = s.text(3) == "day" ? Period::kDay : Period::kHour;
      r.start_ms = s.integer(4);
      r.old_value = s.opt_real(5);
      r.new_value = s.opt_real(6);
      r.old_valid = s.integer(7) != 0;
      r.new_valid = s.integer(8) != 0;
      r.reason = s.text(9);
      r.cause_sequence = static_cast<std::uint64_t>(s.integer(10));
      r.at_ms = s.integer(11);
      r.review_action = s.integer(12);
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return core::fail(err("revisions"));
    return out;
  }

  const storage::Store& store_;
  const core::Clock& clock_;
  const DerivedOptions options_;
  std::mutex engine_mu_;  // one process_changes() at a time
  std::mutex mu_;         // the connection and the counters
  storage::sql::Connection db_;
  std::uint64_t cursor_ = 0;
  std::uint64_t review_cursor_ = 0;
  bool review_table_ = false;
  std::uint64_t actions_read_ = 0;
  std::uint64_t changes_read_ = 0;
  std::uint64_t rows_written_ = 0;
  std::uint64_t revisions_added_ = 0;
  std::uint64_t hour_mismatches_ = 0;

  // Last: stopped (its destructor) before the members its runs use.
  // One bounded run at a time (feed_worker.h): the first computation of a big store stays
  // stoppable.
  FeedWorker worker_{"derived", options_.poll_ms, clock_,
                     [this] { return process_changes(options_.batch_limit); }};
};

DerivedService::DerivedService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DerivedService::~DerivedService() { impl_->worker_.stop(); }

core::Result<std::unique_ptr<DerivedService>> DerivedService::open(const std::string& path,
                                                                   const storage::Store& store,
                                                                   const core::Clock& clock,
                                                                   DerivedOptions options) {
  auto impl = std::make_unique<Impl>(store, clock, options);
  if (auto r = impl->open(path); !r) return core::fail(r.error());
  return std::unique_ptr<DerivedService>(new DerivedService(std::move(impl)));
}

void DerivedService::start() { impl_->worker_.start(); }
void DerivedService::stop() { impl_->worker_.stop(); }
void DerivedService::notify() { impl_->worker_.notify(); }
core::Result<std::size_t> DerivedService::process_changes() { return impl_->process_changes(); }
core::Result<std::size_t> DerivedService::catch_up(std::size_t max_items) {
  return impl_->process_changes(max_items);
}

core::Result<std::vector<Aggregate>> DerivedService::aggregates(const AggregateQuery& q) {
  std::lock_guard lock(impl_->mu_);
  return impl_->read(q);
}

core::Result<std::vector<IndexRow>> DerivedService::indices(const IndexQuery& q) {
  return impl_->indices(q);
}

core::Result<std::vector<Revision>> DerivedService::revisions(const RevisionQuery& q) {
  return impl_->revisions(q);
}

DerivedCounters DerivedService::counters() {
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  return DerivedCounters{I.cursor_,        I.changes_read_, I.rows_written_,   I.revisions_added_,
                         I.review_cursor_, I.actions_read_, I.hour_mismatches_};
}

}  // namespace ecomon::derive
