// Screening marks (derive/screening_service.h, issue #5 §4/§5): findings stored as marks over a
// real SQLite store (values and marks in one file), a fake clock, no threads. A stuck series
// becomes one mark that grows in place, a late value that breaks the run shortens or withdraws it,
// a redo from an old cursor writes nothing twice, the real Guangyuan release gives no value
// marks, and screened values are at the screened level.
#include <gtest/gtest.h>
#include <sqlite3.h>


#include "core/civil_time.h"
#include "derive/screening_service.h"
#include "real_data.h"
#include "storage/sqlite/sqlite_store.h"
#include "test_util.h"

namespace ecomon::derive {
namespace {

namespace scr = analytics::screening;

class FakeClock final : public core::Clock {
 public:
  std::int64_t now_ms() const override { return now; }
  std::int64_t now = 0;
};

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 24 * kHour;
constexpr const char* kSite = "2526A";
constexpr const char* kMn = "AIR2526A0000001";
constexpr const char* kPm25 = "a34004";
// 2026-05-01 00:00 Beijing time.
const std::int64_t kT0 =
    core::to_unix_ms(core::CivilTime{2026, 5, 1, 0, 0, 0, 0}, core::kChinaUtcOffsetSeconds);

class ScreeningServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "ecomon.db").string();
    store_ = test::ok(storage::open_sqlite_store(path_));
    ASSERT_TRUE(store_);
    clock_.now = kT0 + 60 * kDay;
    reopen();
  }

  void reopen(ScreeningOptions options = {}) {
    service_.reset();
    service_ = test::ok(ScreeningService::open(path_, *store_, clock_, config_, options));
    ASSERT_TRUE(service_);
  }

  static storage::Value hourly(const std::string& factor, std::int64_t t, double x,
                               const std::string& site = kSite, const std::string& mn = kMn) {
    storage::Value v;
    v.site = site;
    v.mn = mn;
    v.factor = factor;
    v.field = "Avg";
    v.kind = storage::DataKind::kHour;
    v.measured_ms = t;
    v.received_ms = t + kHour + 5 * 60'000;  // on time: 5 min after the hour ends
    v.number = x;
    v.text = std::to_string(x);
    v.flag = "N";
    return v;
  }

  void write(std::vector<storage::Value> values) {
    std::vector<storage::FrameWrite> batch(1);
    batch[0].frame.mn = kMn;
    batch[0].frame.cn = "2061";
    batch[0].frame.received_ms = clock_.now;
    batch[0].frame.outcome = "stored";
    batch[0].values = std::move(values);
    ASSERT_TRUE(store_->write(batch).ok());
  }
  // Hours [first, first + n) of PM2.5 from kT0, each `x`, leaving out the hours in `skip`.
  void write_constant(int first, int n, double x, std::vector<int> skip = {}) {
    std::vector<storage::Value> values;
    for (int h = first; h < first + n; ++h) {
      if (std::find(skip.begin(), skip.end(), h) != skip.end()) continue;
      values.push_back(hourly(kPm25, kT0 + h * kHour, x));
    }
    write(std::move(values));
  }

  std::size_t process() {
    clock_.now += 1000;
    return test::ok(service_->process_changes());
  }

  std::vector<ScreeningMark> marks(const std::string& rule = "", const std::string& status = "") {
    MarkQuery q;
    q.rule = rule;
    q.status = status;
    q.limit = 10000;
    return test::ok(service_->marks(q));
  }

  std::int64_t rows() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM screening_marks", -1, &s, nullptr);
    std::int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
  }

  test::TempDir dir_;
  std::string path_;
  FakeClock clock_;
  scr::ScreeningConfig config_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ScreeningService> service_;
};

TEST_F(ScreeningServiceTest, ConstantSeriesIsOneMarkThatGrowsInPlace) {
  write_constant(0, 30, 35);  // 30 h of one value: constant fires at 24 h for PM2.5
  EXPECT_EQ(process(), 30u);
  auto found = marks("constant");
  ASSERT_EQ(found.size(), 1u);
  const ScreeningMark first = found[0];
  EXPECT_EQ(first.site, kSite);
  EXPECT_EQ(first.mn, kMn);
  EXPECT_EQ(first.factor, kPm25);
  EXPECT_EQ(first.kind, "hour");
  EXPECT_EQ(first.field, "Avg");
  EXPECT_EQ(first.status, "open");
  EXPECT_EQ(first.from_ms, kT0);
  EXPECT_EQ(first.to_ms, kT0 + 30 * kHour);
  EXPECT_EQ(first.count, 30);
  EXPECT_NE(first.evidence.find("\"rule_zh\":\"恒值\""), std::string::npos) << first.evidence;
  EXPECT_EQ(first.first_found_at_ms, first.updated_at_ms);

  // More of the same value, also across the next day: the SAME mark, longer.
  write_constant(30, 20, 35);
  process();
  found = marks("constant");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].id, first.id);
  EXPECT_EQ(found[0].from_ms, kT0);
  EXPECT_EQ(found[0].to_ms, kT0 + 50 * kHour);
  EXPECT_EQ(found[0].count, 50);
  EXPECT_EQ(found[0].first_found_at_ms, first.first_found_at_ms);
  EXPECT_GT(found[0].updated_at_ms, first.updated_at_ms);
  const auto c = service_->counters();
  EXPECT_EQ(c.batches, 2u);
  EXPECT_GE(c.marks_updated, 1u);
  EXPECT_EQ(c.marks_withdrawn, 0u);
}

TEST_F(ScreeningServiceTest, LateValueBreakingTheRunShortensOrWithdrawsTheMark) {
  // Hours 0..39 of one value with hour 30 missing (a gap neither counts nor breaks a run), and a
  // second series at another site with hour 12 missing.
  write_constant(0, 40, 35, {30});
  std::vector<storage::Value> other;
  for (int h = 0; h < 30; ++h) {
    if (h != 12) other.push_back(hourly(kPm25, kT0 + h * kHour, 20, "2525A", "AIR2525A"));
  }
  write(std::move(other));
  process();
  auto found = marks("constant");
  ASSERT_EQ(found.size(), 2u);
  const std::int64_t long_id = found[0].site == kSite ? found[0].id : found[1].id;
  const std::int64_t short_id = found[0].site == kSite ? found[1].id : found[0].id;

  // Late values arrive: hour 30 at 2526A breaks its run into 30 + 9 hours (the first still a
  // run), hour 12 at 2525A into 12 + 17 (neither is).
  write({hourly(kPm25, kT0 + 30 * kHour, 80)});
  write({hourly(kPm25, kT0 + 12 * kHour, 80, "2525A", "AIR2525A")});
  process();
  auto shortened = test::ok(service_->mark(long_id));
  ASSERT_TRUE(shortened);
  EXPECT_EQ(shortened->status, "open");
  EXPECT_EQ(shortened->from_ms, kT0);
  EXPECT_EQ(shortened->to_ms, kT0 + 30 * kHour);
  EXPECT_EQ(shortened->count, 30);
  auto withdrawn = test::ok(service_->mark(short_id));
  ASSERT_TRUE(withdrawn);  // kept, never deleted
  EXPECT_EQ(withdrawn->status, "withdrawn");
  EXPECT_EQ(marks("constant", "open").size(), 1u);
  // Withdrawn too: 2525A's constant mark and the missing_without_reason marks of both holes.
  EXPECT_GE(service_->counters().marks_withdrawn, 3u);
  EXPECT_TRUE(marks("missing_without_reason", "open").empty());
  // A withdrawn mark cannot be reviewed.
  auto r = service_->review(short_id, "confirmed", "", "alice", std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "conflict");
}

TEST_F(ScreeningServiceTest, AChangeOfPm10RescreensPm25) {
  // PM2.5 50 above PM10 30 at hours 0..2: pm25_gt_pm10, found under both factors.
  std::vector<storage::Value> values;
  for (int h = 0; h < 3; ++h) {
    values.push_back(hourly(kPm25, kT0 + h * kHour, 50));
    values.push_back(hourly("a34002", kT0 + h * kHour, 30));
  }
  write(std::move(values));
  process();
  MarkQuery q;
  q.factor = kPm25;
  q.rule = "pm25_gt_pm10";
  auto found = test::ok(service_->marks(q));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].to_ms, kT0 + 3 * kHour);
  // Only PM10 changes (a new version of hour 1): PM2.5's mark follows, split in two.
  write({hourly("a34002", kT0 + kHour, 60)});
  process();
  q.status = "open";
  found = test::ok(service_->marks(q));
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[1].from_ms, kT0);  // newest first: the updated mark is the older one
  EXPECT_EQ(found[1].to_ms, kT0 + kHour);
  EXPECT_EQ(found[0].from_ms, kT0 + 2 * kHour);
  EXPECT_EQ(found[0].to_ms, kT0 + 3 * kHour);
}

TEST_F(ScreeningServiceTest, RedoFromTheCursorWritesNothingTwice) {
  write_constant(0, 30, 35);
  process();
  const auto before = marks();
  ASSERT_FALSE(before.empty());
  const std::int64_t n = rows();
  // A restart resumes at the cursor: nothing to do.
  reopen();
  EXPECT_EQ(process(), 0u);
  // A crash before the cursor moved: the batch is screened again and finds its marks as stored.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE screening_cursor SET sequence=0", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  reopen();
  EXPECT_EQ(service_->cursor(), 0u);
  EXPECT_EQ(process(), 30u);
  EXPECT_EQ(rows(), n);
  const auto after = marks();
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].id, before[i].id);
    EXPECT_EQ(after[i].from_ms, before[i].from_ms);
    EXPECT_EQ(after[i].to_ms, before[i].to_ms);
    EXPECT_EQ(after[i].updated_at_ms, before[i].updated_at_ms);  // nothing rewritten
  }
}

TEST_F(ScreeningServiceTest, ScreenedValuesAreBehindTheCursor) {
  write_constant(0, 5, 35);
  storage::SeriesQuery q;
  q.site = kSite;
  q.factor = kPm25;
  auto values = test::ok(store_->series(q));
  ASSERT_EQ(values.size(), 5u);
  for (const auto& v : values) EXPECT_FALSE(is_screened(v, service_->cursor()));
  process();
  for (const auto& v : values) EXPECT_TRUE(is_screened(v, service_->cursor()));
  // A later value is not screened until processed; other fields and real-time data never are.
  write_constant(5, 1, 35);
  values = test::ok(store_->series(q));
  EXPECT_FALSE(is_screened(values.back(), service_->cursor()));
  storage::Value rtd = values.front();
  rtd.kind = storage::DataKind::kRealtime;
  EXPECT_FALSE(is_screened(rtd, service_->cursor()));
  storage::Value cou = values.front();
  cou.field = "Cou";
  EXPECT_FALSE(is_screened(cou, service_->cursor()));
}

TEST_F(ScreeningServiceTest, ReviewChecksItsInput) {
  write_constant(0, 30, 35);
  process();
  const std::int64_t id = marks("constant").at(0).id;
  auto r = service_->review(id, "dismissed", "  ", "alice", std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "bad_request");
  r = service_->review(id, "open", "x", "alice", std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "bad_request");
  r = service_->review(id + 1000, "confirmed", "", "alice", std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "not_found");
  auto done = test::ok(service_->review(id, "confirmed", "仪器卡死", "alice", 42));
  EXPECT_EQ(done.status, "confirmed");
  EXPECT_EQ(done.reviewed_by, "alice");
  EXPECT_EQ(done.reviewed_at_ms, clock_.now);
  EXPECT_EQ(done.review_note, "仪器卡死");
  EXPECT_EQ(done.review_action, 42);
  // A reviewed mark is the reviewers' decision: a re-screen that still finds it keeps the status.
  write_constant(30, 5, 35);
  process();
  auto after = test::ok(service_->mark(id));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, "confirmed");
  EXPECT_EQ(after->to_ms, kT0 + 35 * kHour);
}

// The real hourly release of the four Guangyuan stations (data/air_cn_sichuan_hourly_2020), all
// six factors, stored as hourly values (the release stamps an hour by its end; HJ 212 by its
// start) and screened in small batches.
TEST_F(ScreeningServiceTest, RealGuangyuanReleaseGivesNoValueMarks) {
  std::vector<storage::Value> values;
  std::int64_t last = 0;
  for (const auto& v :
       test::read_air_release("guangyuan_station_hourly_2020-03-26_2020-04-08.csv")) {
    last = std::max(last, v.start_ms);
    values.push_back(hourly(v.factor, v.start_ms, v.value, v.station, "AIR" + v.station));
  }
  ASSERT_GT(values.size(), 3000u);
  write(std::move(values));
  clock_.now = last + 2 * kHour;
  // Small batches: the backlog drains over several transactions.
  ScreeningOptions small;
  small.batch_limit = 500;
  small.max_windows = 20;
  reopen(small);
  process();
  EXPECT_GT(service_->counters().batches, 5u);
  EXPECT_EQ(service_->cursor(), test::ok(store_->value_count()));
  // The release publishes 169 of the 298 hours of the period: the holes are rightly
  // missing_without_reason marks. No other rule fires on the honest stations.
  std::size_t missing = 0;
  for (const auto& m : marks()) {
    if (m.rule == "missing_without_reason") {
      ++missing;
      continue;
    }
    ADD_FAILURE() << m.site << " " << m.factor << " " << m.rule << ": " << m.evidence;
  }
  EXPECT_GT(missing, 0u);
}

}  // namespace
}  // namespace ecomon::derive
