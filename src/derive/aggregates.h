// Stored hourly and daily means and their revision trail (issue #5 §2: late and re-sent data are
// the normal case). The service tails the store's change feed and keeps, per (site, factor), the
// hourly and daily means as they stand now; when a late value or a new version of a value changes
// an hour or a day that had already been computed, it appends a revision (修订) with the old and
// the new value, so a published number that moved can be traced to what moved it.
//
// Hours (Beijing civil hours, standards/aggregation.h): the device's own hourly mean (HJ 212
// CN 2061, field Avg) is the official hour when there is one ("hour" source); otherwise the hour
// is computed from the minute values (CN 2051, field Avg; "minute") or, without them, from the
// real-time values (CN 2011, field Rtd; "rtd") and is valid with ≥ 45 valid minutes. Days (Beijing
// civil days, Asia/Shanghai) from the stored hours, valid with ≥ 20 valid hours. A sample is valid
// when its device flag is N (or absent), it is numeric, and it is neither quarantined, pending nor
// clock-suspect (storage::kQualityNotLatest). Values without a site are ignored.
//
// Revisions: for every (site, factor, hour) a batch of changes touches, the hour is recomputed
// from the stored values (Store::series, latest versions) and written only when it differs from
// the stored row (value, validity, coverage or source). A revision is appended when a row that
// already existed changes its value or validity AND a cause of the change is
//   new_version  a change of the batch is a new version (version > 1) of a known value key, or
//   late_value   its hour starts more than 1 h before the newest hour of the series seen so far
//                (the stored hours and the earlier changes of the batch);
// the same cause is recorded for the hour's day when the day changes. An hour still filling in
// (within 1 h of the newest) changes without a revision: that is data arriving, not a revision.
// The reason `review` is reserved for review actions (derive/review.h), not produced yet.
//
// Tables, in the store's SQLite file through this service's own connection (storage/sqlite/sql.h):
//   derived_hours(site, factor, kind_source, hour_start_ms, value, valid, expected, received,
//                 valid_count, computed_at_ms)   PRIMARY KEY(site, factor, hour_start_ms)
//   derived_days(site, factor, day_start_ms, value, valid, expected, received, valid_count,
//                computed_at_ms)                 PRIMARY KEY(site, factor, day_start_ms)
//   derived_revisions(id, site, factor, period, start_ms, old_value, new_value, old_valid,
//                     new_valid, reason, cause_sequence, at_ms)   append-only
//   derived_cursor(name, sequence)               the change-feed position computed up to
// Each batch of changes is committed in ONE transaction with the new cursor (synchronous=FULL):
// after a crash the batch is recomputed from the old cursor, and since rows and revisions are
// written only where the stored row differs, nothing is counted twice. The first open starts the
// cursor at 0: the whole stored history is computed once.
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

#include "core/clock.h"
#include "core/result.h"
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
};

struct AggregateQuery {
  std::string site;    // required
  std::string factor;  // required
  Period period = Period::kHour;
  std::int64_t from_ms = INT64_MIN;  // start, inclusive
  std::int64_t to_ms = INT64_MAX;    // start, exclusive
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
};

struct DerivedCounters {
  std::uint64_t cursor = 0;
  std::uint64_t changes_read = 0;     // since start
  std::uint64_t rows_written = 0;     // hours and days inserted or changed, since start
  std::uint64_t revisions_added = 0;  // since start
};

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

  // Computes the feed from the cursor until caught up, one transaction per batch; returns the
  // number of changes read. For tests and benchmarks (no thread needed).
  core::Result<std::size_t> process_changes();

  // Stored hours or days of a site's factor, oldest first.
  core::Result<std::vector<Aggregate>> aggregates(const AggregateQuery& q);
  // Revisions matching the query, newest first.
  core::Result<std::vector<Revision>> revisions(const RevisionQuery& q);

  DerivedCounters counters();

  class Impl;

 private:
  explicit DerivedService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecomon::derive
