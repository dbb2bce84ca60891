// The stored hourly and daily means and their revisions (derive/aggregates.h, issue #5 §2): the
// values in the memory store, the derived tables in a SQLite file, a fake clock, no threads.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>

#include "derive/aggregates.h"
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

  void reopen() {
    derived_.reset();
    derived_ = test::ok(DerivedService::open(path_, *store_, clock_));
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
  storage::Value hourly(std::int64_t t, double x) {
    storage::Value v = minute(t, x);
    v.kind = storage::DataKind::kHour;
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

  std::vector<Revision> revisions(std::optional<Period> p = std::nullopt) {
    auto all = test::ok(derived_->revisions(RevisionQuery{}));
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
  EXPECT_TRUE(revisions().empty());  // data arriving in order is not a revision
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
  EXPECT_TRUE(revisions().empty());
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
  EXPECT_TRUE(revisions().empty());
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
  EXPECT_DOUBLE_EQ(*day->value, 15.0);  // 10 hours of 10, 10 of 20
  EXPECT_TRUE(revisions().empty());     // the day filled in; nothing published moved
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

}  // namespace
}  // namespace ecomon::derive
