// Emergency monitoring incidents on a real SQLite file with a fake clock: creation checks, the
// timeline in order, closing once, and everything still there after a reopen (issue #6 §5).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "alarm/incident.h"
#include "storage/sqlite/sqlite_store.h"

namespace ecomon::alarm {
namespace {

class FakeClock final : public core::Clock {
 public:
  std::int64_t now_ms() const override { return now; }
  std::int64_t now = 1'780'000'000'000;
};

class IncidentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ecomon-incident-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "ecomon.db").string();
    auto st = storage::open_sqlite_store(path_);  // the store's file, as serve opens it
    ASSERT_TRUE(st.ok()) << st.error().detail;
    store_ = std::move(*st);
    reopen();
  }
  void TearDown() override {
    incidents_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void reopen() {
    incidents_.reset();
    auto s = IncidentService::open(path_, clock_);
    ASSERT_TRUE(s.ok()) << s.error().detail;
    incidents_ = std::move(*s);
  }
  Incident spill() {
    Incident i;
    i.location = "白龙江 昭化段";
    i.pollutant = "w01018";
    i.sites = {"510800SW01", "510800SW02"};
    i.rtd_interval_s = 60;
    return i;
  }

  FakeClock clock_;
  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<IncidentService> incidents_;
};

TEST_F(IncidentTest, CreateRecordActionsCloseAndReopen) {
  auto created = incidents_->create(spill(), "duty", "COD spill reported by the county");
  ASSERT_TRUE(created.ok()) << created.error().detail;
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->state, "open");
  EXPECT_EQ(created->opened_ms, clock_.now);
  EXPECT_EQ(created->title, "w01018 — 白龙江 昭化段");  // made from pollutant and location
  clock_.now += 1000;
  TimelineEntry cmd;
  cmd.actor = "duty";
  cmd.kind = "command";
  cmd.text = "CN 1062 RtdInterval=60 s: executed";
  cmd.mn = "GY00510800SW01";
  cmd.outcome = "executed";
  ASSERT_TRUE(incidents_->add_entry(created->id, cmd).ok());
  clock_.now += 1000;
  TimelineEntry act;
  act.actor = "duty";
  act.kind = "action";
  act.text = "sampling team sent";
  ASSERT_TRUE(incidents_->add_entry(created->id, act).ok());
  clock_.now += 1000;
  auto closed = incidents_->close(created->id, "chief", "source cut off");
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->state, "closed");
  EXPECT_EQ(*closed->closed_ms, clock_.now);
  EXPECT_EQ(incidents_->close(created->id, "chief", "").error().reason, "illegal");
  EXPECT_EQ(incidents_->add_entry(created->id, act).error().reason, "illegal");

  reopen();
  auto got = incidents_->get(created->id);
  ASSERT_TRUE(got.ok() && *got);
  EXPECT_EQ((*got)->sites, spill().sites);
  EXPECT_EQ((*got)->rtd_interval_s, 60);
  EXPECT_EQ((*got)->closed_by, "chief");
  auto t = incidents_->timeline(created->id);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 4u);
  EXPECT_EQ((*t)[0].kind, "opened");
  EXPECT_EQ((*t)[0].text, "COD spill reported by the county");
  EXPECT_EQ((*t)[1].kind, "command");
  EXPECT_EQ((*t)[1].mn, "GY00510800SW01");
  EXPECT_EQ((*t)[1].outcome, "executed");
  EXPECT_EQ((*t)[2].kind, "action");
  EXPECT_EQ((*t)[3].kind, "closed");
  EXPECT_LT((*t)[0].at_ms, (*t)[3].at_ms);
  auto list = incidents_->list(10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
}

TEST_F(IncidentTest, CreationIsChecked) {
  Incident i = spill();
  i.location.clear();
  EXPECT_EQ(incidents_->create(i, "x", "").error().reason, "bad_request");
  i = spill();
  i.pollutant.clear();
  EXPECT_EQ(incidents_->create(i, "x", "").error().reason, "bad_request");
  i = spill();
  i.sites.clear();
  EXPECT_EQ(incidents_->create(i, "x", "").error().reason, "bad_request");
  EXPECT_EQ(incidents_->close(999, "x", "").error().reason, "not_found");
  TimelineEntry e;
  e.kind = "opened";
  e.text = "x";
  auto ok = incidents_->create(spill(), "x", "");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(incidents_->add_entry(ok->id, e).error().reason, "bad_request");
}

}  // namespace
}  // namespace ecomon::alarm
