// Screening marks (筛查标记, issue #5 §4/§5): the quality-screening findings
// (analytics/screening.h) stored, so that a reviewer can follow each one up — confirm it (造假 /
// 异常属实) or dismiss it (误报) — and the `screened` review level (raw → screened → audited →
// final) of the values that have been screened. Screening never changes a value or its validity.
//
// Feeding: the service tails Store::changes from its own cursor (screening_cursor), on its own
// thread (derive/feed_worker.h), woken by the ingestor's commits like the derived service. A
// change of a value of kind minute, hour or day with field Avg and a site touches (site, factor,
// kind, Beijing day); it also touches the factors screened together with it (PM2.5 ↔ PM10, the
// factors of a sum rule) and, for minute data, the hourly series (hour_mismatch reads minutes).
// Per touched series, the touched days (runs of days closer than two margins merged) are
// re-screened over [first day − margin, last day end + margin), widened to cover the open or
// reviewed marks of the series overlapping it (at most 31 days further each way), where margin is
// the longest window a rule looks at (ScreeningConfig: the longest constant run, the
// low-variation, jitter and clock-drift windows, the identical-series run; at least one day: 72 h
// with the defaults). The screening is derive::screen_site (derive/site_screening.h), the same as
// GET /api/v1/screening, with missing_without_reason ending at each device's last value.
//
// Marks: one row per finding, identified by (site, mn, factor, kind, field, rule) and its range.
// Reconciling the findings of a window with the stored marks of the series:
//   - a finding overlapping or touching a non-withdrawn mark of the same identity updates that
//     mark in place (the oldest when several): range, count, severity, evidence; updated_at moves,
//     first_found_at stays. Parts of the mark outside the window are kept. Other non-withdrawn
//     open marks it overlaps (two runs joined by a filled gap) are withdrawn;
//   - a finding with no such mark is a new open mark;
//   - an open mark inside the window that no finding matches any more (a late value broke a
//     constant run, a re-sent value corrected a jump) becomes `withdrawn` — kept, never deleted.
//     Confirmed and dismissed marks are the reviewers' decisions: a finding still updates their
//     range, they are never withdrawn.
// Each batch (at most batch_limit changes and max_windows touched (series, day)s; a backlog drains
// over several batches) is screened from the store first, then reconciled and committed with the
// cursor in ONE transaction (synchronous=FULL): after a crash the batch is redone from the old
// cursor and finds its marks as it would write them — nothing twice.
//
// The screened level: a value of kind minute, hour or day with field Avg whose change-feed
// sequence is at or below the cursor has been screened with its window (is_screened()).
//
// Review: review() sets a mark confirmed or dismissed with the reviewer, time and note (note
// required to dismiss), and may link the review action (derive/review.h, an invalidate) the
// caller recorded for it. A withdrawn mark cannot be reviewed (error conflict).
//
// Table, in the store's SQLite file through this service's own connection (storage/sqlite/sql.h):
//   screening_marks(id, site, mn, factor, kind, field, rule, severity, from_ms, to_ms, count,
//                   evidence, status, first_found_at_ms, updated_at_ms, reviewed_by,
//                   reviewed_at_ms, review_note, review_action)
//   screening_cursor(name, sequence)   "screening": the change feed screened up to
// evidence is JSON text: {"text": the finding's English evidence, "rule_zh": the rule's name}.
//
// Thread-safety: every public method may be called from any thread; one mutex guards the
// connection, another serialises process_changes(). Errors (core::Error::reason): cannot_open,
// db_error, busy, not_found, conflict, bad_request.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analytics/screening.h"
#include "core/clock.h"
#include "core/result.h"
#include "storage/store.h"

namespace ecomon::derive {

struct ScreeningOptions {
  bool stored = true;  // [screening] stored: false = no marks, no screened level (route only)
  int busy_timeout_ms = 10000;
  std::size_t batch_limit = 5000;  // changes per batch ([screening] batch_limit)
  std::size_t max_windows = 200;   // touched (series, day)s per batch ([screening] max_windows)
  std::int64_t poll_ms = 200;      // the thread's fallback wake-up
};

struct ScreeningMark {
  std::int64_t id = 0;
  std::string site;
  std::string mn;
  std::string factor;
  std::string kind;  // minute, hour, day
  std::string field;
  std::string rule;      // analytics::screening::rule_name
  std::string severity;  // info, warning, critical
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;  // exclusive
  std::int64_t count = 0;
  std::string evidence;  // JSON object text
  std::string status;    // open, confirmed, dismissed, withdrawn
  std::int64_t first_found_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::string reviewed_by;  // "" = not reviewed
  std::optional<std::int64_t> reviewed_at_ms;
  std::string review_note;
  std::optional<std::int64_t> review_action;  // the invalidate action recorded with a confirmation
};

struct MarkQuery {
  std::string site;    // "" = every site
  std::string factor;  // "" = every factor
  std::string rule;    // "" = every rule
  std::string status;  // "" = every status
  // Marks whose range overlaps [from_ms, to_ms).
  std::int64_t from_ms = INT64_MIN;
  std::int64_t to_ms = INT64_MAX;
  std::size_t limit = 100;
};

struct ScreeningCounters {
  std::uint64_t cursor = 0;
  std::uint64_t batches = 0;
  std::uint64_t changes_read = 0;
  std::uint64_t windows_screened = 0;
  std::uint64_t marks_found = 0;      // new marks
  std::uint64_t marks_updated = 0;    // marks whose range, count or evidence changed
  std::uint64_t marks_withdrawn = 0;  // marks no longer found
  std::uint64_t errors = 0;           // failed batches
};

// True for a value the service screens (kind minute, hour or day, field Avg, with a site) whose
// change-feed sequence is at or below `cursor`.
bool is_screened(const storage::Value& v, std::uint64_t cursor);

class ScreeningService {
 public:
  // Opens (and creates the tables in) the store's SQLite file at `path`. `config` is copied.
  // Errors: cannot_open, db_error, busy.
  static core::Result<std::unique_ptr<ScreeningService>> open(
      const std::string& path, const storage::Store& store, const core::Clock& clock,
      const analytics::screening::ScreeningConfig& config, ScreeningOptions options = {});
  ~ScreeningService();  // stop()
  ScreeningService(const ScreeningService&) = delete;
  ScreeningService& operator=(const ScreeningService&) = delete;

  void start();
  void stop();
  void notify();

  // Screens the change feed from the cursor until caught up, one transaction per batch; returns
  // the changes read. For tests (no thread needed).
  core::Result<std::size_t> process_changes();
  // process_changes(), stopping after `max_changes` (whole batches): what a reader calls before
  // answering from the marks.
  core::Result<std::size_t> catch_up(std::size_t max_changes = 20000);

  std::uint64_t cursor();
  // Newest first; at most q.limit.
  core::Result<std::vector<ScreeningMark>> marks(const MarkQuery& q);
  core::Result<std::optional<ScreeningMark>> mark(std::int64_t id);
  // status "confirmed" or "dismissed" (bad_request otherwise; note ≤ 1000 bytes, required for
  // dismissed); not_found; conflict for a withdrawn mark. Returns the mark as stored.
  core::Result<ScreeningMark> review(std::int64_t id, const std::string& status,
                                     const std::string& note, const std::string& actor,
                                     std::optional<std::int64_t> review_action);

  ScreeningCounters counters();

  class Impl;

 private:
  explicit ScreeningService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecomon::derive
