#include "derive/aggregates.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "standards/aggregation.h"
#include "storage/sqlite/sql.h"

namespace ecomon::derive {
namespace {

namespace agg = standards::aggregation;
using Stmt = storage::sql::Statement;

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::int64_t kDayMs = 24 * kHourMs;
constexpr const char* kCursorName = "derived";

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
)sql";

// Why a touched period changed; the stronger cause wins (new_version over late_value).
enum class Cause : std::uint8_t { kNone, kLate, kNewVersion };
std::string_view cause_name(Cause c) {
  return c == Cause::kNewVersion ? "new_version" : "late_value";
}

struct CauseOf {
  Cause cause = Cause::kNone;
  std::uint64_t sequence = 0;
  void add(Cause c, std::uint64_t seq) {
    if (c >= cause && c != Cause::kNone) {
      cause = c;
      sequence = seq;
    }
  }
};

using SeriesKey = std::pair<std::string, std::string>;                 // site, factor
using PeriodKey = std::tuple<std::string, std::string, std::int64_t>;  // site, factor, start

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

bool same_row(const Aggregate& a, const Aggregate& b) {
  return a.value == b.value && a.valid == b.valid && a.expected == b.expected &&
         a.received == b.received && a.valid_count == b.valid_count && a.source == b.source;
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
    Stmt q(db_.get(), "SELECT sequence FROM derived_cursor WHERE name=?");
    q.bind(kCursorName);
    const int rc = q.step();
    if (rc == SQLITE_ROW) {
      cursor_ = static_cast<std::uint64_t>(q.integer(0));
      return {};
    }
    if (rc != SQLITE_DONE) return core::fail(err("cursor"));
    Stmt ins(db_.get(), "INSERT INTO derived_cursor(name, sequence) VALUES(?, 0)");
    ins.bind(kCursorName);
    if (ins.step() != SQLITE_DONE) return core::fail(err("cursor"));
    return {};
  }

  core::Error err(std::string_view what) { return storage::sql::error(db_.get(), what); }

  // --- the engine ---

  core::Result<std::size_t> process_changes() {
    std::lock_guard engine(engine_mu_);
    std::size_t total = 0;
    while (true) {
      auto changes = store_.changes(cursor_, options_.batch_limit);
      if (!changes) return core::fail(changes.error());
      if (changes->empty()) break;
      // Outside the transaction: which hours the batch touches and why, and those hours computed
      // from the store. Only this engine writes the derived tables, so reading them first is
      // safe, and SQLite's write lock (which the ingestor's commits wait for) is held only for
      // the writes.
      std::map<PeriodKey, CauseOf> touched;
      {
        std::lock_guard lock(mu_);
        if (auto r = touched_hours(*changes, touched); !r) return core::fail(r.error());
      }
      std::vector<std::pair<Aggregate, CauseOf>> hours;
      for (const auto& [key, cause] : touched) {
        const auto& [site, factor, hour] = key;
        auto fresh = compute_hour(site, factor, hour);
        if (!fresh) return core::fail(fresh.error());
        if (!*fresh) continue;  // no value of the hour is stored (any more): the row stays
        (*fresh)->site = site;
        (*fresh)->factor = factor;
        hours.emplace_back(std::move(**fresh), cause);
      }
      std::lock_guard lock(mu_);
      if (!storage::sql::exec(db_.get(), "BEGIN IMMEDIATE")) return core::fail(err("begin"));
      BatchStats stats;
      auto r = write_batch(hours, stats);
      const std::uint64_t next = changes->back().sequence;
      if (r) {
        Stmt q(db_.get(), "UPDATE derived_cursor SET sequence=? WHERE name=?");
        q.bind(static_cast<std::int64_t>(next)).bind(kCursorName);
        if (q.step() != SQLITE_DONE) r = core::fail(err("cursor"));
      }
      if (r && !storage::sql::exec(db_.get(), "COMMIT")) r = core::fail(err("commit"));
      if (!r) {
        storage::sql::exec(db_.get(), "ROLLBACK");
        return core::fail(r.error());
      }
      cursor_ = next;
      changes_read_ += changes->size();
      rows_written_ += stats.rows;
      revisions_added_ += stats.revisions;
      total += changes->size();
    }
    return total;
  }

  struct BatchStats {
    std::uint64_t rows = 0;
    std::uint64_t revisions = 0;
  };

  // The (site, factor, hour)s a batch touches, each with the strongest cause among its changes.
  // A change is late against the newest hour of its series: the stored hours and the earlier
  // changes of the batch. Caller holds mu_.
  core::Result<void> touched_hours(const std::vector<storage::Change>& changes,
                                   std::map<PeriodKey, CauseOf>& hours) {
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
    }
    return {};
  }

  // Inside the transaction: the recomputed hours stored where they differ, then the days of the
  // hours that changed. Caller holds mu_.
  core::Result<void> write_batch(const std::vector<std::pair<Aggregate, CauseOf>>& hours,
                                 BatchStats& stats) {
    const std::int64_t now = clock_.now_ms();
    std::map<PeriodKey, CauseOf> days;
    for (const auto& [hour, cause] : hours) {
      auto changed = store_row(hour, cause, now, stats);
      if (!changed) return core::fail(changed.error());
      if (*changed) {
        days[PeriodKey{hour.site, hour.factor, agg::beijing_period_start(hour.start_ms, kDayMs)}]
            .add(cause.cause, cause.sequence);
      }
    }
    for (const auto& [key, cause] : days) {
      const auto& [site, factor, day_start] = key;
      auto fresh = compute_day(site, factor, day_start);
      if (!fresh) return core::fail(fresh.error());
      fresh->site = site;
      fresh->factor = factor;
      if (auto changed = store_row(*fresh, cause, now, stats); !changed) {
        return core::fail(changed.error());
      }
    }
    return {};
  }

  core::Result<std::optional<std::int64_t>> newest_hour(const std::string& site,
                                                        const std::string& factor) {
    Stmt q(db_.get(), "SELECT max(hour_start_ms) FROM derived_hours WHERE site=? AND factor=?");
    q.bind(site).bind(factor);
    if (q.step() != SQLITE_ROW) return core::fail(err("newest hour"));
    return q.opt_integer(0);
  }

  // The hour from the stored values: the official hour when the device sent one, else from the
  // minute values, else from the real-time values; nullopt when none is stored.
  core::Result<std::optional<Aggregate>> compute_hour(const std::string& site,
                                                      const std::string& factor,
                                                      std::int64_t hour) {
    storage::SeriesQuery q;
    q.site = site;
    q.factor = factor;
    q.from_ms = hour;
    q.to_ms = hour + kHourMs;
    auto values = store_.series(q);
    if (!values) return core::fail(values.error());
    std::vector<agg::Sample> official, minutes, realtime;
    for (const auto& v : *values) {
      if (!feeds_hours(v)) continue;
      const agg::Sample s{v.measured_ms, v.number.value_or(0), sample_valid(v)};
      if (v.kind == storage::DataKind::kHour) official.push_back(s);
      if (v.kind == storage::DataKind::kMinute) minutes.push_back(s);
      if (v.kind == storage::DataKind::kRealtime) realtime.push_back(s);
    }
    std::vector<agg::Bucket> buckets;
    std::string source;
    if (!official.empty()) {
      buckets = agg::periods_as_received(official, kHourMs);
      source = "hour";
    } else if (!minutes.empty()) {
      buckets = agg::hours_from_subhourly(minutes);
      source = "minute";
    } else if (!realtime.empty()) {
      buckets = agg::hours_from_subhourly(realtime);
      source = "rtd";
    }
    for (const auto& b : buckets) {
      if (b.start_ms == hour)
        return std::optional<Aggregate>(from_bucket(b, Period::kHour, source));
    }
    return std::optional<Aggregate>();
  }

  // The day from its stored hours (those written in this transaction included).
  core::Result<Aggregate> compute_day(const std::string& site, const std::string& factor,
                                      std::int64_t day_start) {
    AggregateQuery q;
    q.site = site;
    q.factor = factor;
    q.period = Period::kHour;
    q.from_ms = day_start;
    q.to_ms = day_start + kDayMs;
    auto rows = read(q);
    if (!rows) return core::fail(rows.error());
    std::vector<agg::Bucket> hours;
    for (const auto& a : *rows) {
      agg::Bucket b;
      b.start_ms = a.start_ms;
      b.expected = a.expected;
      b.received = a.received;
      b.valid = a.valid_count;
      b.mean = a.value;
      b.is_valid = a.valid;
      hours.push_back(b);
    }
    const auto days = agg::days_from_hours(hours);
    Aggregate day;
    day.period = Period::kDay;
    day.source = "hours";
    day.start_ms = day_start;
    day.expected = 24;
    for (const auto& b : days) {
      if (b.start_ms == day_start) day = from_bucket(b, Period::kDay, "hours");
    }
    return day;
  }

  // Writes the row when it differs from the stored one, and a revision when a stored row changed
  // its value or validity for a cause. Returns whether the row changed.
  core::Result<bool> store_row(const Aggregate& a, const CauseOf& cause, std::int64_t now,
                               BatchStats& stats) {
    AggregateQuery q;
    q.site = a.site;
    q.factor = a.factor;
    q.period = a.period;
    q.from_ms = a.start_ms;
    q.to_ms = a.start_ms + 1;
    auto old = read(q);
    if (!old) return core::fail(old.error());
    if (!old->empty() && same_row(old->front(), a)) return false;
    const bool hour = a.period == Period::kHour;
    Stmt up(db_.get(), hour ? "INSERT OR REPLACE INTO derived_hours(site, factor, kind_source, "
                              "hour_start_ms, value, valid, expected, received, valid_count, "
                              "computed_at_ms) VALUES(?,?,?,?,?,?,?,?,?,?)"
                            : "INSERT OR REPLACE INTO derived_days(site, factor, day_start_ms, "
                              "value, valid, expected, received, valid_count, computed_at_ms) "
                              "VALUES(?,?,?,?,?,?,?,?,?)");
    up.bind(a.site).bind(a.factor);
    if (hour) up.bind(a.source);
    up.bind(a.start_ms).bind(a.value).bind(std::int64_t{a.valid});
    up.bind(std::int64_t{a.expected}).bind(std::int64_t{a.received});
    up.bind(std::int64_t{a.valid_count}).bind(now);
    if (up.step() != SQLITE_DONE) return core::fail(err("derived row"));
    ++stats.rows;
    if (old->empty() || cause.cause == Cause::kNone) return true;
    const Aggregate& was = old->front();
    if (was.value == a.value && was.valid == a.valid) return true;
    Stmt rev(db_.get(),
             "INSERT INTO derived_revisions(site, factor, period, start_ms, old_value, new_value, "
             "old_valid, new_valid, reason, cause_sequence, at_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
    rev.bind(a.site).bind(a.factor).bind(period_name(a.period)).bind(a.start_ms);
    rev.bind(was.value).bind(a.value).bind(std::int64_t{was.valid}).bind(std::int64_t{a.valid});
    rev.bind(cause_name(cause.cause)).bind(static_cast<std::int64_t>(cause.sequence)).bind(now);
    if (rev.step() != SQLITE_DONE) return core::fail(err("revision"));
    ++stats.revisions;
    return true;
  }

  // Caller holds mu_.
  core::Result<std::vector<Aggregate>> read(const AggregateQuery& q) {
    const bool hour = q.period == Period::kHour;
    Stmt s(db_.get(), hour ? "SELECT kind_source, hour_start_ms, value, valid, expected, received, "
                             "valid_count, computed_at_ms FROM derived_hours WHERE site=? AND "
                             "factor=? AND hour_start_ms>=? AND hour_start_ms<? ORDER BY "
                             "hour_start_ms LIMIT ?"
                           : "SELECT 'hours', day_start_ms, value, valid, expected, received, "
                             "valid_count, computed_at_ms FROM derived_days WHERE site=? AND "
                             "factor=? AND day_start_ms>=? AND day_start_ms<? ORDER BY "
                             "day_start_ms LIMIT ?");
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
      out.push_back(std::move(a));
    }
    if (rc != SQLITE_DONE) return core::fail(err("derived rows"));
    return out;
  }

  core::Result<std::vector<Revision>> revisions(const RevisionQuery& q) {
    std::lock_guard lock(mu_);
    Stmt s(db_.get(),
           "SELECT id, site, factor, period, start_ms, old_value, new_value, old_valid, new_valid, "
           "reason, cause_sequence, at_ms FROM derived_revisions WHERE (?1 = '' OR site = ?1) AND "
           "(?2 = '' OR factor = ?2) AND start_ms >= ?3 AND start_ms < ?4 ORDER BY id DESC "
           "LIMIT ?5");
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
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return core::fail(err("revisions"));
    return out;
  }

  // --- the thread ---

  void start() {
    std::lock_guard lock(thread_mu_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
    thread_ = std::thread([this] { loop(); });
  }

  void stop() {
    {
      std::lock_guard lock(thread_mu_);
      if (!running_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(thread_mu_);
    running_ = false;
  }

  void notify() {
    {
      std::lock_guard lock(thread_mu_);
      wake_ = true;
    }
    cv_.notify_one();
  }

  void loop() {
    std::int64_t last_error_log = 0;
    while (true) {
      {
        std::unique_lock lock(thread_mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                     [&] { return stopping_ || wake_; });
        if (stopping_) return;
        wake_ = false;
      }
      if (auto r = process_changes(); !r) {
        const std::int64_t t = clock_.now_ms();
        if (t - last_error_log >= 10000) {  // one line per 10 s at most
          last_error_log = t;
          std::fprintf(stderr, "ecomon derived: %s: %s\n", r.error().reason.c_str(),
                       r.error().detail.c_str());
        }
      }
    }
  }

  const storage::Store& store_;
  const core::Clock& clock_;
  const DerivedOptions options_;
  std::mutex engine_mu_;  // one process_changes() at a time
  std::mutex mu_;         // the connection and the counters
  storage::sql::Connection db_;
  std::uint64_t cursor_ = 0;
  std::uint64_t changes_read_ = 0;
  std::uint64_t rows_written_ = 0;
  std::uint64_t revisions_added_ = 0;

  std::mutex thread_mu_;
  std::condition_variable cv_;
  bool running_ = false;
  bool stopping_ = false;
  bool wake_ = false;
  std::thread thread_;
};

DerivedService::DerivedService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DerivedService::~DerivedService() { impl_->stop(); }

core::Result<std::unique_ptr<DerivedService>> DerivedService::open(const std::string& path,
                                                                   const storage::Store& store,
                                                                   const core::Clock& clock,
                                                                   DerivedOptions options) {
  auto impl = std::make_unique<Impl>(store, clock, options);
  if (auto r = impl->open(path); !r) return core::fail(r.error());
  return std::unique_ptr<DerivedService>(new DerivedService(std::move(impl)));
}

void DerivedService::start() { impl_->start(); }
void DerivedService::stop() { impl_->stop(); }
void DerivedService::notify() { impl_->notify(); }
core::Result<std::size_t> DerivedService::process_changes() { return impl_->process_changes(); }

core::Result<std::vector<Aggregate>> DerivedService::aggregates(const AggregateQuery& q) {
  std::lock_guard lock(impl_->mu_);
  return impl_->read(q);
}

core::Result<std::vector<Revision>> DerivedService::revisions(const RevisionQuery& q) {
  return impl_->revisions(q);
}

DerivedCounters DerivedService::counters() {
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  return DerivedCounters{I.cursor_, I.changes_read_, I.rows_written_, I.revisions_added_};
}

}  // namespace ecomon::derive
