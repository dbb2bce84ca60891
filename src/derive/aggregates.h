// Stored hourly and daily means, stored air-quality indices, and their revision trail (issue #5
// §1, §2, §5). The service tails the store's change feed and the review actions, and keeps, per
// (site, factor), the hourly and daily means as they stand now, and per station and per city the
// hourly and daily AQI, the O3 8-h sliding mean and daily maximum and the PM 24-h sliding means;
// when a late value, a new version of a value or a review action changes a row that had already
// been computed, it appends a revision (修订) with the old and the new value, so a published number
// that moved can be traced to what moved it, and the value as it was known at any past time can be
// read back ("as of").
//
// Hours (Beijing civil hours, standards/aggregation.h): the device's own hourly mean (HJ 212
// CN 2061, field Avg) is the official hour when there is one ("hour" source); otherwise the hour
// is computed from the minute values (CN 2051, field Avg; "minute") or, without them, from the
// real-time values (CN 2011, field Rtd; "rtd") and is valid with ≥ 45 valid minutes. Days (Beijing
// civil days, Asia/Shanghai) from the stored hours, valid with ≥ 20 valid hours. A sample is valid
// when its device flag is N (or absent), it is numeric, it is neither quarantined, pending nor
// clock-suspect (storage::kQualityNotLatest), and no review action invalidated it; a corrected
// value replaces the raw one (derive/review.h, review_state()). Values without a site are ignored.
// Each row also keeps the mean of the raw values without any review (raw_value, raw_valid), so
// the raw mean stays reproducible beside the reviewed one.
//
// Platform hour (issue #5 §1): an hour whose source is the device's own hour also keeps the
// platform's mean of the same site and factor's minute values (else real-time values) of that
// hour, reviewed like the hour, valid with ≥ 45 valid minutes (platform_value, platform_valid,
// platform_received, platform_valid_count), and `mismatch`: the device's hour and the platform's
// are both valid (the platform's with ≥ ScreeningConfig::hour_min_minutes) and differ by more than
// max(the factor's hour_tolerance, hour_tolerance_fraction × |platform|) — analytics/screening.h
// hour_mismatch with DerivedOptions::screening (`[screening]`); a factor without a tolerance or the
// rule disabled is never flagged. A late or re-sent minute recomputes it. A change of only these
// columns leaves no revision and does not recompute the day, city or indices; a configuration
// change applies to the hours recomputed after it.
//
// Review actions: the service tails review_actions by id from its own cursor (derived_cursor row
// "review"). An invalidate, correct or restore action (and any other verb that is not approve or
// finalize) marks the stored hours of its site and factor whose start lies in [hour of from, to)
// dirty; they are recomputed with the actions up to that id applied, and every row that changes
// (the hour, its day, the indices) gets a revision with reason `review` and the action's id.
// Hours are always computed with exactly the actions up to the review cursor, so the change is
// attributed to the review, never to a later value. Actions on daily values (kind day) change no
// stored row: days are computed from the hours.
//
// Cities (registry air_role urban, 城市点): when a station's hourly mean of an AQI item changes and
// the station is an urban point of a city, the city's hour is recomputed as the mean over the
// city's urban points' valid hours of that item (as api/aqi_routes.cpp always did) and stored as
// an hour row of site "city:CODE" (source "city"; coverage: expected = the city's urban points,
// received = points with a row, valid = points with a valid hour), and its day from those hours.
// The urban points are the registry's now (a point added later is not counted into old hours
// until they are recomputed).
//
// Counties: likewise a county's hour (site "county:CODE", source "county") is the mean over the
// county's ambient-air points other than control points (air_role control, 对照点) of their valid
// hours, with its day and indices. ASSUMED: the reference sheets (GB 3095-2012, HJ 663, HJ 633)
// do not say which points a county's assessment counts; county practice varies (城市点 where the
// county seat has them, else 区县点), so every non-control ambient-air point of the county
// (registry place.county_code) counts.
//
// Indices (derive/indices.h), for each station with a changed AQI-item hour and each such city
// or county:
//   aqi_hour   (period hour) the hourly AQI; value = AQI, inputs = the 1-h concentrations
//   aqi_day    (period day)  the daily AQI (HJ 663 daily values), inputs = the concentrations
//   o3_8h      (period hour) O3 8-h sliding mean keyed by its last hour (≥ 6 valid hours)
//   o3_8h_max  (period day)  O3 daily maximum 8-h mean (≥ 14 windows or exceeding)
//   pm10_24h, pm25_24h (period hour) 24-h sliding means keyed by their last hour (≥ 20 hours)
// recomputed whenever one of their hours changed, with revisions like the means. And, for each
// sample of a surface-water site (registry kind surface_water, options.registry required):
//   water_class (keyed by the sample's measured time) the section class by GB 3838-2002 表1
//              single-factor evaluation (derive/indices.h water_class_of), value 1..6 for I..劣V,
//              detail = the table, the water body, the items with their values and classes and
//              the deciding items (WaterClassDetail). A sample is the site's hourly values (CN
//              2061 Avg) of the GB 3838 items at one measured time, valid and reviewed (an
//              invalid or invalidated value is left out, a correction counts); recomputed when a
//              change of the feed or a review action on one of its items touches it.
//
// Revisions: for every (site, factor, hour) a batch touches, the hour is recomputed from the
// stored values (Store::series, latest versions) and written only when it differs from the stored
// row (value, validity, coverage, source or raw mean). A revision is appended when a row that
// already existed changes its value or validity (an index also when its inputs change) AND a
// cause of the change is
//   review       a review action (the strongest cause; review_action = its id),
//   new_version  a change of the batch is a new version (version > 1) of a known value key, or
//   late_value   its hour starts more than 1 h before the newest hour of the series seen so far
//                (the stored hours and the earlier changes of the batch);
// the same cause is recorded for the rows that follow the hour (its day, the city, the indices).
// An hour still filling in (within 1 h of the newest) changes without a revision: that is data
// arriving, not a revision.
//
// As of: each row records when it was first computed (created_at_ms) and last changed
// (computed_at_ms); a revision keeps the old row's value, validity, detail (coverage or index
// inputs) and when the old row had last changed (old_computed_at_ms). A row as known at T is:
// absent when created after T; the row as it stands when it has not changed since T; else the
// old side of its first revision after T when the old row had not changed after T either; else
// (it changed after T without a revision: an hour filling in, its day) a station's hour is
// recomputed as the store held it at T — the value versions received by T (series_as_of) and the
// review actions written by T — and a station's day from its hours as known at T. City rows and
// the indices are not recomputed: they give the old side of their first revision after T, or the
// row as it stands (an index or city hour filling in at T shows its newer value).
//
// Tables, in the store's SQLite file through this service's own connection (storage/sqlite/sql.h):
//   derived_hours(site, factor, kind_source, hour_start_ms, value, valid, expected, received,
//                 valid_count, computed_at_ms, raw_value, raw_valid, created_at_ms,
//                 platform_value, platform_valid, platform_received, platform_valid_count,
//                 mismatch)
//                                                PRIMARY KEY(site, factor, hour_start_ms)
//   derived_days(site, factor, day_start_ms, value, valid, expected, received, valid_count,
//                computed_at_ms, raw_value, raw_valid, created_at_ms)
//                                                PRIMARY KEY(site, factor, day_start_ms)
//   derived_indices(site, name, start_ms, value, valid, detail, created_at_ms, computed_at_ms)
//                                                PRIMARY KEY(site, name, start_ms)
//   derived_revisions(id, site, factor, period, start_ms, old_value, new_value, old_valid,
//                     new_valid, reason, cause_sequence, at_ms, review_action, old_detail,
//                     old_computed_at_ms)
//                                                append-only; an index's factor is its name
//   derived_cursor(name, sequence)               "derived": the change feed computed up to;
//                                                "review": the review action id applied up to
// The columns added after the first release (raw_value, raw_valid, created_at_ms, review_action,
// old_detail, platform_*, mismatch, old_computed_at_ms) are added to an older file when it is
// opened. A revision's old_detail of a device hour also keeps the old platform columns, so `as_of`
// gives them too. Each batch is committed in ONE transaction with its cursor (synchronous=FULL):
// after a crash the batch is recomputed from the old cursor, and since rows and revisions are
// written only where the stored row differs, nothing is counted twice. The first open starts both
// cursors at 0: the whole stored history (and every review action) is computed once.
//
// Thread-safety: every public method may be called from any thread; one mutex guards the
// connection, another serialises process_changes(). Errors (core::Error::reason): cannot_open,
// db_error, busy.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analytics/screening.h"
#include "core/clock.h"
#include "core/result.h"
#include "derive/indices.h"
#include "registry/holder.h"
#include "storage/store.h"

namespace ecomon::derive {

enum class Period : std::uint8_t { kHour, kDay };
std::string_view period_name(Period p);  // "hour", "day"

// One stored hour or day.
struct Aggregate {
  std::string site;
  std::string factor;
  Period period = Period::kHour;
  std::string source;           // hours: "hour", "minute" or "rtd"; days: "hours"
  std::int64_t start_ms = 0;    // the Beijing hour's or day's start (UTC instant)
  std::optional<double> value;  // mean of the valid samples (none when there is none)
  bool valid = false;           // ≥ 45 valid minutes, the official hour valid, ≥ 20 valid hours
  int expected = 0;             // 60 minutes, 1 official hour, 24 hours
  int received = 0;             // minutes / hours with a sample
  int valid_count = 0;          // of them valid
  std::int64_t computed_at_ms = 0;  // the clock's time of the last change of this row
  std::int64_t created_at_ms = 0;   // the clock's time of its first computation (0: unknown)
  std::optional<double> raw_value;  // the same mean of the raw values, no review applied
  bool raw_valid = false;
  // Hours of source "hour" only (else empty): the platform's mean of the same site and factor's
  // minute values (else real-time values) of that hour, reviewed like the hour, beside the
  // device's; valid with ≥ 45 valid minutes. `mismatch`: both valid and the device's hour differs
  // from it beyond the factor's `[screening]` hour tolerance (see "Platform hour" above).
  std::optional<double> platform_value;
  bool platform_valid = false;
  int platform_received = 0;     // minutes (or real-time minutes) with a sample
  int platform_valid_count = 0;  // of them valid
  bool mismatch = false;
};

// One change of a stored hour or day caused by late or re-sent data.
struct Revision {
  std::int64_t id = 0;  // increasing: a later id is a later revision
  std::string site;
  std::string factor;
  Period period = Period::kHour;
  std::int64_t start_ms = 0;
  std::optional<double> old_value;
  std::optional<double> new_value;
  bool old_valid = false;
  bool new_valid = false;
  std::string reason;                // late_value | new_version | review
  std::uint64_t cause_sequence = 0;  // the change-feed sequence of the value that caused it
  std::int64_t at_ms = 0;            // the clock's time it was computed
  std::int64_t review_action = 0;    // reason review: the review action's id
};

// One stored index (see the header comment for the names).
struct IndexRow {
  std::string site;  // a station code or "city:CODE"
  std::string name;  // aqi_hour, aqi_day, o3_8h, o3_8h_max, pm10_24h, pm25_24h, water_class
  Period period = Period::kHour;
  std::int64_t start_ms = 0;    // the hour (the window's last hour), the day, or the sample time
  std::optional<double> value;  // the AQI or the concentration
  bool valid = false;
  AqiInputs inputs{};  // aqi_hour / aqi_day: the concentrations the AQI was computed from
  std::optional<WaterClassDetail> water;  // water_class: the items, their classes, the table
  std::int64_t computed_at_ms = 0;
  std::int64_t created_at_ms = 0;
};

struct IndexQuery {
  std::string site;  // required (station code or "city:CODE")
  std::string name;  // required
  std::int64_t from_ms = INT64_MIN;
  std::int64_t to_ms = INT64_MAX;
  std::optional<std::int64_t> as_of_ms;  // the rows as they were known then
  std::size_t limit = 10000;
};

// The index names and their periods.
Period index_period(std::string_view name);
bool is_index_name(std::string_view name);

struct AggregateQuery {
  std::string site;    // required
  std::string factor;  // required
  Period period = Period::kHour;
  std::int64_t from_ms = INT64_MIN;      // start, inclusive
  std::int64_t to_ms = INT64_MAX;        // start, exclusive
  std::optional<std::int64_t> as_of_ms;  // the rows as they were known then
  std::size_t limit = 10000;
};

struct RevisionQuery {
  std::string site;                  // "" = every site
  std::string factor;                // "" = every factor
  std::int64_t from_ms = INT64_MIN;  // the revised period's start, inclusive
  std::int64_t to_ms = INT64_MAX;    // the revised period's start, exclusive
  std::size_t limit = 1000;
};

struct DerivedOptions {
  int busy_timeout_ms = 10000;
  std::size_t batch_limit = 5000;  // changes per transaction
  std::int64_t poll_ms = 200;      // the thread's fallback wake-up
  // The network, for the cities' urban points; null: no city rows are kept.
  const registry::RegistryHolder* registry = nullptr;
  // hour_mismatch's per-factor tolerance, fraction, minimum minutes and on/off (`[screening]`).
  analytics::screening::ScreeningConfig screening{};
};

struct DerivedCounters {
  std::uint64_t cursor = 0;
  std::uint64_t changes_read = 0;     // since start
  std::uint64_t rows_written = 0;     // hours and days inserted or changed, since start
  std::uint64_t revisions_added = 0;  // since start
  std::uint64_t review_cursor = 0;    // the review action id applied up to
  std::uint64_t actions_read = 0;     // review actions read since start
  std::uint64_t hour_mismatches = 0;  // device hours written with mismatch set, since start
};

// Months or years (GB 3095-2012 表4: a month needs 27 valid days, February 25; a year 324) from
// stored days in time order: the reviewed mean and the raw mean side by side, source "days",
// coverage in days, computed_at the latest of its days. Pure.
std::vector<Aggregate> months_or_years_from_days(const std::vector<Aggregate>& days, bool months);

// The values of a site's series in [q.from_ms, q.to_ms) (q.kind, when given) as the store held
// them at `as_of_ms`: of every device that reported for the site — those in the current series
// and, with a registry, those assigned to the site in the range — the latest version of each key
// (measured time, kind, field, device) received by then, where that version named this site;
// ordered like Store::series. Error range_too_large when a device has q.limit or more versions in
// the range (records() would cut the later ones).
core::Result<std::vector<storage::Value>> series_as_of(const storage::Store& store,
                                                       const registry::Registry* reg,
                                                       const storage::SeriesQuery& q,
                                                       std::int64_t as_of_ms);

class DerivedService {
 public:
  // Opens (and creates the tables in) the SQLite database at `path` (the store's file, which must
  // exist). Errors: cannot_open, db_error, busy.
  static core::Result<std::unique_ptr<DerivedService>> open(const std::string& path,
                                                            const storage::Store& store,
                                                            const core::Clock& clock,
                                                            DerivedOptions options = {});
  ~DerivedService();  // stop()
  DerivedService(const DerivedService&) = delete;
  DerivedService& operator=(const DerivedService&) = delete;

  // Starts the thread that runs process_changes() when notified or every poll_ms; stop() ends it
  // (idempotent).
  void start();
  void stop();
  // New changes are in the store (the app calls it after each ingest commit): wake the thread.
  void notify();

  // Computes the change feed, then the review actions, from their cursors until caught up, one
  // transaction per batch; returns the number of changes and actions read. For tests and benchmarks
  // (no thread needed).
  core::Result<std::size_t> process_changes();
  // process_changes() for a reader that must see everything committed before it asked (the API
  // calls it before answering from the stored rows, and after recording a review action); cheap
  // when caught up (one query per feed). Bounded: it stops after `max_items` changes and actions
  // (whole batches), so a request arriving during a large backfill, or right after the first
  // start on a big store, answers from rows that still lag instead of waiting for all of it; the
  // service's thread goes on.
  core::Result<std::size_t> catch_up(std::size_t max_items = 20000);

  // Stored hours or days of a site's factor, oldest first.
  core::Result<std::vector<Aggregate>> aggregates(const AggregateQuery& q);
  // Stored indices of a station or city, oldest first.
  core::Result<std::vector<IndexRow>> indices(const IndexQuery& q);
  // Revisions matching the query, newest first.
  core::Result<std::vector<Revision>> revisions(const RevisionQuery& q);

  DerivedCounters counters();

  class Impl;

 private:
  explicit DerivedService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecomon::derive
