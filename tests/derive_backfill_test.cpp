// Automatic backfill requests (derive/backfill.h, issue #5 §3): holes become requests, bounded
// per device, in total and per hour, never repeated within repeat_after, and are counted again
// after the answer. Values in the memory store, the requests in a SQLite file, a fake clock, a
// recording sender, no threads.
#include <gtest/gtest.h>

#include <optional>

#include "derive/backfill.h"
#include "storage/memory/memory_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "test_util.h"

namespace ecomon::derive {
namespace {

class FakeClock final : public core::Clock {
 public:
  std::int64_t now_ms() const override { return now; }
  std::int64_t now = 1'780'000'000'000 - 1'780'000'000'000 % 3'600'000;  // an hour's start
};

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 24 * kHour;

struct Sent {
  std::string mn;
  int cn;
  std::int64_t begin_ms, end_ms;
  std::function<void(std::string)> done;
};

class BackfillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "ecomon.db").string();
    ASSERT_TRUE(storage::open_sqlite_store(path_).ok());
    store_ = storage::make_memory_store();
  }

  void open(BackfillOptions o) {
    o.enabled = true;
    service_ = test::ok(BackfillService::open(path_, *store_, clock_, o));
    ASSERT_TRUE(service_);
    service_->set_sender([this](const std::string& mn, int cn, std::int64_t b, std::int64_t e,
                                std::int64_t, std::function<void(std::string)> done) {
      sent_.push_back(Sent{mn, cn, b, e, std::move(done)});
    });
    service_->set_online_devices([this] { return online_; });
  }

  // Hourly values of `mn` for the hours `ago` before `base` (default now; minute values: `step`
  // 60,000; daily values: `step` kDay).
  void hours(const std::string& mn, std::initializer_list<int> agos, std::int64_t step = kHour,
             std::optional<std::int64_t> base = std::nullopt) {
    std::vector<storage::FrameWrite> batch(1);
    batch[0].frame.mn = mn;
    batch[0].frame.cn = "2061";
    batch[0].frame.received_ms = clock_.now;
    batch[0].frame.outcome = "stored";
    for (int ago : agos) {
      storage::Value v;
      v.site = "S";
      v.mn = mn;
      v.factor = "a34004";
      v.field = "Avg";
      v.kind = step == kHour  ? storage::DataKind::kHour
               : step == kDay ? storage::DataKind::kDay
                              : storage::DataKind::kMinute;
      v.measured_ms = base.value_or(clock_.now) - ago * step;
      v.received_ms = clock_.now;
      v.number = 10;
      v.text = "10";
      v.flag = "N";
      batch[0].values.push_back(v);
    }
    ASSERT_TRUE(store_->write(batch).ok());
  }

  test::TempDir dir_;
  std::string path_;
  FakeClock clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<BackfillService> service_;
  std::vector<std::string> online_;
  std::vector<Sent> sent_;
};

TEST_F(BackfillTest, AHoleIsRequestedOnceAndCountedAfterTheAnswer) {
  open({});
  hours("A", {10, 9, 8, 4, 3, 2, 1});  // 7, 6, 5 missing; nothing since hour 1 is no hole
  online_ = {"A"};
  EXPECT_EQ(test::ok(service_->scan()), 1);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].cn, 2061);
  EXPECT_EQ(sent_[0].begin_ms, clock_.now - 7 * kHour);
  EXPECT_EQ(sent_[0].end_ms, clock_.now - 5 * kHour);  // EndTime: the last missing hour's start
  EXPECT_EQ(test::ok(service_->scan()), 0);            // pending: not again
  hours("A", {7, 6});                                  // the device sends two of the three
  sent_[0].done("executed");
  clock_.now += 10'000;
  EXPECT_EQ(test::ok(service_->scan()), 0);  // asked within repeat_after
  auto rows = test::ok(service_->requests("", 10));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "executed");
  EXPECT_EQ(rows[0].missing_before, 3);
  EXPECT_EQ(rows[0].missing_after, 1);
  EXPECT_EQ(rows[0].fulfilled, false);
  const auto c = service_->counters();
  EXPECT_EQ(c.requests_sent, 1u);
  EXPECT_EQ(c.periods_recovered, 2u);
  EXPECT_EQ(c.in_flight, 0u);
  EXPECT_GE(c.skipped_recent, 1u);
  // After repeat_after the rest is asked for again.
  clock_.now += 6 * kHour;
  EXPECT_EQ(test::ok(service_->scan()), 1);
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].begin_ms, sent_[1].end_ms);  // the one hour still missing
}

TEST_F(BackfillTest, BoundedPerDeviceAndInTotal) {
  BackfillOptions o;
  o.max_in_flight = 2;
  o.max_per_device_per_hour = 2;
  open(o);
  hours("A", {20, 18, 16, 14});  // three holes
  hours("B", {20, 18});
  hours("C", {20, 18});
  online_ = {"A", "B", "C"};
  EXPECT_EQ(test::ok(service_->scan()), 2);  // A's first and B's: one per device, two in total
  EXPECT_EQ(sent_[0].mn, "A");
  EXPECT_EQ(sent_[1].mn, "B");
  EXPECT_GE(service_->counters().skipped_rate_limited, 3u);
  sent_[0].done("timeout");
  sent_[1].done("executed");
  EXPECT_EQ(test::ok(service_->scan()), 2);  // A's second, C's
  sent_[2].done("refused");
  sent_[3].done("executed");
  EXPECT_EQ(test::ok(service_->scan()), 0);  // A has had two this hour
  clock_.now += kHour + 1;
  EXPECT_EQ(test::ok(service_->scan()), 1);  // A's third
  EXPECT_EQ(sent_.back().mn, "A");
  const auto c = service_->counters();
  EXPECT_EQ(c.outcomes.at("timeout"), 1u);
  EXPECT_EQ(c.outcomes.at("refused"), 1u);
}

TEST_F(BackfillTest, MinuteHolesAskedWith2051AndLongHolesCutAtMaxRange) {
  BackfillOptions o;
  o.max_range_ms = 10 * 60'000;  // ten minutes per request
  open(o);
  hours("A", {40, 15, 1}, 60'000);  // minutes 39..16 (24) and 14..2 (13) missing
  online_ = {"A"};
  EXPECT_EQ(test::ok(service_->scan()), 1);  // one in flight per device
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].cn, 2051);
  EXPECT_EQ(sent_[0].begin_ms, clock_.now - 39 * 60'000);
  EXPECT_EQ(sent_[0].end_ms, clock_.now - 30 * 60'000);  // ten minutes: 39..30
  sent_[0].done("executed");
  EXPECT_EQ(test::ok(service_->scan()), 1);  // the next piece: 29..20
  EXPECT_EQ(sent_[1].begin_ms, clock_.now - 29 * 60'000);
  EXPECT_EQ(sent_[1].end_ms, clock_.now - 20 * 60'000);
  const auto rows = test::ok(service_->requests("A", 10));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].missing_before, 10);
  EXPECT_EQ(rows[0].kind, storage::DataKind::kMinute);
}

// Daily data (CN 2031) are stamped at Beijing midnight: a missing day is asked for from its
// civil start, within day_lookback_ms (the hourly lookback of one day could never see a hole).
TEST_F(BackfillTest, AMissingDayIsAskedWith2031FromBeijingMidnight) {
  BackfillOptions o;
  o.day_lookback_ms = 7 * kDay;
  open(o);
  const std::int64_t beijing = 8 * kHour;
  const std::int64_t today = (clock_.now + beijing) / kDay * kDay - beijing;  // Beijing midnight
  ASSERT_NE(today % kDay, 0);  // not a UTC midnight: the test would not tell the zones apart
  hours("A", {5, 3, 2}, kDay, today);  // days 5, 3 and 2 ago present; day 4 ago missing
  online_ = {"A"};
  EXPECT_EQ(test::ok(service_->scan()), 1);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].cn, 2031);
  EXPECT_EQ(sent_[0].begin_ms, today - 4 * kDay);
  EXPECT_EQ(sent_[0].end_ms, today - 4 * kDay);  // one day: BeginTime = EndTime = its start
  const auto rows = test::ok(service_->requests("A", 10));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].kind, storage::DataKind::kDay);
  EXPECT_EQ(rows[0].missing_before, 1);
}

// Outside day_lookback_ms a missing day is not asked for.
TEST_F(BackfillTest, DaysOutsideTheDayLookbackAreLeftAlone) {
  BackfillOptions o;
  o.day_lookback_ms = 3 * kDay;
  open(o);
  const std::int64_t beijing = 8 * kHour;
  const std::int64_t today = (clock_.now + beijing) / kDay * kDay - beijing;
  hours("A", {9, 7, 1}, kDay, today);  // day 8 missing, but only days 2..0 are looked at
  online_ = {"A"};
  EXPECT_EQ(test::ok(service_->scan()), 0);
  EXPECT_TRUE(sent_.empty());
}

TEST_F(BackfillTest, OfflineDevicesAndKindsNotSentAreLeftAlone) {
  open({});
  hours("A", {5, 1});
  online_ = {};
  EXPECT_EQ(test::ok(service_->scan()), 0);
  online_ = {"A"};
  EXPECT_EQ(test::ok(service_->scan()), 1);
  EXPECT_EQ(sent_.at(0).cn, 2061);  // never 2051: A sends no minute data
}

TEST_F(BackfillTest, PendingRequestsOfAnEarlierRunAreClosedAsStopped) {
  open({});
  hours("A", {5, 1});
  online_ = {"A"};
  EXPECT_EQ(test::ok(service_->scan()), 1);
  service_.reset();
  open({});
  auto rows = test::ok(service_->requests("A", 10));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].outcome, "stopped");
}

}  // namespace
}  // namespace ecomon::derive
