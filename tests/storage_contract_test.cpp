// The Store contract (storage/store.h), run on every backend: the same tests on the in-memory
// reference and on SQLite. Tests only SQLite can take (reopening the file, foreign and damaged
// files, an I/O error in the middle of a commit) follow in StorageContractSqlite.
//
// Named standards_zz_* only so that the test target's existing file glob picks it up.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/memory/memory_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store.h"
#include "test_util.h"

namespace ecomon::storage {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
constexpr std::int64_t kHour = 3'600'000;

// Creates its directory under the given prefix (ecomon::test::TempDir).
struct TempDir : test::TempDir {
  TempDir() : test::TempDir("ecomon-storage") {}
};
using test::describe;
using test::ok;

std::unique_ptr<Store> open_sqlite_at(const fs::path& file, const SqliteOptions& options = {}) {
  auto r = open_sqlite_store(file.string(), options);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : describe(r.error()));
  return r.ok() ? std::move(r).value() : nullptr;
}

struct Backend {
  std::string name;
  std::function<std::unique_ptr<Store>(const fs::path& dir)> open;
};

void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

Value make_value(std::string mn, std::string factor, std::string field, std::int64_t measured_ms,
                 std::string text, DataKind kind = DataKind::kRealtime, std::string site = "S1",
                 std::string flag = "N") {
  Value v;
  v.site = std::move(site);
  v.mn = std::move(mn);
  v.factor = std::move(factor);
  v.field = std::move(field);
  v.kind = kind;
  v.measured_ms = measured_ms;
  v.received_ms = measured_ms + 60'000;
  v.text = std::move(text);
  if (v.text.find_first_not_of("0123456789.-") == std::string::npos && !v.text.empty()) {
    v.number = std::stod(v.text);
  }
  v.flag = std::move(flag);
  return v;
}

FrameWrite make_frame(std::string mn, std::vector<Value> values, std::string bytes = "") {
  FrameWrite fw;
  fw.frame.mn = std::move(mn);
  fw.frame.cn = "2011";
  fw.frame.peer = "203.0.113.7:50412";
  fw.frame.received_ms = values.empty() ? kT0 : values.front().received_ms;
  fw.frame.outcome = "stored";
  fw.frame.bytes = bytes.empty() ? "##0000QN=1;ST=22;CN=2011;MN=" + fw.frame.mn + ";CP=&&&&0000\r\n"
                                 : std::move(bytes);
  fw.values = std::move(values);
  return fw;
}

// A value in one line, for comparisons whose failures read well.
std::string brief(const Value& v) {
  const auto t = v.measured_ms - kT0;
  const std::string time = t % kHour == 0 ? std::to_string(t / kHour) + "h" : std::to_string(t);
  return v.mn + " " + std::string(kind_name(v.kind)) + " " + time + " " + v.factor + "-" + v.field +
         " v" + std::to_string(v.version) + " " + v.text + " " + v.flag + " @" + v.site;
}

std::vector<std::string> briefs(const std::vector<Value>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) out.push_back(brief(v));
  return out;
}

class StorageContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
  }

  WriteResult write(std::vector<FrameWrite> batch) { return write_into(batch); }
  WriteResult write_into(std::vector<FrameWrite>& batch) { return ok(store_->write(batch)); }

  std::vector<Value> records(const std::string& mn, std::optional<DataKind> kind = std::nullopt,
                             std::int64_t from_ms = INT64_MIN, std::int64_t to_ms = INT64_MAX,
                             std::size_t limit = 10000) {
    RecordQuery q;
    q.mn = mn;
    q.kind = kind;
    q.from_ms = from_ms;
    q.to_ms = to_ms;
    q.limit = limit;
    return ok(store_->records(q));
  }

  std::vector<Value> series(const std::string& site, const std::string& factor,
                            std::optional<DataKind> kind = std::nullopt,
                            std::int64_t from_ms = INT64_MIN, std::int64_t to_ms = INT64_MAX,
                            std::size_t limit = 100000) {
    SeriesQuery q;
    q.site = site;
    q.factor = factor;
    q.kind = kind;
    q.from_ms = from_ms;
    q.to_ms = to_ms;
    q.limit = limit;
    return ok(store_->series(q));
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StorageContract, EmptyStoreAnswersEmpty) {
  EXPECT_TRUE(records("M1").empty());
  EXPECT_TRUE(series("S1", "a01001").empty());
  EXPECT_TRUE(ok(store_->latest("S1")).empty());
  EXPECT_FALSE(ok(store_->frame(0)).has_value());
  EXPECT_FALSE(ok(store_->frame(1)).has_value());
  EXPECT_TRUE(ok(store_->changes(0, 100)).empty());
  EXPECT_EQ(ok(store_->value_count()), 0u);
  EXPECT_EQ(ok(store_->frame_count()), 0u);

  const auto r = write({});
  EXPECT_EQ(r.first_frame_id, 1u);
  EXPECT_EQ(r.last_sequence, 0u);
  EXPECT_EQ(ok(store_->frame_count()), 0u);
}

TEST_P(StorageContract, AssignsConsecutiveIdsVersionsAndSequences) {
  std::vector<FrameWrite> batch = {
      make_frame("M1", {make_value("M1", "a01001", "Rtd", kT0, "21.5"),
                        make_value("M1", "a01002", "Rtd", kT0, "60")}),
      make_frame("M2", {}),  // a frame without values (a heartbeat) is archived all the same
      make_frame("M3", {make_value("M3", "w01018", "Avg", kT0, "12.0", DataKind::kHour),
                        make_value("M3", "w01018", "Min", kT0, "11.0", DataKind::kHour),
                        make_value("M3", "w01018", "Max", kT0, "13.0", DataKind::kHour)}),
  };
  const auto r = write_into(batch);
  EXPECT_EQ(r.first_frame_id, 1u);
  EXPECT_EQ(r.values_stored, 5u);
  EXPECT_EQ(r.new_versions, 0u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(r.last_sequence, 5u);
  std::uint64_t expected_sequence = 1;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(batch[i].frame.id, i + 1);
    for (const auto& v : batch[i].values) {
      EXPECT_EQ(v.frame_id, i + 1);
      EXPECT_EQ(v.version, 1u);
      EXPECT_EQ(v.sequence, expected_sequence++);
    }
  }

  std::vector<FrameWrite> next = {
      make_frame("M1", {make_value("M1", "a01001", "Rtd", kT0 + 30'000, "21.6")})};
  const auto r2 = write_into(next);
  EXPECT_EQ(r2.first_frame_id, 4u);
  EXPECT_EQ(next[0].frame.id, 4u);
  EXPECT_EQ(next[0].values[0].sequence, 6u);
  EXPECT_EQ(r2.last_sequence, 6u);
  EXPECT_EQ(ok(store_->frame_count()), 4u);
  EXPECT_EQ(ok(store_->value_count()), 6u);

  // What was read back carries what write() assigned.
  const auto m3 = records("M3");
  ASSERT_EQ(m3.size(), 3u);
  EXPECT_EQ(m3[1].frame_id, 3u);
  EXPECT_EQ(m3[1].field, "Max");  // Avg, Max, Min: by field, not in the order written
  EXPECT_EQ(m3[1].sequence, 5u);
  EXPECT_EQ(m3[1].sequence, batch[2].values[2].sequence);
  EXPECT_EQ(m3[1].received_ms, kT0 + 60'000);
  ASSERT_TRUE(m3[1].number.has_value());
  EXPECT_DOUBLE_EQ(*m3[1].number, 13.0);
}

TEST_P(StorageContract, DuplicatesAreStoredOnce) {
  write({make_frame("M1", {make_value("M1", "a01001", "Rtd", kT0, "21.5")})});

  // The device sends the same value again (a re-send after an outage), in a later batch ...
  std::vector<FrameWrite> again = {
      make_frame("M1", {make_value("M1", "a01001", "Rtd", kT0, "21.5")})};
  const auto r = write_into(again);
  EXPECT_EQ(r.values_stored, 0u);
  EXPECT_EQ(r.new_versions, 0u);
  EXPECT_EQ(r.duplicates, 1u);
  EXPECT_EQ(r.last_sequence, 1u);
  EXPECT_EQ(again[0].values[0].version, 1u);   // the version it repeats
  EXPECT_EQ(again[0].values[0].sequence, 0u);  // not in the change feed
  EXPECT_EQ(again[0].values[0].frame_id, 2u);  // the frame itself is archived
  EXPECT_TRUE(ok(store_->frame(2)).has_value());

  // ... and twice within one batch.
  const auto r2 = write({make_frame("M1", {make_value("M1", "a01001", "Rtd", kT0, "21.5"),
                                           make_value("M1", "a01001", "Rtd", kT0 + 1, "9")}),
                         make_frame("M1", {make_value("M1", "a01001", "Rtd", kT0 + 1, "9")})});
  EXPECT_EQ(r2.values_stored, 1u);
  EXPECT_EQ(r2.duplicates, 2u);

  EXPECT_EQ(ok(store_->value_count()), 2u);
  EXPECT_EQ(ok(store_->changes(0, 100)).size(), 2u);
  EXPECT_EQ(briefs(records("M1")), (std::vector<std::string>{"M1 rtd 0h a01001-Rtd v1 21.5 N @S1",
                                                             "M1 rtd 1 a01001-Rtd v1 9 N @S1"}));
}

TEST_P(StorageContract, ChangedValueBecomesANewVersionAndBothAreKept) {
  write({make_frame("M1", {make_value("M1", "a01001", "Avg", kT0, "21.5", DataKind::kHour)})});
  std::vector<FrameWrite> changed = {
      make_frame("M1", {make_value("M1", "a01001", "Avg", kT0, "21.7", DataKind::kHour)})};
  const auto r = write_into(changed);
  EXPECT_EQ(r.values_stored, 0u);
  EXPECT_EQ(r.new_versions, 1u);
  EXPECT_EQ(r.duplicates, 0u);
  EXPECT_EQ(changed[0].values[0].version, 2u);
  EXPECT_EQ(changed[0].values[0].sequence, 2u);

  // The same value again is a duplicate of version 2; the old text again is a version 3; a
  // different flag alone is a version 4.
  EXPECT_EQ(
      write({make_frame("M1", {make_value("M1", "a01001", "Avg", kT0, "21.7", DataKind::kHour)})})
          .duplicates,
      1u);
  EXPECT_EQ(
      write({make_frame("M1", {make_value("M1", "a01001", "Avg", kT0, "21.5", DataKind::kHour)})})
          .new_versions,
      1u);
  EXPECT_EQ(write({make_frame("M1", {make_value("M1", "a01001", "Avg", kT0, "21.5", DataKind::kHour,
                                                "S1", "D")})})
                .new_versions,
            1u);

  EXPECT_EQ(briefs(records("M1")), (std::vector<std::string>{
                                       "M1 hour 0h a01001-Avg v1 21.5 N @S1",
                                       "M1 hour 0h a01001-Avg v2 21.7 N @S1",
                                       "M1 hour 0h a01001-Avg v3 21.5 N @S1",
                                       "M1 hour 0h a01001-Avg v4 21.5 D @S1",
                                   }));
  EXPECT_EQ(briefs(series("S1", "a01001")),
            (std::vector<std::string>{"M1 hour 0h a01001-Avg v4 21.5 D @S1"}));
  EXPECT_EQ(briefs(ok(store_->latest("S1"))),
            (std::vector<std::string>{"M1 hour 0h a01001-Avg v4 21.5 D @S1"}));
  const auto feed = ok(store_->changes(0, 100));
  ASSERT_EQ(feed.size(), 4u);
  EXPECT_EQ(feed[3].value.version, 4u);
}

TEST_P(StorageContract, LatestIsByMeasuredTimeNotArrival) {
  write({make_frame("M1",
                    {make_value("M1", "a34004", "Avg", kT0 + 10 * kHour, "35", DataKind::kHour),
                     make_value("M1", "a34004", "Rtd", kT0 + 10 * kHour, "36"),
                     make_value("M1", "a21026", "Avg", kT0 + 10 * kHour, "8", DataKind::kHour)})});
  // Late data for an older hour arrives after the newer hour: it must not replace it.
  write(
      {make_frame("M1", {make_value("M1", "a34004", "Avg", kT0 + 9 * kHour, "40", DataKind::kHour),
                         make_value("M1", "a34004", "Avg", kT0, "35", DataKind::kDay)})});
  // A second device of the same site reports a newer hour of one factor; another site's data
  // stays out.
  write({make_frame("M2",
                    {make_value("M2", "a21026", "Avg", kT0 + 11 * kHour, "9", DataKind::kHour)}),
         make_frame("M9", {make_value("M9", "a34004", "Avg", kT0 + 12 * kHour, "99",
                                      DataKind::kHour, "S9")})});

  EXPECT_EQ(briefs(ok(store_->latest("S1"))), (std::vector<std::string>{
                                                  "M2 hour 11h a21026-Avg v1 9 N @S1",
                                                  "M1 hour 10h a34004-Avg v1 35 N @S1",
                                                  "M1 day 0h a34004-Avg v1 35 N @S1",
                                                  "M1 rtd 10h a34004-Rtd v1 36 N @S1",
                                              }));
  EXPECT_TRUE(ok(store_->latest("S-unknown")).empty());

  // A new version of the latest value replaces it; a new version of an older hour does not.
  write({make_frame("M1",
                    {make_value("M1", "a34004", "Avg", kT0 + 10 * kHour, "34", DataKind::kHour),
                     make_value("M1", "a34004", "Avg", kT0 + 9 * kHour, "41", DataKind::kHour)})});
  const auto latest = ok(store_->latest("S1"));
  ASSERT_EQ(latest.size(), 4u);
  EXPECT_EQ(brief(latest[1]), "M1 hour 10h a34004-Avg v2 34 N @S1");
}

TEST_P(StorageContract, RecordsAreOrderedFilteredAndLimited) {
  // Written out of order, across kinds and factors, with a second device and a new version.
  write({make_frame("M1",
                    {make_value("M1", "a34004", "Avg", kT0 + 2 * kHour, "3", DataKind::kHour),
                     make_value("M1", "a01001", "Rtd", kT0 + 2 * kHour, "r2"),
                     make_value("M1", "a01001", "Avg", kT0 + 2 * kHour, "a2", DataKind::kHour)}),
         make_frame("M2", {make_value("M2", "a01001", "Rtd", kT0 + kHour, "other device")}),
         make_frame("M1", {make_value("M1", "a34004", "Avg", kT0, "1", DataKind::kHour),
                           make_value("M1", "a34004", "Avg", kT0 + kHour, "2", DataKind::kHour),
                           make_value("M1", "a01001", "Rtd", kT0 + 3 * kHour, "r3")})});
  write(
      {make_frame("M1", {make_value("M1", "a34004", "Avg", kT0 + kHour, "2.5", DataKind::kHour)})});

  EXPECT_EQ(briefs(records("M1")), (std::vector<std::string>{
                                       "M1 hour 0h a34004-Avg v1 1 N @S1",
                                       "M1 hour 1h a34004-Avg v1 2 N @S1",
                                       "M1 hour 1h a34004-Avg v2 2.5 N @S1",
                                       "M1 hour 2h a01001-Avg v1 a2 N @S1",
                                       "M1 rtd 2h a01001-Rtd v1 r2 N @S1",
                                       "M1 hour 2h a34004-Avg v1 3 N @S1",
                                       "M1 rtd 3h a01001-Rtd v1 r3 N @S1",
                                   }));
  EXPECT_EQ(briefs(records("M1", DataKind::kRealtime)),
            (std::vector<std::string>{"M1 rtd 2h a01001-Rtd v1 r2 N @S1",
                                      "M1 rtd 3h a01001-Rtd v1 r3 N @S1"}));
  // [from, to): the start is in, the end is out.
  EXPECT_EQ(briefs(records("M1", DataKind::kHour, kT0 + kHour, kT0 + 2 * kHour)),
            (std::vector<std::string>{"M1 hour 1h a34004-Avg v1 2 N @S1",
                                      "M1 hour 1h a34004-Avg v2 2.5 N @S1"}));
  EXPECT_EQ(records("M1", std::nullopt, kT0 + kHour, kT0 + 3 * kHour).size(), 5u);
  EXPECT_EQ(briefs(records("M1", std::nullopt, INT64_MIN, INT64_MAX, 2)),
            (std::vector<std::string>{"M1 hour 0h a34004-Avg v1 1 N @S1",
                                      "M1 hour 1h a34004-Avg v1 2 N @S1"}));
  EXPECT_EQ(records("M1", DataKind::kHour, INT64_MIN, INT64_MAX, 3).size(), 3u);
  EXPECT_TRUE(records("M1", std::nullopt, INT64_MIN, INT64_MAX, 0).empty());
  EXPECT_TRUE(records("M1", DataKind::kDay).empty());
  EXPECT_TRUE(records("M1", std::nullopt, kT0 + kHour, kT0 + kHour).empty());
  EXPECT_TRUE(records("M-unknown").empty());
  EXPECT_EQ(records("M2").size(), 1u);
}

TEST_P(StorageContract, SeriesHoldsTheLatestVersionsOfASiteAndFactor) {
  write({make_frame("M1", {make_value("M1", "a34004", "Avg", kT0 + kHour, "2", DataKind::kHour),
                           make_value("M1", "a34004", "Max", kT0 + kHour, "5", DataKind::kHour),
                           make_value("M1", "a34004", "Rtd", kT0 + kHour, "2.2"),
                           make_value("M1", "a21026", "Avg", kT0 + kHour, "9", DataKind::kHour)}),
         make_frame("M2", {make_value("M2", "a34004", "Avg", kT0, "1", DataKind::kHour),
                           make_value("M2", "a34004", "Avg", kT0 + 2 * kHour, "3", DataKind::kHour,
                                      "S2")})});
  write(
      {make_frame("M1", {make_value("M1", "a34004", "Avg", kT0 + kHour, "2.5", DataKind::kHour)})});

  EXPECT_EQ(briefs(series("S1", "a34004")), (std::vector<std::string>{
                                                "M2 hour 0h a34004-Avg v1 1 N @S1",
                                                "M1 rtd 1h a34004-Rtd v1 2.2 N @S1",
                                                "M1 hour 1h a34004-Avg v2 2.5 N @S1",
                                                "M1 hour 1h a34004-Max v1 5 N @S1",
                                            }));
  EXPECT_EQ(series("S1", "a34004", DataKind::kHour).size(), 3u);
  EXPECT_EQ(briefs(series("S1", "a34004", DataKind::kHour, kT0 + kHour, kT0 + 2 * kHour)),
            (std::vector<std::string>{"M1 hour 1h a34004-Avg v2 2.5 N @S1",
                                      "M1 hour 1h a34004-Max v1 5 N @S1"}));
  EXPECT_EQ(series("S1", "a34004", std::nullopt, INT64_MIN, INT64_MAX, 2).size(), 2u);
  EXPECT_TRUE(series("S1", "a34004", DataKind::kDay).empty());
  EXPECT_TRUE(series("S1", "a99999").empty());

  // A new version that names another site (the registry was corrected) moves the value there.
  write({make_frame("M2", {make_value("M2", "a34004", "Avg", kT0, "1.1", DataKind::kHour, "S2")})});
  EXPECT_EQ(series("S1", "a34004").size(), 3u);
  EXPECT_EQ(briefs(series("S2", "a34004")),
            (std::vector<std::string>{"M2 hour 0h a34004-Avg v2 1.1 N @S2",
                                      "M2 hour 2h a34004-Avg v1 3 N @S2"}));
}

TEST_P(StorageContract, FramesRoundTripBytesExactly) {
  std::string raw = "##0101QN=20240101000000000;ST=22;CN=2011;";
  raw += std::string("\0\x01\xff\xfe", 4);  // SM4 ciphertext may hold any byte, NUL included
  raw += "&&\r\n##";
  raw.push_back('\0');
  std::vector<FrameWrite> batch = {make_frame("M1", {}, raw), make_frame("", {}, "x")};
  batch[1].frame.outcome = "bad_crc";
  batch[1].frame.cn = "";
  write_into(batch);

  const auto f = ok(store_->frame(1));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->id, 1u);
  EXPECT_EQ(f->bytes.size(), raw.size());
  EXPECT_EQ(f->bytes, raw);
  EXPECT_EQ(f->mn, "M1");
  EXPECT_EQ(f->cn, "2011");
  EXPECT_EQ(f->peer, "203.0.113.7:50412");
  EXPECT_EQ(f->received_ms, kT0);
  EXPECT_EQ(f->outcome, "stored");
  const auto rejected = ok(store_->frame(2));
  ASSERT_TRUE(rejected.has_value());
  EXPECT_EQ(rejected->mn, "");
  EXPECT_EQ(rejected->outcome, "bad_crc");
  EXPECT_EQ(rejected->bytes, "x");
  EXPECT_FALSE(ok(store_->frame(3)).has_value());
}

// HJ 212 allows an empty MN; such values are kept (one batch must not fail for one odd frame).
TEST_P(StorageContract, AValueWithoutMnIsKept) {
  const auto r = write({make_frame("", {make_value("", "a01001", "Rtd", kT0, "1")}),
                        make_frame("M1", {make_value("M1", "a01001", "Rtd", kT0, "2")})});
  EXPECT_EQ(r.values_stored, 2u);
  EXPECT_EQ(briefs(records("")), (std::vector<std::string>{" rtd 0h a01001-Rtd v1 1 N @S1"}));
}

TEST_P(StorageContract, ChangesPageInSequenceOrder) {
  std::vector<FrameWrite> batch;
  for (int i = 0; i < 25; ++i) {
    batch.push_back(
        make_frame("M1", {make_value("M1", "a01001", "Rtd", kT0 + i * 30'000, std::to_string(i))}));
  }
  write_into(batch);
  std::vector<std::uint64_t> seen;
  std::uint64_t after = 0;
  for (;;) {
    const auto page = ok(store_->changes(after, 10));
    if (page.empty()) break;
    EXPECT_LE(page.size(), 10u);
    for (const auto& c : page) {
      EXPECT_EQ(c.sequence, c.value.sequence);
      seen.push_back(c.sequence);
    }
    after = page.back().sequence;
  }
  ASSERT_EQ(seen.size(), 25u);
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
  const auto third = ok(store_->changes(2, 1));
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].value.text, "2");
  EXPECT_EQ(third[0].value.frame_id, 3u);
  EXPECT_TRUE(ok(store_->changes(0, 0)).empty());
  EXPECT_TRUE(ok(store_->changes(25, 10)).empty());
}

// A batch that fails in its last value leaves nothing: no frame, no value, no id or sequence
// used. On SQLite the check sits where the value is written, so the frames and values before it
// are already in the open transaction that is rolled back.
TEST_P(StorageContract, AFailingBatchLeavesNothing) {
  write({make_frame("M1", {make_value("M1", "a01001", "Rtd", kT0, "1")})});
  std::vector<FrameWrite> batch = {
      make_frame("M2", {make_value("M2", "a01001", "Rtd", kT0, "2"),
                        make_value("M1", "a01001", "Rtd", kT0, "1.5")}),
      make_frame("M3", {make_value("M3", "a01001", "Rtd", kT0, "3", DataKind::kRealtime, "S3"),
                        make_value("M3", "", "Rtd", kT0, "no factor")}),
  };
  const auto r = store_->write(batch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "bad_value");

  EXPECT_EQ(ok(store_->frame_count()), 1u);
  EXPECT_EQ(ok(store_->value_count()), 1u);
  EXPECT_FALSE(ok(store_->frame(2)).has_value());
  EXPECT_EQ(ok(store_->changes(0, 100)).size(), 1u);
  EXPECT_EQ(briefs(records("M1")), (std::vector<std::string>{"M1 rtd 0h a01001-Rtd v1 1 N @S1"}));
  EXPECT_TRUE(records("M2").empty());
  EXPECT_TRUE(ok(store_->latest("S3")).empty());

  // Fixed and sent again, the batch gets the ids the failed one would have had, and its new
  // devices are found.
  batch[1].values.pop_back();
  const auto again = write_into(batch);
  EXPECT_EQ(again.first_frame_id, 2u);
  EXPECT_EQ(again.values_stored, 2u);
  EXPECT_EQ(again.new_versions, 1u);
  EXPECT_EQ(again.last_sequence, 4u);
  EXPECT_EQ(records("M2").size(), 1u);
  EXPECT_EQ(records("M3").size(), 1u);
  EXPECT_EQ(ok(store_->latest("S3")).size(), 1u);
}

// A reader running while a writer commits sees only whole batches.
TEST_P(StorageContract, AConcurrentReaderSeesWholeBatches) {
  constexpr int kBatches = 40;
  constexpr int kDevices = 20;
  constexpr int kFactors = 5;
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      const auto values = store_->value_count();
      const auto frames = store_->frame_count();
      const auto feed = store_->changes(0, 1'000'000);
      RecordQuery q;
      q.mn = "M0";
      const auto m0 = store_->records(q);
      const auto latest = store_->latest("S0");
      ASSERT_TRUE(values.ok() && frames.ok() && feed.ok() && m0.ok() && latest.ok());
      EXPECT_EQ(*values % (kDevices * kFactors), 0u);
      EXPECT_EQ(*frames % kDevices, 0u);
      EXPECT_EQ(feed->size() % (kDevices * kFactors), 0u);
      EXPECT_EQ(m0->size() % kFactors, 0u);
      EXPECT_TRUE(latest->empty() || latest->size() == kFactors);
      ++reads;
    }
  });
  for (int b = 0; b < kBatches; ++b) {
    std::vector<FrameWrite> batch;
    for (int d = 0; d < kDevices; ++d) {
      const std::string mn = "M" + std::to_string(d);
      std::vector<Value> values;
      for (int f = 0; f < kFactors; ++f) {
        values.push_back(make_value(mn, "a0100" + std::to_string(f), "Rtd", kT0 + b * 30'000,
                                    std::to_string(b * f), DataKind::kRealtime,
                                    "S" + std::to_string(d)));
      }
      batch.push_back(make_frame(mn, std::move(values)));
    }
    write_into(batch);
  }
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(ok(store_->value_count()), std::uint64_t{kBatches * kDevices * kFactors});
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StorageContract,
    ::testing::Values(
        Backend{"memory", [](const fs::path&) { return make_memory_store(); }},
        Backend{"sqlite", [](const fs::path& dir) { return open_sqlite_at(dir / "store.db"); }}),
    [](const ::testing::TestParamInfo<Backend>& p) { return p.param.name; });

// --- SQLite only -------------------------------------------------------------------------------

std::vector<FrameWrite> sample_batch(int frames, int values_per_frame, std::int64_t t_ms,
                                     int frame_bytes = 200) {
  std::vector<FrameWrite> batch;
  for (int i = 0; i < frames; ++i) {
    const std::string mn = "M" + std::to_string(i);
    std::vector<Value> values;
    for (int f = 0; f < values_per_frame; ++f) {
      values.push_back(make_value(mn, "a0100" + std::to_string(f), "Rtd", t_ms,
                                  std::to_string(i + f), DataKind::kRealtime,
                                  "S" + std::to_string(i % 7)));
    }
    batch.push_back(
        make_frame(mn, std::move(values), std::string(static_cast<std::size_t>(frame_bytes), 'x')));
  }
  return batch;
}

TEST(StorageContractSqlite, PersistsAcrossReopen) {
  TempDir dir;
  const auto file = dir.path() / "store.db";
  std::string raw = "##0010QN=1";
  raw.push_back('\0');
  raw += "&&";
  {
    auto store = open_sqlite_at(file);
    ASSERT_NE(store, nullptr);
    std::vector<FrameWrite> batch = {
        make_frame("M1",
                   {make_value("M1", "a34004", "Avg", kT0 + kHour, "35", DataKind::kHour),
                    make_value("M1", "a34004", "Avg", kT0, "30", DataKind::kHour)},
                   raw)};
    ok(store->write(batch));
    std::vector<FrameWrite> changed = {
        make_frame("M1", {make_value("M1", "a34004", "Avg", kT0, "31", DataKind::kHour)})};
    ok(store->write(changed));
  }
  auto store = open_sqlite_at(file);
  ASSERT_NE(store, nullptr);
  RecordQuery q;
  q.mn = "M1";
  EXPECT_EQ(briefs(ok(store->records(q))), (std::vector<std::string>{
                                               "M1 hour 0h a34004-Avg v1 30 N @S1",
                                               "M1 hour 0h a34004-Avg v2 31 N @S1",
                                               "M1 hour 1h a34004-Avg v1 35 N @S1",
                                           }));
  EXPECT_EQ(briefs(ok(store->latest("S1"))),
            (std::vector<std::string>{"M1 hour 1h a34004-Avg v1 35 N @S1"}));
  const auto f = ok(store->frame(1));
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->bytes, raw);
  EXPECT_EQ(ok(store->changes(0, 10)).size(), 3u);
  EXPECT_EQ(ok(store->frame_count()), 2u);
  EXPECT_EQ(ok(store->value_count()), 3u);

  // Ids and sequences continue, and deduplication remembers what was stored before.
  std::vector<FrameWrite> more = {make_frame(
      "M1", {make_value("M1", "a34004", "Avg", kT0, "31", DataKind::kHour),
             make_value("M1", "a34004", "Avg", kT0 + 2 * kHour, "36", DataKind::kHour)})};
  const auto r = ok(store->write(more));
  EXPECT_EQ(r.first_frame_id, 3u);
  EXPECT_EQ(r.duplicates, 1u);
  EXPECT_EQ(r.values_stored, 1u);
  EXPECT_EQ(r.last_sequence, 4u);
}

TEST(StorageContractSqlite, TheFileIsInWalMode) {
  TempDir dir;
  const auto file = dir.path() / "store.db";
  auto store = open_sqlite_at(file);
  ASSERT_NE(store, nullptr);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void run_sql(const fs::path& file, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &message), SQLITE_OK) << message;
  sqlite3_free(message);
  sqlite3_close(db);
}

TEST(StorageContractSqlite, RejectsFilesThatAreNotStores) {
  TempDir dir;
  // Not a database at all: refused, and left as it was.
  const auto text = dir.path() / "notes.txt";
  const std::string garbage(8192, 'z');
  write_file(text, garbage);
  auto r = open_sqlite_store(text.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "not_a_store") << describe(r.error());
  EXPECT_NE(r.error().detail.find("notes.txt"), std::string::npos);
  EXPECT_EQ(read_file(text), garbage);

  // Another application's SQLite database: refused, and not switched to WAL.
  const auto other = dir.path() / "other.db";
  run_sql(other, "CREATE TABLE t(x); INSERT INTO t VALUES(1);");
  const auto before = read_file(other);
  r = open_sqlite_store(other.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "not_a_store") << describe(r.error());
  EXPECT_EQ(read_file(other), before);

  // A store written by a newer ecomon.
  const auto newer = dir.path() / "newer.db";
  ASSERT_NE(open_sqlite_at(newer), nullptr);
  run_sql(newer, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  r = open_sqlite_store(newer.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "schema_too_new") << describe(r.error());

  // A directory that does not exist.
  r = open_sqlite_store((dir.path() / "missing" / "store.db").string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "cannot_open") << describe(r.error());
}

// A store whose pages were overwritten: every call answers (an error or a result), none crashes.
TEST(StorageContractSqlite, ADamagedFileGivesErrorsNotCrashes) {
  TempDir dir;
  const auto file = dir.path() / "store.db";
  {
    auto store = open_sqlite_at(file);
    ASSERT_NE(store, nullptr);
    for (int b = 0; b < 5; ++b) {
      auto batch = sample_batch(100, 10, kT0 + b * kHour);
      ok(store->write(batch));
    }
  }
  std::string bytes = read_file(file);
  ASSERT_GT(bytes.size(), 4096u * 4);
  std::mt19937 random(7);
  for (std::size_t i = 4096; i < bytes.size(); ++i) {
    bytes[i] = static_cast<char>(random());
  }
  write_file(file, bytes);

  auto r = open_sqlite_store(file.string());
  if (!r.ok()) {
    RecordProperty("error", describe(r.error()));
    EXPECT_FALSE(r.error().detail.empty());
    return;
  }
  auto& store = *r;
  RecordQuery q;
  q.mn = "M1";
  (void)store->records(q);
  (void)store->latest("S1");
  (void)store->changes(0, 100);
  (void)store->frame(1);
  (void)store->value_count();
  auto batch = sample_batch(10, 10, kT0 + 10 * kHour);
  (void)store->write(batch);
}

// A real I/O error in the middle of a commit: the process may not grow any file past its current
// size (RLIMIT_FSIZE), so writing the WAL of a large batch fails. No test hook in the store.
TEST(StorageContractSqlite, AnIoErrorDuringCommitRollsBackTheWholeBatch) {
  TempDir dir;
  const auto file = dir.path() / "store.db";
  auto store = open_sqlite_at(file);
  ASSERT_NE(store, nullptr);
  auto first = sample_batch(10, 10, kT0);
  ok(store->write(first));

  auto big = sample_batch(2000, 10, kT0 + kHour);
  std::uintmax_t largest = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    largest = std::max(largest, entry.file_size());
  }
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = signal(SIGXFSZ, SIG_IGN);  // get EFBIG, not the signal
  rlimit limited = old;
  limited.rlim_cur = static_cast<rlim_t>(largest + 64 * 1024);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  const auto r = store->write(big);
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, old_handler);

  ASSERT_FALSE(r.ok());
  RecordProperty("error", describe(r.error()));
  EXPECT_FALSE(r.error().detail.empty());
  EXPECT_EQ(ok(store->frame_count()), 10u);
  EXPECT_EQ(ok(store->value_count()), 100u);
  EXPECT_FALSE(ok(store->frame(11)).has_value());
  EXPECT_TRUE(ok(store->changes(100, 10)).empty());
  RecordQuery q;
  q.mn = "M1999";
  EXPECT_TRUE(ok(store->records(q)).empty());

  // The store keeps working: the same batch commits now, with the ids the failed one would have
  // had.
  const auto again = ok(store->write(big));
  EXPECT_EQ(again.first_frame_id, 11u);
  EXPECT_EQ(again.values_stored, 20000u);
  EXPECT_EQ(ok(store->records(q)).size(), 10u);
  store.reset();
  store = open_sqlite_at(file);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(ok(store->value_count()), 20100u);
  EXPECT_EQ(ok(store->frame_count()), 2010u);
}

TEST(StorageContractSqlite, AReadOnlyFileIsRefused) {
  if (geteuid() == 0) GTEST_SKIP() << "root writes read-only files; run as a user to test this";
  TempDir dir;
  const auto file = dir.path() / "store.db";
  ASSERT_NE(open_sqlite_at(file), nullptr);
  fs::permissions(file, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  const auto r = open_sqlite_store(file.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "read_only") << describe(r.error());
}

}  // namespace
}  // namespace ecomon::storage
