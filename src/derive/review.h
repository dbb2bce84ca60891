// Data review (数据审核, issue #5 §5): reviewers act on ranges of values; raw values are never
// changed. Every action is a new row — a version of the range's review — with its actor, time and
// reason, so the history of a value is the list of actions covering it, and the state at any past
// time is the actions written until then ("as of").
//
// Actions:
//   invalidate  the values in the range are invalid (reason required)
//   correct     the shown value becomes `value`; the raw value stays (reason and value required)
//   restore     cancels earlier invalidate/correct actions covering the range (reason required)
//   approve     the values' level becomes audited (审核)
//   finalize    the values' level becomes final (终审)
//   dust_storm        the whole Beijing days of the range were dust-storm days (沙尘天气) at the
//                     site, or — `site` a city code (Site::place.city_code) — in the whole city;
//                     the factor is empty (the mark is on the day, not on a series). Reason
//                     required (e.g. the meteorological service's dust bulletin).
//   dust_storm_clear  takes such a mark back. Of the marks covering a day for its site and city,
//                     the latest decides (dust_storm_days()). Neither changes a value's state.
// Why a mark: the reference sheet (GB3095-2012-air.md §5.4) records that national assessments may
// exclude dust-affected PM data (扣沙) per MEE dust-deduction rules, "not part of GB 3095 —
// separate rulebook, not researched here", and §5.6 that HJ 663-2026 adds exceptional events
// (e.g. sand/dust) whose handling details are unconfirmed. So the platform records which days were
// dust days and carries `"dust_storm": true` on them; it does not itself recompute or exclude PM.
// Levels (审核级别): raw → screened → audited → final. `screened` is not an action: the API sets it
// on a value the screening service has screened (derive/screening_service.h, is_screened()) when
// no action made it audited or final; review_state() gives raw then. Later actions win: of the
// invalidate/correct/restore actions covering a value the last one decides its state; of
// approve/finalize the last one decides its level, and a data change (invalidate, correct, restore)
// written after an approval takes the value back to raw — a changed value must be approved again.
//
// A range is (site, factor, kind, field, [from_ms, to_ms)); kind "" covers every data kind
// (storage::kind_name: rtd, minute, hour, day, other), field "" every field (Avg, Rtd, …). A value
// is covered when its measured time (the START of its period, HJ 212 DataTime) is in the range.
//
// Table, in the store's SQLite file through this service's own connection (storage/sqlite/sql.h),
// like the incident service:
//   review_actions(id, site, factor, kind, field, from_ms, to_ms, action, value, reason, actor,
//                  at_ms)   append-only
//
// Thread-safety: every ReviewService method may be called from any thread (one mutex guards the
// connection); the free functions are pure. Errors (core::Error::reason): cannot_open, db_error,
// busy, bad_request.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

struct sqlite3;
namespace ecomon::storage::sql {
class Statement;
}  // namespace ecomon::storage::sql

namespace ecomon::derive {

enum class ReviewVerb : std::uint8_t {
  kInvalidate,
  kCorrect,
  kRestore,
  kApprove,
  kFinalize,
  kDustStorm,
  kDustStormClear,
};
std::string_view verb_name(ReviewVerb v);  // "invalidate", "correct", ..., "dust_storm_clear"
std::optional<ReviewVerb> parse_verb(std::string_view name);
// approve and finalize need auth action data.approve; the others data.review.
bool is_approval(ReviewVerb v);
// dust_storm and dust_storm_clear: marks on days of a site or city, not on values.
bool is_dust_mark(ReviewVerb v);

// 审核级别.
enum class ReviewLevel : std::uint8_t { kRaw, kScreened, kAudited, kFinal };
std::string_view level_name(ReviewLevel l);  // "raw", "screened", "audited", "final"

struct ReviewAction {
  std::int64_t id = 0;  // assigned by record(); ids grow with time: later id = later action
  std::string site;
  std::string factor;
  std::string kind;   // "" = every kind
  std::string field;  // "" = every field
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;  // exclusive
  ReviewVerb verb = ReviewVerb::kInvalidate;
  std::optional<double> value;  // correct only
  std::string reason;
  std::string actor;       // user name, apikey:<id>
  std::int64_t at_ms = 0;  // assigned by record(): the clock's time

  // True when the action covers a value of this kind, field and measured time.
  bool covers(std::string_view value_kind, std::string_view value_field,
              std::int64_t measured_ms) const;
};

// What the actions say about one value.
struct ReviewState {
  bool invalid = false;
  std::optional<double> corrected;  // the value to show instead of the raw one
  ReviewLevel level = ReviewLevel::kRaw;
  // "invalidated", "corrected", or "" when neither.
  std::string_view review() const;
};

// A dust-storm day (沙尘日): the Beijing day starting at `day_start_ms` and the mark that made it.
struct DustStormDay {
  std::int64_t day_start_ms = 0;
  ReviewAction mark;  // the deciding dust_storm action (its site: the site or the city code)
};
// The dust-storm days in [from_ms, to_ms) (whole Beijing days) for a site whose own code and city
// code are `subjects`: per day, of the dust_storm / dust_storm_clear actions of any subject
// covering it, the one with the highest id decides. Other actions are ignored. Pure.
std::vector<DustStormDay> dust_storm_days(std::span<const ReviewAction> actions,
                                          std::span<const std::string> subjects,
                                          std::int64_t from_ms, std::int64_t to_ms,
                                          std::optional<std::int64_t> as_of_ms = std::nullopt);

// The state of a value from `actions` in id order (oldest first, as ReviewService::covering()
// returns them); only actions with at_ms ≤ as_of_ms count when as_of_ms is given.
ReviewState review_state(std::span<const ReviewAction> actions, std::string_view value_kind,
                         std::string_view value_field, std::int64_t measured_ms,
                         std::optional<std::int64_t> as_of_ms = std::nullopt);

// Checks an action before it is stored: site, factor, reason (≤ 1000 bytes, required for
// invalidate/correct/restore), value (finite, required for correct, refused otherwise), from < to,
// kind empty or a storage kind name. Error reason bad_request with a message.
core::Result<void> check_action(const ReviewAction& a);

// Reading review_actions rows, shared by the review service and the derived service (which tails
// the table by id): select kReviewActionColumns, then read_review_actions() maps every row. A
// verb this build does not know is skipped when `skip_unknown_verbs`, else read as restore.
inline constexpr const char* kReviewActionColumns =
    "id, site, factor, kind, field, from_ms, to_ms, action, value, reason, actor, at_ms";
core::Result<std::vector<ReviewAction>> read_review_actions(sqlite3* db, storage::sql::Statement& s,
                                                            bool skip_unknown_verbs);

struct ReviewQuery {
  std::string site;    // "" = every site
  std::string factor;  // "" = every factor
  // Actions whose range overlaps [from_ms, to_ms).
  std::int64_t from_ms = INT64_MIN;
  std::int64_t to_ms = INT64_MAX;
  std::optional<std::int64_t> as_of_ms;  // only actions written at or before
  std::size_t limit = 10000;
};

class ReviewService {
 public:
  // Opens (and creates the table in) the SQLite database at `path` (the store's file).
  static core::Result<std::unique_ptr<ReviewService>> open(const std::string& path,
                                                           const core::Clock& clock,
                                                           int busy_timeout_ms = 10000);
  ~ReviewService();
  ReviewService(const ReviewService&) = delete;
  ReviewService& operator=(const ReviewService&) = delete;

  // Checks (check_action) and appends an action at the clock's time; returns it with id and
  // at_ms. Durable (synchronous=FULL) when it returns.
  core::Result<ReviewAction> record(ReviewAction action);
  // Actions matching the query, newest first (the version history of the range).
  core::Result<std::vector<ReviewAction>> list(const ReviewQuery& q);
  // Actions matching the query, oldest first: the input of review_state().
  core::Result<std::vector<ReviewAction>> covering(const ReviewQuery& q);
  // Every action with id > after_id, oldest first, at most `limit`: for a consumer that tails the
  // actions by its own cursor (the alarm engine's data_revised events).
  core::Result<std::vector<ReviewAction>> after(std::int64_t after_id, std::size_t limit);

  class Impl;

 private:
  explicit ReviewService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecomon::derive
