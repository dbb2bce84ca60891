// The [screening] section of `ecomon serve --config` (app/config_sections.h): values land in
// ScreeningConfig, defaults stay where nothing is said, wrong input is refused with its line.
#include <gtest/gtest.h>
#include <toml++/toml.h>

#include "app/config_sections.h"

namespace ecomon::app {
namespace {

namespace scr = analytics::screening;

core::Result<void> apply(const std::string& text, scr::ScreeningConfig& c,
                         derive::ScreeningOptions& service) {
  const toml::table t = toml::parse(text);
  return apply_screening_section(*t["screening"].as_table(), c, service);
}
core::Result<void> apply(const std::string& text, scr::ScreeningConfig& c) {
  derive::ScreeningOptions service;
  return apply(text, c, service);
}

std::string error_of(const std::string& text) {
  scr::ScreeningConfig c;
  const auto r = apply(text, c);
  return r ? std::string("accepted") : r.error().detail;
}

TEST(ScreeningConfig, ValuesLandAndDefaultsStay) {
  scr::ScreeningConfig c;
  ASSERT_TRUE(apply(R"([screening]
disabled = ["jump", "clock_drift"]
jump_k = 8
clock_drift_max_s = 300
[screening.factors.a34004]
range_max = 800
detection_limit = false
[screening.factors.w01018]
range_max = 100
concentration = true
[[screening.sums]]
total = "a21002"
parts = ["a21004"]
tolerance = 3
)",
                    c));
  EXPECT_EQ(c.jump_k, 8);
  EXPECT_EQ(c.clock_drift_max_ms, 300'000);
  EXPECT_FALSE(c.enabled(scr::Rule::kJump));
  EXPECT_TRUE(c.enabled(scr::Rule::kConstant));
  EXPECT_EQ(c.factors.at("a34004").range_max, 800);
  EXPECT_FALSE(c.factors.at("a34004").detection_limit.has_value());
  EXPECT_EQ(c.factors.at("a34004").constant_min_s, 24 * 3600);  // default kept
  EXPECT_EQ(c.factors.at("w01018").range_max, 100);             // a new factor
  EXPECT_EQ(c.factors.at("a21026").range_max, 2620);            // untouched factor
  ASSERT_EQ(c.sums.size(), 1u);                                 // replaces the defaults
  EXPECT_EQ(c.sums[0].parts, (std::vector<std::pair<std::string, double>>{{"a21004", 1.0}}));
  EXPECT_EQ(c.sums[0].tolerance, 3);
  EXPECT_EQ(c.sums[0].tolerance_fraction, 0.10);
  EXPECT_EQ(c.pm_tolerance_ugm3, 5);  // default kept
}

TEST(ScreeningConfig, MarksServiceKeys) {
  scr::ScreeningConfig c;
  derive::ScreeningOptions service;
  EXPECT_TRUE(service.stored);  // stored marks by default
  ASSERT_TRUE(
      apply("[screening]\nstored = false\nbatch_limit = 100\nmax_windows = 7\n", c, service));
  EXPECT_FALSE(service.stored);
  EXPECT_EQ(service.batch_limit, 100u);
  EXPECT_EQ(service.max_windows, 7u);
  EXPECT_EQ(error_of("[screening]\nstored = \"yes\"\n"),
            "line 2: screening.stored must be true or false");
  EXPECT_EQ(error_of("[screening]\nmax_windows = 0\n"),
            "line 2: screening.max_windows must be >= 1.000000");
}

TEST(ScreeningConfig, WrongInputIsRefusedWithItsLine) {
  EXPECT_EQ(error_of("[screening]\n\njump_k = \"ten\"\n"),
            "line 3: screening.jump_k must be a number");
  EXPECT_EQ(error_of("[screening]\njump = 3\n"), "line 2: unknown key screening.jump");
  EXPECT_EQ(error_of("[screening]\ndisabled = [\"constant\", \"stuck\"]\n"),
            "line 2: screening.disabled: unknown rule \"stuck\"");
  EXPECT_EQ(error_of("[screening]\njitter_fraction = 2\n"),
            "line 2: screening.jitter_fraction must be <= 1.000000");
  EXPECT_EQ(error_of("[screening]\nmissing_min_intervals = 0\n"),
            "line 2: screening.missing_min_intervals must be >= 1.000000");
  EXPECT_EQ(error_of("[screening]\nhour_min_minutes = 45.5\n"),
            "line 2: screening.hour_min_minutes must be a whole number");
  EXPECT_EQ(error_of("[screening.factors.a34004]\nrange_min = 10\nrange_max = 5\n"),
            "line 1: screening.factors.a34004.range_max must be above range_min (both 0: no range "
            "check)");
  EXPECT_EQ(error_of("[screening.factors.a34004]\njump_floor = true\n"),
            "line 2: screening.factors.a34004.jump_floor must be a number or false (off)");
  EXPECT_EQ(error_of("[screening.factors.a34004]\ncolour = 1\n"),
            "line 2: unknown key screening.factors.a34004.colour");
  EXPECT_EQ(error_of("[[screening.sums]]\ntotal = \"a21002\"\n"),
            "line 1: a [[screening.sums]] rule needs total and parts");
  EXPECT_EQ(error_of("[[screening.sums]]\ntotal = \"a21002\"\nparts = [\"a21003\"]\nweights = "
                     "[1, 2]\n"),
            "line 4: screening.sums.weights must have one weight per part");
}

}  // namespace
}  // namespace ecomon::app
