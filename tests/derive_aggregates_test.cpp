// The stored hourly and daily means and their revisions (derive/aggregates.h, issue #5 §2): the
// values in the memory store, the derived tables in a SQLite file, a fake clock, no threads.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>

#include "derive/aggregates.h"
#include "derive/review.h"
#include "registry/holder.h"
#include "standards/aggregation.h"
#include "storage/memory/memory_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "test_util.h"

namespace ecomon::derive {
namespace {

class FakeClock final : public core::Clock {
 public:
  std::int64_t now_ms() const override { return now; }
  std::int64_t now = 1'780'000'000'000;  // 2026-05-28
};

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr const char* kSite = "2526A";
constexpr const char* kMn = "AIR2526A0000001";
constexpr const char* kFactor = "a34004";

class DerivedAggregatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "ecomon.db").string();
    // The derived tables live in the store's file: create it as serve does; the values themselves
    // go to the memory store.
    ASSERT_TRUE(storage::open_sqlite_store(path_).ok());
    store_ = storage::make_memory_store();
    reopen();
  }

  void reopen(DerivedOptions options = {}) {
    derived_.reset();
    derived_ = test::ok(DerivedService::open(path_, *store_, clock_, std::move(options)));
    ASSERT_TRUE(derived_);
  }

  storage::Value minute(std::int64_t t, double x, const std::string& flag = "N") {
    storage::Value v;
    v.site = kSite;
    v.mn = kMn;
    v.factor = kFactor;
    v.field = "Avg";
    v.kind = storage::DataKind::kMinute;
    v.measured_ms = t;
    v.received_ms = clock_.now;
    v.number = x;
    v.text = std::to_string(x);
    v.flag = flag;
    return v;
  }
  storage::Value minute_of(const std::string& factor, std::int64_t t, double x) {
    storage::Value v = minute(t, x);
    v.factor = factor;
    return v;
  }
  storage::Value hourly(std::int64_t t, double x) {
    storage::Value v = minute(t, x);
    v.kind = storage::DataKind::kHour;
    return v;
  }
  storage::Value realtime(std::int64_t t, double x) {
    storage::Value v = minute(t, x);
    v.kind = storage::DataKind::kRealtime;
    v.field = "Rtd";
    return v;
  }

  void write(std::vector<storage::Value> values) {
    std::vector<storage::FrameWrite> batch(1);
    batch[0].frame.mn = kMn;
    batch[0].frame.cn = "2051";
    batch[0].frame.received_ms = clock_.now;
    batch[0].frame.outcome = "stored";
    batch[0].values = std::move(values);
    ASSERT_TRUE(store_->write(batch).ok());
  }
  // Minutes [first, first + n) of the hour, each `x`.
  void write_minutes(std::int64_t hour, int first, int n, double x) {
    std::vector<storage::Value> values;
    for (int m = first; m < first + n; ++m) values.push_back(minute(hour + m * kMinute, x));
    write(std::move(values));
  }

  std::size_t process() {
    clock_.now += 1000;
    return test::ok(derived_->process_changes());
  }

  Aggregate row_of(const std::string& factor, Period p, std::int64_t start) {
    AggregateQuery q;
    q.site = kSite;
    q.factor = factor;
    q.period = p;
    q.from_ms = start;
    q.to_ms = start + 1;
    auto rows = test::ok(derived_->aggregates(q));
    EXPECT_EQ(rows.size(), 1u);
    return rows.empty() ? Aggregate{} : rows.front();
  }

  std::optional<Aggregate> row(Period p, std::int64_t start) {
    AggregateQuery q;
    q.site = kSite;
    q.factor = kFactor;
    q.period = p;
    q.from_ms = start;
    q.to_ms = start + 1;
    auto rows = test::ok(derived_->aggregates(q));
    return rows.empty() ? std::nullopt : std::optional<Aggregate>(rows.front());
  }

  std::optional<IndexRow> index(const std::string& name, std::int64_t start,
                                std::optional<std::int64_t> as_of = std::nullopt) {
    IndexQuery q;
    q.site = kSite;
    q.name = name;
    q.from_ms = start;
    q.to_ms = start + 1;
    q.as_of_ms = as_of;
    auto rows = test::ok(derived_->indices(q));
    return rows.empty() ? std::nullopt : std::optional<IndexRow>(rows.front());
  }

  // The revisions of one stored row (factor = the factor or the index name), newest first.
  std::vector<Revision> revisions_of(const std::string& factor, std::int64_t start) {
    auto all = test::ok(derived_->revisions(RevisionQuery{}));
    std::erase_if(all,
                  [&](const Revision& r) { return r.factor != factor || r.start_ms != start; });
    return all;
  }

  // Every revision: means and indices, newest first.
  std::vector<Revision> all_revisions() { return test::ok(derived_->revisions(RevisionQuery{})); }

  // The revisions of the series' hours and days (PM2.5 also has indices: revisions_of()).
  std::vector<Revision> revisions(std::optional<Period> p = std::nullopt) {
    RevisionQuery q;
    q.factor = kFactor;
    auto all = test::ok(derived_->revisions(q));
    if (p) std::erase_if(all, [&](const Revision& r) { return r.period != *p; });
    return all;
  }

  test::TempDir dir_;
  std::string path_;
  FakeClock clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<DerivedService> derived_;
  const std::int64_t day0_ = standards::aggregation::beijing_period_start(clock_.now, kDay);
  const std::int64_t h0_ = day0_ + 10 * kHour;  // 10:00 Beijing
};

TEST_F(DerivedAggregatesTest, AnHourNeeds45ValidMinutes) {
  write_minutes(h0_, 0, 44, 10);
  write_minutes(h0_ + kHour, 0, 45, 20);
  EXPECT_EQ(process(), 89u);
  const auto a = row(Period::kHour, h0_);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->valid);
  EXPECT_EQ(a->source, "minute");
  EXPECT_EQ(a->expected, 60);
  EXPECT_EQ(a->received, 44);
  EXPECT_EQ(a->valid_count, 44);
  EXPECT_EQ(a->value, 10.0);
  const auto b = row(Period::kHour, h0_ + kHour);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->valid);
  EXPECT_EQ(b->value, 20.0);
  EXPECT_TRUE(all_revisions().empty());  // data arriving in order is not a revision
}

TEST_F(DerivedAggregatesTest, AMinuteFlaggedMIsNotValid) {
  write_minutes(h0_, 0, 44, 10);
  write({minute(h0_ + 44 * kMinute, 1000, "M")});
  process();
  const auto a = row(Period::kHour, h0_);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->valid);
  EXPECT_EQ(a->received, 45);
  EXPECT_EQ(a->valid_count, 44);
  EXPECT_EQ(a->value, 10.0);  // the maintenance value is not in the mean
}

TEST_F(DerivedAggregatesTest, ALateMinuteThatMakesAnHourValidLeavesALateValueRevision) {
  write_minutes(h0_, 0, 44, 10);
  process();
  write({minute(h0_ + 3 * kHour, 30)});  // the series moved on
  process();
  EXPECT_TRUE(all_revisions().empty());
  write({minute(h0_ + 44 * kMinute, 55)});  // the 45th minute of 10:00, late
  process();
  const auto a = row(Period::kHour, h0_);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->valid);
  EXPECT_EQ(a->valid_count, 45);
  EXPECT_DOUBLE_EQ(*a->value, 11.0);  // (44 × 10 + 55) / 45
  const auto hours = revisions(Period::kHour);
  ASSERT_EQ(hours.size(), 1u);
  EXPECT_EQ(hours[0].reason, "late_value");
  EXPECT_EQ(hours[0].start_ms, h0_);
  EXPECT_EQ(hours[0].old_value, 10.0);
  EXPECT_DOUBLE_EQ(*hours[0].new_value, 11.0);
  EXPECT_FALSE(hours[0].old_valid);
  EXPECT_TRUE(hours[0].new_valid);
  EXPECT_GT(hours[0].cause_sequence, 0u);
  EXPECT_EQ(hours[0].at_ms, clock_.now);
  // The day had no valid hour; now it has one (still short of 20): its mean moved with it.
  const auto days = revisions(Period::kDay);
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0].reason, "late_value");
  EXPECT_EQ(days[0].start_ms, day0_);
  EXPECT_FALSE(days[0].old_value);
  EXPECT_DOUBLE_EQ(*days[0].new_value, 11.0);
  EXPECT_FALSE(days[0].new_valid);
  EXPECT_GT(revisions().front().id, revisions().back().id);  // newest first
}

TEST_F(DerivedAggregatesTest, ANewVersionLeavesANewVersionRevisionAndADuplicateNone) {
  write_minutes(h0_, 0, 45, 10);
  process();
  write({minute(h0_ + 10 * kMinute, 10)});  // the same value again: a duplicate
  EXPECT_EQ(process(), 0u);
  EXPECT_TRUE(all_revisions().empty());
  write({minute(h0_ + 10 * kMinute, 55)});  // re-sent with another value
  process();
  const auto hours = revisions(Period::kHour);
  ASSERT_EQ(hours.size(), 1u);
  EXPECT_EQ(hours[0].reason, "new_version");
  EXPECT_EQ(hours[0].old_value, 10.0);
  EXPECT_DOUBLE_EQ(*hours[0].new_value, 11.0);
  EXPECT_TRUE(hours[0].old_valid);
  EXPECT_TRUE(hours[0].new_valid);
  EXPECT_EQ(revisions(Period::kDay).size(), 1u);
}

TEST_F(DerivedAggregatesTest, TheDayFollowsItsHours) {
  // The device's own hourly means are the official hours; 19 valid hours make no valid day.
  std::vector<storage::Value> values;
  for (int h = 0; h < 19; ++h) values.push_back(hourly(day0_ + h * kHour, h < 10 ? 10 : 20));
  write(std::move(values));
  process();
  const auto hour = row(Period::kHour, day0_);
  ASSERT_TRUE(hour);
  EXPECT_EQ(hour->source, "hour");
  EXPECT_EQ(hour->expected, 1);
  auto day = row(Period::kDay, day0_);
  ASSERT_TRUE(day);
  EXPECT_FALSE(day->valid);
  EXPECT_EQ(day->expected, 24);
  EXPECT_EQ(day->valid_count, 19);
  write({hourly(day0_ + 19 * kHour, 20)});
  process();
  day = row(Period::kDay, day0_);
  ASSERT_TRUE(day);
  EXPECT_TRUE(day->valid);
  EXPECT_EQ(day->valid_count, 20);
  EXPECT_DOUBLE_EQ(*day->value, 15.0);   // 10 hours of 10, 10 of 20
  EXPECT_TRUE(all_revisions().empty());  // the day filled in; nothing published moved
  // The next day is a day of its own.
  write({hourly(day0_ + 24 * kHour, 40)});
  process();
  ASSERT_TRUE(row(Period::kDay, day0_ + kDay));
  EXPECT_EQ(row(Period::kDay, day0_ + kDay)->value, 40.0);
}

TEST_F(DerivedAggregatesTest, ARestartFromTheSavedCursorComputesNothingTwice) {
  write_minutes(h0_, 0, 44, 10);
  process();
  write({minute(h0_ + 3 * kHour, 30)});
  process();
  write({minute(h0_ + 44 * kMinute, 55)});
  process();
  const auto before = revisions();
  ASSERT_EQ(before.size(), 2u);
  const std::int64_t computed_at = row(Period::kHour, h0_)->computed_at_ms;

  reopen();  // a restart: the cursor is where the last batch left it
  EXPECT_EQ(process(), 0u);
  EXPECT_EQ(derived_->counters().rows_written, 0u);

  // A crash after the batches were computed but before the cursor moved: the feed is computed
  // again from an older cursor, and finds every stored row as it would write it.
  derived_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "UPDATE derived_cursor SET sequence=0", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  reopen();
  EXPECT_EQ(process(), 46u);
  EXPECT_EQ(derived_->counters().rows_written, 0u);
  EXPECT_EQ(derived_->counters().revisions_added, 0u);
  EXPECT_EQ(revisions().size(), before.size());
  EXPECT_EQ(row(Period::kHour, h0_)->computed_at_ms, computed_at);
}

TEST_F(DerivedAggregatesTest, AReviewActionRevisesTheStoredHourAndDayAndARestoreBringsThemBack) {
  // Minute m of 10:00 has the value m: the hour's mean is 29.5 over 60 valid minutes.
  std::vector<storage::Value> values;
  for (int m = 0; m < 60; ++m) values.push_back(minute(h0_ + m * kMinute, m));
  write(std::move(values));
  process();
  ASSERT_EQ(row(Period::kHour, h0_)->value, 29.5);
  auto reviews = test::ok(ReviewService::open(path_, clock_));
  ReviewAction inv;
  inv.site = kSite;
  inv.factor = kFactor;
  inv.kind = "minute";
  inv.from_ms = h0_;
  inv.to_ms = h0_ + 20 * kMinute;
  inv.verb = ReviewVerb::kInvalidate;
  inv.reason = "仪器故障";
  const auto stored = test::ok(reviews->record(inv));
  const std::int64_t before_review = clock_.now;
  process();
  // 40 valid minutes left (20 … 59): the hour is no longer valid; its raw mean is kept beside.
  auto a = row(Period::kHour, h0_);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->valid);
  EXPECT_EQ(a->valid_count, 40);
  EXPECT_EQ(a->received, 60);
  EXPECT_DOUBLE_EQ(*a->value, 39.5);
  EXPECT_EQ(a->raw_value, 29.5);
  EXPECT_TRUE(a->raw_valid);
  auto hour_revs = revisions(Period::kHour);
  ASSERT_EQ(hour_revs.size(), 1u);
  EXPECT_EQ(hour_revs[0].reason, "review");
  EXPECT_EQ(hour_revs[0].review_action, stored.id);
  EXPECT_EQ(hour_revs[0].cause_sequence, 0u);
  EXPECT_EQ(hour_revs[0].old_value, 29.5);
  EXPECT_TRUE(hour_revs[0].old_valid);
  EXPECT_DOUBLE_EQ(*hour_revs[0].new_value, 39.5);
  EXPECT_FALSE(hour_revs[0].new_valid);
  const auto day_revs = revisions(Period::kDay);
  ASSERT_EQ(day_revs.size(), 1u);
  EXPECT_EQ(day_revs[0].reason, "review");
  EXPECT_EQ(day_revs[0].review_action, stored.id);
  EXPECT_EQ(day_revs[0].start_ms, day0_);
  EXPECT_EQ(row(Period::kDay, day0_)->raw_value, 29.5);

  // As of before the action was applied: the hour as it was.
  AggregateQuery q;
  q.site = kSite;
  q.factor = kFactor;
  q.from_ms = h0_;
  q.to_ms = h0_ + 1;
  q.as_of_ms = before_review;
  auto old = test::ok(derived_->aggregates(q));
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].value, 29.5);
  EXPECT_TRUE(old[0].valid);
  EXPECT_EQ(old[0].valid_count, 60);

  // Approving changes no mean: no revision.
  ReviewAction approve = inv;
  approve.verb = ReviewVerb::kApprove;
  approve.reason.clear();
  test::ok(reviews->record(approve));
  process();
  EXPECT_EQ(revisions().size(), 2u);
  EXPECT_EQ(derived_->counters().review_cursor, static_cast<std::uint64_t>(stored.id + 1));

  // A restore brings the hour and the day back, again as revisions for the review.
  ReviewAction restore = inv;
  restore.verb = ReviewVerb::kRestore;
  restore.reason = "复核无误";
  const auto restored = test::ok(reviews->record(restore));
  process();
  a = row(Period::kHour, h0_);
  EXPECT_TRUE(a->valid);
  EXPECT_EQ(a->value, 29.5);
  hour_revs = revisions(Period::kHour);
  ASSERT_EQ(hour_revs.size(), 2u);
  EXPECT_EQ(hour_revs[0].reason, "review");
  EXPECT_EQ(hour_revs[0].review_action, restored.id);
  EXPECT_TRUE(hour_revs[0].new_valid);

  // A restart finds the review cursor where it was: nothing is applied twice.
  reopen();
  EXPECT_EQ(process(), 0u);
  EXPECT_EQ(revisions().size(), 4u);
  // A crash before the review cursor moved: the actions are applied again from an older cursor
  // and find every row as they would write it.
  const std::size_t all_before = all_revisions().size();
  derived_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, "UPDATE derived_cursor SET sequence=0 WHERE name='review'", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  reopen();
  EXPECT_EQ(process(), 3u);  // the three actions, read again
  EXPECT_EQ(derived_->counters().rows_written, 0u);
  EXPECT_EQ(derived_->counters().revisions_added, 0u);
  EXPECT_EQ(all_revisions().size(), all_before);
  EXPECT_EQ(row(Period::kHour, h0_)->value, 29.5);
}

TEST_F(DerivedAggregatesTest, AReviewActionAppliesToValuesThatArriveAfterIt) {
  auto reviews = test::ok(ReviewService::open(path_, clock_));
  ReviewAction c;
  c.site = kSite;
  c.factor = kFactor;
  c.from_ms = h0_;
  c.to_ms = h0_ + kHour;
  c.verb = ReviewVerb::kCorrect;
  c.value = 7;
  c.reason = "校准后修正";
  test::ok(reviews->record(c));
  process();  // no hour stored yet: nothing to revise
  write_minutes(h0_, 0, 50, 10);
  process();
  const auto a = row(Period::kHour, h0_);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, 7.0);
  EXPECT_EQ(a->raw_value, 10.0);
  EXPECT_TRUE(all_revisions().empty());  // a first computation is not a revision
}

// O3 minutes of a whole day at 250 µg/m³, but the hour 03:00 has only 45 of them; 15 late minutes
// of 410 make it (45 × 250 + 15 × 410) / 60 = 290 after the series moved on.
TEST_F(DerivedAggregatesTest, ALateValueRevisesItsHourDayO3WindowsAndAqiAndAsOfGivesTheOldOnes) {
  const std::string o3 = "a05024";
  for (int h = 0; h < 24; ++h) {
    std::vector<storage::Value> values;
    for (int m = 0; m < (h == 3 ? 45 : 60); ++m) {
      values.push_back(minute_of(o3, day0_ + h * kHour + m * kMinute, 250));
    }
    write(std::move(values));
  }
  process();
  const std::int64_t h3 = day0_ + 3 * kHour;
  const std::int64_t before = clock_.now;
  // HJ 633-2026 表3 (2026-05-28): O3 1-h 250 → 100 + 50·50/100 = 125; daily max 8-h 250 →
  // 150 + 50·35/50 = 185 (only O3 is present; both exceed 100, so §5.3.1 gives an AQI).
  ASSERT_TRUE(index("aqi_hour", h3));
  EXPECT_EQ(index("aqi_hour", h3)->value, 125);
  EXPECT_EQ(index("aqi_hour", h3)->inputs[3], 250.0);
  EXPECT_EQ(index("aqi_day", day0_)->value, 185);
  EXPECT_EQ(index("o3_8h_max", day0_)->value, 250);
  EXPECT_EQ(index("o3_8h", day0_ + 7 * kHour)->value, 250);
  EXPECT_FALSE(index("o3_8h", day0_ + 4 * kHour));  // 5 valid hours: no window (GB 3095 表4: 6)
  EXPECT_TRUE(all_revisions().empty());

  std::vector<storage::Value> late;
  for (int m = 45; m < 60; ++m) late.push_back(minute_of(o3, h3 + m * kMinute, 410));
  write(std::move(late));
  process();
  const auto hour = row_of(o3, Period::kHour, h3);
  EXPECT_EQ(hour.value, 290.0);
  // 1-h 290 → 100 + 50·90/100 = 145; the 8-h window of 00:00–08:00 (255) is the day's max now:
  // 150 + 50·40/50 = 190.
  EXPECT_EQ(index("aqi_hour", h3)->value, 145);
  EXPECT_EQ(index("aqi_day", day0_)->value, 190);
  EXPECT_EQ(index("o3_8h_max", day0_)->value, 255);
  EXPECT_DOUBLE_EQ(*index("o3_8h", day0_ + 5 * kHour)->value, (5 * 250 + 290) / 6.0);
  EXPECT_EQ(index("o3_8h", day0_ + 10 * kHour)->value, 255);
  EXPECT_EQ(index("o3_8h", day0_ + 11 * kHour)->value, 250);  // 04:00–12:00: not touched

  auto one = [&](const std::string& name, std::int64_t start) {
    const auto r = revisions_of(name, start);
    EXPECT_EQ(r.size(), 1u) << name;
    if (!r.empty()) {
      EXPECT_EQ(r[0].reason, "late_value") << name;
      EXPECT_GT(r[0].cause_sequence, 0u) << name;
    }
    return r.empty() ? Revision{} : r[0];
  };
  EXPECT_EQ(one(o3, h3).old_value, 250.0);
  EXPECT_EQ(one("aqi_hour", h3).old_value, 125);
  EXPECT_EQ(one("aqi_day", day0_).new_value, 190);
  EXPECT_EQ(one("o3_8h_max", day0_).old_value, 250);
  for (int last = 5; last <= 10; ++last) one("o3_8h", day0_ + last * kHour);
  EXPECT_EQ(all_revisions().size(), 1u + 1 + 1 + 1 + 1 + 6);  // hour, day, AQI ×2, max, 6 windows

  // As of before the late minutes: the old numbers, the concentrations with them.
  const auto old_aqi = index("aqi_hour", h3, before);
  ASSERT_TRUE(old_aqi);
  EXPECT_EQ(old_aqi->value, 125);
  EXPECT_EQ(old_aqi->inputs[3], 250.0);
  EXPECT_EQ(index("aqi_day", day0_, before)->value, 185);
  EXPECT_EQ(index("o3_8h", day0_ + 7 * kHour, before)->value, 250);
  AggregateQuery q;
  q.site = kSite;
  q.factor = o3;
  q.from_ms = h3;
  q.to_ms = h3 + 1;
  q.as_of_ms = before;
  auto old = test::ok(derived_->aggregates(q));
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].value, 250.0);
  EXPECT_EQ(old[0].received, 45);
  // Before anything was computed, nothing was known.
  EXPECT_FALSE(index("aqi_hour", h3, before - 1'000'000));
}

// Issue #5 §1: the device's own hour (CN 2061) is the official hour; the platform's mean of the
// device's minutes (CN 2051) is kept beside it, and a difference beyond max(hour_tolerance, 10 %)
// is flagged (analytics/screening.h hour_mismatch: PM2.5 tolerance 2 µg/m3 by default).
TEST_F(DerivedAggregatesTest, ADeviceHourKeepsThePlatformsMinuteMeanBesideItAndFlagsAMismatch) {
  write({hourly(h0_, 30), hourly(h0_ + kHour, 20.5)});
  write_minutes(h0_, 0, 50, 20);
  write_minutes(h0_ + kHour, 0, 60, 20);
  process();
  auto a = row(Period::kHour, h0_);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->source, "hour");
  EXPECT_EQ(a->value, 30.0);  // the official hour is the device's
  EXPECT_TRUE(a->valid);
  EXPECT_EQ(a->platform_value, 20.0);
  EXPECT_TRUE(a->platform_valid);
  EXPECT_EQ(a->platform_received, 50);
  EXPECT_EQ(a->platform_valid_count, 50);
  EXPECT_TRUE(a->mismatch);  // |30 − 20| = 10 > max(2, 10 % × 20)
  const auto b = row(Period::kHour, h0_ + kHour);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->platform_value, 20.0);
  EXPECT_FALSE(b->mismatch);  // |20.5 − 20| = 0.5 ≤ 2
  EXPECT_EQ(derived_->counters().hour_mismatches, 1u);
  // The day is from the official hours, not the platform's.
  EXPECT_DOUBLE_EQ(*row(Period::kDay, day0_)->value, 25.25);
  EXPECT_TRUE(all_revisions().empty());

  // A configured tolerance of 15 µg/m3 ([screening] a34004.hour_tolerance): no longer a mismatch
  // when the hour is recomputed (a re-sent minute of the same hour).
  DerivedOptions wide;
  wide.screening.factors["a34004"].hour_tolerance = 15;
  reopen(wide);
  write({minute(h0_ + 10 * kMinute, 20.5)});
  process();
  a = row(Period::kHour, h0_);
  EXPECT_FALSE(a->mismatch);
  EXPECT_DOUBLE_EQ(*a->platform_value, (49 * 20 + 20.5) / 50);
  // The rule switched off: never flagged.
  DerivedOptions off;
  off.screening.disabled.push_back(analytics::screening::Rule::kHourMismatch);
  reopen(off);
  write({hourly(h0_ + 2 * kHour, 90)});
  write_minutes(h0_ + 2 * kHour, 0, 60, 20);
  process();
  EXPECT_EQ(row(Period::kHour, h0_ + 2 * kHour)->platform_value, 20.0);
  EXPECT_FALSE(row(Period::kHour, h0_ + 2 * kHour)->mismatch);
}

TEST_F(DerivedAggregatesTest, APlatformHourNeeds45ValidMinutesAndALateMinuteRecomputesIt) {
  write({hourly(h0_, 30)});
  write_minutes(h0_, 0, 44, 20);
  process();
  auto a = row(Period::kHour, h0_);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->platform_value, 20.0);
  EXPECT_FALSE(a->platform_valid);       // 44 valid minutes (GB 3095-2012 表4: 45)
  EXPECT_FALSE(a->mismatch);             // an invalid platform hour is not compared
  write({hourly(h0_ + 3 * kHour, 30)});  // the series moved on
  process();
  const std::int64_t before = clock_.now;
  write({minute(h0_ + 44 * kMinute, 20)});  // the 45th minute of 10:00, late
  process();
  a = row(Period::kHour, h0_);
  EXPECT_TRUE(a->platform_valid);
  EXPECT_EQ(a->platform_received, 45);
  EXPECT_TRUE(a->mismatch);
  EXPECT_GT(a->computed_at_ms, before);
  EXPECT_EQ(a->value, 30.0);
  // The official hour did not move: no revision, and its day is not written again.
  EXPECT_TRUE(all_revisions().empty());
  EXPECT_LE(row(Period::kDay, day0_)->computed_at_ms, before);
}

TEST_F(DerivedAggregatesTest, WithoutMinutesThePlatformHourIsFromTheRealTimeValues) {
  write({hourly(h0_, 30)});
  std::vector<storage::Value> values;
  for (int m = 0; m < 60; ++m) values.push_back(realtime(h0_ + m * kMinute + 30'000, 29));
  write(std::move(values));
  write_minutes(h0_ + kHour, 0, 60, 10);  // the next hour has no device hour: no platform beside
  process();
  const auto a = row(Period::kHour, h0_);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->platform_value, 29.0);
  EXPECT_TRUE(a->platform_valid);
  EXPECT_FALSE(a->mismatch);  // |30 − 29| = 1 ≤ 2
  const auto b = row(Period::kHour, h0_ + kHour);
  EXPECT_EQ(b->source, "minute");
  EXPECT_FALSE(b->platform_value);
  EXPECT_EQ(b->platform_received, 0);
}

TEST_F(DerivedAggregatesTest, ARevisedDeviceHourAsOfBeforeGivesTheOldPlatformComparison) {
  write({hourly(h0_, 30)});
  write_minutes(h0_, 0, 60, 20);
  process();
  ASSERT_TRUE(row(Period::kHour, h0_)->mismatch);
  const std::int64_t before = clock_.now;
  write({hourly(h0_, 21)});  // the device re-sends its hour corrected: a new version
  process();
  const auto now = row(Period::kHour, h0_);
  EXPECT_EQ(now->value, 21.0);
  EXPECT_FALSE(now->mismatch);
  ASSERT_EQ(revisions(Period::kHour).size(), 1u);
  EXPECT_EQ(revisions(Period::kHour)[0].reason, "new_version");
  AggregateQuery q;
  q.site = kSite;
  q.factor = kFactor;
  q.from_ms = h0_;
  q.to_ms = h0_ + 1;
  q.as_of_ms = before;
  const auto old = test::ok(derived_->aggregates(q));
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].value, 30.0);
  EXPECT_EQ(old[0].platform_value, 20.0);
  EXPECT_TRUE(old[0].platform_valid);
  EXPECT_EQ(old[0].platform_received, 60);
  EXPECT_TRUE(old[0].mismatch);
}

// An hour filling in is not versioned (no revision per minute), yet as_of inside it is exact: the
// row is recomputed from the value versions received by then and the review actions written by
// then, and its day from the hours as they were then.
TEST_F(DerivedAggregatesTest, AsOfInsideAFillingHourGivesTheMeanOfTheMinutesReceivedByThen) {
  write_minutes(h0_ - kHour, 0, 60, 10);  // 09:00: a valid hour of 10
  process();
  auto reviews = test::ok(ReviewService::open(path_, clock_));
  std::int64_t at30 = 0;
  for (int m = 0; m < 60; ++m) {  // minute m of 10:00 has the value m, one per batch
    write({minute(h0_ + m * kMinute, m)});
    process();
    if (m == 19) {  // minutes 0 … 9 invalidated while the hour fills in
      ReviewAction inv;
      inv.site = kSite;
      inv.factor = kFactor;
      inv.from_ms = h0_;
      inv.to_ms = h0_ + 10 * kMinute;
      inv.verb = ReviewVerb::kInvalidate;
      inv.reason = "仪器故障";
      test::ok(reviews->record(inv));
      process();
    }
    if (m == 29) {
      at30 = clock_.now;
      clock_.now += 1000;  // minute 30 is received after at30
    }
  }
  const std::int64_t full = clock_.now;
  auto at = [&](Period p, std::int64_t start, std::int64_t as_of) {
    AggregateQuery q;
    q.site = kSite;
    q.factor = kFactor;
    q.period = p;
    q.from_ms = start;
    q.to_ms = start + 1;
    q.as_of_ms = as_of;
    auto rows = test::ok(derived_->aggregates(q));
    EXPECT_EQ(rows.size(), 1u);
    return rows.empty() ? Aggregate{} : rows.front();
  };
  // Now: minutes 10 … 59 valid, mean 34.5; the raw mean of all 60 is 29.5.
  EXPECT_EQ(row(Period::kHour, h0_)->value, 34.5);
  // As of minute 30: 30 minutes received, 20 valid (10 … 29), mean 19.5, raw 14.5; not valid.
  auto h = at(Period::kHour, h0_, at30);
  EXPECT_EQ(h.value, 19.5);
  EXPECT_EQ(h.received, 30);
  EXPECT_EQ(h.valid_count, 20);
  EXPECT_FALSE(h.valid);
  EXPECT_EQ(h.raw_value, 14.5);
  // Its day then: only 09:00 valid.
  auto d = at(Period::kDay, day0_, at30);
  EXPECT_EQ(d.value, 10.0);
  EXPECT_EQ(d.received, 2);
  EXPECT_EQ(d.valid_count, 1);
  EXPECT_DOUBLE_EQ(*row(Period::kDay, day0_)->value, (10 + 34.5) / 2);

  // A later revision (minute 30 re-sent as 1030: +20 on the mean) does not hide the filling: its
  // old side is the full hour, which was not yet known at minute 30.
  write({minute(h0_ + 3 * kHour, 5)});
  process();
  clock_.now += 5000;
  write({minute(h0_ + 30 * kMinute, 1030)});
  process();
  EXPECT_EQ(row(Period::kHour, h0_)->value, 54.5);
  ASSERT_EQ(revisions(Period::kHour).size(), 2u);  // the review at minute 19, the new version
  EXPECT_EQ(at(Period::kHour, h0_, at30).value, 19.5);
  EXPECT_EQ(at(Period::kDay, day0_, at30).value, 10.0);
  EXPECT_EQ(at(Period::kHour, h0_, full).value, 34.5);  // the old side of the revision
  EXPECT_TRUE(at(Period::kHour, h0_, full).valid);
  // Before the review action (minute 19 received): minutes 0 … 19, all valid then.
  EXPECT_EQ(at(Period::kHour, h0_, at30 - 11'001).value, 9.5);
}

// Counties (issue #5 §1 "per site, per county and per city"): no reference sheet says which
// points count, so the county's ambient-air points other than control points (对照点) do — the
// ASSUMED practice of derive/aggregates.h. The real registry's 利州区 (510802) has the urban points
// 2524A, 2525A, 2526A, 3617A and the control point 2523A; a traffic point is added to it.
TEST_F(DerivedAggregatesTest, ACountyHourIsTheMeanOfItsPointsOtherThanControlPoints) {
  auto reg = test::ok(registry::load_registry(ECOMON_TESTDATA_DIR "/../config/registry"));
  registry::Site traffic;
  traffic.code = "9901T";
  traffic.name = "测试交通点";
  traffic.kind = "ambient_air";
  traffic.level = "county";
  traffic.air_role = "traffic";
  traffic.place = reg.find_site("2524A")->place;
  reg = test::ok(reg.with_site(traffic));
  registry::RegistryHolder holder(std::move(reg));
  DerivedOptions o;
  o.registry = &holder;
  reopen(o);
  auto at = [&](const std::string& site, double x) {
    storage::Value v = hourly(h0_, x);
    v.site = site;
    v.mn = "MN" + site;
    return v;
  };
  write({at("2524A", 20), at("2525A", 40), at("2523A", 100), at("9901T", 60)});
  process();
  auto area_hour = [&](const std::string& area) {
    AggregateQuery q;
    q.site = area;
    q.factor = kFactor;
    q.from_ms = h0_;
    q.to_ms = h0_ + 1;
    auto rows = test::ok(derived_->aggregates(q));
    EXPECT_EQ(rows.size(), 1u) << area;
    return rows.empty() ? Aggregate{} : rows.front();
  };
  const auto county = area_hour("county:510802");
  EXPECT_EQ(county.source, "county");
  EXPECT_EQ(county.value, 40.0);  // (20 + 40 + 60) / 3: not the control point's 100
  EXPECT_TRUE(county.valid);
  EXPECT_EQ(county.expected, 5);  // 2524A, 2525A, 2526A, 3617A, 9901T
  EXPECT_EQ(county.received, 3);
  const auto city = area_hour("city:510800");
  EXPECT_EQ(city.value, 30.0);  // urban points only: (20 + 40) / 2
  EXPECT_EQ(city.expected, 4);
  // Its day and its AQI inputs follow, as a city's do.
  AggregateQuery d;
  d.site = "county:510802";
  d.factor = kFactor;
  d.period = Period::kDay;
  d.from_ms = day0_;
  d.to_ms = day0_ + 1;
  ASSERT_EQ(test::ok(derived_->aggregates(d)).size(), 1u);
  IndexQuery iq;
  iq.site = "county:510802";
  iq.name = "aqi_hour";
  iq.from_ms = h0_;
  iq.to_ms = h0_ + 1;
  const auto aqi = test::ok(derived_->indices(iq));
  ASSERT_EQ(aqi.size(), 1u);
  EXPECT_EQ(aqi[0].inputs[6], 40.0);
}

TEST_F(DerivedAggregatesTest, AFileWithTheFirstReleasesTablesGetsTheNewColumns) {
  // The derived tables as the first release created them, with one stored hour.
  derived_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    const char* old_schema = R"sql(
      DROP TABLE derived_hours; DROP TABLE derived_days; DROP TABLE derived_revisions;
      DROP TABLE derived_indices; DROP TABLE derived_cursor;
      CREATE TABLE derived_hours(site TEXT NOT NULL, factor TEXT NOT NULL,
        kind_source TEXT NOT NULL, hour_start_ms INTEGER NOT NULL, value REAL,
        valid INTEGER NOT NULL, expected INTEGER NOT NULL, received INTEGER NOT NULL,
        valid_count INTEGER NOT NULL, computed_at_ms INTEGER NOT NULL,
        PRIMARY KEY(site, factor, hour_start_ms));
      CREATE TABLE derived_days(site TEXT NOT NULL, factor TEXT NOT NULL,
        day_start_ms INTEGER NOT NULL, value REAL, valid INTEGER NOT NULL,
        expected INTEGER NOT NULL, received INTEGER NOT NULL, valid_count INTEGER NOT NULL,
        computed_at_ms INTEGER NOT NULL, PRIMARY KEY(site, factor, day_start_ms));
      CREATE TABLE derived_revisions(id INTEGER PRIMARY KEY, site TEXT NOT NULL,
        factor TEXT NOT NULL, period TEXT NOT NULL, start_ms INTEGER NOT NULL, old_value REAL,
        new_value REAL, old_valid INTEGER NOT NULL, new_valid INTEGER NOT NULL,
        reason TEXT NOT NULL, cause_sequence INTEGER NOT NULL, at_ms INTEGER NOT NULL);
      CREATE TABLE derived_cursor(name TEXT PRIMARY KEY, sequence INTEGER NOT NULL);
      INSERT INTO derived_hours VALUES('2526A', 'a34004', 'minute', 0, 5, 1, 60, 60, 60, 1);
    )sql";
    EXPECT_EQ(sqlite3_exec(db, old_schema, nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  reopen();
  // The old row reads with the new columns' defaults (known since ever: created_at 0).
  AggregateQuery q;
  q.site = kSite;
  q.factor = kFactor;
  q.from_ms = 0;
  q.to_ms = 1;
  q.as_of_ms = 2;
  auto old = test::ok(derived_->aggregates(q));
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].value, 5.0);
  EXPECT_FALSE(old[0].raw_value);
  EXPECT_EQ(old[0].created_at_ms, 0);
  EXPECT_FALSE(old[0].platform_value);
  EXPECT_FALSE(old[0].mismatch);
  // New rows are written with every column.
  write_minutes(h0_, 0, 45, 10);
  process();
  const auto a = row(Period::kHour, h0_);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->raw_value, 10.0);
  EXPECT_EQ(a->created_at_ms, clock_.now);
  ASSERT_TRUE(index("aqi_hour", h0_));
  EXPECT_EQ(index("aqi_hour", h0_)->inputs[6], 10.0);
}

}  // namespace
}  // namespace ecomon::derive
