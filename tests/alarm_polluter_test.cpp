// Key polluter supervision (issue #6 §1) on a real SQLite store with a fake clock: the permit rule
// on converted concentrations (sent as ZsRtd or converted here from O2), one alarm per episode,
// flag_cover findings, emission totals from Cou against the annual permitted total.
#include <gtest/gtest.h>

#include <cmath>

#include "alarm/emissions.h"
#include "alarm/rule.h"
#include "alarm/service.h"
#include "storage/sqlite/sqlite_store.h"
#include "test_util.h"

namespace ecomon::alarm {
namespace {

class FakeClock final : public core::Clock {
 public:
  std::int64_t now_ms() const override { return now; }
  std::int64_t now = 1'780'000'000'000;  // 2026-05-28T20:26:40Z
};

constexpr const char* kOutlet = "GYDEMO01DA001";
constexpr const char* kMn = "GYDEMO01DA01";
constexpr std::int64_t kHour = 3600 * 1000;

// --- pure pieces ---------------------------------------------------------------------------

TEST(PermitConversion, ConvertsToReferenceOxygen) {
  // GB 13223-2011 §5.2 formula (1): C × (21 − O2_ref) / (21 − O2_meas).
  EXPECT_DOUBLE_EQ(*convert_to_reference_o2(100, 9, 6), 125.0);            // 100 × 15 / 12
  EXPECT_DOUBLE_EQ(*convert_to_reference_o2(90, 11, 6), 135.0);            // 90 × 15 / 10
  EXPECT_DOUBLE_EQ(*convert_to_reference_o2(40, 3, 6), 40 * 15.0 / 18.0);  // below the reference
  EXPECT_DOUBLE_EQ(*convert_to_reference_o2(50, 15, 15), 50.0);            // gas turbine: 15 %
  EXPECT_FALSE(convert_to_reference_o2(100, 20.9, 6));                     // ambient air: refused
  EXPECT_FALSE(convert_to_reference_o2(100, 21, 6));
  EXPECT_FALSE(convert_to_reference_o2(100, -1, 6));
  EXPECT_FALSE(convert_to_reference_o2(100, 9, 21));
  EXPECT_TRUE(convert_to_reference_o2(100, 20.89, 6));
}

TEST(PermitConversion, ReadingFollowsThePermit) {
  PermitTerms plain{100.0, "mg/L", "GB 8978-1996 表4", false, std::nullopt, std::nullopt};
  auto r = permit_reading(plain, OutletSample{120.0, 999.0, 10.0});
  EXPECT_EQ(r.value, 120.0);  // not converted: the measured value, whatever else was sent
  EXPECT_FALSE(r.from_converted || r.converted_here);

  PermitTerms zs{100.0, "mg/m³", "GB 13223-2011 表1", true, 6.0, std::nullopt};
  r = permit_reading(zs, OutletSample{80.0, 120.0, 11.0});
  EXPECT_EQ(r.value, 120.0);  // the device's converted value wins
  EXPECT_TRUE(r.from_converted);
  r = permit_reading(zs, OutletSample{90.0, std::nullopt, 11.0});
  EXPECT_DOUBLE_EQ(*r.value, 135.0);
  EXPECT_TRUE(r.converted_here);
  r = permit_reading(zs, OutletSample{90.0, std::nullopt, std::nullopt});
  EXPECT_FALSE(r.value);
  EXPECT_NE(r.refused.find("no O2"), std::string::npos);
  r = permit_reading(zs, OutletSample{90.0, std::nullopt, 20.95});
  EXPECT_FALSE(r.value);
  EXPECT_NE(r.refused.find("20.9"), std::string::npos);
}

TEST(FlagCover, FlaggedValueAboveTheLimitOrDuringAnEpisodeIsAFinding) {
  PermitTerms zs{100.0, "mg/m³", "GB 13223-2011 表1", true, 6.0, std::nullopt};
  storage::Value v;
  v.factor = "a21026";
  v.field = "ZsRtd";
  v.number = 180;
  PermitReading above;
  above.value = 180;
  above.from_converted = true;
  PermitReading below;
  below.value = 60;

  v.flag = "N";
  EXPECT_FALSE(flag_cover_finding(v, zs, above, 0));  // a valid value is no cover
  v.flag = "M";
  auto f = flag_cover_finding(v, zs, above, 0);
  ASSERT_TRUE(f);
  EXPECT_NE(f->find("flag_cover: flag M on a21026 ZsRtd"), std::string::npos) << *f;
  EXPECT_NE(f->find("permitted 100 mg/m³ (GB 13223-2011 表1)"), std::string::npos) << *f;
  EXPECT_FALSE(flag_cover_finding(v, zs, below, 0));  // below the limit, no open episode
  f = flag_cover_finding(v, zs, below, 42);
  ASSERT_TRUE(f);
  EXPECT_NE(f->find("during the open permit alarm 42"), std::string::npos) << *f;
  v.quality = storage::kQualityQuarantined;
  EXPECT_FALSE(flag_cover_finding(v, zs, above, 0));
  v.quality = 0;
  PermitTerms no_limit = zs;
  no_limit.limit.reset();
  EXPECT_FALSE(flag_cover_finding(v, no_limit, above, 0));
}

TEST(PolluterRules, AreChecked) {
  Rule r;
  r.name = "SO2 permit";
  r.kind = RuleKind::kPermit;
  r.data_kind = storage::DataKind::kRealtime;
  EXPECT_TRUE(normalise_rule(r));  // no factor
  r.factor = "a21026";
  EXPECT_FALSE(normalise_rule(r));
  EXPECT_EQ(r.limit, 1);  // the permit itself
  EXPECT_EQ(r.op, Op::kGreater);
  r.field = "ZsRtd";
  EXPECT_TRUE(normalise_rule(r));  // the permit chooses the field
  r.field.clear();
  r.limit = 11;
  EXPECT_TRUE(normalise_rule(r));
  r.limit = -1;
  EXPECT_TRUE(normalise_rule(r));
  Rule t = r;
  t.kind = RuleKind::kEmissionTotal;
  t.limit = 0.8;
  EXPECT_TRUE(normalise_rule(t));  // rtd: totals come from hour or day data
  t.data_kind = storage::DataKind::kHour;
  EXPECT_FALSE(normalise_rule(t));
  EXPECT_EQ(t.op, Op::kGreaterEqual);
  EXPECT_EQ(parse_rule_kind("permit"), RuleKind::kPermit);
  EXPECT_EQ(kind_name(RuleKind::kEmissionTotal), "emission_total");
}

storage::Value emission_value(const std::string& factor, const std::string& field, std::int64_t t,
                              double x, const std::string& flag = "N") {
  storage::Value v;
  v.site = kOutlet;
  v.mn = kMn;
  v.factor = factor;
  v.field = field;
  v.kind = storage::DataKind::kHour;
  v.measured_ms = t;
  v.number = x;
  v.flag = flag;
  return v;
}

TEST(Emissions, SumsSentCouElseAvgTimesFlowAndCountsCoverage) {
  namespace em = emissions;
  const std::int64_t from = em::beijing_year_start_ms(2026);
  std::vector<storage::Value> so2{
      emission_value("a21026", "Cou", from, 5.57),
      emission_value("a21026", "Avg", from, 3.54),              // Cou sent: Avg not used
      emission_value("a21026", "Cou", from + kHour, 2.0, "M"),  // marked: still discharged
      // Hour 3: no Cou → Avg 3.54 mg/m³ × 1,574,342 m³ = 5.573170... kg.
      emission_value("a21026", "Avg", from + 2 * kHour, 3.54),
      // Hour 4: Avg without flow: nothing.
      emission_value("a21026", "Avg", from + 3 * kHour, 10.0),
      // Quarantined values never count.
      emission_value("a21026", "Cou", from + 4 * kHour, 100.0),
      // Outside the range.
      emission_value("a21026", "Cou", from - kHour, 100.0)};
  so2[5].quality = storage::kQualityQuarantined;
  std::vector<storage::Value> flow{emission_value("a00000", "Cou", from + 2 * kHour, 1574342)};
  const auto t = em::sum(so2, flow, em::Medium::kWasteGas, kHour, from, from + 10 * kHour);
  EXPECT_NEAR(t.total_kg, 5.57 + 2.0 + 3.54 * 1574342e-6, 1e-9);
  EXPECT_EQ(t.periods_sent, 2);
  EXPECT_EQ(t.periods_computed, 1);
  EXPECT_EQ(t.periods_flagged, 1);
  EXPECT_EQ(t.periods_expected, 10);
  EXPECT_DOUBLE_EQ(t.coverage(), 0.3);
  EXPECT_EQ(t.last_ms, from + 2 * kHour);
  // Wastewater: mg/L × m³ = g.
  std::vector<storage::Value> cod{emission_value("w01018", "Avg", from, 50)};
  std::vector<storage::Value> water{emission_value("w00000", "Cou", from, 200)};
  EXPECT_DOUBLE_EQ(em::sum(cod, water, em::Medium::kWastewater, kHour, from, from + kHour).total_kg,
                   10.0);
  EXPECT_EQ(em::medium_of_factor("w01018"), em::Medium::kWastewater);
  EXPECT_EQ(em::flow_factor(em::Medium::kWasteGas), "a00000");
  // The Beijing year: 2026-01-01T00:00+08:00 is 2025-12-31T16:00Z.
  EXPECT_EQ(from, 1767196800000);
  EXPECT_EQ(em::beijing_year_of(from), 2026);
  EXPECT_EQ(em::beijing_year_of(from - 1), 2025);
}

// --- the engine -------------------------------------------------------------------------------

class PolluterEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "ecomon.db").string();
    store_ = test::ok(storage::open_sqlite_store(path_));
    alarms_ = test::ok(AlarmService::open(path_, *store_, clock_, AlarmOptions{}));
    alarms_->set_permits([this](const std::string& site, const std::string& factor,
                                std::int64_t) -> std::optional<PermitTerms> {
      if (site != kOutlet) return std::nullopt;
      if (factor == "a21026") return so2_;
      return std::nullopt;
    });
  }

  Rule add(RuleKind kind, storage::DataKind data_kind, double limit = 0,
           const std::string& field = "") {
    Rule r;
    r.name = std::string(kind_name(kind));
    r.kind = kind;
    r.site = kOutlet;
    r.factor = "a21026";
    r.field = field;
    r.data_kind = data_kind;
    r.limit = limit;
    return test::ok(alarms_->create_rule(std::move(r), "tester"));
  }

  storage::Value rtd(const std::string& factor, const std::string& field, std::int64_t t, double x,
                     const std::string& flag = "N") {
    storage::Value v = emission_value(factor, field, t, x, flag);
    v.kind = storage::DataKind::kRealtime;
    v.received_ms = clock_.now;
    return v;
  }

  // One frame's values, committed together as the ingestor does.
  void write(std::vector<storage::Value> values, const std::string& cn = "2011") {
    std::vector<storage::FrameWrite> batch(1);
    batch[0].frame.mn = kMn;
    batch[0].frame.cn = cn;
    batch[0].frame.received_ms = clock_.now;
    batch[0].frame.outcome = "stored";
    batch[0].values = std::move(values);
    auto r = store_->write(batch);
    ASSERT_TRUE(r.ok()) << r.error().detail;
  }

  void process() { test::ok(alarms_->process_changes()); }

  std::vector<Alarm> all() { return test::ok(alarms_->alarms(AlarmQuery{})); }

  std::string opening_note(std::int64_t id) {
    for (const auto& e : test::ok(alarms_->events(id))) {
      if (e.action == "opened") return e.note;
    }
    return "";
  }

  test::TempDir dir_{"ecomon-polluter"};
  FakeClock clock_;
  std::string path_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<AlarmService> alarms_;
  PermitTerms so2_{100.0, "mg/m³", "GB 13223-2011 表1", true, 6.0, 60.0};
  const std::int64_t t0_ = 1'779'990'000'000;
};

TEST_F(PolluterEngineTest, ConvertedValueAbovePermitOpensOneAlarmAndAGoodValueClears) {
  add(RuleKind::kPermit, storage::DataKind::kRealtime);
  // Measured 80 is below the permit; the converted 120 is above it.
  write({rtd("a21026", "Rtd", t0_, 80), rtd("a21026", "ZsRtd", t0_, 120),
         rtd("a19001", "Rtd", t0_, 11)});
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind, RuleKind::kPermit);
  EXPECT_EQ(a[0].field, "ZsRtd");
  EXPECT_EQ(a[0].value, 120.0);
  EXPECT_EQ(a[0].limit, 100.0);
  EXPECT_EQ(a[0].site, kOutlet);
  EXPECT_NE(opening_note(a[0].id).find("GB 13223-2011 表1"), std::string::npos);
  for (int i = 1; i <= 1000; ++i) {
    write({rtd("a21026", "Rtd", t0_ + i * 30000, 85), rtd("a21026", "ZsRtd", t0_ + i * 30000, 130),
           rtd("a19001", "Rtd", t0_ + i * 30000, 11)});
  }
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].count, 1001);
  EXPECT_EQ(a[0].max_value, 130.0);
  EXPECT_TRUE(a[0].active);
  write({rtd("a21026", "Rtd", t0_ + 1001 * 30000, 60),
         rtd("a21026", "ZsRtd", t0_ + 1001 * 30000, 90),
         rtd("a19001", "Rtd", t0_ + 1001 * 30000, 11)});
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].active);
  EXPECT_EQ(a[0].cleared_ms, t0_ + 1001 * 30000);
}

TEST_F(PolluterEngineTest, MeasuredValueIsConvertedHereFromTheO2OfTheSameTime) {
  add(RuleKind::kPermit, storage::DataKind::kRealtime);
  // 90 × (21 − 6) / (21 − 11) = 135, although the measured 90 is below 100.
  write({rtd("a21026", "Rtd", t0_, 90), rtd("a19001", "Rtd", t0_, 11)});
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_DOUBLE_EQ(*a[0].value, 135.0);
  EXPECT_EQ(a[0].field, "ZsRtd");
  EXPECT_NE(opening_note(a[0].id).find("converted to reference O2"), std::string::npos);
  // The O2 arriving in a later frame than the concentration: judged once both are stored.
  write({rtd("a21026", "Rtd", t0_ + 30000, 60)});
  process();
  EXPECT_EQ(all()[0].count, 1);  // no O2 yet: not judged
  EXPECT_EQ(alarms_->counters().permit_unjudged, 1u);
  write({rtd("a19001", "Rtd", t0_ + 30000, 9)});  // 60 × 15 / 12 = 75: good
  process();
  EXPECT_FALSE(all()[0].active);
}

TEST_F(PolluterEngineTest, AmbientOxygenIsNotConvertedAndNotJudged) {
  add(RuleKind::kPermit, storage::DataKind::kRealtime);
  write({rtd("a21026", "Rtd", t0_, 90), rtd("a19001", "Rtd", t0_, 20.95)});
  process();
  EXPECT_TRUE(all().empty());
  EXPECT_EQ(alarms_->counters().permit_unjudged, 1u);
}

TEST_F(PolluterEngineTest, EarlyWarningAtAShareOfThePermitAndUnconvertedPermits) {
  add(RuleKind::kPermit, storage::DataKind::kRealtime, 0.8);
  so2_.converted = false;  // the measured value counts; ZsRtd is ignored
  write({rtd("a21026", "Rtd", t0_, 79), rtd("a21026", "ZsRtd", t0_, 500)});
  process();
  EXPECT_TRUE(all().empty());
  write({rtd("a21026", "Rtd", t0_ + 30000, 81)});
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].field, "Rtd");
  EXPECT_DOUBLE_EQ(a[0].limit, 80.0);
}

TEST_F(PolluterEngineTest, FlaggedExceedingValueIsACoverFindingAndNoExceedance) {
  const Rule permit = add(RuleKind::kPermit, storage::DataKind::kRealtime);
  const Rule screening = add(RuleKind::kScreening, storage::DataKind::kRealtime, 0, "ZsRtd");
  write({rtd("a21026", "Rtd", t0_, 150, "M"), rtd("a21026", "ZsRtd", t0_, 180, "M"),
         rtd("a19001", "Rtd", t0_, 11, "M")});
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].rule_id, screening.id);
  EXPECT_EQ(a[0].kind, RuleKind::kScreening);
  EXPECT_EQ(a[0].value, 180.0);
  const std::string note = opening_note(a[0].id);
  EXPECT_NE(note.find("flag_cover: flag M on a21026 ZsRtd"), std::string::npos) << note;
  // A flagged value below the limit with no exceedance open: nothing more; a clean one clears.
  write({rtd("a21026", "ZsRtd", t0_ + 30000, 50, "C")});
  process();
  EXPECT_TRUE(all()[0].active);
  write({rtd("a21026", "ZsRtd", t0_ + 60000, 50), rtd("a21026", "Rtd", t0_ + 60000, 40)});
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].active);
  for (const auto& x : a) EXPECT_NE(x.rule_id, permit.id);
}

TEST_F(PolluterEngineTest, AFlagAppearingDuringAnExceedanceIsACoverFinding) {
  const Rule permit = add(RuleKind::kPermit, storage::DataKind::kRealtime);
  const Rule screening = add(RuleKind::kScreening, storage::DataKind::kRealtime, 0, "ZsRtd");
  write({rtd("a21026", "ZsRtd", t0_, 130), rtd("a21026", "Rtd", t0_, 100)});
  process();
  ASSERT_EQ(all().size(), 1u);
  const std::int64_t permit_alarm = all()[0].id;
  // The device marks "calibration" and the value drops below the limit: suspicious.
  write({rtd("a21026", "ZsRtd", t0_ + 30000, 40, "C"), rtd("a21026", "Rtd", t0_ + 30000, 30, "C")});
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 2u);
  for (const auto& x : a) {
    if (x.rule_id == permit.id) {
      EXPECT_TRUE(x.active);  // a flagged value does not clear it
    }
    if (x.rule_id == screening.id) {
      EXPECT_NE(opening_note(x.id).find("open permit alarm " + std::to_string(permit_alarm)),
                std::string::npos)
          << opening_note(x.id);
    }
  }
}

TEST_F(PolluterEngineTest, EmissionTotalOpensWhenTheYearsCumulativeTotalReachesTheShare) {
  so2_.annual_total_t = 0.01;                                    // 10 kg
  add(RuleKind::kEmissionTotal, storage::DataKind::kHour, 0.8);  // early warning at 8 kg
  const std::int64_t h0 = emissions::beijing_year_start_ms(2026) + 100 * kHour;
  clock_.now = h0 + 20 * kHour;
  auto hour = [&](int i, double cou) {
    storage::Value v = emission_value("a21026", "Cou", h0 + i * kHour, cou);
    v.received_ms = clock_.now;
    write({v}, "2061");
  };
  hour(0, 3);
  hour(1, 3);
  process();
  EXPECT_TRUE(all().empty());  // 6 kg
  hour(2, 3);                  // 9 kg ≥ 8 kg
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind, RuleKind::kEmissionTotal);
  EXPECT_NEAR(*a[0].value, 0.009, 1e-12);
  EXPECT_NEAR(a[0].limit, 0.008, 1e-12);
  EXPECT_EQ(a[0].op, ">=");
  EXPECT_EQ(a[0].last_ms, h0 + 2 * kHour);
  // A late hour (before the newest) raises the total: same episode, not a retroactive one.
  hour(-5, 1);
  hour(3, 3);
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0].active);
  EXPECT_FALSE(a[0].retroactive);
  EXPECT_NEAR(*a[0].value, 0.013, 1e-12);
  // The next year starts from nothing: the first hour of 2027 clears the episode.
  const std::int64_t y2027 = emissions::beijing_year_start_ms(2027);
  clock_.now = y2027 + 2 * kHour;
  storage::Value v = emission_value("a21026", "Cou", y2027, 1);
  v.received_ms = clock_.now;
  write({v}, "2061");
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].active);
}

}  // namespace
}  // namespace ecomon::alarm
