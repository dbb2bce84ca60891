// The stored section water class per sample (derive/aggregates.h index water_class, issue #5 §1):
// real Guangyuan sections of the national automatic water release of 2026-02-04
// (data/water_cn_auto_snapshot_2026-02-04) written as hourly values (CN 2061) of the real
// registry's surface-water sites (config/registry), classed by GB 3838-2002 表1 single-factor
// evaluation; a crafted late value, a new version and a review action revise the class, and
// `as_of` gives the class as it was.
#include <gtest/gtest.h>

#include <map>

#include "core/civil_time.h"
#include "derive/aggregates.h"
#include "derive/review.h"
#include "real_data.h"
#include "registry/holder.h"
#include "storage/memory/memory_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "test_util.h"

namespace ecomon::derive {
namespace {

class FakeClock final : public core::Clock {
 public:
  std::int64_t now_ms() const override { return now; }
  std::int64_t now = 1'770'200'000'000;  // 2026-02-04 18:13 Beijing
};

constexpr std::int64_t kHour = 3'600'000;

// The snapshot's columns and the HJ 212 codes an automatic water station sends them as.
constexpr std::array<std::pair<const char*, const char*>, 6> kColumns{{
    {"ph", "w01001"},
    {"do_mgl", "w01009"},
    {"codmn_mgl", "w01019"},
    {"nh3n_mgl", "w21003"},
    {"tp_mgl", "w21011"},
    {"tn_mgl", "w21001"},
}};

std::int64_t ms_of(const std::string& iso) {
  const auto p = core::parse_iso8601(iso);
  EXPECT_TRUE(p && p->offset_seconds) << iso;
  return p ? core::to_unix_ms(p->civil, p->offset_seconds.value_or(0)) : 0;
}

// One section of the snapshot: its time and items.
struct Section {
  std::int64_t t = 0;
  std::map<std::string, double> items;  // HJ 212 code → value
};

class WaterClassTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "ecomon.db").string();
    ASSERT_TRUE(storage::open_sqlite_store(path_).ok());
    store_ = storage::make_memory_store();
    registry_ = std::make_unique<registry::RegistryHolder>(
        test::ok(registry::load_registry(ECOMON_TESTDATA_DIR "/../config/registry")));
    DerivedOptions o;
    o.registry = registry_.get();
    derived_ = test::ok(DerivedService::open(path_, *store_, clock_, o));
    // The snapshot's Guangyuan sections, by the registry's site code (the registry names
    // 清泉乡（文成镇） 清泉乡).
    auto reg = registry_->get();
    for (auto& row : test::read_data_csv(
             "water_cn_auto_snapshot_2026-02-04/guangyuan_sections_snapshot_2026-02-04.csv")) {
      const std::string name = row["section_name"].substr(0, row["section_name"].find("（"));
      for (const auto& site : reg->sites()) {
        if (site.kind != "surface_water" || site.name != name) continue;
        Section s;
        s.t = ms_of(row["observed_at"]);
        for (const auto& [column, code] : kColumns) {
          if (!row[column].empty()) s.items[code] = std::stod(row[column]);
        }
        sections_[site.code] = s;
      }
    }
  }

  storage::Value value(const std::string& site, const std::string& code, std::int64_t t, double x) {
    storage::Value v;
    v.site = site;
    v.mn = "WATER" + site;
    v.factor = code;
    v.field = "Avg";
    v.kind = storage::DataKind::kHour;
    v.measured_ms = t;
    v.received_ms = clock_.now;
    v.number = x;
    v.text = std::to_string(x);
    v.flag = "N";
    return v;
  }

  void write(std::vector<storage::Value> values) {
    std::vector<storage::FrameWrite> batch(1);
    batch[0].frame.mn = values.front().mn;
    batch[0].frame.cn = "2061";
    batch[0].frame.received_ms = clock_.now;
    batch[0].frame.outcome = "stored";
    batch[0].values = std::move(values);
    ASSERT_TRUE(store_->write(batch).ok());
  }

  // A section's sample at `t` (its snapshot time by default), without the items in `leave_out`.
  void write_section(const std::string& site, std::optional<std::int64_t> t = std::nullopt,
                     const std::vector<std::string>& leave_out = {}) {
    const Section& s = sections_.at(site);
    std::vector<storage::Value> values;
    for (const auto& [code, x] : s.items) {
      if (std::find(leave_out.begin(), leave_out.end(), code) != leave_out.end()) continue;
      values.push_back(value(site, code, t.value_or(s.t), x));
    }
    write(std::move(values));
  }

  void process() {
    clock_.now += 1000;
    test::ok(derived_->process_changes());
  }

  std::optional<IndexRow> sample(const std::string& site, std::int64_t t,
                                 std::optional<std::int64_t> as_of = std::nullopt) {
    IndexQuery q;
    q.site = site;
    q.name = "water_class";
    q.from_ms = t;
    q.to_ms = t + 1;
    q.as_of_ms = as_of;
    auto rows = test::ok(derived_->indices(q));
    return rows.empty() ? std::nullopt : std::optional<IndexRow>(rows.front());
  }

  std::optional<int> item_class(const IndexRow& r, const std::string& code) {
    for (const auto& i : r.water->items) {
      if (i.factor == code) return i.item_class;
    }
    ADD_FAILURE() << code << " not in the sample";
    return std::nullopt;
  }

  std::vector<Revision> revisions_of(const std::string& site) {
    RevisionQuery q;
    q.site = site;
    q.factor = "water_class";
    return test::ok(derived_->revisions(q));
  }

  test::TempDir dir_;
  std::string path_;
  FakeClock clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<registry::RegistryHolder> registry_;
  std::unique_ptr<DerivedService> derived_;
  std::map<std::string, Section> sections_;  // site code → the snapshot's sample
};

// Each real section's class and deciding items, by GB 3838-2002 表1 (rivers: TN has no class;
// 升钟水库 is a reservoir, evaluated as a lake: TP by the 湖、库 row, TN classed as a reference
// item outside the section class).
struct Case {
  const char* site;
  const char* name;
  int section_class;
  std::vector<std::string> deciding;
  const char* clause;
};

TEST_F(WaterClassTest, TheRealGuangyuanSectionsGetTheirClassByGb3838) {
  const std::vector<Case> cases = {
      {"510800SW04",
       "上石盘",
       1,
       {"w01001", "w01009", "w01019", "w21003", "w21011"},
       "表1 第2项 pH 8.12 in 6–9, 第3项 DO 12.22 ≥ 7.5, 第4项 CODMn 1.09 ≤ 2, 第7项 NH3-N 0.017 ≤ "
       "0.15, 第8项 TP 0.013 ≤ 0.02 (河流): all class I"},
      {"510800SW01",
       "沙溪",
       2,
       {"w01009"},
       "表1 第3项: DO 7.44 < 7.5 (I) but ≥ 6 → II; every other item class I"},
      {"510800SW02",
       "南渡",
       1,
       {"w01001", "w01009", "w01019", "w21003", "w21011"},
       "DO 11.50, CODMn 0.87, NH3-N 0.012, TP 0.013: all class I"},
      {"510800SW05",
       "苴国村",
       1,
       {"w01001", "w01009", "w01019", "w21003", "w21011"},
       "DO 10.36, CODMn 1.27, NH3-N 0.003, TP 0.007: all class I"},
      {"510800SW09",
       "清泉乡",
       1,
       {"w01001", "w01009", "w01019", "w21011"},
       "no NH3-N published: a partial-item class from pH, DO 11.93, CODMn 1.07, TP 0.010 (I)"},
      {"510800SW10",
       "升钟水库铁炉寺",
       2,
       {"w01019", "w21011"},
       "表1 第4项 CODMn 2.64 ≤ 4 → II; 第8项 TP 0.016 ≤ 0.025 (湖、库) → II; DO 7.50 ≥ 7.5 → I"},
  };
  for (const auto& c : cases) {
    ASSERT_TRUE(sections_.count(c.site)) << c.name << " is not in the snapshot";
    write_section(c.site);
  }
  process();
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.name) + ": " + c.clause);
    const auto r = sample(c.site, sections_.at(c.site).t);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->value, c.section_class);
    EXPECT_TRUE(r->valid);
    ASSERT_TRUE(r->water);
    EXPECT_EQ(r->water->standard, "GB 3838-2002 表1");
    EXPECT_EQ(r->water->deciding, c.deciding);
    EXPECT_EQ(r->created_at_ms, clock_.now);
  }
  // TN: no class in a river; in the reservoir 2.14 > 2.0 is 劣V (表1 第9项), a reference item.
  EXPECT_EQ(sample("510800SW01", sections_.at("510800SW01").t)->water->water_body, "river");
  EXPECT_FALSE(item_class(*sample("510800SW01", sections_.at("510800SW01").t), "w21001"));
  const auto lake = sample("510800SW10", sections_.at("510800SW10").t);
  EXPECT_EQ(lake->water->water_body, "lake");
  EXPECT_EQ(item_class(*lake, "w21001"), 6);
  EXPECT_EQ(item_class(*lake, "w21011"), 2);
  EXPECT_TRUE(revisions_of("510800SW01").empty());  // a first computation is not a revision
}

TEST_F(WaterClassTest, ALateValueRevisesTheClassAndAsOfGivesTheOldOne) {
  const std::string site = "510800SW01";  // 沙溪, 11:00: class II by DO
  const std::int64_t t = sections_.at(site).t;
  write_section(site, t, {"w21011"});  // TP not (yet) received
  write_section(site, t + 4 * kHour);  // the next 4-hourly sample: the series moves on
  process();
  auto r = sample(site, t);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, 2);
  EXPECT_EQ(r->water->items.size(), 5u);
  const std::int64_t before = clock_.now;

  // TP of 11:00 arrives late, crafted at 0.25 mg/L: 表1 第8项 (河流) III ≤ 0.2 < 0.25 ≤ 0.3 IV.
  write({value(site, "w21011", t, 0.25)});
  process();
  r = sample(site, t);
  EXPECT_EQ(r->value, 4);
  EXPECT_EQ(r->water->deciding, std::vector<std::string>{"w21011"});
  EXPECT_EQ(item_class(*r, "w21011"), 4);
  auto revs = revisions_of(site);
  ASSERT_EQ(revs.size(), 1u);
  EXPECT_EQ(revs[0].reason, "late_value");
  EXPECT_EQ(revs[0].start_ms, t);
  EXPECT_EQ(revs[0].old_value, 2);
  EXPECT_EQ(revs[0].new_value, 4);
  EXPECT_GT(revs[0].cause_sequence, 0u);
  // As of before it: class II with DO deciding and no TP.
  const auto old = sample(site, t, before);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->value, 2);
  EXPECT_EQ(old->water->deciding, std::vector<std::string>{"w01009"});
  EXPECT_EQ(old->water->items.size(), 5u);
  EXPECT_FALSE(sample(site, t, before - 10'000));  // before any computation: unknown
  // The later sample did not move.
  EXPECT_EQ(sample(site, t + 4 * kHour)->value, 2);

  // A new version of the later sample's NH3-N, 0.6 mg/L: 表1 第7项 II ≤ 0.5 < 0.6 ≤ 1.0 III.
  write({value(site, "w21003", t + 4 * kHour, 0.6)});
  process();
  EXPECT_EQ(sample(site, t + 4 * kHour)->value, 3);
  revs = revisions_of(site);
  ASSERT_EQ(revs.size(), 2u);
  EXPECT_EQ(revs[0].reason, "new_version");
  EXPECT_EQ(revs[0].start_ms, t + 4 * kHour);
}

TEST_F(WaterClassTest, AReviewActionRevisesTheClass) {
  const std::string site = "510800SW10";  // 升钟水库铁炉寺: II by CODMn and TP
  const std::int64_t t = sections_.at(site).t;
  write_section(site);
  process();
  auto reviews = test::ok(ReviewService::open(path_, clock_));
  ReviewAction corr;
  corr.site = site;
  corr.factor = "w21011";
  corr.from_ms = t;
  corr.to_ms = t + 1;
  corr.verb = ReviewVerb::kCorrect;
  corr.value = 0.06;  // 表1 第8项 (湖、库) III ≤ 0.05 < 0.06 ≤ 0.1 IV
  corr.reason = "实验室比对后修正";
  const auto stored = test::ok(reviews->record(corr));
  process();
  auto r = sample(site, t);
  EXPECT_EQ(r->value, 4);
  EXPECT_EQ(item_class(*r, "w21011"), 4);
  auto revs = revisions_of(site);
  ASSERT_EQ(revs.size(), 1u);
  EXPECT_EQ(revs[0].reason, "review");
  EXPECT_EQ(revs[0].review_action, stored.id);
  // Invalidating CODMn and TP leaves pH, DO (I) and the reference TN: class I.
  ReviewAction inv = corr;
  inv.verb = ReviewVerb::kInvalidate;
  inv.value.reset();
  inv.reason = "仪器故障";
  test::ok(reviews->record(inv));
  inv.factor = "w01019";
  test::ok(reviews->record(inv));
  process();
  r = sample(site, t);
  EXPECT_EQ(r->value, 1);
  EXPECT_EQ(r->water->items.size(), 3u);
  EXPECT_EQ(revisions_of(site).size(), 2u);  // IV → I in one batch: one more revision
}

TEST_F(WaterClassTest, OnlySurfaceWaterSitesGetAWaterClass) {
  // 2526A is an ambient-air site: a stray pH there is no section sample.
  const std::int64_t t = sections_.at("510800SW01").t;
  write({value("2526A", "w01001", t, 7.5)});
  process();
  EXPECT_FALSE(sample("2526A", t));
}

// The pure part (derive/indices.h water_class_of) on crafted samples.
TEST(WaterClassOf, NonDetectsRefusedSamplesAndDatesBeforeTheStandard) {
  using standards::Reading;
  const std::int64_t t = ms_of("2026-02-04T11:00:00+08:00");
  // NH3-N reported "0.025L" (below the detection limit: class I, as the reference sheet's note
  // says) and DO 5.5 mg/L: 表1 第3项 II ≥ 6 > 5.5 ≥ 5 III → the section is III, DO deciding.
  auto wc = water_class_of({{"w21003", Reading::below_detection(0.025)},
                            {"w01009", Reading::measured(5.5)},
                            {"a34004", Reading::measured(500)}},  // not a water item: ignored
                           standards::water::WaterBody::kRiver, t);
  ASSERT_TRUE(wc);
  EXPECT_EQ(wc->value, 3);
  ASSERT_EQ(wc->detail.items.size(), 2u);
  EXPECT_EQ(wc->detail.items[0].factor, "w01009");  // in kHj212WaterItems order
  EXPECT_EQ(wc->detail.items[1].item_class, 1);
  EXPECT_TRUE(wc->detail.items[1].reading.not_detected);
  EXPECT_EQ(wc->detail.deciding, std::vector<std::string>{"w01009"});
  // Stored and read back unchanged.
  EXPECT_EQ(decode_water_detail(encode_water_detail(wc->detail)), wc->detail);
  EXPECT_FALSE(decode_water_detail("GB 3838-2002 表1;river;w01009=x:3;"));
  // A negative TP is refused by the standard: the items without a class, no section class.
  wc = water_class_of({{"w21011", Reading::measured(-0.1)}, {"w01009", Reading::measured(8)}},
                      standards::water::WaterBody::kRiver, t);
  ASSERT_TRUE(wc);
  EXPECT_FALSE(wc->value);
  EXPECT_FALSE(wc->detail.items[0].item_class);
  // Before GB 3838-2002 came into force (2002-06-01) no table applies.
  EXPECT_FALSE(water_class_of({{"w01009", Reading::measured(8)}},
                              standards::water::WaterBody::kRiver,
                              ms_of("2002-05-31T12:00:00+08:00")));
}

}  // namespace
}  // namespace ecomon::derive
