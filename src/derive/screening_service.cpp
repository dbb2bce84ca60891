#include "derive/screening_service.h"

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "core/json_writer.h"
#include "derive/feed_worker.h"
#include "derive/site_screening.h"
#include "standards/aggregation.h"
#include "storage/sqlite/sql.h"

namespace ecomon::derive {
namespace {

namespace scr = analytics::screening;
using Stmt = storage::sql::Statement;

constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::int64_t kMaxWidenMs = 31 * kDayMs;
constexpr const char* kCursorName = "screening";
constexpr std::size_t kMaxNoteBytes = 1000;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS screening_marks(
  id INTEGER PRIMARY KEY,
  site TEXT NOT NULL,
  mn TEXT NOT NULL,
  factor TEXT NOT NULL,
  kind TEXT NOT NULL,
  field TEXT NOT NULL,
  rule TEXT NOT NULL,
  severity TEXT NOT NULL,
  from_ms INTEGER NOT NULL,
  to_ms INTEGER NOT NULL,
  count INTEGER NOT NULL,
  evidence TEXT NOT NULL,
  status TEXT NOT NULL,
  first_found_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  reviewed_by TEXT NOT NULL DEFAULT '',
  reviewed_at_ms INTEGER,
  review_note TEXT NOT NULL DEFAULT '',
  review_action INTEGER);
CREATE INDEX IF NOT EXISTS screening_marks_by_series
  ON screening_marks(site, factor, kind, field, from_ms);
CREATE TABLE IF NOT EXISTS screening_cursor(
  name TEXT PRIMARY KEY,
  sequence INTEGER NOT NULL);
)sql";

constexpr const char* kMarkColumns =
    "id, site, mn, factor, kind, field, rule, severity, from_ms, to_ms, count, evidence, status, "
    "first_found_at_ms, updated_at_ms, reviewed_by, reviewed_at_ms, review_note, review_action";

ScreeningMark read_mark(const Stmt& s) {
  ScreeningMark m;
  m.id = s.integer(0);
  m.site = s.text(1);
  m.mn = s.text(2);
  m.factor = s.text(3);
  m.kind = s.text(4);
  m.field = s.text(5);
  m.rule = s.text(6);
  m.severity = s.text(7);
  m.from_ms = s.integer(8);
  m.to_ms = s.integer(9);
  m.count = s.integer(10);
  m.evidence = s.text(11);
  m.status = s.text(12);
  m.first_found_at_ms = s.integer(13);
  m.updated_at_ms = s.integer(14);
  m.reviewed_by = s.text(15);
  m.reviewed_at_ms = s.opt_integer(16);
  m.review_note = s.text(17);
  m.review_action = s.opt_integer(18);
  return m;
}

// A screened series: (site, factor, kind, field).
using SeriesKey = std::tuple<std::string, std::string, storage::DataKind, std::string>;

// One window of a series to screen: [from_ms, to_ms).
struct Window {
  SeriesKey key;
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::vector<DeviceFinding> findings;
};

bool screened_kind(storage::DataKind k) { return screening_period_ms(k) != 0; }

std::string evidence_json(const scr::Finding& f) {
  core::JsonWriter w;
  w.begin_object().key("text").value(f.evidence);
  w.key("rule_zh").value(scr::rule_name_zh(f.rule)).end_object();
  return w.take();
}

}  // namespace

bool is_screened(const storage::Value& v, std::uint64_t cursor) {
  return !v.site.empty() && screened_kind(v.kind) && v.field == "Avg" && v.sequence != 0 &&
         v.sequence <= cursor;
}

class ScreeningService::Impl {
 public:
  Impl(const storage::Store& store, const core::Clock& clock, const scr::ScreeningConfig& config,
       ScreeningOptions options)
      : store_(store), clock_(clock), config_(config), options_(options) {}

  core::Result<void> open(const std::string& path) {
    auto db = storage::sql::open_service_connection(path, options_.busy_timeout_ms);
    if (!db) return core::fail(db.error());
    db_ = std::move(*db);
    if (!storage::sql::exec(db_.get(), kSchema)) {
      return core::fail(err(path + ": screening schema"));
    }
    std::lock_guard lock(mu_);
    Stmt q(db_.get(), "SELECT sequence FROM screening_cursor WHERE name=?");
    q.bind(kCursorName);
    const int rc = q.step();
    if (rc == SQLITE_ROW) {
      cursor_ = static_cast<std::uint64_t>(q.integer(0));
    } else if (rc == SQLITE_DONE) {
      Stmt ins(db_.get(), "INSERT INTO screening_cursor(name, sequence) VALUES(?, 0)");
      ins.bind(kCursorName);
      if (ins.step() != SQLITE_DONE) return core::fail(err("cursor"));
    } else {
      return core::fail(err("cursor"));
    }
    return {};
  }

  core::Error err(std::string_view what) { return storage::sql::error(db_.get(), what); }

  // The longest window a rule of the config looks at for data of period `period_ms`, at least a
  // day: the margin screened around a touched day.
  std::int64_t margin_ms(std::int64_t period_ms) const {
    std::int64_t m = kDayMs;
    for (const auto& [code, f] : config_.factors) m = std::max(m, f.constant_min_s * 1000);
    m = std::max({m, config_.low_variation_window_s * 1000, config_.jitter_window_s * 1000,
                  config_.clock_drift_window_s * 1000,
                  static_cast<std::int64_t>(config_.identical_min_intervals) * period_ms});
    return m;
  }

  // The factors screened together with `factor`: itself, its PM partner, its sum rules' factors.
  std::set<std::string> related(const std::string& factor) const {
    std::set<std::string> out{factor};
    if (factor == "a34004") out.insert("a34002");
    if (factor == "a34002") out.insert("a34004");
    for (const auto& rule : config_.sums) {
      bool in = rule.total == factor;
      for (const auto& p : rule.parts) in = in || p.first == factor;
      if (!in) continue;
      out.insert(rule.total);
      for (const auto& p : rule.parts) out.insert(p.first);
    }
    return out;
  }

  // --- the engine ---

  core::Result<std::size_t> process_changes(std::size_t max_changes) {
    std::lock_guard engine(engine_mu_);
    auto r = run(max_changes);
    if (!r) {
      std::lock_guard lock(mu_);
      ++errors_;
    }
    return r;
  }

  core::Result<std::size_t> run(std::size_t max_changes) {
    std::size_t total = 0;
    while (total < max_changes) {
      auto changes = store_.changes(cursor_, options_.batch_limit);
      if (!changes) return core::fail(changes.error());
      if (changes->empty()) break;
      // Which (series, day)s the batch touches, cut where max_windows would be passed.
      std::map<SeriesKey, std::set<std::int64_t>> touched;
      std::size_t pairs = 0;
      std::size_t used = 0;
      for (const auto& c : *changes) {
        const storage::Value& v = c.value;
        if (!v.site.empty() && screened_kind(v.kind) && v.field == "Avg") {
          const std::int64_t day =
              standards::aggregation::beijing_period_start(v.measured_ms, kDayMs);
          std::vector<SeriesKey> keys;
          for (const auto& f : related(v.factor)) {
            keys.emplace_back(v.site, f, v.kind, v.field);
            if (v.kind == storage::DataKind::kMinute) {
              keys.emplace_back(v.site, f, storage::DataKind::kHour, v.field);
            }
          }
          std::size_t fresh = 0;
          for (const auto& k : keys) {
            auto it = touched.find(k);
            if (it == touched.end() || !it->second.contains(day)) ++fresh;
          }
          if (used > 0 && pairs + fresh > options_.max_windows) break;
          for (const auto& k : keys) touched[k].insert(day);
          pairs += fresh;
        }
        ++used;
      }
      const std::uint64_t next = (*changes)[used - 1].sequence;
      // Outside the transaction: the windows screened from the store.
      auto windows = windows_of(touched);
      if (!windows) return core::fail(windows.error());
      const std::int64_t now = clock_.now_ms();
      for (auto& w : *windows) {
        SiteScreening what;
        std::tie(what.site, what.factor, what.kind, what.field) = w.key;
        what.from_ms = w.from_ms;
        what.to_ms = w.to_ms;
        what.now_ms = now;
        what.tail_is_missing = false;
        auto found = screen_site(store_, config_, what);
        if (!found) return core::fail(found.error());
        w.findings = std::move(found->findings);
      }
      if (auto r = commit(*windows, next, now); !r) return core::fail(r.error());
      std::lock_guard lock(mu_);
      cursor_ = next;
      changes_read_ += used;
      windows_screened_ += windows->size();
      ++batches_;
      total += used;
    }
    return total;
  }

  // The windows of the touched days of each series, widened to the marks they overlap.
  core::Result<std::vector<Window>> windows_of(
      const std::map<SeriesKey, std::set<std::int64_t>>& touched) {
    std::vector<Window> out;
    std::lock_guard lock(mu_);
    for (const auto& [key, days] : touched) {
      const std::int64_t margin = margin_ms(screening_period_ms(std::get<2>(key)));
      auto add = [&](std::int64_t first, std::int64_t last) -> core::Result<void> {
        Window w{key, first - margin, last + kDayMs + margin, {}};
        auto marks = marks_of(key, w.from_ms, w.to_ms);
        if (!marks) return core::fail(marks.error());
        for (const auto& m : *marks) {
          w.from_ms = std::max(std::min(w.from_ms, m.from_ms), first - margin - kMaxWidenMs);
          w.to_ms = std::min(std::max(w.to_ms, m.to_ms), last + kDayMs + margin + kMaxWidenMs);
        }
        out.push_back(std::move(w));
        return {};
      };
      std::int64_t first = *days.begin(), last = first;
      for (const std::int64_t d : days) {
        if (d - (last + kDayMs) > 2 * margin) {
          if (auto r = add(first, last); !r) return core::fail(r.error());
          first = d;
        }
        last = d;
      }
      if (auto r = add(first, last); !r) return core::fail(r.error());
    }
    return out;
  }

  // The non-withdrawn marks of a series overlapping or touching [from_ms, to_ms], by id.
  // Caller holds mu_.
  core::Result<std::vector<ScreeningMark>> marks_of(const SeriesKey& key, std::int64_t from_ms,
                                                    std::int64_t to_ms) {
    Stmt s(db_.get(),
           std::string("SELECT ") + kMarkColumns +
               " FROM screening_marks WHERE site=? AND factor=? AND kind=? AND "
               "field=? AND from_ms<=? AND to_ms>=? AND status<>'withdrawn' ORDER BY id");
    s.bind(std::get<0>(key)).bind(std::get<1>(key)).bind(storage::kind_name(std::get<2>(key)));
    s.bind(std::get<3>(key)).bind(to_ms).bind(from_ms);
    std::vector<ScreeningMark> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_mark(s));
    if (rc != SQLITE_DONE) return core::fail(err("marks"));
    return out;
  }

  // Reconciles every window's findings with the stored marks and moves the cursor, in one
  // transaction.
  core::Result<void> commit(const std::vector<Window>& windows, std::uint64_t next,
                            std::int64_t now) {
    std::lock_guard lock(mu_);
    if (!storage::sql::exec(db_.get(), "BEGIN IMMEDIATE")) return core::fail(err("begin"));
    Stats stats;
    core::Result<void> r;
    for (const auto& w : windows) {
      r = reconcile(w, now, stats);
      if (!r) break;
    }
    if (r) {
      Stmt q(db_.get(), "UPDATE screening_cursor SET sequence=? WHERE name=?");
      q.bind(static_cast<std::int64_t>(next)).bind(kCursorName);
      if (q.step() != SQLITE_DONE) r = core::fail(err("cursor"));
    }
    if (r && !storage::sql::exec(db_.get(), "COMMIT")) r = core::fail(err("commit"));
    if (!r) {
      storage::sql::exec(db_.get(), "ROLLBACK");
      return r;
    }
    marks_found_ += stats.found;
    marks_updated_ += stats.updated;
    marks_withdrawn_ += stats.withdrawn;
    return {};
  }

  struct Stats {
    std::uint64_t found = 0;
    std::uint64_t updated = 0;
    std::uint64_t withdrawn = 0;
  };

  // Caller holds mu_ and the transaction.
  core::Result<void> reconcile(const Window& w, std::int64_t now, Stats& stats) {
    auto marks = marks_of(w.key, w.from_ms, w.to_ms);
    if (!marks) return core::fail(marks.error());
    std::vector<bool> claimed(marks->size(), false);
    std::vector<const DeviceFinding*> findings;
    for (const auto& f : w.findings) findings.push_back(&f);
    std::stable_sort(findings.begin(), findings.end(), [](const auto* a, const auto* b) {
      return a->finding.from_ms < b->finding.from_ms;
    });
    for (const DeviceFinding* df : findings) {
      const scr::Finding& f = df->finding;
      const std::string rule(scr::rule_name(f.rule));
      std::optional<std::size_t> primary;
      for (std::size_t i = 0; i < marks->size(); ++i) {
        const ScreeningMark& m = (*marks)[i];
        if (claimed[i] || m.mn != df->mn || m.rule != rule) continue;
        if (m.from_ms > f.to_ms || f.from_ms > m.to_ms) continue;
        claimed[i] = true;
        if (!primary) {
          primary = i;
        } else if (m.status == "open") {
          // Joined into the primary mark (a filled gap made two runs one).
          if (auto r = set_withdrawn(m.id, now); !r) return r;
          ++stats.withdrawn;
        }
      }
      ScreeningMark next;
      next.severity = std::string(scr::severity_name(f.severity));
      next.evidence = evidence_json(f);
      next.from_ms = f.from_ms;
      next.to_ms = f.to_ms;
      next.count = f.count;
      if (!primary) {
        if (auto r = insert(w.key, df->mn, rule, next, now); !r) return r;
        ++stats.found;
        continue;
      }
      const ScreeningMark& m = (*marks)[*primary];
      // The part of the mark outside the window was not screened now: it stays.
      const bool outside = m.from_ms < w.from_ms || m.to_ms > w.to_ms;
      if (m.from_ms < w.from_ms) next.from_ms = std::min(m.from_ms, next.from_ms);
      if (m.to_ms > w.to_ms) next.to_ms = std::max(m.to_ms, next.to_ms);
      if (outside) next.count = std::max(m.count, next.count);
      if (next.from_ms == m.from_ms && next.to_ms == m.to_ms && next.count == m.count &&
          next.severity == m.severity && next.evidence == m.evidence) {
        continue;
      }
      Stmt up(db_.get(),
              "UPDATE screening_marks SET from_ms=?, to_ms=?, count=?, severity=?, evidence=?, "
              "updated_at_ms=? WHERE id=?");
      up.bind(next.from_ms).bind(next.to_ms).bind(next.count).bind(next.severity);
      up.bind(next.evidence).bind(now).bind(m.id);
      if (up.step() != SQLITE_DONE) return core::fail(err("update mark"));
      ++stats.updated;
    }
    // Open marks inside the window that nothing found any more.
    for (std::size_t i = 0; i < marks->size(); ++i) {
      const ScreeningMark& m = (*marks)[i];
      if (claimed[i] || m.status != "open") continue;
      if (m.from_ms < w.from_ms || m.to_ms > w.to_ms) continue;
      if (auto r = set_withdrawn(m.id, now); !r) return r;
      ++stats.withdrawn;
    }
    return {};
  }

  core::Result<void> set_withdrawn(std::int64_t id, std::int64_t now) {
    Stmt up(db_.get(), "UPDATE screening_marks SET status='withdrawn', updated_at_ms=? WHERE id=?");
    up.bind(now).bind(id);
    if (up.step() != SQLITE_DONE) return core::fail(err("withdraw mark"));
    return {};
  }

  core::Result<void> insert(const SeriesKey& key, const std::string& mn, const std::string& rule,
                            const ScreeningMark& m, std::int64_t now) {
    Stmt ins(db_.get(),
             "INSERT INTO screening_marks(site, mn, factor, kind, field, rule, severity, from_ms, "
             "to_ms, count, evidence, status, first_found_at_ms, updated_at_ms) "
             "VALUES(?,?,?,?,?,?,?,?,?,?,?,'open',?,?)");
    ins.bind(std::get<0>(key)).bind(mn).bind(std::get<1>(key));
    ins.bind(storage::kind_name(std::get<2>(key))).bind(std::get<3>(key)).bind(rule);
    ins.bind(m.severity).bind(m.from_ms).bind(m.to_ms).bind(m.count).bind(m.evidence);
    ins.bind(now).bind(now);
    if (ins.step() != SQLITE_DONE) return core::fail(err("insert mark"));
    return {};
  }

  // --- reading and reviewing ---

  core::Result<std::vector<ScreeningMark>> marks(const MarkQuery& q) {
    std::lock_guard lock(mu_);
    Stmt s(db_.get(), std::string("SELECT ") + kMarkColumns +
                          " FROM screening_marks WHERE (?1='' OR site=?1) AND (?2='' OR "
                          "factor=?2) AND (?3='' OR rule=?3) AND (?4='' OR status=?4) AND "
                          "from_ms<?6 AND to_ms>?5 ORDER BY id DESC LIMIT ?7");
    s.bind(q.site).bind(q.factor).bind(q.rule).bind(q.status).bind(q.from_ms).bind(q.to_ms);
    s.bind(static_cast<std::int64_t>(q.limit));
    std::vector<ScreeningMark> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) out.push_back(read_mark(s));
    if (rc != SQLITE_DONE) return core::fail(err("marks"));
    return out;
  }

  // Caller holds mu_.
  core::Result<std::optional<ScreeningMark>> mark_locked(std::int64_t id) {
    Stmt s(db_.get(), std::string("SELECT ") + kMarkColumns + " FROM screening_marks WHERE id=?");
    s.bind(id);
    const int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<ScreeningMark>();
    if (rc != SQLITE_ROW) return core::fail(err("mark"));
    return std::optional<ScreeningMark>(read_mark(s));
  }

  core::Result<ScreeningMark> review(std::int64_t id, const std::string& status,
                                     const std::string& note, const std::string& actor,
                                     std::optional<std::int64_t> review_action) {
    if (status != "confirmed" && status != "dismissed") {
      return core::fail(core::Error{"bad_request", "status must be confirmed or dismissed"});
    }
    if (status == "dismissed" && note.find_first_not_of(" \t\r\n") == std::string::npos) {
      return core::fail(
          core::Error{"bad_request", "a note is required to dismiss a mark (why it is wrong)"});
    }
    if (note.size() > kMaxNoteBytes) {
      return core::fail(core::Error{"bad_request", "note must be at most 1000 bytes"});
    }
    std::lock_guard lock(mu_);
    auto m = mark_locked(id);
    if (!m) return core::fail(m.error());
    if (!*m) return core::fail(core::Error{"not_found", "no screening mark " + std::to_string(id)});
    if ((*m)->status == "withdrawn") {
      return core::fail(
          core::Error{"conflict", "screening mark " + std::to_string(id) +
                                      " was withdrawn (a later screening no longer finds it)"});
    }
    Stmt up(db_.get(),
            "UPDATE screening_marks SET status=?, reviewed_by=?, reviewed_at_ms=?, review_note=?, "
            "review_action=coalesce(?, review_action) WHERE id=?");
    up.bind(status).bind(actor).bind(clock_.now_ms()).bind(note).bind(review_action).bind(id);
    if (up.step() != SQLITE_DONE) return core::fail(err("review mark"));
    auto after = mark_locked(id);
    if (!after) return core::fail(after.error());
    return std::move(**after);
  }

  const storage::Store& store_;
  const core::Clock& clock_;
  const scr::ScreeningConfig config_;
  const ScreeningOptions options_;
  std::mutex engine_mu_;  // one process_changes() at a time
  std::mutex mu_;         // the connection and the counters
  storage::sql::Connection db_;
  std::uint64_t cursor_ = 0;
  std::uint64_t batches_ = 0;
  std::uint64_t changes_read_ = 0;
  std::uint64_t windows_screened_ = 0;
  std::uint64_t marks_found_ = 0;
  std::uint64_t marks_updated_ = 0;
  std::uint64_t marks_withdrawn_ = 0;
  std::uint64_t errors_ = 0;
  // Last: stopped (its destructor) before the members its runs use.
  FeedWorker worker_{"screening", options_.poll_ms, clock_,
                     [this] { return process_changes(options_.batch_limit); }};
};

ScreeningService::ScreeningService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ScreeningService::~ScreeningService() { impl_->worker_.stop(); }

core::Result<std::unique_ptr<ScreeningService>> ScreeningService::open(
    const std::string& path, const storage::Store& store, const core::Clock& clock,
    const scr::ScreeningConfig& config, ScreeningOptions options) {
  auto impl = std::make_unique<Impl>(store, clock, config, options);
  if (auto r = impl->open(path); !r) return core::fail(r.error());
  return std::unique_ptr<ScreeningService>(new ScreeningService(std::move(impl)));
}

void ScreeningService::start() { impl_->worker_.start(); }
void ScreeningService::stop() { impl_->worker_.stop(); }
void ScreeningService::notify() { impl_->worker_.notify(); }
core::Result<std::size_t> ScreeningService::process_changes() {
  return impl_->process_changes(SIZE_MAX);
}
core::Result<std::size_t> ScreeningService::catch_up(std::size_t max_changes) {
  return impl_->process_changes(max_changes);
}

std::uint64_t ScreeningService::cursor() {
  std::lock_guard lock(impl_->mu_);
  return impl_->cursor_;
}

core::Result<std::vector<ScreeningMark>> ScreeningService::marks(const MarkQuery& q) {
  return impl_->marks(q);
}

core::Result<std::optional<ScreeningMark>> ScreeningService::mark(std::int64_t id) {
  std::lock_guard lock(impl_->mu_);
  return impl_->mark_locked(id);
}

core::Result<ScreeningMark> ScreeningService::review(std::int64_t id, const std::string& status,
                                                     const std::string& note,
                                                     const std::string& actor,
                                                     std::optional<std::int64_t> review_action) {
  return impl_->review(id, status, note, actor, review_action);
}

ScreeningCounters ScreeningService::counters() {
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  return ScreeningCounters{I.cursor_,           I.batches_,     I.changes_read_,
                           I.windows_screened_, I.marks_found_, I.marks_updated_,
                           I.marks_withdrawn_,  I.errors_};
}

}  // namespace ecomon::derive
