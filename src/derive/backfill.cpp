#include "derive/backfill.h"

#include <sqlite3.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "storage/sqlite/sql.h"

namespace ecomon::derive {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS backfill_requests(
  id INTEGER PRIMARY KEY,
  mn TEXT NOT NULL,
  kind TEXT NOT NULL,
  cn INTEGER NOT NULL,
  from_ms INTEGER NOT NULL,
  to_ms INTEGER NOT NULL,
  requested_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  answered_ms INTEGER,
  missing_before INTEGER NOT NULL,
  missing_after INTEGER,
  fulfilled INTEGER);
CREATE INDEX IF NOT EXISTS backfill_requests_by_device ON backfill_requests(mn, kind, requested_ms);
)sql";

constexpr const char* kColumns =
    "SELECT id, mn, kind, cn, from_ms, to_ms, requested_ms, outcome, answered_ms, missing_before, "
    "missing_after, fulfilled FROM backfill_requests ";

using Stmt = storage::sql::Statement;

BackfillRequest read_request(const Stmt& q) {
  BackfillRequest r;
  r.id = q.integer(0);
  r.mn = q.text(1);
  r.kind = storage::parse_kind(q.text(2)).value_or(storage::DataKind::kOther);
  r.cn = static_cast<int>(q.integer(3));
  r.from_ms = q.integer(4);
  r.to_ms = q.integer(5);
  r.requested_ms = q.integer(6);
  r.outcome = q.text(7);
  r.answered_ms = q.opt_integer(8);
  r.missing_before = q.integer(9);
  r.missing_after = q.opt_integer(10);
  if (!q.is_null(11)) r.fulfilled = q.integer(11) != 0;
  return r;
}

std::int64_t period_of(storage::DataKind k) {
  switch (k) {
    case storage::DataKind::kMinute:
      return 60'000;
    case storage::DataKind::kDay:
      return 86'400'000;
    default:
      return 3'600'000;
  }
}

int cn_of(storage::DataKind k) {
  switch (k) {
    case storage::DataKind::kMinute:
      return 2051;
    case storage::DataKind::kDay:
      return 2031;
    default:
      return 2061;
  }
}

// The start of the period holding `ms`: minutes and hours as UTC instants (Beijing is a whole
// number of hours east), days at Beijing midnight (HJ 212 stamps a day by its civil start).
std::int64_t period_start(storage::DataKind k, std::int64_t ms) {
  constexpr std::int64_t kBeijingMs = 8 * 3'600'000LL;
  const std::int64_t step = period_of(k);
  const std::int64_t shift = k == storage::DataKind::kDay ? kBeijingMs : 0;
  const std::int64_t local = ms + shift;
  return local - ((local % step) + step) % step - shift;
}

}  // namespace

class BackfillService::Impl {
 public:
  Impl(storage::sql::Connection db, const storage::Store& store, const core::Clock& clock,
       BackfillOptions o)
      : db_(std::move(db)), store_(store), clock_(clock), o_(o) {}

  storage::sql::Connection db_;
  const storage::Store& store_;
  const core::Clock& clock_;
  const BackfillOptions o_;

  mutable std::mutex mu_;  // everything below, and db_
  Sender send_;
  OnlineDevices online_;
  BackfillCounters counters_;
  std::map<std::string, int> in_flight_by_device_;
  struct Answer {
    std::int64_t id;
    std::string mn;
    std::string outcome;
    std::int64_t at_ms;
  };
  std::vector<Answer> answers_;

  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;

  // Distinct period starts with a value of the device and kind in [from, to).
  core::Result<std::set<std::int64_t>> present(const std::string& mn, storage::DataKind kind,
                                               std::int64_t from, std::int64_t to) const {
    storage::RecordQuery q;
    q.mn = mn;
    q.kind = kind;
    q.from_ms = from;
    q.to_ms = to;
    q.limit = 200'000;
    auto values = store_.records(q);
    if (!values) return core::fail(values.error());
    std::set<std::int64_t> out;
    for (const auto& v : *values) out.insert(period_start(kind, v.measured_ms));
    return out;
  }

  core::Result<std::int64_t> count_missing(const std::string& mn, storage::DataKind kind,
                                           std::int64_t from, std::int64_t to) const {
    auto have = present(mn, kind, from, to);
    if (!have) return core::fail(have.error());
    const std::int64_t step = period_of(kind);
    std::int64_t missing = 0;
    for (std::int64_t p = from; p < to; p += step) missing += have->contains(p) ? 0 : 1;
    return missing;
  }

  // Under mu_: answers recorded, answered requests counted again once settled.
  core::Result<void> settle(std::int64_t now) {
    for (const Answer& a : answers_) {
      Stmt u(db_.get(),
             "UPDATE backfill_requests SET outcome = ?, answered_ms = ? WHERE id = ? AND outcome "
             "= 'pending'");
      u.bind(a.outcome).bind(a.at_ms).bind(a.id);
      if (u.step() != SQLITE_DONE) return core::fail(storage::sql::error(db_.get(), "backfill"));
      ++counters_.outcomes[a.outcome];
      if (counters_.in_flight > 0) --counters_.in_flight;
      if (--in_flight_by_device_[a.mn] <= 0) in_flight_by_device_.erase(a.mn);
    }
    answers_.clear();
    std::vector<BackfillRequest> due;
    {
      Stmt q(db_.get(), std::string(kColumns) +
                            "WHERE answered_ms IS NOT NULL AND missing_after IS NULL AND "
                            "answered_ms <= ? ORDER BY id");
      q.bind(now - o_.settle_ms);
      int rc;
      while ((rc = q.step()) == SQLITE_ROW) due.push_back(read_request(q));
      if (rc != SQLITE_DONE) return core::fail(storage::sql::error(db_.get(), "backfill"));
    }
    for (const BackfillRequest& r : due) {
      auto missing = count_missing(r.mn, r.kind, r.from_ms, r.to_ms);
      if (!missing) return core::fail(missing.error());
      Stmt u(db_.get(),
             "UPDATE backfill_requests SET missing_after = ?, fulfilled = ? WHERE id = ?");
      u.bind(*missing).bind(std::int64_t{*missing == 0 ? 1 : 0}).bind(r.id);
      if (u.step() != SQLITE_DONE) return core::fail(storage::sql::error(db_.get(), "backfill"));
      if (*missing == 0) ++counters_.fulfilled;
      if (r.missing_before > *missing) {
        counters_.periods_recovered += static_cast<std::uint64_t>(r.missing_before - *missing);
      }
    }
    return {};
  }

  // Under mu_: whether a range of the device and kind was asked for recently (or is pending).
  core::Result<bool> asked_recently(const std::string& mn, storage::DataKind kind,
                                    std::int64_t from, std::int64_t to, std::int64_t now) {
    Stmt q(db_.get(),
           "SELECT COUNT(*) FROM backfill_requests WHERE mn = ? AND kind = ? AND from_ms < ? AND "
           "to_ms > ? AND (requested_ms > ? OR outcome = 'pending')");
    q.bind(mn).bind(storage::kind_name(kind)).bind(to).bind(from).bind(now - o_.repeat_after_ms);
    if (q.step() != SQLITE_ROW) return core::fail(storage::sql::error(db_.get(), "backfill"));
    return q.integer(0) > 0;
  }

  core::Result<std::int64_t> sent_last_hour(const std::string& mn, std::int64_t now) {
    Stmt q(db_.get(), "SELECT COUNT(*) FROM backfill_requests WHERE mn = ? AND requested_ms > ?");
    q.bind(mn).bind(now - 3'600'000);
    if (q.step() != SQLITE_ROW) return core::fail(storage::sql::error(db_.get(), "backfill"));
    return q.integer(0);
  }

  core::Result<int> scan(BackfillService* self) {
    (void)self;
    struct ToSend {
      std::int64_t id;
      std::string mn;
      int cn;
      std::int64_t from, to;
    };
    std::vector<ToSend> to_send;
    Sender send;
    {
      std::lock_guard lock(mu_);
      const std::int64_t now = clock_.now_ms();
      if (auto r = settle(now); !r) return core::fail(r.error());
      if (!send_ || !online_) return 0;
      send = send_;
      for (const std::string& mn : online_()) {
        for (const storage::DataKind kind :
             {storage::DataKind::kMinute, storage::DataKind::kHour, storage::DataKind::kDay}) {
          const std::int64_t step = period_of(kind);
          const std::int64_t lookback =
              kind == storage::DataKind::kDay ? o_.day_lookback_ms : o_.lookback_ms;
          auto have = present(mn, kind, now - lookback, now);
          if (!have) return core::fail(have.error());
          if (have->empty()) continue;  // the device does not send this kind
          std::vector<std::pair<std::int64_t, std::int64_t>> runs;
          for (std::int64_t p = *have->begin(); p < *have->rbegin(); p += step) {
            if (have->contains(p)) continue;
            if (!runs.empty() && runs.back().second == p &&
                p + step - runs.back().first <= o_.max_range_ms) {
              runs.back().second = p + step;
            } else {
              runs.emplace_back(p, p + step);
            }
          }
          for (const auto& [from, to] : runs) {
            auto recent = asked_recently(mn, kind, from, to, now);
            if (!recent) return core::fail(recent.error());
            if (*recent) {
              ++counters_.skipped_recent;
              continue;
            }
            auto hour = sent_last_hour(mn, now);
            if (!hour) return core::fail(hour.error());
            if (counters_.in_flight >= static_cast<std::uint64_t>(o_.max_in_flight) ||
                in_flight_by_device_[mn] >= 1 || *hour >= o_.max_per_device_per_hour) {
              ++counters_.skipped_rate_limited;
              continue;
            }
            Stmt ins(db_.get(),
                     "INSERT INTO backfill_requests(mn, kind, cn, from_ms, to_ms, requested_ms, "
                     "outcome, missing_before) VALUES(?, ?, ?, ?, ?, ?, 'pending', ?)");
            ins.bind(mn)
                .bind(storage::kind_name(kind))
                .bind(std::int64_t{cn_of(kind)})
                .bind(from)
                .bind(to)
                .bind(now)
                .bind((to - from) / step);
            if (ins.step() != SQLITE_DONE) {
              return core::fail(storage::sql::error(db_.get(), "backfill"));
            }
            to_send.push_back(
                ToSend{sqlite3_last_insert_rowid(db_.get()), mn, cn_of(kind), from, to - step});
            ++counters_.requests_sent;
            ++counters_.in_flight;
            ++in_flight_by_device_[mn];
          }
        }
        if (in_flight_by_device_[mn] <= 0) in_flight_by_device_.erase(mn);
      }
    }
    // Outside the lock: the sender may answer at once (offline) on this thread.
    for (const ToSend& t : to_send) {
      send(t.mn, t.cn, t.from, t.to, o_.timeout_ms,
           [this, id = t.id, mn = t.mn](std::string outcome) {
             {
               std::lock_guard lock(mu_);
               answers_.push_back(Answer{id, mn, std::move(outcome), clock_.now_ms()});
             }
             cv_.notify_all();
           });
    }
    return static_cast<int>(to_send.size());
  }
};

BackfillService::BackfillService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BackfillService::~BackfillService() { stop(); }

core::Result<std::unique_ptr<BackfillService>> BackfillService::open(const std::string& path,
                                                                     const storage::Store& store,
                                                                     const core::Clock& clock,
                                                                     BackfillOptions options) {
  auto db = storage::sql::open_service_connection(path, 5000);
  if (!db) return core::fail(db.error());
  if (!storage::sql::exec(db->get(), kSchema)) {
    return core::fail(storage::sql::error(db->get(), "backfill schema"));
  }
  // Requests left pending by a previous run will never hear their answer.
  if (!storage::sql::exec(db->get(),
                          "UPDATE backfill_requests SET outcome = 'stopped', answered_ms = "
                          "requested_ms WHERE outcome = 'pending'")) {
    return core::fail(storage::sql::error(db->get(), "backfill"));
  }
  return std::unique_ptr<BackfillService>(
      new BackfillService(std::make_unique<Impl>(std::move(*db), store, clock, options)));
}

void BackfillService::set_sender(Sender send) {
  std::lock_guard lock(impl_->mu_);
  impl_->send_ = std::move(send);
}

void BackfillService::set_online_devices(OnlineDevices online) {
  std::lock_guard lock(impl_->mu_);
  impl_->online_ = std::move(online);
}

core::Result<int> BackfillService::scan() { return impl_->scan(this); }

void BackfillService::start() {
  if (!impl_->o_.enabled || impl_->thread_.joinable()) return;
  impl_->thread_ = std::thread([this] {
    std::unique_lock lock(impl_->mu_);
    while (!impl_->stopping_) {
      lock.unlock();
      if (auto r = scan(); !r) {
        std::lock_guard g(impl_->mu_);
        ++impl_->counters_.scan_errors;
      }
      lock.lock();
      // Woken early by an answer: its settle time starts now, so wait for the scan interval or
      // the settle time, whichever is shorter.
      const auto wait_ms = impl_->answers_.empty()
                               ? impl_->o_.scan_interval_ms
                               : std::min(impl_->o_.scan_interval_ms, impl_->o_.settle_ms);
      impl_->cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                          [this] { return impl_->stopping_ || !impl_->answers_.empty(); });
    }
  });
}

void BackfillService::stop() {
  {
    std::lock_guard lock(impl_->mu_);
    impl_->stopping_ = true;
  }
  impl_->cv_.notify_all();
  if (impl_->thread_.joinable()) impl_->thread_.join();
}

core::Result<std::vector<BackfillRequest>> BackfillService::requests(const std::string& mn,
                                                                     std::size_t limit) const {
  std::lock_guard lock(impl_->mu_);
  Stmt q(impl_->db_.get(), std::string(kColumns) +
                               "WHERE (? = '' OR mn = ?) ORDER BY id DESC "
                               "LIMIT ?");
  q.bind(mn).bind(mn).bind(static_cast<std::int64_t>(limit));
  std::vector<BackfillRequest> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(read_request(q));
  if (rc != SQLITE_DONE) return core::fail(storage::sql::error(impl_->db_.get(), "backfill"));
  return out;
}

BackfillCounters BackfillService::counters() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->counters_;
}

const BackfillOptions& BackfillService::options() const { return impl_->o_; }

}  // namespace ecomon::derive
