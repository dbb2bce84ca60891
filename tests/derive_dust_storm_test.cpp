// Dust-storm day marks (沙尘, derive/review.h): the latest mark of a day for the site or its city
// decides; marks cover whole Beijing days and never change a value's review state.
#include <gtest/gtest.h>

#include "core/civil_time.h"
#include "derive/review.h"

namespace ecomon::derive {
namespace {

const std::int64_t kDay = 86'400'000;
const std::int64_t kMar14 =
    core::to_unix_ms(core::CivilTime{2026, 3, 14, 0, 0, 0, 0}, core::kChinaUtcOffsetSeconds);

ReviewAction mark(std::int64_t id, const std::string& subject, ReviewVerb verb, std::int64_t from,
                  int days) {
  ReviewAction a;
  a.id = id;
  a.site = subject;
  a.verb = verb;
  a.from_ms = from;
  a.to_ms = from + days * kDay;
  a.reason = "沙尘天气";
  a.at_ms = id * 1000;
  return a;
}

TEST(DustStorm, LatestMarkOfSiteOrCityDecides) {
  const std::vector<ReviewAction> actions = {
      mark(1, "510800", ReviewVerb::kDustStorm, kMar14, 3),             // the city, 14–16 March
      mark(2, "2524A", ReviewVerb::kDustStormClear, kMar14 + kDay, 1),  // not at 2524A on the 15th
      mark(3, "2525A", ReviewVerb::kDustStorm, kMar14 + 5 * kDay, 1),   // another site
      mark(4, "510800", ReviewVerb::kFinalize, kMar14, 30),             // not a mark
  };
  const std::vector<std::string> site = {"2524A", "510800"};
  const auto days = dust_storm_days(actions, site, kMar14 - kDay, kMar14 + 10 * kDay);
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].day_start_ms, kMar14);
  EXPECT_EQ(days[0].mark.site, "510800");
  EXPECT_EQ(days[1].day_start_ms, kMar14 + 2 * kDay);
  // The city alone: all three days.
  const std::vector<std::string> city = {"510800"};
  EXPECT_EQ(dust_storm_days(actions, city, kMar14, kMar14 + 10 * kDay).size(), 3u);
  // As of before the clear: the 15th was a dust day at 2524A too.
  EXPECT_EQ(dust_storm_days(actions, site, kMar14, kMar14 + 10 * kDay, 1500).size(), 3u);
  // A range starting mid-day includes that day.
  EXPECT_EQ(dust_storm_days(actions, city, kMar14 + 2 * kDay + 5, kMar14 + 3 * kDay).size(), 1u);
}

TEST(DustStorm, MarksAreWholeDaysWithoutFactorAndLeaveValuesAlone) {
  ReviewAction a = mark(1, "510800", ReviewVerb::kDustStorm, kMar14, 1);
  EXPECT_TRUE(check_action(a).ok());
  a.factor = "a34002";
  EXPECT_FALSE(check_action(a).ok());
  a.factor.clear();
  a.to_ms += 3'600'000;  // 01:00 the next day
  EXPECT_FALSE(check_action(a).ok());
  a.to_ms -= 3'600'000;
  a.reason.clear();
  EXPECT_FALSE(check_action(a).ok());  // a reason is required
  EXPECT_EQ(parse_verb("dust_storm_clear"), ReviewVerb::kDustStormClear);
  const std::vector<ReviewAction> actions = {mark(1, "2524A", ReviewVerb::kDustStorm, kMar14, 1)};
  const auto s = review_state(actions, "hour", "Avg", kMar14 + 3'600'000);
  EXPECT_FALSE(s.invalid);
  EXPECT_EQ(s.level, ReviewLevel::kRaw);
}

}  // namespace
}  // namespace ecomon::derive
