#include "registry/registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/civil_time.h"

namespace ecomon::registry {
namespace {

// An instant from ISO 8601 text; a date alone is 00:00 Beijing time, as in the registry files.
std::int64_t at(std::string_view iso) {
  const auto parsed = core::parse_iso8601(iso);
  EXPECT_TRUE(parsed.has_value()) << iso;
  return core::to_unix_ms(parsed->civil,
                          parsed->offset_seconds.value_or(core::kChinaUtcOffsetSeconds));
}

const Registry& guangyuan() {
  static const Registry registry = [] {
    auto loaded = load_registry(std::string(ECOMON_TESTDATA_DIR) + "/../config/registry");
    EXPECT_TRUE(loaded.ok()) << loaded.error().detail;
    return loaded.ok() ? std::move(loaded).value() : Registry();
  }();
  return registry;
}

std::size_t count_kind(const Registry& r, std::string_view kind) {
  return std::count_if(r.sites().begin(), r.sites().end(),
                       [&](const Site& s) { return s.kind == kind; });
}

const Site* site_named(const Registry& r, std::string_view name) {
  for (const Site& s : r.sites()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// A directory of registry files for one test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("ecomon_registry_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  void write(const std::string& name, std::string_view text) const {
    std::ofstream out(path_ / name, std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

constexpr std::string_view kSites =
    "code,name,kind\n"
    "S1,一号点,ambient_air\n"
    "S2,二号断面,surface_water\n";
constexpr std::string_view kDevices =
    "mn,st\n"
    "D1,22\n"
    "D2,22\n";

// The detail of a load that must fail, checked to start with `prefix` (file, line, column).
void expect_load_error(const TempDir& dir, std::string_view prefix) {
  const auto loaded = load_registry(dir.path());
  ASSERT_FALSE(loaded.ok()) << "expected an error starting with: " << prefix;
  EXPECT_EQ(loaded.error().reason, "bad_registry");
  EXPECT_EQ(loaded.error().detail.substr(0, prefix.size()), prefix)
      << "full detail: " << loaded.error().detail;
}

// --- The shipped Guangyuan network -------------------------------------------------------------

TEST(RegistryGuangyuan, LoadsWithEveryKindOfPoint) {
  const Registry& r = guangyuan();
  EXPECT_EQ(count_kind(r, "ambient_air"), 5u);
  EXPECT_EQ(count_kind(r, "surface_water"), 27u);
  EXPECT_EQ(count_kind(r, "drinking_water_source"), 4u);
  // 36 real sites + the fictional demo enterprise's 2 outlets; 13 demo loggers + its 2.
  EXPECT_EQ(count_kind(r, "polluter_waste_gas"), 1u);
  EXPECT_EQ(count_kind(r, "polluter_wastewater"), 1u);
  EXPECT_EQ(r.sites().size(), 38u);
  EXPECT_EQ(r.devices().size(), 15u);
  EXPECT_EQ(r.assignments().size(), 15u);
  ASSERT_EQ(r.enterprises().size(), 1u);
  EXPECT_NE(r.enterprises()[0].name.find("虚构"), std::string::npos);  // labelled fictional
}

TEST(RegistryGuangyuan, DemoEnterpriseHasOutletsAndPermits) {
  const Registry& r = guangyuan();
  ASSERT_EQ(r.outlets().size(), 2u);
  const Outlet* gas = r.find_outlet("GYDEMO01DA001");
  ASSERT_NE(gas, nullptr);
  EXPECT_EQ(gas->enterprise, "GYDEMO01");
  EXPECT_EQ(gas->permit_code, "DA001");
  const std::int64_t t = at("2026-06-01T00:00:00+08:00");
  const Permit* so2 = r.permit("GYDEMO01DA001", "a21026", t);
  ASSERT_NE(so2, nullptr);
  EXPECT_EQ(so2->limit, 100.0);
  EXPECT_EQ(so2->unit, "mg/m³");
  EXPECT_EQ(so2->standard, "GB 13223-2011 表1");
  EXPECT_TRUE(so2->converted);
  EXPECT_EQ(so2->reference_o2_pct, 6.0);
  EXPECT_EQ(so2->annual_total_t, 600.0);
  EXPECT_EQ(r.permit("GYDEMO01DA001", "a21026", at("2019-12-31T23:59:59+08:00")), nullptr);
  const Permit* cod = r.permit("GYDEMO01DW001", "w01018", t);
  ASSERT_NE(cod, nullptr);
  EXPECT_FALSE(cod->converted);
  EXPECT_EQ(r.permit("2526A", "a21026", t), nullptr);  // an air station is no outlet
}

TEST(RegistryGuangyuan, FiveNationalAirStationsWithControlPoint) {
  const Registry& r = guangyuan();
  for (const char* code : {"2523A", "2524A", "2525A", "2526A", "3617A"}) {
    const Site* s = r.find_site(code);
    ASSERT_NE(s, nullptr) << code;
    EXPECT_EQ(s->kind, "ambient_air") << code;
    EXPECT_EQ(s->level, "national") << code;
    EXPECT_EQ(s->air_role, std::string(code) == "2523A" ? "control" : "urban") << code;
    EXPECT_EQ(s->place.province, "四川省");
    EXPECT_EQ(s->place.province_code, "510000");
    EXPECT_EQ(s->place.city, "广元市");
    EXPECT_EQ(s->place.city_code, "510800");
    EXPECT_EQ(s->place.county, "利州区");
    EXPECT_EQ(s->place.county_code, "510802");
    EXPECT_TRUE(s->lon && s->lat) << code;
    EXPECT_FALSE(s->provisional);
  }
  const Site* control = r.find_site("2523A");
  EXPECT_EQ(control->name, "黑石坡");
  EXPECT_DOUBLE_EQ(*control->lon, 105.8945);
  EXPECT_DOUBLE_EQ(*control->lat, 32.4535);
  EXPECT_EQ(r.find_site("3617A")->name, "经开区");
}

TEST(RegistryGuangyuan, NamedWaterSectionsAndDrinkingWaterSource) {
  const Registry& r = guangyuan();
  const Site* shangshipan = site_named(r, "上石盘");
  ASSERT_NE(shangshipan, nullptr);
  EXPECT_EQ(shangshipan->kind, "surface_water");
  EXPECT_EQ(shangshipan->level, "national");
  EXPECT_EQ(shangshipan->waterbody, "river");
  EXPECT_EQ(shangshipan->river, "嘉陵江");
  EXPECT_FALSE(shangshipan->lon.has_value()) << "no public coordinates: none invented";
  const Site* hongyan = site_named(r, "红岩");
  ASSERT_NE(hongyan, nullptr);
  EXPECT_EQ(hongyan->level, "provincial");
  const Site* reservoir = site_named(r, "升钟水库铁炉寺");
  ASSERT_NE(reservoir, nullptr);
  EXPECT_EQ(reservoir->waterbody, "reservoir");

  const Site* xiwan = site_named(r, "西湾水厂");
  ASSERT_NE(xiwan, nullptr);
  EXPECT_EQ(xiwan->kind, "drinking_water_source");
  EXPECT_EQ(xiwan->level, "city");
  EXPECT_EQ(xiwan->river, "嘉陵江");
  EXPECT_EQ(xiwan->department, "广元市生态环境局");
}

TEST(RegistryGuangyuan, FactorsCarryUnitsAndReferenceStates) {
  const Registry& r = guangyuan();
  for (const char* code :
       {"a21026", "a21004", "a21005", "a05024", "a34002", "a34004", "a01001", "a01002", "a01006",
        "a01007", "a01008", "w01001", "w01009", "w01019", "w21003", "w21011", "w21001", "w01010",
        "w01014", "w01003", "w00000", "w01018", "a00000", "a34013", "a21002", "a19001"}) {
    EXPECT_NE(r.find_factor(code), nullptr) << code;
  }
  const Factor* pm25 = r.find_factor("a34004");
  ASSERT_NE(pm25, nullptr);
  EXPECT_EQ(pm25->name_zh, "细颗粒物");
  EXPECT_EQ(pm25->unit, "µg/m³");  // not the ng/m³ table B.2 prints
  EXPECT_EQ(pm25->decimals, 0);
  EXPECT_EQ(r.find_factor("a21005")->unit, "mg/m³");
  EXPECT_EQ(r.find_factor("a21005")->decimals, 1);
  EXPECT_EQ(r.find_factor("a21026")->reference_state, "298.15K,101.325kPa");
  EXPECT_EQ(r.find_factor("nope"), nullptr);
  // HJ 212-2017 table B.2: flue-gas SO2 and NO2 in mg/m³; ambient stations report µg/m³.
  const Factor* so2 = r.find_factor("a21026");
  EXPECT_EQ(so2->unit_at("ambient_air"), "µg/m³");
  EXPECT_EQ(so2->unit_at("polluter_waste_gas"), "mg/m³");
  EXPECT_EQ(r.find_factor("a21004")->unit_at("polluter_waste_gas"), "mg/m³");
  EXPECT_EQ(r.find_factor("a21005")->unit_at("polluter_waste_gas"), "mg/m³");  // one unit
  EXPECT_EQ(pm25->unit_at("polluter_waste_gas"), "µg/m³");  // no emission unit: the one unit
}

// A registry saved by an API edit (DIR/registry) keeps each factor's units.
TEST(RegistryGuangyuan, SavedFactorsKeepTheirEmissionUnits) {
  TempDir dir;
  const std::string out = dir.path() + "/saved";
  ASSERT_TRUE(save_registry(guangyuan(), out).ok());
  auto again = load_registry(out);
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_EQ(again->find_factor("a21026")->unit_at("polluter_waste_gas"), "mg/m³");
  EXPECT_EQ(again->find_factor("a21026")->unit_at("ambient_air"), "µg/m³");
  EXPECT_EQ(again->find_factor("a21005")->decimals, 1);
}

TEST(RegistryGuangyuan, DemoDevicesServeTheirSitesFrom2020) {
  const Registry& r = guangyuan();
  const Device* d = r.find_device("GY00000002526A");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->st, "22");
  EXPECT_EQ(d->password, "123456");
  EXPECT_EQ(d->profile.version, 2017);
  EXPECT_EQ(d->interval_s, 3600);
  const Site* s = r.site_of("GY00000002526A", at("2020-01-01T00:00:00+08:00"));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->code, "2526A");
  EXPECT_EQ(r.site_of("GY00000002526A", at("2019-12-31T23:59:59+08:00")), nullptr);
  for (const Device& device : r.devices()) {
    const Site* served = r.site_of(device.mn, at("2026-02-04T10:00:00+08:00"));
    ASSERT_NE(served, nullptr) << device.mn;
    // The ST each site kind implies (HJ 212-2017 table 5): 22 air, 21 water, 31 flue gas, 32
    // wastewater (the demo enterprise's loggers).
    EXPECT_EQ(site_kind_for_st(device.st),
              served->kind == "drinking_water_source" ? "surface_water" : served->kind)
        << device.mn;
  }
}

TEST(RegistryGuangyuan, DesignatedWaterClassesAndAirAreaClassByDate) {
  const Registry& r = guangyuan();
  const Site* bamiaogou = site_named(r, "八庙沟");
  ASSERT_NE(bamiaogou, nullptr);
  EXPECT_EQ(r.setting(bamiaogou->code, "water_class", at("2018-02-15")), "II");
  EXPECT_EQ(r.setting(bamiaogou->code, "water_class", at("2016-12-31T23:59:59+08:00")),
            std::nullopt);
  EXPECT_EQ(r.setting(bamiaogou->code, "water_class", at("2019-01-01")), std::nullopt);
  const Site* guojiawan = site_named(r, "郭家湾");
  ASSERT_NE(guojiawan, nullptr);
  EXPECT_EQ(r.setting(guojiawan->code, "water_class", at("2017-06-01")), std::nullopt);
  EXPECT_EQ(r.setting(guojiawan->code, "water_class", at("2018-06-01")), "II");
  EXPECT_EQ(r.setting(site_named(r, "上石盘")->code, "water_class", at("2018-06-01")), "III");
  EXPECT_EQ(r.setting("2524A", "air_area_class", at("2026-01-01")), "2");
  EXPECT_EQ(r.setting("2523A", "air_area_class", at("2026-01-01")), std::nullopt);
}

// --- Lookups over time -------------------------------------------------------------------------

TEST(RegistryAssignments, DeviceSwapAtAnInstant) {
  const Registry& base = guangyuan();
  const std::int64_t swap = at("2024-06-01T10:30:00+08:00");
  Device spare;
  spare.mn = "GY0000000SPARE";
  spare.st = "22";
  auto r = base.with_device(spare);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  // Close the old device's assignment (same MN and start: an edit), open the new one.
  r = r->with_assignment({"GY00000002526A", "2526A", at("2020-01-01"), swap});
  ASSERT_TRUE(r.ok()) << r.error().detail;
  r = r->with_assignment({"GY0000000SPARE", "2526A", swap, INT64_MAX});
  ASSERT_TRUE(r.ok()) << r.error().detail;

  ASSERT_NE(r->site_of("GY00000002526A", swap - 1), nullptr);
  EXPECT_EQ(r->site_of("GY00000002526A", swap - 1)->code, "2526A");
  EXPECT_EQ(r->site_of("GY00000002526A", swap), nullptr);
  EXPECT_EQ(r->site_of("GY0000000SPARE", swap - 1), nullptr);
  ASSERT_NE(r->site_of("GY0000000SPARE", swap), nullptr);
  EXPECT_EQ(r->site_of("GY0000000SPARE", swap)->code, "2526A");

  // The repaired device goes to another station a month later.
  const std::int64_t moved = at("2024-07-01");
  r = r->with_assignment({"GY00000002526A", "2524A", moved, INT64_MAX});
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->site_of("GY00000002526A", moved - 1), nullptr);
  EXPECT_EQ(r->site_of("GY00000002526A", moved)->code, "2524A");
  EXPECT_EQ(r->site_of("GY00000002526A", swap - 1)->code, "2526A");

  // Snapshots are immutable: the base still has the old device at the station.
  EXPECT_EQ(base.site_of("GY00000002526A", swap)->code, "2526A");
  EXPECT_EQ(base.find_device("GY0000000SPARE"), nullptr);
}

TEST(RegistrySettings, ValueChangesAtMidnightBeijingTime) {
  TempDir dir;
  dir.write("sites.csv", kSites);
  dir.write("settings.csv",
            "site,key,value,from,until\n"
            "S2,water_class,III,,2021-01-01\n"
            "S2,water_class,II,2021-01-01,\n"
            "S1,air_area_class,1,2021-06-01T08:00:00+08:00,2022-01-01T00:00:00Z\n");
  const auto r = load_registry(dir.path());
  ASSERT_TRUE(r.ok()) << r.error().detail;
  // 2021-01-01 00:00 Beijing is 2020-12-31 16:00 UTC.
  const std::int64_t midnight = at("2020-12-31T16:00:00Z");
  EXPECT_EQ(r->setting("S2", "water_class", INT64_MIN), "III");
  EXPECT_EQ(r->setting("S2", "water_class", midnight - 1), "III");
  EXPECT_EQ(r->setting("S2", "water_class", midnight), "II");
  EXPECT_EQ(r->setting("S2", "water_class", at("2030-01-01")), "II");
  EXPECT_EQ(r->setting("S1", "air_area_class", at("2021-06-01T00:00:00Z") - 1), std::nullopt);
  EXPECT_EQ(r->setting("S1", "air_area_class", at("2021-06-01T00:00:00Z")), "1");
  EXPECT_EQ(r->setting("S1", "air_area_class", at("2022-01-01T07:59:59+08:00")), "1");
  EXPECT_EQ(r->setting("S1", "air_area_class", at("2022-01-01T08:00:00+08:00")), std::nullopt);
  EXPECT_EQ(r->setting("S1", "water_class", midnight), std::nullopt);
  EXPECT_EQ(r->setting("S9", "water_class", midnight), std::nullopt);
}

// --- Edits --------------------------------------------------------------------------------------

Registry small() {
  TempDir dir;
  dir.write("sites.csv", kSites);
  dir.write("devices.csv", kDevices);
  dir.write("assignments.csv",
            "mn,site,from,until\n"
            "D1,S1,2020-01-01,2024-01-01\n");
  auto r = load_registry(dir.path());
  EXPECT_TRUE(r.ok()) << r.error().detail;
  return r.ok() ? std::move(r).value() : Registry();
}

TEST(RegistryEdits, SiteErrorsAndReplacement) {
  const Registry r = small();
  Site site;
  site.name = "无码";
  site.kind = "noise";
  auto e = r.with_site(site);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, "empty_code");

  site.code = "S3";
  site.kind = "air";
  e = r.with_site(site);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, "bad_site");
  EXPECT_NE(e.error().detail.find("kind"), std::string::npos) << e.error().detail;

  site.kind = "noise";
  site.air_role = "urban";  // air roles are for ambient air sites only
  e = r.with_site(site);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, "bad_site");

  site.air_role.clear();
  e = r.with_site(site);
  ASSERT_TRUE(e.ok()) << e.error().detail;
  EXPECT_EQ(e->sites().size(), 3u);
  EXPECT_EQ(e->find_site("S3")->kind, "noise");

  // The same code again is an edit of that site, not a second one.
  Site renamed = *r.find_site("S1");
  renamed.name = "一号点（迁址后）";
  e = r.with_site(renamed);
  ASSERT_TRUE(e.ok()) << e.error().detail;
  EXPECT_EQ(e->sites().size(), 2u);
  EXPECT_EQ(e->find_site("S1")->name, "一号点（迁址后）");
  EXPECT_EQ(r.find_site("S1")->name, "一号点");
}

TEST(RegistryEdits, DeviceErrorsAndReplacement) {
  const Registry r = small();
  Device device;
  device.st = "22";
  auto e = r.with_device(device);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, "empty_code");

  device.mn = "D9";
  device.st = "2";
  e = r.with_device(device);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, "bad_device");

  device.st = "31";
  device.enterprise = "91510800MA000000XX";
  e = r.with_device(device);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, "unknown_enterprise");

  Device changed = *r.find_device("D1");
  changed.password = "654321";
  e = r.with_device(changed);
  ASSERT_TRUE(e.ok()) << e.error().detail;
  EXPECT_EQ(e->devices().size(), 2u);
  EXPECT_EQ(e->find_device("D1")->password, "654321");
  // The replaced device keeps its assignment.
  EXPECT_EQ(e->site_of("D1", at("2022-01-01"))->code, "S1");
}

TEST(RegistryEdits, AssignmentErrors) {
  const Registry r = small();
  const std::int64_t t2020 = at("2020-01-01");
  const std::int64_t t2023 = at("2023-01-01");
  const std::int64_t t2024 = at("2024-01-01");

  auto e = r.with_assignment({"", "S1", t2024, INT64_MAX});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, "empty_code");
  e = r.with_assignment({"D1", "", t2024, INT64_MAX});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, "empty_code");
  e = r.with_assignment({"D1", "S9", t2024, INT64_MAX});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, "unknown_site");
  e = r.with_assignment({"D9", "S1", t2024, INT64_MAX});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, "unknown_device");
  e = r.with_assignment({"D2", "S1", t2024, t2024});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, "bad_range");

  // D1 serves S1 in [2020, 2024): a second assignment of D1 that starts inside is refused...
  e = r.with_assignment({"D1", "S2", t2023, INT64_MAX});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, "overlapping_assignment");
  EXPECT_NE(e.error().detail.find("S1"), std::string::npos) << e.error().detail;
  // ... so is one that ends inside ...
  e = r.with_assignment({"D1", "S2", INT64_MIN, t2023});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, "overlapping_assignment");
  // ... but one that starts where it ends is not, and another device may share the site.
  e = r.with_assignment({"D1", "S2", t2024, INT64_MAX});
  ASSERT_TRUE(e.ok()) << e.error().detail;
  e = e->with_assignment({"D2", "S1", t2023, INT64_MAX});
  ASSERT_TRUE(e.ok()) << e.error().detail;
  EXPECT_EQ(e->assignments().size(), 3u);

  // The same device and start is an edit of that assignment (here: reopened to the end).
  auto reopened = r.with_assignment({"D1", "S1", t2020, INT64_MAX});
  ASSERT_TRUE(reopened.ok()) << reopened.error().detail;
  EXPECT_EQ(reopened->assignments().size(), 1u);
  EXPECT_EQ(reopened->site_of("D1", at("2030-01-01"))->code, "S1");
  EXPECT_EQ(r.site_of("D1", at("2030-01-01")), nullptr);
}

// --- Commissioning devices ----------------------------------------------------------------------

TEST(RegistryPending, UnknownDeviceGetsAProvisionalSite) {
  const Registry& base = guangyuan();
  const std::int64_t first_seen = at("2026-02-04T10:00:00+08:00");
  const Registry r = base.with_pending_device("QZ2026000001", "32", first_seen);

  const Device* d = r.find_device("QZ2026000001");
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->pending);
  EXPECT_EQ(d->st, "32");
  const Site* s = r.find_site("QZ2026000001");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->provisional);
  EXPECT_EQ(s->kind, "polluter_wastewater");
  EXPECT_EQ(s->name, "待分配设备 QZ2026000001");
  EXPECT_EQ(r.site_of("QZ2026000001", first_seen), s);
  EXPECT_EQ(r.site_of("QZ2026000001", first_seen - 1), nullptr);
  EXPECT_EQ(base.find_device("QZ2026000001"), nullptr);

  // A known device, or a frame without an MN, changes nothing.
  const Registry known = base.with_pending_device("GY00000002526A", "22", first_seen);
  EXPECT_EQ(known.sites().size(), base.sites().size());
  EXPECT_EQ(known.find_site("GY00000002526A"), nullptr);
  EXPECT_FALSE(known.find_device("GY00000002526A")->pending);
  EXPECT_EQ(base.with_pending_device("", "22", first_seen).devices().size(), base.devices().size());
}

TEST(RegistryPending, SiteKindFollowsTheSystemCode) {
  const std::pair<const char*, const char*> expected[] = {{"21", "surface_water"},
                                                          {"22", "ambient_air"},
                                                          {"23", "noise"},
                                                          {"24", "groundwater"},
                                                          {"25", "soil"},
                                                          {"26", "surface_water"},
                                                          {"27", "ambient_air"},
                                                          {"31", "polluter_waste_gas"},
                                                          {"39", "polluter_waste_gas"},
                                                          {"32", "polluter_wastewater"},
                                                          {"38", "radiation"},
                                                          {"51", "polluter_waste_gas"},
                                                          {"52", "polluter_wastewater"},
                                                          {"33", "micro_station"},
                                                          {"91", "micro_station"},
                                                          {"80", "micro_station"},
                                                          {"", "micro_station"},
                                                          {"A1", "micro_station"}};
  for (const auto& [st, kind] : expected) EXPECT_EQ(site_kind_for_st(st), kind) << "ST " << st;
}

// --- Loader: the CSV dialect and errors that point at the cell ----------------------------------

TEST(RegistryLoader, ReadsRfc4180WithBomCrlfAndQuotes) {
  TempDir dir;
  dir.write("sites.csv",
            "\xEF\xBB\xBF"
            "code,name,kind,river,note\r\n"
            "S1,\"Name, with comma\",surface_water,嘉陵江,\"two\r\nlines\"\r\n"
            "\r\n"
            "S2,\"say \"\"hi\"\"\",noise,,\r\n");
  auto r = load_registry(dir.path());
  ASSERT_TRUE(r.ok()) << r.error().detail;
  ASSERT_EQ(r->sites().size(), 2u);
  EXPECT_EQ(r->find_site("S1")->name, "Name, with comma");
  EXPECT_EQ(r->find_site("S1")->river, "嘉陵江");
  EXPECT_EQ(r->find_site("S2")->name, "say \"hi\"");
  // A last record ending in an empty field and no line end.
  dir.write("sites.csv", "code,name,kind,note\nS1,a,noise,");
  r = load_registry(dir.path());
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->find_site("S1")->kind, "noise");
  // Line numbers keep counting through the quoted line break and the blank line.
  dir.write("sites.csv",
            "code,name,kind,note\n"
            "S1,a,noise,\"two\nlines\"\n"
            "\n"
            "S2,b,air,\n");
  expect_load_error(dir, "sites.csv line 5 column kind: 'air' is not one of ambient_air");
}

TEST(RegistryLoader, NumberErrorNamesFileLineAndColumn) {
  TempDir dir;
  dir.write("sites.csv",
            "code,name,kind,lon,lat\n"
            "S1,a,ambient_air,105.8,32.4\n"
            "S2,b,ambient_air,abc,32.4\n");
  const auto r = load_registry(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "bad_registry");
  EXPECT_EQ(r.error().detail, "sites.csv line 3 column lon: 'abc' is not a number");
}

TEST(RegistryLoader, HeaderErrors) {
  TempDir dir;
  dir.write("sites.csv", "code,name\nS1,a\n");
  expect_load_error(dir, "sites.csv line 1 column kind: missing from the header");
  dir.write("sites.csv", "code,name,kind,colour\nS1,a,noise,red\n");
  expect_load_error(dir, "sites.csv line 1 column colour: unknown column");
  dir.write("sites.csv", "code,name,kind,name\nS1,a,noise,b\n");
  expect_load_error(dir, "sites.csv line 1 column name: appears twice");
  dir.write("sites.csv", "");
  expect_load_error(dir, "sites.csv line 1: the file is empty");
}

TEST(RegistryLoader, RecordShapeErrors) {
  TempDir dir;
  dir.write("sites.csv", "code,name,kind,lon,lat\nS1,a,noise,105.8\n");
  expect_load_error(dir, "sites.csv line 2 column lat: missing; the row has 4 fields");
  dir.write("sites.csv", "code,name,kind\nS1,a,noise,extra\n");
  expect_load_error(dir, "sites.csv line 2 column 4: the row has 4 fields, the header 3");
  dir.write("sites.csv", "code,name,kind\nS1,\"a,noise\n");
  expect_load_error(dir, "sites.csv line 2 column name: the quoted field is not closed");
  dir.write("sites.csv", "code,name,kind\nS1,\"a\"b,noise\n");
  expect_load_error(dir, "sites.csv line 2 column name: text after the closing quote");
  dir.write("sites.csv", "code,name,kind\nS1,a\"b,noise\n");
  expect_load_error(dir, "sites.csv line 2 column name: a quote inside an unquoted field");
  // 广元 in GBK, as the CNEMC station list is published.
  dir.write("sites.csv", "code,name,kind\nS1,\xB9\xE3\xD4\xAA,noise\n");
  expect_load_error(dir, "sites.csv line 2 column name: not valid UTF-8");
}

TEST(RegistryLoader, SiteValueErrors) {
  TempDir dir;
  dir.write("sites.csv", "code,name,kind\nS1,a,noise\nS1,b,noise\n");
  expect_load_error(dir, "sites.csv line 3 column code: 'S1' appears twice (first on line 2)");
  dir.write("sites.csv", "code,name,kind\n,a,noise\n");
  expect_load_error(dir, "sites.csv line 2 column code: is empty");
  dir.write("sites.csv", "code,name,kind,level\nS1,a,noise,national\nS2,b,noise,国控\n");
  expect_load_error(dir, "sites.csv line 3 column level: '国控' is not one of national");
  dir.write("sites.csv", "code,name,kind,lon,lat\nS1,a,noise,205.1,32\n");
  expect_load_error(dir, "sites.csv line 2 column lon: is outside -180..180 degrees");
  dir.write("sites.csv", "code,name,kind,lon,lat\nS1,a,noise,105.1,\n");
  expect_load_error(dir, "sites.csv line 2 column lat: is empty but the other coordinate");
  dir.write("sites.csv", "code,name,kind,county_code\nS1,a,noise,5108\n");
  expect_load_error(dir, "sites.csv line 2 column county_code: '5108' is not a 6-digit");
  dir.write("sites.csv", "code,name,kind,waterbody\nS1,a,ambient_air,river\n");
  expect_load_error(dir, "sites.csv line 2 column waterbody: is only for surface_water");
}

TEST(RegistryLoader, DeviceAndFactorErrors) {
  TempDir dir;
  dir.write("sites.csv", kSites);
  dir.write("devices.csv", "mn,st,version\nD1,22,2017\nD2,22,2019\n");
  expect_load_error(dir, "devices.csv line 3 column version: '2019' is not one of 2005");
  dir.write("devices.csv", "mn,st\nD1,22\nD1,21\n");
  expect_load_error(dir, "devices.csv line 3 column mn: 'D1' appears twice");
  dir.write("devices.csv", "mn,st,interval_s\nD1,22,hourly\n");
  expect_load_error(dir, "devices.csv line 2 column interval_s: 'hourly' is not a number");
  dir.write("devices.csv", "mn,st,sm4_key_hex,version\nD1,22,0123456789abcdef,2025\n");
  expect_load_error(dir, "devices.csv line 2 column sm4_key_hex: is not 32 hex digits");
  dir.write("devices.csv", "mn,st,enterprise\nD1,31,E1\n");
  expect_load_error(dir, "devices.csv line 2 column enterprise: no enterprise 'E1'");
  dir.write("enterprises.csv", "code,name,county\nE1,某某化工有限公司,苍溪县\n");
  const auto ok = load_registry(dir.path());
  ASSERT_TRUE(ok.ok()) << ok.error().detail;
  EXPECT_EQ(ok->find_device("D1")->enterprise, "E1");

  dir.write("factors.csv", "code,name_zh,decimals\na34004,细颗粒物,one\n");
  expect_load_error(dir, "factors.csv line 2 column decimals: 'one' is not a number");
}

TEST(RegistryLoader, OutletsAndPermits) {
  TempDir dir;
  dir.write("sites.csv",
            "code,name,kind\nS1,一号点,ambient_air\nO1,排气筒,polluter_waste_gas\n"
            "O2,废水总排口,polluter_wastewater\n");
  dir.write("enterprises.csv", "code,name\nE1,某某热电有限公司\n");
  dir.write("outlets.csv", "site,enterprise,permit_code\nS1,E1,DA001\n");
  expect_load_error(dir, "outlets.csv line 2 column site: site S1 is of kind ambient_air");
  dir.write("outlets.csv", "site,enterprise\nO1,E2\n");
  expect_load_error(dir, "outlets.csv line 2 column enterprise: no enterprise 'E2'");
  dir.write("outlets.csv", "site,enterprise\nO1,E1\nO1,E1\n");
  expect_load_error(dir, "outlets.csv line 3 column site: 'O1' appears twice");
  dir.write("outlets.csv", "site,enterprise,permit_code\nO1,E1,DA001\nO2,E1,DW001\n");
  dir.write("permits.csv", "outlet,factor,limit,unit\nS1,a21026,100,mg/m³\n");
  expect_load_error(dir, "permits.csv line 2 column outlet: no outlet 'S1'");
  dir.write("permits.csv", "outlet,factor,limit,unit,converted\nO1,a21026,100,mg/m³,true\n");
  expect_load_error(dir, "permits.csv line 2 column reference_o2_pct: is required");
  dir.write("permits.csv",
            "outlet,factor,limit,unit,converted,reference_o2_pct\n"
            "O1,a21026,100,mg/m³,true,21\n");
  expect_load_error(dir, "permits.csv line 2 column reference_o2_pct: must be 0 to below 21");
  dir.write("permits.csv", "outlet,factor,unit\nO1,a21026,mg/m³\n");
  expect_load_error(dir, "permits.csv line 2 column limit: a permit row needs a limit");
  dir.write("permits.csv", "outlet,factor,limit\nO1,a21026,100\n");
  expect_load_error(dir, "permits.csv line 2 column unit: is empty");
  dir.write("permits.csv", "outlet,factor,limit,unit\nO1,a21026,lots,mg/m³\n");
  expect_load_error(dir, "permits.csv line 2 column limit: 'lots' is not a number");
  dir.write("permits.csv",
            "outlet,factor,limit,unit,from,until\nO1,a21026,200,mg/m³,2020-01-01,2025-01-01\n"
            "O1,a21026,100,mg/m³,2024-06-01,\n");
  expect_load_error(dir, "permits.csv line 3 column from: O1 a21026");
  // A stricter permit from 2025 on: data is judged by the permit of its time.
  dir.write("permits.csv",
            "outlet,factor,limit,unit,standard,converted,reference_o2_pct,annual_total_t,from,"
            "until\n"
            "O1,a21026,200,mg/m³,GB 13223-2011 表1 (现有),true,6,120.5,2020-01-01,2025-01-01\n"
            "O1,a21026,100,mg/m³,GB 13223-2011 表1,true,6,60,2025-01-01,\n"
            "O2,w01018,100,mg/L,\"GB 8978-1996 表4, 一级\",false,,0.125,,\n"
            "O2,w21003,,,,,,3,,\n");
  auto loaded = load_registry(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().detail;
  const Registry& r = *loaded;
  EXPECT_EQ(r.permit("O1", "a21026", at("2024-12-31T23:00:00+08:00"))->limit, 200.0);
  EXPECT_EQ(r.permit("O1", "a21026", at("2025-01-01T00:00:00+08:00"))->limit, 100.0);
  EXPECT_EQ(r.permit("O1", "a21026", at("2019-06-01T00:00:00+08:00")), nullptr);
  EXPECT_EQ(r.permit("O2", "w21003", 0)->annual_total_t, 3.0);
  EXPECT_FALSE(r.permit("O2", "w21003", 0)->limit);
  // Saved and loaded again: the same outlets and permits, the numbers exactly.
  // Edits: a permit keyed by (outlet, factor, from) replaces, an overlap is refused.
  Permit closing = *r.permit("O1", "a21026", at("2024-01-01"));
  closing.until_ms = at("2019-01-01");
  EXPECT_EQ(r.with_permit(closing).error().reason, "bad_range");  // ends before it starts
  closing.until_ms = at("2025-01-01");
  closing.limit = 150;
  auto replaced = r.with_permit(closing);
  ASSERT_TRUE(replaced.ok()) << replaced.error().detail;
  EXPECT_EQ(replaced->permit("O1", "a21026", at("2024-01-01"))->limit, 150.0);
  EXPECT_EQ(replaced->permits().size(), 4u);
  Permit overlapping = closing;
  overlapping.from_ms = at("2024-06-01");
  EXPECT_EQ(r.with_permit(overlapping).error().reason, "overlapping_permit");
  overlapping.outlet = "S1";
  EXPECT_EQ(r.with_permit(overlapping).error().reason, "unknown_outlet");
  EXPECT_EQ(r.with_outlet(Outlet{"S1", "E1", ""}).error().reason, "bad_outlet");
  EXPECT_EQ(r.with_outlet(Outlet{"O1", "E9", ""}).error().reason, "unknown_enterprise");
  EXPECT_EQ(r.with_enterprise(Enterprise{"E2", "", ""}).error().reason, "bad_enterprise");
  auto renamed = r.with_enterprise(Enterprise{"E1", "某某热电股份有限公司", "利州区"});
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->find_enterprise("E1")->name, "某某热电股份有限公司");
  EXPECT_EQ(renamed->enterprises().size(), 1u);
  // An edit cannot turn an outlet into another kind of site.
  Site air = *r.find_site("O1");
  air.kind = "ambient_air";
  const auto edited = r.with_site(air);
  ASSERT_FALSE(edited.ok());
  EXPECT_EQ(edited.error().reason, "bad_site");
  air.kind = "polluter_waste_gas";
  air.name = "1号排气筒";
  EXPECT_TRUE(r.with_site(air).ok());
  const std::string out = dir.path() + "/saved";
  ASSERT_TRUE(save_registry(r, out).ok());
  auto again = load_registry(out);
  ASSERT_TRUE(again.ok()) << again.error().detail;
  ASSERT_EQ(again->outlets().size(), 2u);
  EXPECT_EQ(again->find_outlet("O2")->permit_code, "DW001");
  ASSERT_EQ(again->permits().size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    const Permit& a = r.permits()[i];
    const Permit& b = again->permits()[i];
    EXPECT_EQ(a.outlet, b.outlet);
    EXPECT_EQ(a.factor, b.factor);
    EXPECT_EQ(a.limit, b.limit);
    EXPECT_EQ(a.unit, b.unit);
    EXPECT_EQ(a.standard, b.standard);
    EXPECT_EQ(a.converted, b.converted);
    EXPECT_EQ(a.reference_o2_pct, b.reference_o2_pct);
    EXPECT_EQ(a.annual_total_t, b.annual_total_t);
    EXPECT_EQ(a.from_ms, b.from_ms);
    EXPECT_EQ(a.until_ms, b.until_ms);
  }
}

TEST(RegistryLoader, AssignmentErrors) {
  TempDir dir;
  dir.write("sites.csv", kSites);
  dir.write("devices.csv", kDevices);
  dir.write("assignments.csv", "mn,site,from\nD1,NOPE,2020-01-01\n");
  expect_load_error(dir, "assignments.csv line 2 column site: no site 'NOPE' in sites.csv");
  dir.write("assignments.csv", "mn,site,from\nD9,S1,2020-01-01\n");
  expect_load_error(dir, "assignments.csv line 2 column mn: no device 'D9' in devices.csv");
  dir.write("assignments.csv",
            "mn,site,from,until\n"
            "D1,S1,2020-01-01,2024-01-01\n"
            "D1,S2,2023-06-01,\n");
  expect_load_error(dir,
                    "assignments.csv line 3 column from: device D1 [2023-06-01T00:00:00+08:00");
  dir.write("assignments.csv", "mn,site,from\nD1,S1,2020-01-01 08:00\n");
  expect_load_error(dir,
                    "assignments.csv line 2 column from: '2020-01-01 08:00' has no UTC offset");
  dir.write("assignments.csv", "mn,site,until\nD1,S1,2020-13-01\n");
  expect_load_error(dir, "assignments.csv line 2 column until: '2020-13-01' is not an ISO 8601");
  dir.write("assignments.csv", "mn,site,from,until\nD1,S1,2024-01-01,2020-01-01\n");
  expect_load_error(dir, "assignments.csv line 2 column until: ends at or before it starts");
}

TEST(RegistryLoader, AssignmentTimesAreBeijingDatesOrOffsetTimes) {
  TempDir dir;
  dir.write("sites.csv", kSites);
  dir.write("devices.csv", kDevices);
  dir.write("assignments.csv",
            "mn,site,from,until\n"
            "D1,S1,2020-01-01,\n"
            "D2,S1,2020-01-01T00:00:00Z,\n");
  const auto r = load_registry(dir.path());
  ASSERT_TRUE(r.ok()) << r.error().detail;
  const std::int64_t beijing_midnight = at("2019-12-31T16:00:00Z");
  EXPECT_EQ(r->site_of("D1", beijing_midnight - 1), nullptr);
  EXPECT_NE(r->site_of("D1", beijing_midnight), nullptr);
  EXPECT_EQ(r->site_of("D2", beijing_midnight), nullptr);
  EXPECT_NE(r->site_of("D2", at("2020-01-01T08:00:00+08:00")), nullptr);
}

TEST(RegistryLoader, SettingErrors) {
  TempDir dir;
  dir.write("sites.csv", kSites);
  dir.write("settings.csv", "site,key,value\nS9,water_class,III\n");
  expect_load_error(dir, "settings.csv line 2 column site: no site 'S9' in sites.csv");
  dir.write("settings.csv", "site,key,value\nS2,water_class,\n");
  expect_load_error(dir, "settings.csv line 2 column value: is empty");
  dir.write("settings.csv",
            "site,key,value,from,until\n"
            "S2,water_class,III,,2021-01-01\n"
            "S2,water_class,II,2020-06-01,\n");
  expect_load_error(dir, "settings.csv line 3 column from: S2 water_class");
}

TEST(RegistryLoader, MissingFilesAndDirectory) {
  TempDir dir;
  dir.write("devices.csv", kDevices);
  expect_load_error(dir, "sites.csv: not found in ");
  const auto r = load_registry(dir.path() + "/does-not-exist");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "bad_registry");
  // Only sites.csv is required.
  dir.write("sites.csv", kSites);
  std::filesystem::remove(std::filesystem::path(dir.path()) / "devices.csv");
  const auto minimal = load_registry(dir.path());
  ASSERT_TRUE(minimal.ok()) << minimal.error().detail;
  EXPECT_EQ(minimal->sites().size(), 2u);
  EXPECT_TRUE(minimal->devices().empty());
}

}  // namespace
}  // namespace ecomon::registry
