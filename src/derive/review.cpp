#include "derive/review.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "storage/sqlite/sql.h"
#include "storage/store.h"

namespace ecomon::derive {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS review_actions(
  id INTEGER PRIMARY KEY,
  site TEXT NOT NULL,
  factor TEXT NOT NULL,
  kind TEXT NOT NULL,
  field TEXT NOT NULL,
  from_ms INTEGER NOT NULL,
  to_ms INTEGER NOT NULL,
  action TEXT NOT NULL,
  value REAL,
  reason TEXT NOT NULL,
  actor TEXT NOT NULL,
  at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS review_actions_by_range ON review_actions(site, factor, from_ms);
)sql";

constexpr std::size_t kMaxReason = 1000;
constexpr std::size_t kMaxCode = 64;

using Stmt = storage::sql::Statement;

bool bad_text(const std::string& s, std::size_t max) {
  if (s.size() > max) return true;
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') return true;
  }
  return false;
}

}  // namespace

std::string_view verb_name(ReviewVerb v) {
  switch (v) {
    case ReviewVerb::kInvalidate:
      return "invalidate";
    case ReviewVerb::kCorrect:
      return "correct";
    case ReviewVerb::kRestore:
      return "restore";
    case ReviewVerb::kApprove:
      return "approve";
    case ReviewVerb::kFinalize:
      return "finalize";
    case ReviewVerb::kDustStorm:
      return "dust_storm";
    case ReviewVerb::kDustStormClear:
      return "dust_storm_clear";
  }
  return "unknown";
}

std::optional<ReviewVerb> parse_verb(std::string_view name) {
  for (auto v :
       {ReviewVerb::kInvalidate, ReviewVerb::kCorrect, ReviewVerb::kRestore, ReviewVerb::kApprove,
        ReviewVerb::kFinalize, ReviewVerb::kDustStorm, ReviewVerb::kDustStormClear}) {
    if (verb_name(v) == name) return v;
  }
  return std::nullopt;
}

bool is_approval(ReviewVerb v) { return v == ReviewVerb::kApprove || v == ReviewVerb::kFinalize; }

bool is_dust_mark(ReviewVerb v) {
  return v == ReviewVerb::kDustStorm || v == ReviewVerb::kDustStormClear;
}

std::string_view level_name(ReviewLevel l) {
  switch (l) {
    case ReviewLevel::kRaw:
      return "raw";
    case ReviewLevel::kScreened:
      return "screened";
    case ReviewLevel::kAudited:
      return "audited";
    case ReviewLevel::kFinal:
      return "final";
  }
  return "raw";
}

bool ReviewAction::covers(std::string_view value_kind, std::string_view value_field,
                          std::int64_t measured_ms) const {
  return from_ms <= measured_ms && measured_ms < to_ms && (kind.empty() || kind == value_kind) &&
         (field.empty() || field == value_field);
}

std::string_view ReviewState::review() const {
  if (invalid) return "invalidated";
  if (corrected) return "corrected";
  return "";
}

ReviewState review_state(std::span<const ReviewAction> actions, std::string_view value_kind,
                         std::string_view value_field, std::int64_t measured_ms,
                         std::optional<std::int64_t> as_of_ms) {
  ReviewState s;
  for (const auto& a : actions) {
    if (as_of_ms && a.at_ms > *as_of_ms) continue;
    if (!a.covers(value_kind, value_field, measured_ms)) continue;
    switch (a.verb) {
      case ReviewVerb::kInvalidate:
        s.invalid = true;
        s.corrected.reset();
        s.level = ReviewLevel::kRaw;
        break;
      case ReviewVerb::kCorrect:
        s.invalid = false;
        s.corrected = a.value;
        s.level = ReviewLevel::kRaw;
        break;
      case ReviewVerb::kRestore:
        s.invalid = false;
        s.corrected.reset();
        s.level = ReviewLevel::kRaw;
        break;
      case ReviewVerb::kApprove:
        s.level = ReviewLevel::kAudited;
        break;
      case ReviewVerb::kFinalize:
        s.level = ReviewLevel::kFinal;
        break;
      case ReviewVerb::kDustStorm:
      case ReviewVerb::kDustStormClear:
        break;  // marks on days, not on values
    }
  }
  return s;
}

std::vector<DustStormDay> dust_storm_days(std::span<const ReviewAction> actions,
                                          std::span<const std::string> subjects,
                                          std::int64_t from_ms, std::int64_t to_ms,
                                          std::optional<std::int64_t> as_of_ms) {
  constexpr std::int64_t kDayMs = 86'400'000;
  constexpr std::int64_t kOffsetMs = 8 * 3'600'000LL;  // Beijing days
  auto day_of = [&](std::int64_t ms) {
    const std::int64_t local = ms + kOffsetMs;
    return local - ((local % kDayMs) + kDayMs) % kDayMs - kOffsetMs;
  };
  std::vector<DustStormDay> out;
  if (from_ms >= to_ms) return out;
  for (std::int64_t day = day_of(from_ms); day < to_ms; day += kDayMs) {
    const ReviewAction* decides = nullptr;
    for (const auto& a : actions) {
      if (!is_dust_mark(a.verb) || (as_of_ms && a.at_ms > *as_of_ms)) continue;
      if (std::find(subjects.begin(), subjects.end(), a.site) == subjects.end()) continue;
      if (!(a.from_ms <= day && day < a.to_ms)) continue;
      if (!decides || a.id > decides->id) decides = &a;
    }
    if (decides && decides->verb == ReviewVerb::kDustStorm) out.push_back({day, *decides});
  }
  return out;
}

core::Result<std::vector<ReviewAction>> read_review_actions(sqlite3* db, Stmt& s,
                                                            bool skip_unknown_verbs) {
  std::vector<ReviewAction> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    ReviewAction a;
    a.id = s.integer(0);
    a.site = s.text(1);
    a.factor = s.text(2);
    a.kind = s.text(3);
    a.field = s.text(4);
    a.from_ms = s.integer(5);
    a.to_ms = s.integer(6);
    const auto verb = parse_verb(s.text(7));
    if (!verb && skip_unknown_verbs) continue;
    a.verb = verb.value_or(ReviewVerb::kRestore);
    a.value = s.opt_real(8);
    a.reason = s.text(9);
    a.actor = s.text(10);
    a.at_ms = s.integer(11);
    out.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) return core::fail(storage::sql::error(db, "review actions"));
  return out;
}

core::Result<void> check_action(const ReviewAction& a) {
  auto bad = [](std::string why) { return core::fail(core::Error{"bad_request", std::move(why)}); };
  if (a.site.empty() || bad_text(a.site, kMaxCode)) return bad("site: 1 to 64 characters");
  if (is_dust_mark(a.verb)) {
    // A mark on whole Beijing days of a site or city: no factor, kind or field.
    constexpr std::int64_t kDayMs = 86'400'000;
    constexpr std::int64_t kOffsetMs = 8 * 3'600'000LL;
    if (!a.factor.empty() || !a.kind.empty() || !a.field.empty()) {
      return bad(std::string(verb_name(a.verb)) + " marks days: no factor, kind or field");
    }
    if ((((a.from_ms + kOffsetMs) % kDayMs) + kDayMs) % kDayMs != 0 ||
        (((a.to_ms + kOffsetMs) % kDayMs) + kDayMs) % kDayMs != 0) {
      return bad(std::string(verb_name(a.verb)) +
                 " marks whole days: from and to must be Beijing midnights");
    }
  } else if (a.factor.empty() || bad_text(a.factor, kMaxCode)) {
    return bad("factor: 1 to 64 characters");
  }
  if (bad_text(a.field, kMaxCode)) return bad("field: at most 64 characters");
  if (!a.kind.empty() && !storage::parse_kind(a.kind)) {
    return bad("kind must be rtd, minute, hour, day, other or empty (every kind)");
  }
  if (a.from_ms >= a.to_ms) return bad("from must be before to");
  if (bad_text(a.reason, kMaxReason)) return bad("reason: at most 1000 characters");
  if (!is_approval(a.verb) && a.reason.empty()) {
    return bad("a reason is required to " + std::string(verb_name(a.verb)));
  }
  if (a.verb == ReviewVerb::kCorrect) {
    if (!a.value || !std::isfinite(*a.value)) return bad("correct needs a finite number 'value'");
  } else if (a.value) {
    return bad("only correct takes a 'value'");
  }
  return {};
}

class ReviewService::Impl {
 public:
  explicit Impl(const core::Clock& clock) : clock_(clock) {}

  core::Result<void> open(const std::string& path, int busy_timeout_ms) {
    auto db = storage::sql::open_service_connection(path, busy_timeout_ms);
    if (!db) return core::fail(db.error());
    db_ = std::move(*db);
    if (!storage::sql::exec(db_.get(), kSchema)) {
      return core::fail(storage::sql::error(db_.get(), path + ": review schema"));
    }
    return {};
  }

  core::Result<std::vector<ReviewAction>> query(const ReviewQuery& q, bool newest_first) {
    std::lock_guard lock(mu_);
    std::string sql =
        std::string("SELECT ") + kReviewActionColumns +
        " FROM review_actions WHERE (?1 = '' OR site = ?1) AND (?2 = '' OR factor = ?2) "
        "AND from_ms < ?4 AND to_ms > ?3 AND at_ms <= ?5 ORDER BY id ";
    sql += newest_first ? "DESC" : "ASC";
    sql += " LIMIT ?6";
    Stmt s(db_.get(), sql);
    s.bind(q.site).bind(q.factor).bind(q.from_ms).bind(q.to_ms);
    s.bind(q.as_of_ms.value_or(INT64_MAX)).bind(static_cast<std::int64_t>(q.limit));
    // Rows are written only through record(): an unknown verb would be a foreign writer's.
    return read_review_actions(db_.get(), s, /*skip_unknown_verbs=*/false);
  }

  const core::Clock& clock_;
  std::mutex mu_;
  storage::sql::Connection db_;
};

ReviewService::ReviewService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ReviewService::~ReviewService() = default;

core::Result<std::unique_ptr<ReviewService>> ReviewService::open(const std::string& path,
                                                                 const core::Clock& clock,
                                                                 int busy_timeout_ms) {
  auto impl = std::make_unique<Impl>(clock);
  if (auto r = impl->open(path, busy_timeout_ms); !r) return core::fail(r.error());
  return std::unique_ptr<ReviewService>(new ReviewService(std::move(impl)));
}

core::Result<ReviewAction> ReviewService::record(ReviewAction a) {
  if (auto ok = check_action(a); !ok) return core::fail(ok.error());
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  a.at_ms = I.clock_.now_ms();
  Stmt q(I.db_.get(),
         "INSERT INTO review_actions(site, factor, kind, field, from_ms, to_ms, action, value, "
         "reason, actor, at_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
  q.bind(a.site).bind(a.factor).bind(a.kind).bind(a.field).bind(a.from_ms).bind(a.to_ms);
  q.bind(verb_name(a.verb)).bind(a.value).bind(a.reason).bind(a.actor).bind(a.at_ms);
  if (q.step() != SQLITE_DONE) return core::fail(storage::sql::error(I.db_.get(), "review action"));
  a.id = sqlite3_last_insert_rowid(I.db_.get());
  return a;
}

core::Result<std::vector<ReviewAction>> ReviewService::list(const ReviewQuery& q) {
  return impl_->query(q, true);
}

core::Result<std::vector<ReviewAction>> ReviewService::covering(const ReviewQuery& q) {
  return impl_->query(q, false);
}

core::Result<std::vector<ReviewAction>> ReviewService::after(std::int64_t after_id,
                                                             std::size_t limit) {
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  Stmt s(I.db_.get(), std::string("SELECT ") + kReviewActionColumns +
                          " FROM review_actions WHERE id > ? ORDER BY id LIMIT ?");
  s.bind(after_id).bind(static_cast<std::int64_t>(limit));
  return read_review_actions(I.db_.get(), s, /*skip_unknown_verbs=*/false);
}

}  // namespace ecomon::derive
