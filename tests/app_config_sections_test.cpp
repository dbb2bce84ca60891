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

namespace ecomon::app {
namespace {

core::Result<void> apply_forward(const std::string& text,
                                 std::vector<forward::ForwardOptions>& out) {
  const toml::table t = toml::parse(text);
  return apply_forward_sections(*t["forward"].as_array(), out);
}

std::string forward_error(const std::string& text) {
  std::vector<forward::ForwardOptions> out;
  const auto r = apply_forward(text, out);
  return r ? std::string("accepted") : r.error().detail;
}

TEST(ForwardConfig, TablesLandWithTheirDefaults) {
  std::vector<forward::ForwardOptions> out;
  ASSERT_TRUE(apply_forward(R"([[forward]]
name = "province"
host = "10.1.2.3"
port = 9212
version = 2025
pw = "abc"
kinds = ["hour", "day"]
sites = ["2523A"]
devices = ["MN9"]
from = "beginning"
ack_timeout_s = 2.5
max_in_flight = 4
ledger_keep_days = 0
[forward.mn_map]
MN1 = "UP1"
[[forward]]
name = "nation"
host = "example.org"
port = 1
)",
                            out)
                  .ok());
  ASSERT_EQ(out.size(), 2u);
  const auto& p = out[0];
  EXPECT_EQ(p.name, "province");
  EXPECT_EQ(p.port, 9212);
  EXPECT_EQ(p.version, protocol::hj212::Version::k2025);
  EXPECT_EQ(p.pw, "abc");
  EXPECT_EQ(p.selection.kinds,
            (std::set<storage::DataKind>{storage::DataKind::kHour, storage::DataKind::kDay}));
  EXPECT_EQ(p.selection.sites, std::set<std::string>{"2523A"});
  EXPECT_EQ(p.selection.devices, std::set<std::string>{"MN9"});
  EXPECT_EQ(p.selection.upstream_mn("MN1"), "UP1");
  EXPECT_TRUE(p.from_beginning);
  EXPECT_EQ(p.ack_timeout_ms, 2500);
  EXPECT_EQ(p.max_in_flight, 4u);
  EXPECT_EQ(p.ledger_keep_days, 0);
  const auto& n = out[1];  // defaults
  EXPECT_EQ(n.version, protocol::hj212::Version::k2017);
  EXPECT_FALSE(n.from_beginning);
  EXPECT_TRUE(n.selection.kinds.empty());
  EXPECT_EQ(n.ack_timeout_ms, 10000);
  EXPECT_EQ(n.max_in_flight, 1u);
}

TEST(ForwardConfig, WrongInputIsRefusedWithItsLine) {
  const std::string head = "[[forward]]\nname = \"p\"\nhost = \"h\"\nport = 9212\n";
  EXPECT_EQ(forward_error(head + "version = 2005\n"),
            "line 5: forward.version must be 2017 or 2025");
  EXPECT_EQ(forward_error(head + "kinds = [\"week\"]\n"),
            "line 5: forward.kinds: unknown kind 'week' (rtd, minute, hour, day)");
  EXPECT_EQ(forward_error(head + "from = \"yesterday\"\n"),
            "line 5: forward.from must be \"now\" or \"beginning\"");
  EXPECT_EQ(forward_error(head + "max_in_flight = 0\n"),
            "line 5: forward.max_in_flight must be >= 1.000000");
  EXPECT_EQ(forward_error(head + "colour = 1\n"), "line 5: unknown key forward.colour");
  EXPECT_EQ(forward_error("[[forward]]\nname = \"p\"\nhost = \"h\"\n"),
            "line 1: a [[forward]] table needs name, host and port");
  EXPECT_EQ(forward_error("[[forward]]\nname = \"a/b\"\nhost = \"h\"\nport = 1\n"),
            "line 2: forward.name must be 1..64 letters, digits, '-' or '_'");
  EXPECT_EQ(forward_error(head + head), "line 5: a second forward upstream named p");
  EXPECT_EQ(forward_error("[[forward]]\nname = \"p\"\nhost = \"h\"\nport = 70000\n"),
            "line 4: forward.port must be <= 65535.000000");
}

}  // namespace
}  // namespace ecomon::app
